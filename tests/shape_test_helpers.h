// Helpers shared by the shape and indexing tests: arrays of known values in
// any dtype and row-major index arithmetic for the loop references.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "index_math.h"
#include "test_util.h"

namespace lumen::test {

// The value stored at flat position i by `iota`: small integers that every
// dtype represents exactly (bool alternates).
inline double iota_value(int64_t i, Dtype dtype) {
  return dtype == bool_ ? static_cast<double>(i % 2) : static_cast<double>(i % 97);
}

inline std::vector<double> iota_values(int64_t n, Dtype dtype) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = iota_value(i, dtype);
  return v;
}

// An evaluated row-contiguous array holding iota_value(i) at flat position i.
inline array iota(const Shape& shape, Dtype dtype = float32) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  auto v = iota_values(n, dtype);
  return array(v.begin(), shape, dtype);
}

// out[j] = in[source(multi-index of j)] over a row-major `out_shape`, where
// `source` returns the flat input position.
inline std::vector<double> gather_reference(
    const std::vector<double>& in, const Shape& out_shape,
    const std::function<int64_t(const std::vector<int64_t>&)>& source) {
  std::vector<double> out(numel(out_shape));
  for (int64_t j = 0; j < static_cast<int64_t>(out.size()); ++j) out[j] = in[source(unravel(j, out_shape))];
  return out;
}

// Dtypes with 1, 2, 4 and 8-byte elements (all of them).
inline std::vector<Dtype> all_dtypes() {
  std::vector<Dtype> d;
  for (int i = 0; i < num_dtypes; ++i) d.push_back(dtype_from_index(i));
  return d;
}

// `a` made on the stream's device (evaluated there). A view on the GPU of a
// host-made array shares the copy the scheduler imports, not the array:
// tests of free views start from device arrays.
inline array on_device(array a, Stream s) {
  if (s.device.type == Device::cpu) return a;
  a = copy(a, s);
  eval({a});
  return a;
}

// True when `b` reads memory of `a`'s buffer (a view, not a copy).
inline bool shares_buffer(const array& a, const array& b) {
  return a.has_data() && b.has_data() && a.data_shared_ptr() == b.data_shared_ptr();
}

}  // namespace lumen::test
