// Shape ops: reshaping, axis permutations, broadcasting, strided views,
// dtype views and contiguity. Signatures and semantics are MLX's.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen {

// Reshape (one dimension may be -1): a view when the input's strides allow
// one, else a copy.
array reshape(const array& a, Shape shape, StreamOrDevice s = {});
// Split `axis` into `shape` (one dimension may be -1).
array unflatten(const array& a, int axis, Shape shape, StreamOrDevice s = {});
// Merge axes [start_axis, end_axis] into one.
array flatten(const array& a, int start_axis, int end_axis = -1, StreamOrDevice s = {});
array flatten(const array& a, StreamOrDevice s = {});

array squeeze(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array squeeze(const array& a, int axis, StreamOrDevice s = {});
array squeeze(const array& a, StreamOrDevice s = {});  // all size-1 axes
array expand_dims(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array expand_dims(const array& a, int axis, StreamOrDevice s = {});

array transpose(const array& a, std::vector<int> axes, StreamOrDevice s = {});
inline array transpose(const array& a, std::initializer_list<int> axes, StreamOrDevice s = {}) {
  return transpose(a, std::vector<int>(axes), s);
}
array transpose(const array& a, StreamOrDevice s = {});  // reverses the axes
array swapaxes(const array& a, int axis1, int axis2, StreamOrDevice s = {});
array moveaxis(const array& a, int source, int destination, StreamOrDevice s = {});

array atleast_1d(const array& a, StreamOrDevice s = {});
std::vector<array> atleast_1d(const std::vector<array>& a, StreamOrDevice s = {});
array atleast_2d(const array& a, StreamOrDevice s = {});
std::vector<array> atleast_2d(const std::vector<array>& a, StreamOrDevice s = {});
array atleast_3d(const array& a, StreamOrDevice s = {});
std::vector<array> atleast_3d(const std::vector<array>& a, StreamOrDevice s = {});

array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s = {});
std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s = {});
// The shape both broadcast to; throws std::invalid_argument naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast_shapes");

// Joining and splitting.
array concatenate(std::vector<array> arrays, int axis, StreamOrDevice s = {});
array concatenate(std::vector<array> arrays, StreamOrDevice s = {});  // flattened, on axis 0
array stack(const std::vector<array>& arrays, int axis, StreamOrDevice s = {});
array stack(const std::vector<array>& arrays, StreamOrDevice s = {});
// Equal parts (views); the axis must divide evenly.
std::vector<array> split(const array& a, int num_splits, int axis, StreamOrDevice s = {});
std::vector<array> split(const array& a, int num_splits, StreamOrDevice s = {});
// Parts between the given indices along the axis (views, numpy rules).
std::vector<array> split(const array& a, const Shape& indices, int axis, StreamOrDevice s = {});
std::vector<array> split(const array& a, const Shape& indices, StreamOrDevice s = {});
std::vector<array> unstack(const array& a, int axis, StreamOrDevice s = {});
std::vector<array> unstack(const array& a, StreamOrDevice s = {});
// Coordinate arrays; indexing "xy" (Cartesian) or "ij" (matrix).
std::vector<array> meshgrid(const std::vector<array>& arrays, bool sparse = false,
                            const std::string& indexing = "xy", StreamOrDevice s = {});

// Repetition and padding.
array repeat(const array& arr, int repeats, int axis, StreamOrDevice s = {});
array repeat(const array& arr, int repeats, StreamOrDevice s = {});  // flattened
array tile(const array& arr, std::vector<int> reps, StreamOrDevice s = {});
// mode: "constant" (pad_value), "edge", "reflect" or "symmetric" (as numpy).
array pad(const array& a, const std::vector<int>& axes, const Shape& low_pad_size,
          const Shape& high_pad_size, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width,
          const array& pad_value = array(0), const std::string& mode = "constant",
          StreamOrDevice s = {});
array pad(const array& a, const std::pair<int, int>& pad_width, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, int pad_width, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});

// Reordering (views, except roll).
array flip(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array flip(const array& a, int axis, StreamOrDevice s = {});
array flip(const array& a, StreamOrDevice s = {});  // all axes
array roll(const array& a, int shift, StreamOrDevice s = {});  // flattened
array roll(const array& a, const Shape& shift, StreamOrDevice s = {});
array roll(const array& a, int shift, int axis, StreamOrDevice s = {});
array roll(const array& a, int shift, const std::vector<int>& axes, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, int axis, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, const std::vector<int>& axes, StreamOrDevice s = {});

// The diagonal at `offset` of the planes (axis1, axis2), as a new last axis.
array diagonal(const array& a, int offset = 0, int axis1 = 0, int axis2 = 1, StreamOrDevice s = {});
// 2-D: the k-th diagonal; 1-D: a square matrix with it on the k-th diagonal.
array diag(const array& a, int k = 0, StreamOrDevice s = {});

// A view of the flattened input with the given shape, element strides and
// element offset. Nothing is bounds-checked (as MLX).
array as_strided(array a, Shape shape, Strides strides, size_t offset, StreamOrDevice s = {});

// The same bytes read as `dtype`: the last axis grows or shrinks by the ratio
// of the element sizes.
array view(const array& a, const Dtype& dtype, StreamOrDevice s = {});

// The array with row-contiguous memory (column-contiguous also accepted when
// allow_col_major); a copy only when needed.
array contiguous(const array& a, bool allow_col_major = false, StreamOrDevice s = {});

}  // namespace lumen
