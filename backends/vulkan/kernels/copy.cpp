#include "backends/vulkan/kernels/copy.h"

#include <array>

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

}  // namespace

void copy_strided(KernelContext& k, const array& src, const array& dst) {
  if (src.size() == 0) return;
  std::array<const Strides*, 2> strides{&src.strides(), &dst.strides()};
  auto layout = cpu::collapse<2>(src.shape(), strides);
  size_t nd = layout.shape.size();
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
  Constants constants(11, 0);
  constants[8] = bits_dtype(src.itemsize());
  constants[9] = src_contiguous;
  constants[10] = dst_contiguous;
  k.dispatch("copy", std::move(constants), &push, sizeof(push), src.size(), {&src}, {&dst});
}

void copy_contiguous(KernelContext& k, const array& src, array& out) {
  k.allocate(out);
  copy_strided(k, src, out);
}

}  // namespace lumen::vulkan
