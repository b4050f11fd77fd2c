// vjp, jvp and vmap rules of the shape and view primitives.
#include "lumen/shape.h"
#include "lumen/shape_primitives.h"

namespace lumen {

std::vector<array> Broadcast::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {broadcast_to(tangents[0], shape_, stream())};
}

std::pair<std::vector<array>, std::vector<int>> Broadcast::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  // The batch axis keeps its place counted from the right.
  const array& x = inputs[0];
  int example_rank = static_cast<int>(x.ndim()) - 1;
  int axis = axes[0] + static_cast<int>(shape_.size()) - example_rank;
  Shape shape = shape_;
  shape.insert(shape.begin() + axis, x.shape(axes[0]));
  return {{broadcast_to(x, shape, stream())}, {axis}};
}

}  // namespace lumen
