// CPU kernels of Concatenate and Pad: fresh output, inputs copied into
// windows of it by the strided copy kernel.
#include "backends/cpu/copy.h"
#include "lumen/backend.h"
#include "lumen/shape_primitives.h"

namespace lumen::cpu {

namespace {

void alloc_output(array& out) { out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes())); }

void concatenate_kernel(const Primitive& p, const std::vector<array>& inputs,
                        std::vector<array>& outputs) {
  int axis = static_cast<const Concatenate&>(p).axis();
  array& out = outputs[0];
  alloc_output(out);
  const int64_t step = out.strides(axis) * static_cast<int64_t>(out.itemsize());
  char* dst = out.data<char>();
  for (auto& in : inputs) {
    copy_strided(in.data<char>(), in.strides(), dst, out.strides(), in.shape(), in.itemsize());
    dst += in.shape(axis) * step;
  }
}

void pad_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& pad = static_cast<const Pad&>(p);
  const array& in = inputs[0];
  const array& value = inputs[1];
  array& out = outputs[0];
  alloc_output(out);
  // The value everywhere (a broadcast copy), then the input in its window.
  copy_strided(value.data<char>(), Strides(out.ndim(), 0), out.data<char>(), out.strides(), out.shape(),
               out.itemsize());
  int64_t offset = 0;
  for (size_t i = 0; i < pad.axes().size(); ++i) offset += pad.low_pad_size()[i] * out.strides(pad.axes()[i]);
  copy_strided(in.data<char>(), in.strides(), out.data<char>() + offset * static_cast<int64_t>(out.itemsize()),
               out.strides(), in.shape(), in.itemsize());
}

LUMEN_REGISTER_KERNEL(Device::cpu, Concatenate, concatenate_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Pad, pad_kernel);

}  // namespace
}  // namespace lumen::cpu
