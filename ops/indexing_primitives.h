// Indexing primitives: slices (static and with runtime start indices).
#pragma once

#include <lumen/shape_primitives.h>

namespace lumen {

// A strided window: start, stop and step per axis, already clamped to the
// input's shape (as numpy: negative steps walk backwards). A view.
class Slice : public UnaryPrimitive {
 public:
  Slice(Stream s, Shape start, Shape stop, Shape strides)
      : UnaryPrimitive(s), start_(std::move(start)), stop_(std::move(stop)), strides_(std::move(strides)) {}
  const Shape& start_indices() const { return start_; }
  const Shape& end_indices() const { return stop_; }
  const Shape& strides() const { return strides_; }
  std::tuple<Shape, Shape, Shape> state() const { return {start_, stop_, strides_}; }
  const char* name() const override { return "Slice"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  // Number of elements a normalized (start, stop, step) selects.
  static int32_t length(int32_t start, int32_t stop, int32_t step);

 private:
  Shape start_;
  Shape stop_;
  Shape strides_;
};

// A window of size `slice_size` whose start along `axes` comes from an
// integer array input (inputs: a, start). Starts are clamped so the window
// stays inside the array.
class DynamicSlice : public UnaryPrimitive {
 public:
  DynamicSlice(Stream s, std::vector<int> axes, Shape slice_size)
      : UnaryPrimitive(s), axes_(std::move(axes)), slice_size_(std::move(slice_size)) {}
  const std::vector<int>& axes() const { return axes_; }
  const Shape& slice_size() const { return slice_size_; }
  std::pair<std::vector<int>, Shape> state() const { return {axes_, slice_size_}; }
  const char* name() const override { return "DynamicSlice"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  std::vector<int> axes_;
  Shape slice_size_;
};

}  // namespace lumen
