// Vulkan kernels of primitives that re-describe an input's buffer: the CPU
// backend's descriptor code (backends/cpu/views.h is backend-neutral). The
// ones that may need data moved (Reshape and friends, View, Contiguous) copy
// with the strided copy kernel when no description exists. Depends and
// CustomTransforms only forward buffers their inputs hold.
#include "backends/cpu/views.h"
#include "backends/vulkan/kernels/copy.h"
#include "lumen/backend.h"
#include "lumen/indexing_primitives.h"
#include "lumen/transforms_primitives.h"

namespace lumen::vulkan {

namespace {

void broadcast_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  cpu::broadcast_view(inputs[0], outputs[0]);
}

// A fresh row-contiguous buffer with `in`'s values, described with `in`'s
// shape (the caller re-describes it).
array dense_copy(KernelContext& k, const array& in) {
  array dense(in.shape(), in.dtype(), nullptr, {});
  copy_contiguous(k, in, dense);
  return dense;
}

// Reshape, Flatten, Unflatten: a view when possible, else a copy.
void reshape_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  if (auto strides = cpu::reshape_strides(in, out.shape())) {
    cpu::make_view(in, out, *strides);
    return;
  }
  KernelContext k(p);
  cpu::make_view(dense_copy(k, in), out, detail::row_major_strides(out.shape()));
}

void view_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  if (auto strides = cpu::view_strides(in, out.itemsize())) {
    cpu::make_view(in, out, *strides);
    return;
  }
  KernelContext k(p);
  cpu::make_view(dense_copy(k, in), out, detail::row_major_strides(out.shape()));
}

void contiguous_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  if (cpu::contiguous_can_share(static_cast<const Contiguous&>(p), in)) {
    out.copy_shared_buffer(in);
    return;
  }
  KernelContext k(p);
  copy_contiguous(k, in, out);
}

// Outputs are views of the last inputs (the function's forward outputs).
void custom_transforms_kernel(const Primitive&, const std::vector<array>& inputs,
                              std::vector<array>& outputs) {
  size_t first = inputs.size() - outputs.size();
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].copy_shared_buffer(inputs[first + i]);
}

// Outputs are views of the first inputs; the rest only had to be computed.
void depends_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].copy_shared_buffer(inputs[i]);
}

LUMEN_REGISTER_KERNEL(Device::gpu, Broadcast, broadcast_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Reshape, reshape_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Flatten, reshape_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Unflatten, reshape_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Squeeze, cpu::squeeze_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, ExpandDims, cpu::expand_dims_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Transpose, cpu::transpose_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Slice, cpu::slice_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, AsStrided, cpu::as_strided_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, View, view_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Contiguous, contiguous_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, CustomTransforms, custom_transforms_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Depends, depends_kernel);

}  // namespace
}  // namespace lumen::vulkan
