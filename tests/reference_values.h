// Helpers for the reduction, scan and sort tests: deterministic inputs whose
// values every dtype stores exactly, and row-major index arithmetic for the
// double-precision reference loops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "index_math.h"
#include "test_util.h"

namespace lumen::test {

// Every dtype, in enum order.
inline std::vector<Dtype> all_dtypes() {
  std::vector<Dtype> d;
  for (int i = 0; i < num_dtypes; ++i) d.push_back(dtype_from_index(i));
  return d;
}

inline bool is_float_type(Dtype d) { return issubdtype(d, floating); }

// n pseudo-random values exact in dtype d: bool 0/1, unsigned 0..9, signed
// -9..9, floats multiples of 1/4 in [-4, 4] (positive: [0.25, 4]).
inline std::vector<double> sample_values(int64_t n, Dtype d, uint32_t seed, bool positive = false) {
  std::vector<double> v(n);
  uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
  for (int64_t i = 0; i < n; ++i) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
    uint64_t r = x % 1000;
    if (d == bool_) {
      v[i] = positive ? 1 : static_cast<double>(r % 2);
    } else if (issubdtype(d, unsignedinteger)) {
      v[i] = static_cast<double>(r % 10) + (positive ? 1 : 0);
    } else if (issubdtype(d, signedinteger)) {
      v[i] = positive ? static_cast<double>(r % 9 + 1) : static_cast<double>(r % 19) - 9;
    } else {
      v[i] = positive ? 0.25 * static_cast<double>(r % 16 + 1) : 0.25 * static_cast<double>(r % 33) - 4;
    }
  }
  return v;
}

inline array make_array(const std::vector<double>& v, const Shape& shape, Dtype d) {
  return array(v.begin(), shape, d);
}

// "(a, b, c)" for axes and shapes in failure messages.
template <typename V>
std::string join_text(const V& v) {
  std::string out = "(";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out + ")";
}

inline int normalize(int axis, size_t ndim) {
  return axis < 0 ? axis + static_cast<int>(ndim) : axis;
}

// The error message of `f`, which must throw E.
template <typename E, typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (...) {
    return "<threw another exception type>";
  }
  return "<did not throw>";
}

#define EXPECT_THROW_NAMING(stmt, E, text)                                                   \
  EXPECT_NE(::lumen::test::message_of<E>([&] { (void)(stmt); }).find(text), std::string::npos) \
      << ::lumen::test::message_of<E>([&] { (void)(stmt); })

}  // namespace lumen::test
