// Argument checks shared by the shape and indexing ops.
#pragma once

#include <vector>

#include "core/detail/errors.h"

namespace lumen::detail {

// `axis` in [-ndim, ndim) made non-negative; else std::invalid_argument
// "[op] Axis <axis> is out of bounds for array with <ndim> dimensions."
inline int normalize_axis(int axis, int ndim, const char* op) {
  if (axis < -ndim || axis >= ndim) {
    throw_invalid("[{}] Axis {} is out of bounds for array with {} dimensions.", op, axis, ndim);
  }
  return axis < 0 ? axis + ndim : axis;
}

// Same, raising std::out_of_range (MLX does for swapaxes, moveaxis, ...).
inline int normalize_axis_range(int axis, int ndim, const char* op) {
  if (axis < -ndim || axis >= ndim) {
    throw_range("[{}] Invalid axis {} for array with {} dimensions.", op, axis, ndim);
  }
  return axis < 0 ? axis + ndim : axis;
}

// The shape with at most one -1 replaced so that the product is `size`;
// std::invalid_argument naming `op` when impossible.
Shape infer_shape(Shape shape, int64_t size, const char* op);

}  // namespace lumen::detail
