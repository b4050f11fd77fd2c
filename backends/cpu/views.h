// Layout arithmetic of views: the flags and extent of a shape/strides pair,
// and the strides a reshape can use without moving data. Backend-neutral
// (only descriptors), so other backends' view kernels can share it.
#pragma once

#include <optional>

#include "lumen/array.h"
#include "lumen/primitive.h"
#include "lumen/shape_primitives.h"

namespace lumen::cpu {

struct ViewLayout {
  array::Flags flags;
  size_t data_size;  // elements between the lowest and highest addressed one, inclusive
};

// Contiguity flags and extent of elements addressed through `strides`.
ViewLayout describe_view(const Shape& shape, const Strides& strides);

// Strides that address `in`'s elements in row-major order with `out_shape`,
// or nullopt when the input's layout allows no such view (a copy is needed).
std::optional<Strides> reshape_strides(const array& in, const Shape& out_shape);

// `out` as a view of `in`'s buffer with these strides and byte offset (added
// to in's own), flags and extent derived from the strides.
void make_view(const array& in, array& out, const Strides& strides, int64_t offset_bytes = 0);

// `out` (of a broadcast shape) as a view of `in` with stride 0 along the
// broadcast dimensions.
void broadcast_view(const array& in, array& out);

// Kernels that only describe a view (any backend registers them):
// Squeeze, ExpandDims, Transpose, Slice, AsStrided.
void squeeze_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs);
void expand_dims_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs);
void transpose_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs);
void slice_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs);
void as_strided_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs);

// Strides of `in` re-expressed in elements of `obytes` bytes (View to
// another dtype), or nullopt when its layout has none (rows not
// byte-contiguous, or misaligned for the new type): a dense copy first.
std::optional<Strides> view_strides(const array& in, int64_t obytes);

// Whether Contiguous may return `in`'s buffer itself: dense in an allowed
// order, and not a small window that would keep a large buffer alive.
bool contiguous_can_share(const Contiguous& p, const array& in);

}  // namespace lumen::cpu
