// CPU kernels of primitives that only re-describe an input's buffer.
#include "lumen/backend.h"
#include "lumen/shape_primitives.h"

namespace lumen::cpu {

namespace {

void broadcast_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  Strides strides(out.ndim(), 0);
  int diff = static_cast<int>(out.ndim() - in.ndim());
  for (int i = static_cast<int>(in.ndim()) - 1; i >= 0; --i) {
    strides[i + diff] = in.shape(i) == 1 ? 0 : in.strides(i);
  }
  auto flags = in.flags();
  if (out.size() > in.size()) {
    flags.row_contiguous = false;
    flags.col_contiguous = false;
    flags.contiguous = false;
  }
  out.copy_shared_buffer(in, strides, flags, in.data_size());
}

LUMEN_REGISTER_KERNEL(Device::cpu, Broadcast, broadcast_kernel);

}  // namespace
}  // namespace lumen::cpu
