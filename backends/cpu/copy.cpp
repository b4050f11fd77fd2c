#include "backends/cpu/copy.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/detail/errors.h"
#include "lumen/allocator.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Each chunk of a parallel copy moves at least this many bytes.
constexpr int64_t kChunkBytes = int64_t{1} << 18;

// T is an unsigned integer of the element's size: only bytes move.
template <typename T>
void copy_runs(const char* src, char* dst, const StridedLayout<2>& layout, int64_t begin,
               int64_t end) {
  const T* in = reinterpret_cast<const T*>(src);
  T* out = reinterpret_cast<T*>(dst);
  for_each_run<2>(layout, begin, end, [&](const std::array<int64_t, 2>& off, int64_t count,
                                          const std::array<int64_t, 2>& st) {
    T* o = out + off[0];
    const T* i = in + off[1];
    const int64_t so = st[0], si = st[1];
    if (so == 1 && si == 1) {
      std::memcpy(o, i, static_cast<size_t>(count) * sizeof(T));
    } else if (si == 0) {  // a broadcast run: one value
      T v = *i;
      if (so == 1) std::fill_n(o, count, v);
      else for (int64_t k = 0; k < count; ++k) o[k * so] = v;
    } else if (so == 1) {
      for (int64_t k = 0; k < count; ++k) o[k] = i[k * si];
    } else {
      for (int64_t k = 0; k < count; ++k) o[k * so] = i[k * si];
    }
  });
}

// A transpose-like layout: the destination's inner dim is unit-stride but
// the source's unit-stride dim is another one (`k`). Copying square tiles of
// (dim k) x (inner dim) touches whole cache lines on both sides, where the
// run-by-run loop would fetch a source line per element.
struct Tiling {
  static constexpr int64_t kTile = 64;
  int64_t rows, cols;        // sizes of dim k and of the inner dim
  int64_t dst_row, src_col;  // destination stride of dim k, source stride of the inner dim
  StridedLayout<2> outer;    // every other dim
  int64_t outer_n = 1;
  int64_t tiles_r, tiles_c;

  static std::optional<Tiling> plan(const StridedLayout<2>& l) {
    const int nd = static_cast<int>(l.shape.size());
    if (nd < 2 || l.strides[0][nd - 1] != 1 || l.strides[1][nd - 1] == 1) return std::nullopt;
    int k = -1;
    for (int d = 0; d < nd - 1; ++d) {
      if (l.strides[1][d] == 1) k = d;
    }
    if (k < 0 || l.shape[k] < 16 || l.shape[nd - 1] < 16) return std::nullopt;
    Tiling t;
    t.rows = l.shape[k];
    t.cols = l.shape[nd - 1];
    t.dst_row = l.strides[0][k];
    t.src_col = l.strides[1][nd - 1];
    for (int d = 0; d < nd - 1; ++d) {
      if (d == k) continue;
      t.outer.shape.push_back(l.shape[d]);
      for (int s = 0; s < 2; ++s) t.outer.strides[s].push_back(l.strides[s][d]);
      t.outer_n *= l.shape[d];
    }
    if (t.outer.shape.empty()) {
      t.outer.shape.push_back(1);
      for (int s = 0; s < 2; ++s) t.outer.strides[s].push_back(0);
    }
    t.tiles_r = (t.rows + kTile - 1) / kTile;
    t.tiles_c = (t.cols + kTile - 1) / kTile;
    return t;
  }

  int64_t work() const { return outer_n * tiles_r * tiles_c; }

  template <typename T>
  void run(const char* src, char* dst, int64_t begin, int64_t end) const {
    for (int64_t w = begin; w < end; ++w) {
      int64_t o = w / (tiles_r * tiles_c), t = w % (tiles_r * tiles_c);
      int64_t r0 = (t / tiles_c) * kTile, c0 = (t % tiles_c) * kTile;
      int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      std::array<int64_t, 2> base{};
      for_each_run<2>(outer, o, o + 1, [&](const std::array<int64_t, 2>& off, int64_t,
                                           const std::array<int64_t, 2>&) { base = off; });
      T* d = reinterpret_cast<T*>(dst) + base[0];
      const T* s = reinterpret_cast<const T*>(src) + base[1];
      for (int64_t r = r0; r < r1; ++r) {
        T* dr = d + r * dst_row;
        const T* sr = s + r;
        for (int64_t c = c0; c < c1; ++c) dr[c] = sr[c * src_col];
      }
    }
  }
};

template <typename F>
void with_item_type(size_t itemsize, F&& f) {
  switch (itemsize) {
    case 1: return f(uint8_t{});
    case 2: return f(uint16_t{});
    case 4: return f(uint32_t{});
    default: return f(uint64_t{});
  }
}

}  // namespace

CopyPlan::CopyPlan(const Shape& shape, const Strides& src_strides, const Strides& dst_strides,
                   size_t itemsize)
    : layout_(collapse<2>(shape, {&dst_strides, &src_strides})), size_(1), itemsize_(itemsize) {
  for (auto d : shape) size_ *= d;
  if (itemsize != 1 && itemsize != 2 && itemsize != 4 && itemsize != 8) {
    detail::throw_invalid("[copy] unsupported element size {}", itemsize);
  }
}

void CopyPlan::run(const char* src, char* dst, int64_t begin, int64_t end) const {
  if (begin >= end) return;
  with_item_type(itemsize_, [&](auto tag) { copy_runs<decltype(tag)>(src, dst, layout_, begin, end); });
}

void copy_strided(const void* src, const Strides& src_strides, void* dst, const Strides& dst_strides,
                  const Shape& shape, size_t itemsize) {
  CopyPlan plan(shape, src_strides, dst_strides, itemsize);
  auto s = static_cast<const char*>(src);
  auto d = static_cast<char*>(dst);
  if (auto tiling = Tiling::plan(plan.layout()); tiling && plan.size() >= (int64_t{1} << 14)) {
    with_item_type(itemsize, [&](auto tag) {
      detail::parallel_for(tiling->work(), 4, [&](int64_t b, int64_t e) {
        tiling->template run<decltype(tag)>(s, d, b, e);
      });
    });
    return;
  }
  detail::parallel_for(plan.size(), kChunkBytes / static_cast<int64_t>(itemsize),
                       [&](int64_t b, int64_t e) { plan.run(s, d, b, e); });
}

void copy_to_row_contiguous(const array& in, array& out) {
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  // Row-major order of in's shape is row-major order of out's.
  copy_strided(in.data<char>(), in.strides(), out.data<char>(), detail::row_major_strides(in.shape()),
               in.shape(), in.itemsize());
}

void copy_into(const array& in, array& out) {
  if (in.shape() != out.shape() || in.itemsize() != out.itemsize()) {
    detail::throw_invalid("[copy] cannot copy shape {} ({} bytes each) into shape {} ({} bytes each)",
                          detail::shape_str(in.shape()), in.itemsize(), detail::shape_str(out.shape()),
                          out.itemsize());
  }
  copy_strided(in.data<char>(), in.strides(), out.data<char>(), out.strides(), in.shape(),
               in.itemsize());
}

void copy_or_donate(const array& in, array& out) {
  if (in.is_donatable() && in.flags().row_contiguous && in.data_size() == in.size() &&
      in.itemsize() == out.itemsize()) {
    out.copy_shared_buffer(in);
  } else {
    copy_to_row_contiguous(in, out);
  }
}

}  // namespace lumen::cpu
