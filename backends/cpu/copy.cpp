#include "backends/cpu/copy.h"

#include <algorithm>
#include <cstring>

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
  switch (itemsize_) {
    case 1: return copy_runs<uint8_t>(src, dst, layout_, begin, end);
    case 2: return copy_runs<uint16_t>(src, dst, layout_, begin, end);
    case 4: return copy_runs<uint32_t>(src, dst, layout_, begin, end);
    default: return copy_runs<uint64_t>(src, dst, layout_, begin, end);
  }
}

void copy_strided(const void* src, const Strides& src_strides, void* dst, const Strides& dst_strides,
                  const Shape& shape, size_t itemsize) {
  CopyPlan plan(shape, src_strides, dst_strides, itemsize);
  auto s = static_cast<const char*>(src);
  auto d = static_cast<char*>(dst);
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
