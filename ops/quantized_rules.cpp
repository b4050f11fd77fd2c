// Rules of BinaryMatmul: linear in x, the quantized weights are constants.
#include "core/detail/errors.h"
#include "lumen/quantized.h"
#include "lumen/quantized_primitives.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

BinaryWeights weights_of(const std::vector<array>& inputs, const BinaryFormat& f) {
  return {inputs[1], inputs[2], inputs[3], Shape{f.n, f.k}, f.group_size, f.vector_size, f.index_bits};
}

void check_x_only(const std::vector<int>& argnums) {
  for (int a : argnums) {
    if (a != 0) {
      detail::throw_invalid(
          "[BinaryMatmul] quantized weights are constants: no derivative with respect to input {}", a);
    }
  }
}

}  // namespace

std::vector<array> BinaryMatmul::vjp(const std::vector<array>& primals,
                                     const std::vector<array>& cotangents,
                                     const std::vector<int>& argnums, const std::vector<array>&) {
  check_x_only(argnums);
  // d/dx of x W^T is cot W (and of x W, cot W^T)
  return {binary_matmul(cotangents[0], weights_of(primals, format_), !transpose_, stream())};
}

std::vector<array> BinaryMatmul::jvp(const std::vector<array>& primals,
                                     const std::vector<array>& tangents,
                                     const std::vector<int>& argnums) {
  check_x_only(argnums);
  return {binary_matmul(tangents[0], weights_of(primals, format_), transpose_, stream())};
}

std::pair<std::vector<array>, std::vector<int>> BinaryMatmul::vmap(const std::vector<array>& inputs,
                                                                   const std::vector<int>& axes) {
  for (size_t i = 1; i < axes.size(); ++i) {
    if (axes[i] >= 0) {
      detail::throw_invalid("[BinaryMatmul] cannot vmap over the quantized weights (input {})", i);
    }
  }
  array x = inputs[0];
  if (axes[0] < 0) return {{binary_matmul(x, weights_of(inputs, format_), transpose_, stream())}, {-1}};
  // The batch axis leads; the contracted axis stays last.
  x = moveaxis(x, axes[0], 0, stream());
  return {{binary_matmul(x, weights_of(inputs, format_), transpose_, stream())}, {0}};
}

}  // namespace lumen
