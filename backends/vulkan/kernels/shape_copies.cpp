// Vulkan kernels of Concatenate and Pad: a fresh output, inputs copied into
// windows of it by the strided copy kernel (kernels/copy.cpp).
#include "backends/cpu/views.h"
#include "backends/vulkan/kernels/copy.h"
#include "lumen/backend.h"
#include "lumen/shape_primitives.h"

namespace lumen::vulkan {

namespace {

// A `shape`-shaped window of `base` (same strides) starting `offset`
// elements into it.
array window_of(const array& base, const Shape& shape, int64_t offset) {
  array w(shape, base.dtype(), nullptr, {});
  cpu::make_view(base, w, base.strides(), offset * static_cast<int64_t>(base.itemsize()));
  return w;
}

void concatenate_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  int axis = static_cast<const Concatenate&>(p).axis();
  array& out = outputs[0];
  k.allocate(out);
  int64_t offset = 0;
  for (auto& in : inputs) {
    if (in.size() > 0) copy_strided(k, in, window_of(out, in.shape(), offset));
    offset += in.shape(axis) * out.strides(axis);
  }
}

void pad_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  const auto& pad = static_cast<const Pad&>(p);
  const array& in = inputs[0];
  array& out = outputs[0];
  k.allocate(out);
  // The value everywhere (a broadcast copy), then the input in its window.
  array value(out.shape(), out.dtype(), nullptr, {});
  cpu::broadcast_view(inputs[1], value);
  copy_strided(k, value, out);
  int64_t offset = 0;
  for (size_t i = 0; i < pad.axes().size(); ++i) offset += pad.low_pad_size()[i] * out.strides(pad.axes()[i]);
  if (in.size() > 0) copy_strided(k, in, window_of(out, in.shape(), offset));
}

LUMEN_REGISTER_KERNEL(Device::gpu, Concatenate, concatenate_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Pad, pad_kernel);

}  // namespace
}  // namespace lumen::vulkan
