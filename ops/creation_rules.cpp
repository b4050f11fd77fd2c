// vjp, jvp and vmap rules of the creation primitives. Arange has no inputs,
// so no transform ever reaches it; Full only materializes its input.
#include "lumen/creation_primitives.h"

namespace lumen {

std::vector<array> Full::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                             const std::vector<int>&, const std::vector<array>&) {
  return cotangents;
}

std::vector<array> Full::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                             const std::vector<int>&) {
  return tangents;
}

std::pair<std::vector<array>, std::vector<int>> Full::vmap(const std::vector<array>& inputs,
                                                           const std::vector<int>& axes) {
  const array& x = inputs[0];
  return {{array(x.shape(), x.dtype(), std::make_shared<Full>(stream()), {x})}, axes};
}

}  // namespace lumen
