// CPU kernels of Sort, ArgSort, Partition and ArgPartition. Each line along
// the axis is gathered (through the input's strides) into a buffer, arranged
// there, and written to the row-contiguous output.
//
// Types of up to 32 bits sort as packed 64-bit words (order-preserving key
// << 32 | index): unique, so unstable algorithms give the stable order, and
// long lines take an LSD radix sort on the key bytes. Wider types (64-bit
// integers, float64, complex64) sort (value, index) pairs with a comparator.
// Lines run in parallel; one long line is sorted in parallel pieces that are
// merged pairwise.
#include <algorithm>
#include <array>
#include <cstring>
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

// Lines shorter than this are sorted by one thread.
constexpr int64_t kLongLine = 1 << 16;
// Lines at least this long take the radix sort.
constexpr int64_t kRadixLine = 512;

// Where the lines along `axis` are in the input and the (row-contiguous) output.
struct Lines {
  ReduceLayout l;
  int64_t n, in_stride, inner;
  int64_t count() const { return l.n_out; }
  int64_t in_offset(int64_t k) const { return offset_of(l.kshape, l.kstride, k); }
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

// ---- ordering keys ----

template <typename T>
inline constexpr bool packs_v = sizeof(compute_t<T>) <= 4 && !is_complex_v<T>;

// A uint32 whose unsigned order is the NaN-last order of the values; equal
// values (-0.0 and 0.0, every NaN) get equal keys.
template <typename T>
uint32_t order_key(T v) {
  using C = compute_t<T>;
  if constexpr (std::is_floating_point_v<C>) {
    C x = static_cast<C>(v);
    if (x != x) return 0xffffffffu;
    if (x == 0) x = 0;  // -0.0 ties with 0.0
    uint32_t b;
    std::memcpy(&b, &x, 4);
    return b & 0x80000000u ? ~b : b | 0x80000000u;
  } else if constexpr (std::is_signed_v<C>) {
    return static_cast<uint32_t>(static_cast<int32_t>(v)) ^ 0x80000000u;
  } else {
    return static_cast<uint32_t>(v);
  }
}

// Stable LSD radix sort of packed words by their high 32 bits; `tmp` is
// scratch of the same size. Bytes on which all keys agree are skipped.
void radix_sort_packed(uint64_t* a, uint64_t* tmp, int64_t n) {
  std::array<std::array<int64_t, 256>, 4> count{};
  for (int64_t i = 0; i < n; ++i) {
    for (int d = 0; d < 4; ++d) ++count[d][(a[i] >> (32 + 8 * d)) & 0xff];
  }
  uint64_t* src = a;
  uint64_t* dst = tmp;
  for (int d = 0; d < 4; ++d) {
    auto& c = count[d];
    if (std::any_of(c.begin(), c.end(), [&](int64_t x) { return x == n; })) continue;
    int64_t sum = 0;
    for (auto& x : c) {
      int64_t here = x;
      x = sum;
      sum += here;
    }
    for (int64_t i = 0; i < n; ++i) dst[c[(src[i] >> (32 + 8 * d)) & 0xff]++] = src[i];
    std::swap(src, dst);
  }
  if (src != a) std::memcpy(a, src, n * sizeof(uint64_t));
}

// ---- sorting a buffer ----

// Sorts v with `sort_piece` on pieces in parallel, then merges pieces pairwise.
template <typename E, typename Cmp, typename SortPiece>
void parallel_sort(std::vector<E>& v, Cmp cmp, SortPiece sort_piece) {
  const int64_t n = static_cast<int64_t>(v.size());
  const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(detail::cpu_threads(), n / (kLongLine / 4)));
  auto bound = [&](int64_t p) { return n * std::min(p, pieces) / pieces; };
  detail::parallel_for(pieces, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) sort_piece(v.data() + bound(p), bound(p + 1) - bound(p));
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

// What the kernel does with a gathered line.
enum class Arrange { Sort, Partition };

void arrange_packed(std::vector<uint64_t>& buf, Arrange how, int kth, bool long_line) {
  const int64_t n = static_cast<int64_t>(buf.size());
  if (how == Arrange::Partition) {
    std::nth_element(buf.begin(), buf.begin() + kth, buf.end());
    return;
  }
  auto sort_piece = [](uint64_t* p, int64_t m) {
    if (m < kRadixLine) {
      std::sort(p, p + m);
    } else {
      std::vector<uint64_t> tmp(m);
      radix_sort_packed(p, tmp.data(), m);
    }
  };
  if (long_line) {
    parallel_sort(buf, std::less<uint64_t>(), sort_piece);
  } else {
    sort_piece(buf.data(), n);
  }
}

template <typename K>
struct IndexedLess {
  bool operator()(const std::pair<K, uint32_t>& a, const std::pair<K, uint32_t>& b) const {
    if (nan_last_less(a.first, b.first)) return true;
    if (nan_last_less(b.first, a.first)) return false;
    return a.second < b.second;
  }
};

template <typename K>
void arrange_pairs(std::vector<std::pair<K, uint32_t>>& buf, Arrange how, int kth, bool long_line) {
  IndexedLess<K> less;
  if (how == Arrange::Partition) {
    std::nth_element(buf.begin(), buf.begin() + kth, buf.end(), less);
  } else if (long_line) {
    parallel_sort(buf, less, [&](auto* p, int64_t m) { std::sort(p, p + m, less); });
  } else {
    std::sort(buf.begin(), buf.end(), less);
  }
}

// ---- the kernels ----

// Sorts (or partitions) every line of `in` and writes, per position, the
// element (want_indices = false) or its index along the axis.
template <typename In>
void arrange_lines(const array& in, array& out, int axis, Arrange how, int kth, bool want_indices) {
  Lines ls = lines_of(in, axis);
  const int64_t count = ls.count(), n = ls.n;
  if (count == 0 || n == 0) return;
  const In* src = in.data<In>();
  In* values = want_indices ? nullptr : out.data<In>();
  uint32_t* indices = want_indices ? out.data<uint32_t>() : nullptr;
  using K = std::conditional_t<std::is_same_v<In, bool>, uint8_t, compute_t<In>>;
  using E = std::conditional_t<packs_v<In>, uint64_t, std::pair<K, uint32_t>>;

  auto line = [&](int64_t k, bool long_line, std::vector<E>& buf, std::vector<In>& raw) {
    const In* p = src + ls.in_offset(k);
    buf.resize(n);
    raw.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      raw[i] = p[i * ls.in_stride];
      if constexpr (packs_v<In>) {
        buf[i] = static_cast<uint64_t>(order_key(raw[i])) << 32 | static_cast<uint64_t>(i);
      } else {
        buf[i] = E(static_cast<K>(raw[i]), static_cast<uint32_t>(i));
      }
    }
    if constexpr (packs_v<In>) {
      arrange_packed(buf, how, kth, long_line);
    } else {
      arrange_pairs(buf, how, kth, long_line);
    }
    const int64_t o = ls.out_offset(k);
    for (int64_t i = 0; i < n; ++i) {
      uint32_t idx;
      if constexpr (packs_v<In>) {
        idx = static_cast<uint32_t>(buf[i]);
      } else {
        idx = buf[i].second;
      }
      if (want_indices) {
        indices[o + i * ls.inner] = idx;
      } else {
        values[o + i * ls.inner] = raw[idx];
      }
    }
  };

  if (how == Arrange::Sort && n >= kLongLine && count < detail::cpu_threads()) {
    std::vector<E> buf;
    std::vector<In> raw;
    for (int64_t k = 0; k < count; ++k) line(k, true, buf, raw);
    return;
  }
  int64_t grain = std::max<int64_t>(1, kTaskGrain / n);
  detail::parallel_for(count, grain, [&](int64_t b, int64_t e) {
    std::vector<E> buf;
    std::vector<In> raw;
    for (int64_t k = b; k < e; ++k) line(k, false, buf, raw);
  });
}

void arrange_kernel(const array& in, array& out, int axis, Arrange how, int kth, bool want_indices) {
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  dispatch_dtype(in.dtype(), [&](auto tag) {
    arrange_lines<decltype(tag)>(in, out, axis, how, kth, want_indices);
  });
}

void sort_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  arrange_kernel(inputs[0], outputs[0], static_cast<const Sort&>(p).axis(), Arrange::Sort, 0, false);
}

void argsort_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  arrange_kernel(inputs[0], outputs[0], static_cast<const ArgSort&>(p).axis(), Arrange::Sort, 0, true);
}

void partition_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const Partition&>(p);
  arrange_kernel(inputs[0], outputs[0], prim.axis(), Arrange::Partition, prim.kth(), false);
}

void argpartition_kernel(const Primitive& p, const std::vector<array>& inputs,
                         std::vector<array>& outputs) {
  const auto& prim = static_cast<const ArgPartition&>(p);
  arrange_kernel(inputs[0], outputs[0], prim.axis(), Arrange::Partition, prim.kth(), true);
}

LUMEN_REGISTER_KERNEL(Device::cpu, Sort, sort_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, ArgSort, argsort_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Partition, partition_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, ArgPartition, argpartition_kernel);

}  // namespace
}  // namespace lumen::cpu
