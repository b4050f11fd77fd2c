// Shape and view primitives. Most of them only re-describe their input's
// buffer (new shape, strides, offset); Reshape and Contiguous copy when no
// such description exists.
#pragma once

#include <tuple>

#include <lumen/primitive.h>

namespace lumen {

namespace detail {
// is_equivalent for primitives whose parameters are all in `state()`.
template <typename P>
bool same_state(const P& self, const Primitive& other) {
  auto* o = dynamic_cast<const P*>(&other);
  return o && o->state() == self.state();
}
}  // namespace detail

// A view with zero strides on the broadcast dimensions (no copy).
class Broadcast : public UnaryPrimitive {
 public:
  Broadcast(Stream s, Shape shape) : UnaryPrimitive(s), shape_(std::move(shape)) {}
  const Shape& shape() const { return shape_; }
  const Shape& state() const { return shape_; }
  const char* name() const override { return "Broadcast"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  Shape shape_;
};

// Row-major reinterpretation with a new shape: a view when the input's
// strides allow one, else a row-contiguous copy.
class Reshape : public UnaryPrimitive {
 public:
  Reshape(Stream s, Shape shape) : UnaryPrimitive(s), shape_(std::move(shape)) {}
  // The requested shape (may hold one -1, inferred from the input size).
  const Shape& shape() const { return shape_; }
  const Shape& state() const { return shape_; }
  const char* name() const override { return "Reshape"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
  // The output shape for an input, inferring a -1; throws std::invalid_argument.
  static Shape output_shape(const array& input, Shape shape);

 private:
  Shape shape_;
};

// Merges axes [start_axis, end_axis] (non-negative, start < end) into one.
class Flatten : public UnaryPrimitive {
 public:
  Flatten(Stream s, int start_axis, int end_axis)
      : UnaryPrimitive(s), start_axis_(start_axis), end_axis_(end_axis) {}
  std::pair<int, int> state() const { return {start_axis_, end_axis_}; }
  const char* name() const override { return "Flatten"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
  static Shape output_shape(const array& input, int start_axis, int end_axis);

 private:
  int start_axis_;
  int end_axis_;
};

// Splits axis `axis` (non-negative) into `shape` (no -1 left).
class Unflatten : public UnaryPrimitive {
 public:
  Unflatten(Stream s, int axis, Shape shape)
      : UnaryPrimitive(s), axis_(axis), shape_(std::move(shape)) {}
  std::pair<int, Shape> state() const { return {axis_, shape_}; }
  const char* name() const override { return "Unflatten"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
  static Shape output_shape(const array& input, int axis, const Shape& shape);

 private:
  int axis_;
  Shape shape_;
};

// Removes size-1 axes (sorted, unique, non-negative).
class Squeeze : public UnaryPrimitive {
 public:
  Squeeze(Stream s, std::vector<int> axes) : UnaryPrimitive(s), axes_(std::move(axes)) {}
  const std::vector<int>& state() const { return axes_; }
  const char* name() const override { return "Squeeze"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
  static Shape output_shape(const array& input, const std::vector<int>& axes);

 private:
  std::vector<int> axes_;
};

// Inserts size-1 axes at output positions `axes` (sorted, unique, non-negative).
class ExpandDims : public UnaryPrimitive {
 public:
  ExpandDims(Stream s, std::vector<int> axes) : UnaryPrimitive(s), axes_(std::move(axes)) {}
  const std::vector<int>& state() const { return axes_; }
  const char* name() const override { return "ExpandDims"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
  static Shape output_shape(const array& input, const std::vector<int>& axes);

 private:
  std::vector<int> axes_;
};

// Output axis i is input axis axes[i] (a permutation, non-negative).
class Transpose : public UnaryPrimitive {
 public:
  Transpose(Stream s, std::vector<int> axes) : UnaryPrimitive(s), axes_(std::move(axes)) {}
  const std::vector<int>& state() const { return axes_; }
  const char* name() const override { return "Transpose"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  std::vector<int> axes_;
};

// A view of a row-contiguous input with arbitrary shape, element strides and
// element offset (no bounds checks, as MLX).
class AsStrided : public UnaryPrimitive {
 public:
  AsStrided(Stream s, Shape shape, Strides strides, size_t offset)
      : UnaryPrimitive(s), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset) {}
  std::tuple<Shape, Strides, size_t> state() const { return {shape_, strides_, offset_}; }
  const char* name() const override { return "AsStrided"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  Shape shape_;
  Strides strides_;
  size_t offset_;
};

// The input's bytes read as another dtype; the last axis scales by the ratio
// of the element sizes. A view when the layout allows, else a copy first.
class View : public UnaryPrimitive {
 public:
  View(Stream s, Dtype dtype);
  Dtype state() const { return dtype_; }
  const char* name() const override { return name_.c_str(); }  // "View <dtype>", as MLX
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_VMAP()

 private:
  Dtype dtype_;
  std::string name_;
};

// The input itself when it is row-contiguous (or column-contiguous, if
// allowed) and not a small window of a much larger buffer; else a
// row-contiguous copy.
class Contiguous : public UnaryPrimitive {
 public:
  Contiguous(Stream s, bool allow_col_major) : UnaryPrimitive(s), allow_col_major_(allow_col_major) {}
  bool allow_col_major() const { return allow_col_major_; }
  bool state() const { return allow_col_major_; }
  const char* name() const override { return "Contiguous"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  bool allow_col_major_;
};

// Inputs joined along `axis` (all of the output's dtype, equal elsewhere).
class Concatenate : public UnaryPrimitive {
 public:
  Concatenate(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  int axis() const { return axis_; }
  int state() const { return axis_; }
  const char* name() const override { return "Concatenate"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  int axis_;
};

// Constant padding (inputs: a, a scalar of a's dtype): low_pad_size[i] and
// high_pad_size[i] elements before and after a along axes[i] (non-negative).
class Pad : public UnaryPrimitive {
 public:
  Pad(Stream s, std::vector<int> axes, Shape low_pad_size, Shape high_pad_size)
      : UnaryPrimitive(s), axes_(std::move(axes)), low_(std::move(low_pad_size)),
        high_(std::move(high_pad_size)) {}
  const std::vector<int>& axes() const { return axes_; }
  const Shape& low_pad_size() const { return low_; }
  const Shape& high_pad_size() const { return high_; }
  std::tuple<std::vector<int>, Shape, Shape> state() const { return {axes_, low_, high_}; }
  const char* name() const override { return "Pad"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  std::vector<int> axes_;
  Shape low_;
  Shape high_;
};

}  // namespace lumen
