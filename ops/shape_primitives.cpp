#include "lumen/shape_primitives.h"

#include <limits>

#include "core/detail/errors.h"
#include "ops/detail/shape_checks.h"

namespace lumen {

bool Broadcast::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Broadcast::output_shapes(const std::vector<array>&) { return {shape_}; }

Shape Reshape::output_shape(const array& input, Shape shape) {
  return detail::infer_shape(std::move(shape), static_cast<int64_t>(input.size()), "reshape");
}
bool Reshape::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Reshape::output_shapes(const std::vector<array>& inputs) {
  return {output_shape(inputs[0], shape_)};
}

Shape Flatten::output_shape(const array& input, int start_axis, int end_axis) {
  Shape shape = input.shape();
  int64_t merged = 1;
  for (int ax = start_axis; ax <= end_axis; ++ax) merged *= shape[ax];
  if (merged > std::numeric_limits<int32_t>::max()) {
    detail::throw_invalid("[flatten] Merging axes {} to {} of shape {} gives {} elements, over int32.",
                          start_axis, end_axis, detail::shape_str(shape), merged);
  }
  shape.erase(shape.begin() + start_axis + 1, shape.begin() + end_axis + 1);
  shape[start_axis] = static_cast<int32_t>(merged);
  return shape;
}
bool Flatten::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Flatten::output_shapes(const std::vector<array>& inputs) {
  return {output_shape(inputs[0], start_axis_, end_axis_)};
}

Shape Unflatten::output_shape(const array& input, int axis, const Shape& shape) {
  Shape out = input.shape();
  out[axis] = shape[0];
  out.insert(out.begin() + axis + 1, shape.begin() + 1, shape.end());
  return out;
}
bool Unflatten::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Unflatten::output_shapes(const std::vector<array>& inputs) {
  return {output_shape(inputs[0], axis_, shape_)};
}

Shape Squeeze::output_shape(const array& input, const std::vector<int>& axes) {
  Shape shape;
  size_t j = 0;
  for (int i = 0; i < static_cast<int>(input.ndim()); ++i) {
    if (j < axes.size() && axes[j] == i) ++j;
    else shape.push_back(input.shape(i));
  }
  return shape;
}
bool Squeeze::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Squeeze::output_shapes(const std::vector<array>& inputs) {
  return {output_shape(inputs[0], axes_)};
}

Shape ExpandDims::output_shape(const array& input, const std::vector<int>& axes) {
  Shape shape = input.shape();
  for (auto ax : axes) shape.insert(shape.begin() + ax, 1);
  return shape;
}
bool ExpandDims::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> ExpandDims::output_shapes(const std::vector<array>& inputs) {
  return {output_shape(inputs[0], axes_)};
}

bool Transpose::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Transpose::output_shapes(const std::vector<array>& inputs) {
  Shape shape;
  for (auto ax : axes_) shape.push_back(inputs[0].shape(ax));
  return {shape};
}

bool AsStrided::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> AsStrided::output_shapes(const std::vector<array>&) { return {shape_}; }

View::View(Stream s, Dtype dtype)
    : UnaryPrimitive(s), dtype_(dtype), name_("View " + dtype_to_string(dtype)) {}
bool View::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> View::output_shapes(const std::vector<array>& inputs) {
  Shape shape = inputs[0].shape();
  if (shape.empty()) return {shape};
  int64_t bytes = static_cast<int64_t>(shape.back()) * inputs[0].itemsize();
  shape.back() = static_cast<int32_t>(bytes / size_of(dtype_));
  return {shape};
}

bool Contiguous::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Contiguous::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

bool Concatenate::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Concatenate::output_shapes(const std::vector<array>& inputs) {
  Shape shape = inputs[0].shape();
  int64_t total = 0;
  for (auto& in : inputs) total += in.shape(axis_);
  shape[axis_] = static_cast<int32_t>(total);
  return {shape};
}

bool Pad::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Pad::output_shapes(const std::vector<array>& inputs) {
  Shape shape = inputs[0].shape();
  for (size_t i = 0; i < axes_.size(); ++i) shape[axes_[i]] += low_[i] + high_[i];
  return {shape};
}

}  // namespace lumen
