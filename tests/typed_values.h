// Reading and building arrays of any dtype in tests, by exact values.
#pragma once

#include <complex>
#include <vector>

#include <lumen/lumen.h>

namespace lumen::test {

// The values of a real (non-complex) array in row-major order, exactly:
// read through data<T>() of a dense CPU copy, bool as 0/1. long double holds
// every int64/uint64 and every float exactly.
inline std::vector<long double> exact_values(const array& a) {
  auto c = copy(a, Device::cpu);
  c.eval();
  std::vector<long double> out(c.size());
  auto read = [&](auto tag) {
    using T = decltype(tag);
    const T* p = c.data<T>();
    for (size_t i = 0; i < out.size(); ++i) {
      if constexpr (is_half_v<T>) out[i] = static_cast<float>(p[i]);
      else out[i] = static_cast<long double>(p[i]);
    }
  };
  switch (c.dtype()) {
    case bool_: read(bool{}); break;
    case uint8: read(uint8_t{}); break;
    case uint16: read(uint16_t{}); break;
    case uint32: read(uint32_t{}); break;
    case uint64: read(uint64_t{}); break;
    case int8: read(int8_t{}); break;
    case int16: read(int16_t{}); break;
    case int32: read(int32_t{}); break;
    case int64: read(int64_t{}); break;
    case float16: read(float16_t{}); break;
    case float32: read(float{}); break;
    case float64: read(double{}); break;
    case bfloat16: read(bfloat16_t{}); break;
    case complex64: ADD_FAILURE() << "exact_values of complex64: use complex_values"; break;
  }
  return out;
}

inline std::vector<std::complex<double>> complex_values(const array& a) {
  auto c = copy(a, Device::cpu);
  c.eval();
  EXPECT_EQ(c.dtype(), complex64);
  const complex64_t* p = c.data<complex64_t>();
  return std::vector<std::complex<double>>(p, p + c.size());
}

// An array of dtype d holding `values` converted as astype converts them.
inline array make_array(const std::vector<double>& values, Shape shape, Dtype d) {
  return array(values.begin(), std::move(shape), d);
}
inline array make_array(const std::vector<double>& values, Dtype d) {
  return make_array(values, {static_cast<int>(values.size())}, d);
}

inline std::vector<Dtype> all_dtypes() {
  std::vector<Dtype> out;
  for (int i = 0; i < num_dtypes; ++i) out.push_back(dtype_from_index(i));
  return out;
}

}  // namespace lumen::test
