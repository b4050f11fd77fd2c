// How a reduction (or any per-axis kernel) walks its input: the input's dims
// split into kept dims (the output's, in order) and reduced dims, each group
// collapsed where its strides allow, so most cases become one or two long
// runs. Also a visitor over the runs of a linear index range.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lumen/array.h"

namespace lumen::cpu {

struct ReduceLayout {
  // Kept dims in output order; never empty ({1}/{0} when all are reduced).
  std::vector<int64_t> kshape, kstride;
  // Reduced dims in loop order (innermost last): broadcast (stride 0) dims
  // outermost, then by decreasing |stride|; never empty.
  std::vector<int64_t> rshape, rstride;
  int64_t n_out = 1;  // number of outputs
  int64_t n_red = 1;  // elements reduced into each output (0: empty axis)
};

// `reduced[d]` says whether input dim d is reduced.
ReduceLayout make_reduce_layout(const Shape& shape, const Strides& strides,
                                const std::vector<bool>& reduced);
ReduceLayout make_reduce_layout(const array& in, const std::vector<int>& axes);

// Calls f(offset, count, stride) for the runs along the innermost dim that
// cover the row-major linear range [begin, end) of (shape, strides).
template <typename F>
void visit_runs(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                int64_t begin, int64_t end, F&& f) {
  if (begin >= end) return;
  const int nd = static_cast<int>(shape.size());
  const int64_t inner = shape[nd - 1], ist = strides[nd - 1];
  if (nd == 1) {
    f(begin * ist, end - begin, ist);
    return;
  }
  constexpr int kSmall = 12;
  int64_t small[kSmall];
  std::vector<int64_t> big;
  int64_t* idx = small;
  if (nd > kSmall) {
    big.resize(nd);
    idx = big.data();
  }
  int64_t off = 0, rem = begin;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rem % shape[d];
    rem /= shape[d];
    off += idx[d] * strides[d];
  }
  int64_t pos = begin;
  while (true) {
    int64_t count = std::min(inner - idx[nd - 1], end - pos);
    f(off, count, ist);
    pos += count;
    if (pos >= end) return;
    off -= idx[nd - 1] * ist;  // the run ended the inner dim: carry outward
    idx[nd - 1] = 0;
    for (int d = nd - 2; d >= 0; --d) {
      off += strides[d];
      if (++idx[d] < shape[d]) break;
      off -= shape[d] * strides[d];
      idx[d] = 0;
    }
  }
}

// Offset of linear index i of (shape, strides).
inline int64_t offset_of(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                         int64_t i) {
  int64_t off = 0;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    off += (i % shape[d]) * strides[d];
    i /= shape[d];
  }
  return off;
}

// Target number of elements one parallel task should touch.
inline constexpr int64_t kTaskGrain = 1 << 15;

// How many pieces to cut `work` elements into for the thread pool.
int64_t parallel_pieces(int64_t work);

}  // namespace lumen::cpu
