// Transform rules of the random primitives: RandomBits batches over keys.
// The fused RandomUniform/RandomNormal need none (never built while tracing).
#include <numeric>

#include "lumen/random_primitives.h"
#include "lumen/shape.h"

namespace lumen {

std::pair<std::vector<array>, std::vector<int>> RandomBits::vmap(const std::vector<array>& inputs,
                                                                 const std::vector<int>& axes) {
  // The key's last axis is the pair: a batch axis there moves one place left.
  array keys = inputs[0];
  int kax = axes[0];
  if (kax == static_cast<int>(keys.ndim()) - 1) {
    std::vector<int> order(keys.ndim());
    std::iota(order.begin(), order.end(), 0);
    std::swap(order[kax], order[kax - 1]);
    keys = transpose(keys, order, stream());
    --kax;
  }
  Shape shape = shape_;
  if (kax >= 0) shape.insert(shape.begin() + kax, keys.shape(kax));
  Dtype dtype = width_ == 1 ? uint8 : (width_ == 2 ? uint16 : uint32);
  array out(shape, dtype, std::make_shared<RandomBits>(stream(), shape, width_, window_), {keys});
  return {{out}, {kax}};
}

}  // namespace lumen
