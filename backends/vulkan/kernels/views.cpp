// Vulkan kernels of primitives that only re-describe an input's buffer (the
// same descriptor code as the CPU's, backends/common/views.h).
#include "backends/common/views.h"
#include "lumen/backend.h"
#include "lumen/shape_primitives.h"

namespace lumen::vulkan {

namespace {

void broadcast_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  backends::broadcast_view(inputs[0], outputs[0]);
}

LUMEN_REGISTER_KERNEL(Device::gpu, Broadcast, broadcast_kernel);

}  // namespace
}  // namespace lumen::vulkan
