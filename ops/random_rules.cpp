// Rules of RandomBits: the bits do not depend differentiably on the key, and
// a batch of keys gives a batch of streams, one per key (MLX's vmap).
// RandomUniform and RandomNormal have no rules: the ops build them only
// outside tracing.
#include "lumen/creation.h"
#include "lumen/random_primitives.h"
#include "lumen/shape.h"

namespace lumen {

std::vector<array> RandomBits::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                   const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}

std::vector<array> RandomBits::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                   const std::vector<int>&) {
  return {zeros(output_shapes(primals)[0], width_ == 1 ? uint8 : width_ == 2 ? uint16 : uint32,
                stream())};
}

std::pair<std::vector<array>, std::vector<int>> RandomBits::vmap(const std::vector<array>& inputs,
                                                                 const std::vector<int>& axes) {
  // Keys (..., 2) fill their blocks of the output in order: a batch axis of
  // the keys becomes the output's axis at the same place (never the pair axis).
  array keys = inputs[0];
  int ax = axes[0];
  int last = static_cast<int>(keys.ndim()) - 1;
  if (ax == last) {
    keys = swapaxes(keys, ax, ax - 1, stream());
    --ax;
  }
  Shape shape = shape_;
  shape.insert(shape.begin() + ax, keys.shape(ax));
  Dtype dtype = width_ == 1 ? uint8 : width_ == 2 ? uint16 : uint32;
  auto out = array(shape, dtype, std::make_shared<RandomBits>(stream(), shape, width_, window_),
                   {keys});
  return {{out}, {ax}};
}

}  // namespace lumen
