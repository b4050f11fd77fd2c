#include "backends/cpu/copy.h"

#include <algorithm>
#include <cstring>

#include "backends/cpu/strided.h"
#include "core/detail/errors.h"
#include "lumen/allocator.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Each chunk of a parallel copy moves at least this many bytes.
constexpr int64_t kChunkBytes = int64_t{1} << 18;

// T is an unsigned integer of the element's size: only bytes move.
template <typename T>
void copy_layout(const char* src, char* dst, const StridedLayout<2>& layout, int64_t n) {
  const T* in = reinterpret_cast<const T*>(src);
  T* out = reinterpret_cast<T*>(dst);
  detail::parallel_for(n, kChunkBytes / static_cast<int64_t>(sizeof(T)), [&](int64_t b, int64_t e) {
    for_each_run<2>(layout, b, e, [&](const std::array<int64_t, 2>& off, int64_t count,
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
  });
}

}  // namespace

void copy_strided(const void* src, const Strides& src_strides, void* dst, const Strides& dst_strides,
                  const Shape& shape, size_t itemsize) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  if (n == 0) return;
  // Output first: runs follow the destination's order.
  auto layout = collapse<2>(shape, {&dst_strides, &src_strides});
  auto s = static_cast<const char*>(src);
  auto d = static_cast<char*>(dst);
  switch (itemsize) {
    case 1: return copy_layout<uint8_t>(s, d, layout, n);
    case 2: return copy_layout<uint16_t>(s, d, layout, n);
    case 4: return copy_layout<uint32_t>(s, d, layout, n);
    case 8: return copy_layout<uint64_t>(s, d, layout, n);
    default: detail::throw_invalid("[copy] unsupported element size {}", itemsize);
  }
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

}  // namespace lumen::cpu
