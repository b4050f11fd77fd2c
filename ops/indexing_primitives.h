// Indexing primitives: slices and slice updates (static and with runtime
// start indices), gathers and scatters.
#pragma once

#include <lumen/shape_primitives.h>

namespace lumen {

// How an update combines with the value it lands on (MLX's ReduceType).
enum class ScatterReduce { None, Sum, Prod, Max, Min };

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
  LUMEN_DECLARE_RULES()
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
  LUMEN_DECLARE_RULES()

 private:
  std::vector<int> axes_;
  Shape slice_size_;
};

// src with the window (start, stop, strides: normalized as Slice's) replaced
// by, or combined with, the update (inputs: src, update of the window's shape
// and src's dtype).
class SliceUpdate : public UnaryPrimitive {
 public:
  SliceUpdate(Stream s, ScatterReduce mode, Shape start, Shape stop, Shape strides)
      : UnaryPrimitive(s), mode_(mode), start_(std::move(start)), stop_(std::move(stop)),
        strides_(std::move(strides)) {}
  ScatterReduce mode() const { return mode_; }
  const Shape& start_indices() const { return start_; }
  const Shape& end_indices() const { return stop_; }
  const Shape& strides() const { return strides_; }
  std::tuple<ScatterReduce, Shape, Shape, Shape> state() const { return {mode_, start_, stop_, strides_}; }
  const char* name() const override;  // "SliceUpdate", "SliceUpdate Sum", ... as MLX
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  ScatterReduce mode_;
  Shape start_;
  Shape stop_;
  Shape strides_;
};

// src with a window of the update's shape replaced, starting along `axes` at
// the values of an integer array (inputs: src, update, start); starts clamp
// so the window stays inside.
class DynamicSliceUpdate : public UnaryPrimitive {
 public:
  DynamicSliceUpdate(Stream s, std::vector<int> axes) : UnaryPrimitive(s), axes_(std::move(axes)) {}
  const std::vector<int>& axes() const { return axes_; }
  const std::vector<int>& state() const { return axes_; }
  const char* name() const override { return "DynamicSliceUpdate"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  std::vector<int> axes_;
};

// out[i..., s...] = a[s + (indices_k[i...] on axes[k])] (inputs: a, then the
// index arrays, broadcast to one shape and one integer dtype). Output shape:
// index shape + slice_sizes. Negative indices count from the end.
class Gather : public UnaryPrimitive {
 public:
  Gather(Stream s, std::vector<int> axes, Shape slice_sizes)
      : UnaryPrimitive(s), axes_(std::move(axes)), slice_sizes_(std::move(slice_sizes)) {}
  const std::vector<int>& axes() const { return axes_; }
  const Shape& slice_sizes() const { return slice_sizes_; }
  std::pair<std::vector<int>, Shape> state() const { return {axes_, slice_sizes_}; }
  const char* name() const override { return "Gather"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  std::vector<int> axes_;
  Shape slice_sizes_;
};

// take_along_axis: out[..., j, ...] = a[..., indices[..., j, ...], ...] on
// `axis` (inputs: a, indices; equal shapes except along axis).
class GatherAxis : public UnaryPrimitive {
 public:
  GatherAxis(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  int axis() const { return axis_; }
  int state() const { return axis_; }
  const char* name() const override { return "GatherAxis"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  int axis_;
};

// a with updates written (or combined) at the positions gather would read
// (inputs: a, the index arrays, updates of shape index shape + slice shape).
// Updates apply in row-major order, so with None the last duplicate wins.
class Scatter : public UnaryPrimitive {
 public:
  Scatter(Stream s, ScatterReduce mode, std::vector<int> axes)
      : UnaryPrimitive(s), mode_(mode), axes_(std::move(axes)) {}
  ScatterReduce mode() const { return mode_; }
  const std::vector<int>& axes() const { return axes_; }
  std::pair<ScatterReduce, std::vector<int>> state() const { return {mode_, axes_}; }
  const char* name() const override;  // "Scatter", "Scatter Sum", ... as MLX
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  ScatterReduce mode_;
  std::vector<int> axes_;
};

// put_along_axis / scatter_add_axis (inputs: a, indices, updates; indices and
// updates of one shape, equal to a's except along axis).
class ScatterAxis : public UnaryPrimitive {
 public:
  ScatterAxis(Stream s, ScatterReduce mode, int axis) : UnaryPrimitive(s), mode_(mode), axis_(axis) {}
  ScatterReduce mode() const { return mode_; }
  int axis() const { return axis_; }
  std::pair<ScatterReduce, int> state() const { return {mode_, axis_}; }
  const char* name() const override;  // "ScatterAxis" or "ScatterAxis Sum"
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  ScatterReduce mode_;
  int axis_;
};

}  // namespace lumen
