// CPU kernels of the primitives the transforms build: both only forward
// buffers their inputs already hold.
#include "lumen/backend.h"
#include "lumen/transforms_primitives.h"

namespace lumen::cpu {

namespace {

// Outputs are views of the last inputs (the function's forward outputs).
void custom_transforms_kernel(const Primitive&, const std::vector<array>& inputs,
                              std::vector<array>& outputs) {
  size_t first = inputs.size() - outputs.size();
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].copy_shared_buffer(inputs[first + i]);
}

// Outputs are views of the first inputs; the rest only had to be computed.
void depends_kernel(const Primitive&, const std::vector<array>& inputs,
                    std::vector<array>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].copy_shared_buffer(inputs[i]);
}

LUMEN_REGISTER_KERNEL(Device::cpu, CustomTransforms, custom_transforms_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Depends, depends_kernel);

}  // namespace
}  // namespace lumen::cpu
