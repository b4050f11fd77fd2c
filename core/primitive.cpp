#include "lumen/primitive.h"

#include "detail/errors.h"

namespace lumen {

std::vector<array> Primitive::vjp(const std::vector<array>&, const std::vector<array>&,
                                  const std::vector<int>&, const std::vector<array>&) {
  detail::throw_invalid("[{}] primitive has no vjp rule", name());
}

std::vector<array> Primitive::jvp(const std::vector<array>&, const std::vector<array>&,
                                  const std::vector<int>&) {
  detail::throw_invalid("[{}] primitive has no jvp rule", name());
}

std::pair<std::vector<array>, std::vector<int>> Primitive::vmap(const std::vector<array>&,
                                                                const std::vector<int>&) {
  detail::throw_invalid("[{}] primitive has no vmap rule", name());
}

std::vector<Shape> Primitive::output_shapes(const std::vector<array>&) {
  detail::throw_invalid("[{}] primitive cannot infer output shapes (needed by shapeless compile)",
                        name());
}

std::ostream& operator<<(std::ostream& os, const Primitive& p) {
  p.print(os);
  return os;
}

}  // namespace lumen
