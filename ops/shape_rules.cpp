// vjp, jvp and vmap rules of the shape and view primitives.
#include "lumen/shape.h"
#include "lumen/shape_primitives.h"

namespace lumen {

std::vector<array> Broadcast::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {broadcast_to(tangents[0], shape_, stream())};
}

}  // namespace lumen
