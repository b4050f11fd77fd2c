// Vulkan kernels of primitives that only re-describe an input's buffer: the
// CPU backend's descriptor code (backends/cpu/views.h is backend-neutral).
#include "backends/cpu/views.h"
#include "lumen/backend.h"
#include "lumen/shape_primitives.h"

namespace lumen::vulkan {

namespace {

void broadcast_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  cpu::broadcast_view(inputs[0], outputs[0]);
}

LUMEN_REGISTER_KERNEL(Device::gpu, Broadcast, broadcast_kernel);

}  // namespace
}  // namespace lumen::vulkan
