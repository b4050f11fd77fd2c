// Indexing ops: slices and slice updates, take/put, gather/scatter, with
// MLX's signatures and semantics. Index arrays may have any integer dtype;
// negative indices count from the end of their axis. An index still out of
// range after that makes eval throw std::out_of_range (MLX does not check).
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

// src with the slice (as `slice`) replaced by `update` (broadcast to the
// slice's shape, cast to src's dtype).
array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                   StreamOrDevice s = {});
array slice_update(const array& src, const array& update, Shape start, Shape stop,
                   StreamOrDevice s = {});
// Lets slice_update(src, update, {0, 1}, {2, 3}) pick the overload above
// rather than the runtime-start one below.
inline array slice_update(const array& src, const array& update, std::initializer_list<int> start,
                          Shape stop, StreamOrDevice s = {}) {
  return slice_update(src, update, Shape(start), std::move(stop), s);
}
// With the window's start along `axes` read from the integer array `start`
// at evaluation (clamped so the window fits).
array slice_update(const array& src, const array& update, const array& start, std::vector<int> axes,
                   StreamOrDevice s = {});
// The slice combined with `update` by +, *, max or min.
array slice_update_add(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_add(const array& src, const array& update, Shape start, Shape stop,
                       StreamOrDevice s = {});
array slice_update_prod(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                        StreamOrDevice s = {});
array slice_update_prod(const array& src, const array& update, Shape start, Shape stop,
                        StreamOrDevice s = {});
array slice_update_max(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_max(const array& src, const array& update, Shape start, Shape stop,
                       StreamOrDevice s = {});
array slice_update_min(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_min(const array& src, const array& update, Shape start, Shape stop,
                       StreamOrDevice s = {});

// Slices of `a` at the positions given by index arrays along `axes`: output
// shape = broadcast index shape + slice_sizes.
array gather(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
             const Shape& slice_sizes, StreamOrDevice s = {});
inline array gather(const array& a, const array& indices, int axis, const Shape& slice_sizes,
                    StreamOrDevice s = {}) {
  return gather(a, {indices}, std::vector<int>{axis}, slice_sizes, s);
}

// Slices at `indices` along `axis` (the index dims replace the axis).
array take(const array& a, const array& indices, int axis, StreamOrDevice s = {});
array take(const array& a, int index, int axis, StreamOrDevice s = {});
// Elements of the flattened array.
array take(const array& a, const array& indices, StreamOrDevice s = {});
array take(const array& a, int index, StreamOrDevice s = {});

// out[..., j, ...] = a[..., indices[..., j, ...], ...] along `axis`
// (a and indices broadcast against each other on the other axes).
array take_along_axis(const array& a, const array& indices, int axis, StreamOrDevice s = {});
// a with values written (or added) at the positions take_along_axis reads.
array put_along_axis(const array& a, const array& indices, const array& values, int axis,
                     StreamOrDevice s = {});
array scatter_add_axis(const array& a, const array& indices, const array& values, int axis,
                       StreamOrDevice s = {});

// a with `updates` (shape: broadcast index shape + a slice shape of a's
// rank) written at the positions gather would read. With duplicate
// indices, scatter keeps the last update; the others combine all of them.
array scatter(const array& a, const std::vector<array>& indices, const array& updates,
              const std::vector<int>& axes, StreamOrDevice s = {});
array scatter_add(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
array scatter_prod(const array& a, const std::vector<array>& indices, const array& updates,
                   const std::vector<int>& axes, StreamOrDevice s = {});
array scatter_max(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
array scatter_min(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
inline array scatter(const array& a, const array& indices, const array& updates, int axis,
                     StreamOrDevice s = {}) {
  return scatter(a, {indices}, updates, std::vector<int>{axis}, s);
}
inline array scatter_add(const array& a, const array& indices, const array& updates, int axis,
                         StreamOrDevice s = {}) {
  return scatter_add(a, {indices}, updates, std::vector<int>{axis}, s);
}
inline array scatter_prod(const array& a, const array& indices, const array& updates, int axis,
                          StreamOrDevice s = {}) {
  return scatter_prod(a, {indices}, updates, std::vector<int>{axis}, s);
}
inline array scatter_max(const array& a, const array& indices, const array& updates, int axis,
                         StreamOrDevice s = {}) {
  return scatter_max(a, {indices}, updates, std::vector<int>{axis}, s);
}
inline array scatter_min(const array& a, const array& indices, const array& updates, int axis,
                         StreamOrDevice s = {}) {
  return scatter_min(a, {indices}, updates, std::vector<int>{axis}, s);
}

}  // namespace lumen
