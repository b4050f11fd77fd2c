// CPU kernels of Sort, ArgSort, Partition and ArgPartition. Each line along
// the axis is gathered (through the input's strides) into a buffer of compute
// values (float for float16/bfloat16), arranged there, and written to the
// row-contiguous output. Lines run in parallel; one long line is sorted in
// parallel pieces merged pairwise.
#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/ordering.h"
#include "backends/cpu/reduce_layout.h"
#include "lumen/backend.h"
#include "lumen/sort_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// What a line is sorted as: float for float16/bfloat16, bytes for bool (a
// vector<bool> has no element addresses).
template <typename T>
using key_t = std::conditional_t<std::is_same_v<T, bool>, uint8_t, compute_t<T>>;

// Lines shorter than this are sorted by one thread.
constexpr int64_t kLongLine = 1 << 16;

// Where the lines along `axis` are in the input and the (row-contiguous) output.
struct Lines {
  ReduceLayout l;
  int64_t n, in_stride, inner;
  int64_t count() const { return l.n_out; }
  int64_t out_offset(int64_t k) const { return k / inner * n * inner + k % inner; }
};

Lines lines_of(const array& in, int axis) {
  Lines ls;
  ls.l = make_reduce_layout(in, {axis});
  ls.n = in.shape(axis);
  ls.in_stride = in.strides(axis);
  ls.inner = 1;
  for (size_t d = axis + 1; d < in.ndim(); ++d) ls.inner *= in.shape(d);
  return ls;
}

// Sorts v with `sort_piece` on pieces in parallel, then merges pieces pairwise.
template <typename E, typename Cmp, typename SortPiece>
void parallel_sort(std::vector<E>& v, Cmp cmp, SortPiece sort_piece) {
  const int64_t n = static_cast<int64_t>(v.size());
  const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(detail::cpu_threads(), n / (kLongLine / 4)));
  auto bound = [&](int64_t p) { return n * std::min(p, pieces) / pieces; };
  detail::parallel_for(pieces, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) sort_piece(v.begin() + bound(p), v.begin() + bound(p + 1));
  });
  std::vector<E> other(n);
  E* src = v.data();
  E* dst = other.data();
  for (int64_t width = 1; width < pieces; width *= 2) {
    int64_t pairs = (pieces + 2 * width - 1) / (2 * width);
    detail::parallel_for(pairs, 1, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        int64_t lo = bound(2 * p * width), mid = bound((2 * p + 1) * width);
        int64_t hi = bound((2 * p + 2) * width);
        std::merge(src + lo, src + mid, src + mid, src + hi, dst + lo, cmp);
      }
    });
    std::swap(src, dst);
  }
  if (src != v.data()) v.swap(other);
}

// Runs line(k, long_line, buffer) for every line: in parallel over lines or,
// for few long lines and when `parallel_inside`, one at a time with
// long_line = true (the line then parallelizes itself).
template <typename E, typename F>
void for_each_line(const Lines& ls, bool parallel_inside, F&& line) {
  const int64_t count = ls.count();
  if (count == 0 || ls.n == 0) return;
  if (parallel_inside && ls.n >= kLongLine && count < detail::cpu_threads()) {
    std::vector<E> buf;
    for (int64_t k = 0; k < count; ++k) line(k, true, buf);
    return;
  }
  int64_t grain = std::max<int64_t>(1, kTaskGrain / ls.n);
  detail::parallel_for(count, grain, [&](int64_t b, int64_t e) {
    std::vector<E> buf;
    for (int64_t k = b; k < e; ++k) line(k, false, buf);
  });
}

template <typename In, typename E, typename Get>
void gather(const Lines& ls, const In* src, int64_t k, std::vector<E>& buf, Get get) {
  const In* p = src + offset_of(ls.l.kshape, ls.l.kstride, k);
  buf.resize(ls.n);
  for (int64_t i = 0; i < ls.n; ++i) buf[i] = get(p[i * ls.in_stride], i);
}

template <typename K>
struct IndexedLess {
  bool operator()(const std::pair<K, uint32_t>& a, const std::pair<K, uint32_t>& b) const {
    if (nan_last_less(a.first, b.first)) return true;
    if (nan_last_less(b.first, a.first)) return false;
    return a.second < b.second;
  }
};

// What the kernel does with a gathered line.
enum class Arrange { Sort, Partition };

template <typename In>
void values_kernel(const array& in, array& out, int axis, Arrange how, int kth) {
  using K = key_t<In>;
  Lines ls = lines_of(in, axis);
  const In* src = in.data<In>();
  In* dst = out.data<In>();
  auto less = [](K a, K b) { return nan_last_less(a, b); };
  for_each_line<K>(ls, how == Arrange::Sort, [&](int64_t k, bool long_line, std::vector<K>& buf) {
    gather(ls, src, k, buf, [](In x, int64_t) { return static_cast<K>(x); });
    if (how == Arrange::Partition) {
      std::nth_element(buf.begin(), buf.begin() + kth, buf.end(), less);
    } else if (long_line) {
      parallel_sort(buf, less, [&](auto b, auto e) { std::stable_sort(b, e, less); });
    } else {
      std::stable_sort(buf.begin(), buf.end(), less);
    }
    In* d = dst + ls.out_offset(k);
    for (int64_t i = 0; i < ls.n; ++i) d[i * ls.inner] = static_cast<In>(buf[i]);
  });
}

template <typename In>
void indices_kernel(const array& in, array& out, int axis, Arrange how, int kth) {
  using K = key_t<In>;
  using E = std::pair<K, uint32_t>;
  Lines ls = lines_of(in, axis);
  const In* src = in.data<In>();
  uint32_t* dst = out.data<uint32_t>();
  IndexedLess<K> less;
  for_each_line<E>(ls, how == Arrange::Sort, [&](int64_t k, bool long_line, std::vector<E>& buf) {
    gather(ls, src, k, buf, [](In x, int64_t i) { return E(static_cast<K>(x), static_cast<uint32_t>(i)); });
    // (value, index) pairs are all distinct, so unstable algorithms are stable here.
    if (how == Arrange::Partition) {
      std::nth_element(buf.begin(), buf.begin() + kth, buf.end(), less);
    } else if (long_line) {
      parallel_sort(buf, less, [&](auto b, auto e) { std::sort(b, e, less); });
    } else {
      std::sort(buf.begin(), buf.end(), less);
    }
    uint32_t* d = dst + ls.out_offset(k);
    for (int64_t i = 0; i < ls.n; ++i) d[i * ls.inner] = buf[i].second;
  });
}

void alloc(array& out) { out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes())); }

void sort_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  alloc(outputs[0]);
  int axis = static_cast<const Sort&>(p).axis();
  dispatch_dtype(inputs[0].dtype(), [&](auto tag) {
    values_kernel<decltype(tag)>(inputs[0], outputs[0], axis, Arrange::Sort, 0);
  });
}

void argsort_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  alloc(outputs[0]);
  int axis = static_cast<const ArgSort&>(p).axis();
  dispatch_dtype(inputs[0].dtype(), [&](auto tag) {
    indices_kernel<decltype(tag)>(inputs[0], outputs[0], axis, Arrange::Sort, 0);
  });
}

void partition_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  alloc(outputs[0]);
  const auto& prim = static_cast<const Partition&>(p);
  dispatch_dtype(inputs[0].dtype(), [&](auto tag) {
    values_kernel<decltype(tag)>(inputs[0], outputs[0], prim.axis(), Arrange::Partition, prim.kth());
  });
}

void argpartition_kernel(const Primitive& p, const std::vector<array>& inputs,
                         std::vector<array>& outputs) {
  alloc(outputs[0]);
  const auto& prim = static_cast<const ArgPartition&>(p);
  dispatch_dtype(inputs[0].dtype(), [&](auto tag) {
    indices_kernel<decltype(tag)>(inputs[0], outputs[0], prim.axis(), Arrange::Partition, prim.kth());
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, Sort, sort_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, ArgSort, argsort_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Partition, partition_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, ArgPartition, argpartition_kernel);

}  // namespace
}  // namespace lumen::cpu
