// Indexing ops: slices, with MLX's signatures and semantics.
#pragma once

#include <initializer_list>
#include <vector>

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen {

// Elements start[i], start[i] + strides[i], ... before stop[i] on each axis
// (numpy rules: negative indices count from the end, out-of-range bounds
// clamp, negative strides walk backwards). A view.
array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s = {});
inline array slice(const array& a, std::initializer_list<int> start, Shape stop, Shape strides,
                   StreamOrDevice s = {}) {
  return slice(a, Shape(start), std::move(stop), std::move(strides), s);
}
array slice(const array& a, Shape start, Shape stop, StreamOrDevice s = {});
// A window of `slice_size` starting, along `axes`, at the values of the
// integer array `start` (read at evaluation; clamped into the array).
array slice(const array& a, const array& start, std::vector<int> axes, Shape slice_size,
            StreamOrDevice s = {});

}  // namespace lumen
