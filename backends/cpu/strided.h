// Iteration over N arrays of one shape with their own strides (in elements),
// in row-major order of the shape. Dimensions that are contiguous for every
// array are merged first, so a dense case is one long inner run.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "lumen/array.h"

namespace lumen::cpu {

// Strides that read `in` broadcast to `shape` (right-aligned, size-1 dims
// repeated); shared with the GPU's fused kernels.
inline Strides broadcast_strides(const array& in, const Shape& shape) {
  Strides s(shape.size(), 0);
  size_t diff = shape.size() - in.ndim();
  for (size_t d = 0; d < in.ndim(); ++d) s[d + diff] = in.shape(d) == 1 ? 0 : in.strides(d);
  return s;
}

template <size_t N>
struct StridedLayout {
  std::vector<int64_t> shape;
  std::array<std::vector<int64_t>, N> strides;
};

template <size_t N>
StridedLayout<N> collapse(const Shape& shape, const std::array<const Strides*, N>& strides) {
  StridedLayout<N> out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // size-1 dims never move the offset
    bool merge = !out.shape.empty();
    for (size_t k = 0; k < N && merge; ++k) {
      merge = out.strides[k].back() == (*strides[k])[d] * shape[d];
    }
    if (merge) {
      out.shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) out.strides[k].back() = (*strides[k])[d];
    } else {
      out.shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) out.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (out.shape.empty()) {
    out.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) out.strides[k].push_back(0);
  }
  return out;
}

// Calls run(offsets, count, inner_strides) for each inner-dimension run that
// covers the linear range [begin, end) of the layout.
template <size_t N, typename Run>
void for_each_run(const StridedLayout<N>& l, int64_t begin, int64_t end, Run&& run) {
  const int nd = static_cast<int>(l.shape.size());
  const int64_t inner = l.shape[nd - 1];
  std::vector<int64_t> idx(nd, 0);
  std::array<int64_t, N> off{};
  int64_t rem = begin;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rem % l.shape[d];
    rem /= l.shape[d];
    for (size_t k = 0; k < N; ++k) off[k] += idx[d] * l.strides[k][d];
  }
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = l.strides[k][nd - 1];
  int64_t pos = begin;
  while (pos < end) {
    int64_t count = std::min(inner - idx[nd - 1], end - pos);
    run(off, count, inner_strides);
    pos += count;
    // advance the multi-index by `count` along the inner dim, carrying
    for (size_t k = 0; k < N; ++k) off[k] += count * inner_strides[k];
    idx[nd - 1] += count;
    for (int d = nd - 1; d > 0 && idx[d] == l.shape[d]; --d) {
      for (size_t k = 0; k < N; ++k) off[k] -= l.shape[d] * l.strides[k][d];
      idx[d] = 0;
      ++idx[d - 1];
      for (size_t k = 0; k < N; ++k) off[k] += l.strides[k][d - 1];
    }
  }
}

}  // namespace lumen::cpu
