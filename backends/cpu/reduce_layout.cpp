#include "backends/cpu/reduce_layout.h"

#include <cstdlib>
#include <numeric>

#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Appends (n, st) to a collapsed dim list, merging it into the previous dim
// when the two walk memory as one.
void push_dim(std::vector<int64_t>& shape, std::vector<int64_t>& strides, int64_t n, int64_t st) {
  if (!shape.empty() && strides.back() == st * n) {
    shape.back() *= n;
    strides.back() = st;
  } else {
    shape.push_back(n);
    strides.push_back(st);
  }
}

}  // namespace

ReduceLayout make_reduce_layout(const Shape& shape, const Strides& strides,
                                const std::vector<bool>& reduced) {
  ReduceLayout l;
  std::vector<std::pair<int64_t, int64_t>> red;  // (size, stride)
  l.kshape.clear();
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t n = shape[d];
    if (reduced[d]) {
      l.n_red *= n;
      if (n != 1) red.emplace_back(n, strides[d]);
    } else {
      l.n_out *= n;
      if (n != 1) push_dim(l.kshape, l.kstride, n, strides[d]);
    }
  }
  std::stable_sort(red.begin(), red.end(), [](const auto& a, const auto& b) {
    if ((a.second == 0) != (b.second == 0)) return a.second == 0;
    return std::llabs(a.second) > std::llabs(b.second);
  });
  for (auto& [n, st] : red) push_dim(l.rshape, l.rstride, n, st);
  if (l.kshape.empty()) {
    l.kshape = {1};
    l.kstride = {0};
  }
  if (l.rshape.empty()) {
    l.rshape = {1};
    l.rstride = {0};
  }
  return l;
}

ReduceLayout make_reduce_layout(const array& in, const std::vector<int>& axes) {
  std::vector<bool> reduced(in.ndim(), false);
  for (int ax : axes) reduced[ax] = true;
  return make_reduce_layout(in.shape(), in.strides(), reduced);
}

int64_t parallel_pieces(int64_t work) {
  int64_t by_size = std::max<int64_t>(1, work / kTaskGrain);
  return std::min<int64_t>(by_size, 4 * static_cast<int64_t>(detail::cpu_threads()));
}

}  // namespace lumen::cpu
