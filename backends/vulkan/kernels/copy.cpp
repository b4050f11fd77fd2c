#include "backends/vulkan/kernels/copy.h"

#include <array>
#include <climits>
#include <cstdint>

#include "backends/cpu/strided.h"
#include "backends/vulkan/shaders/ids.h"

namespace lumen::vulkan {

namespace {

// Push constants of shaders/copy.comp.
struct CopyPush {
  uint64_t dst;
  uint64_t src;
  uint64_t n;
  uint64_t table;
  uint32_t ndim;
  uint32_t pad;
};

// Shaders move elements as raw bits of one of these sizes.
uint32_t bits_dtype(size_t itemsize) {
  switch (itemsize) {
    case 1: return DT_U8;
    case 2: return DT_U16;
    case 4: return DT_U32;
    default: return DT_U64;
  }
}

// Whether the innermost dimension has unit stride on both sides and every
// run of `vec` elements along it starts at a multiple of `vec` on both.
template <typename Layout>
bool in_rows_of(const Layout& layout, int64_t vec) {
  const size_t nd = layout.shape.size();
  if (nd < 2 || layout.shape[nd - 1] % vec != 0) return false;
  for (int side = 0; side < 2; ++side) {
    if (layout.strides[side][nd - 1] != 1) return false;
    for (size_t d = 0; d + 1 < nd; ++d) {
      if (layout.strides[side][d] % vec != 0) return false;
    }
  }
  return true;
}

// Push constants of shaders/copy_tiled.comp.
struct TiledPush {
  uint64_t dst;
  uint64_t src;
  uint64_t table;
  uint64_t batches;
  int64_t src_stride_l;
  int64_t dst_stride_k;
  uint32_t extent_k;
  uint32_t extent_l;
  uint32_t ndim;
  uint32_t pad;
};

// The tiled transpose-copy when the collapsed layout has a dimension K with
// unit source stride while the destination's innermost dimension L (unit
// destination stride) has not; false when the layout is not of that kind.
template <typename Layout>
bool copy_tiled(KernelContext& k, const array& src, const array& dst, const Layout& layout) {
  const size_t nd = layout.shape.size();
  if (nd < 2) return false;
  const size_t l = nd - 1;
  if (layout.strides[1][l] != 1 || layout.strides[0][l] == 1) return false;
  size_t kd = nd;
  for (size_t d = 0; d < l; ++d) {
    if (layout.strides[0][d] == 1) kd = d;
  }
  constexpr int64_t kMinExtent = 8;  // narrower tiles would waste most of each workgroup
  if (kd == nd || layout.shape[kd] < kMinExtent || layout.shape[l] < kMinExtent ||
      layout.shape[kd] > INT32_MAX || layout.shape[l] > INT32_MAX) {
    return false;
  }
  std::vector<int64_t> batch_shape, src_strides, dst_strides;
  uint64_t batches = 1;
  for (size_t d = 0; d < l; ++d) {
    if (d == kd) continue;
    batch_shape.push_back(layout.shape[d]);
    src_strides.push_back(layout.strides[0][d]);
    dst_strides.push_back(layout.strides[1][d]);
    batches *= static_cast<uint64_t>(layout.shape[d]);
  }
  std::vector<int64_t> table(batch_shape);
  table.insert(table.end(), src_strides.begin(), src_strides.end());
  table.insert(table.end(), dst_strides.begin(), dst_strides.end());
  table.push_back(0);  // never empty
  TiledPush push{};
  push.dst = address_of(dst);
  push.src = address_of(src);
  push.table = k.stream().upload(table.data(), table.size() * sizeof(int64_t));
  push.batches = batches;
  push.src_stride_l = layout.strides[0][l];
  push.dst_stride_k = layout.strides[1][kd];
  push.extent_k = static_cast<uint32_t>(layout.shape[kd]);
  push.extent_l = static_cast<uint32_t>(layout.shape[l]);
  push.ndim = static_cast<uint32_t>(batch_shape.size());
  uint64_t tiles = batches * static_cast<uint64_t>((layout.shape[kd] + 31) / 32) *
                   static_cast<uint64_t>((layout.shape[l] + 31) / 32);
  Constants constants(9, 0);
  constants[8] = bits_dtype(src.itemsize());
  k.dispatch("copy_tiled", std::move(constants), &push, sizeof(push), tiles * KernelContext::kWorkgroupSize,
             {&src}, {&dst});
  return true;
}

}  // namespace

void copy_strided(KernelContext& k, const array& src, const array& dst) {
  if (src.size() == 0) return;
  std::array<const Strides*, 2> strides{&src.strides(), &dst.strides()};
  auto layout = cpu::collapse<2>(src.shape(), strides);
  size_t nd = layout.shape.size();
  if (copy_tiled(k, src, dst, layout)) return;
  bool src_contiguous = nd == 1 && layout.strides[0][0] == 1;
  bool dst_contiguous = nd == 1 && layout.strides[1][0] == 1;
  CopyPush push{};
  push.dst = address_of(dst);
  push.src = address_of(src);
  push.n = src.size();
  if (!src_contiguous || !dst_contiguous) {
    std::vector<int64_t> table(3 * nd);
    for (size_t d = 0; d < nd; ++d) {
      table[d] = layout.shape[d];
      table[nd + d] = layout.strides[0][d];
      table[2 * nd + d] = layout.strides[1][d];
    }
    push.table = k.stream().upload(table.data(), table.size() * sizeof(int64_t));
    push.ndim = static_cast<uint32_t>(nd);
  }
  Constants constants(13, 0);
  constants[8] = bits_dtype(src.itemsize());
  constants[9] = src_contiguous;
  constants[10] = dst_contiguous;
  uint64_t invocations = src.size();
  const auto vec = static_cast<int64_t>(16 / src.itemsize());
  const bool aligned = push.src % 16 == 0 && push.dst % 16 == 0;
  if (src_contiguous && dst_contiguous && aligned) {
    constants[11] = 1;
    invocations = src.size() * src.itemsize() / 64 + 16;  // four 16-byte chunks each, then a short tail
  } else if (aligned && in_rows_of(layout, vec)) {
    constants[12] = 1;
    invocations = src.size() / static_cast<uint64_t>(vec);
  }
  k.dispatch("copy", std::move(constants), &push, sizeof(push), invocations, {&src}, {&dst});
}

void copy_contiguous(KernelContext& k, const array& src, array& out) {
  k.allocate(out);
  copy_strided(k, src, out);
}

}  // namespace lumen::vulkan
