#include "lumen/indexing.h"

#include <set>

#include "lumen/elementwise.h"
#include "lumen/shape.h"

#include "core/detail/errors.h"
#include "lumen/indexing_primitives.h"
#include "ops/detail/shape_checks.h"

namespace lumen {

namespace {

// numpy's rules for one axis of size n: negative bounds count from the end,
// then both clamp to the range the step can reach.
void normalize_bounds(int32_t n, int32_t& start, int32_t& stop, int32_t step) {
  int64_t st = start < 0 ? int64_t{start} + n : start;
  int64_t sp = stop < 0 ? int64_t{stop} + n : stop;
  int64_t lo = step > 0 ? 0 : -1;
  int64_t hi = step > 0 ? n : n - 1;
  start = static_cast<int32_t>(std::clamp(st, lo, hi));
  stop = static_cast<int32_t>(std::clamp(sp, lo, hi));
}

void check_dynamic_start(const array& a, const array& start, std::vector<int>& axes,
                         const char* op) {
  int ndim = static_cast<int>(a.ndim());
  if (start.ndim() > 1) {
    detail::throw_invalid("[{}] Array of starting indices must be zero or one dimensional but has {} dimensions.",
                          op, start.ndim());
  }
  if (start.size() != axes.size()) {
    detail::throw_invalid("[{}] Number of starting indices {} does not match number of axes {}.", op,
                          start.size(), axes.size());
  }
  if (!issubdtype(start.dtype(), integer)) {
    detail::throw_invalid("[{}] Start indices must be integers, got type {}.", op,
                          dtype_to_string(start.dtype()));
  }
  for (auto& ax : axes) ax = detail::normalize_axis(ax, ndim, op);
  if (std::set<int>(axes.begin(), axes.end()).size() != axes.size()) {
    detail::throw_invalid("[{}] Repeat axes not allowed in ({}).", op, fmt::join(axes, ", "));
  }
}

}  // namespace

int32_t Slice::length(int32_t start, int32_t stop, int32_t step) {
  int64_t span = step > 0 ? int64_t{stop} - start : int64_t{start} - stop;
  int64_t by = step > 0 ? step : -int64_t{step};
  return span > 0 ? static_cast<int32_t>((span + by - 1) / by) : 0;
}

namespace {

// Checks and normalizes (start, stop, strides) in place for an array of
// `shape`; returns the slice's shape and whether any step is negative.
std::pair<Shape, bool> normalize_slice(const Shape& shape, Shape& start, Shape& stop, Shape& strides,
                                       const char* op) {
  size_t ndim = shape.size();
  if (start.size() != ndim || stop.size() != ndim || strides.size() != ndim) {
    detail::throw_invalid(
        "[{}] Invalid number of indices or strides (start {}, stop {}, strides {}) for array "
        "with dimension {}.",
        op, detail::shape_str(start), detail::shape_str(stop), detail::shape_str(strides), ndim);
  }
  Shape out_shape(ndim);
  bool backwards = false;
  for (size_t i = 0; i < ndim; ++i) {
    if (strides[i] == 0) {
      detail::throw_invalid("[{}] Stride cannot be zero (strides {}).", op, detail::shape_str(strides));
    }
    normalize_bounds(shape[i], start[i], stop[i], strides[i]);
    out_shape[i] = Slice::length(start[i], stop[i], strides[i]);
    if (out_shape[i] <= 1) {  // the step no longer matters
      strides[i] = 1;
      stop[i] = start[i] + out_shape[i];
    }
    if (out_shape[i] == 0) start[i] = stop[i] = 0;
    backwards |= strides[i] < 0;
  }
  return {out_shape, backwards};
}

array slice_update_impl(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                        ScatterReduce mode, StreamOrDevice s) {
  static const char* names[] = {"slice_update", "slice_update_add", "slice_update_prod",
                                "slice_update_max", "slice_update_min"};
  const char* op = names[static_cast<int>(mode)];
  if (src.dtype() == complex64 && (mode == ScatterReduce::Max || mode == ScatterReduce::Min)) {
    detail::throw_invalid("[{}] complex64 is not supported.", op);
  }
  auto [upd_shape, backwards] = normalize_slice(src.shape(), start, stop, strides, op);
  auto upd = broadcast_to(astype(update, src.dtype(), s), upd_shape, s);
  if (!backwards && upd_shape == src.shape()) {
    switch (mode) {
      case ScatterReduce::None: return upd;
      case ScatterReduce::Sum: return add(src, upd, s);
      case ScatterReduce::Prod: return multiply(src, upd, s);
      case ScatterReduce::Max: return maximum(src, upd, s);
      case ScatterReduce::Min: return minimum(src, upd, s);
    }
  }
  return array(src.shape(), src.dtype(),
               std::make_shared<SliceUpdate>(to_stream(s), mode, std::move(start), std::move(stop),
                                             std::move(strides)),
               {src, upd});
}

}  // namespace

array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s) {
  auto [out_shape, backwards] = normalize_slice(a.shape(), start, stop, strides, "slice");
  if (!backwards && out_shape == a.shape()) return a;
  return array(std::move(out_shape), a.dtype(),
               std::make_shared<Slice>(to_stream(s), std::move(start), std::move(stop), std::move(strides)),
               {a});
}

array slice(const array& a, Shape start, Shape stop, StreamOrDevice s) {
  return slice(a, std::move(start), std::move(stop), Shape(a.ndim(), 1), s);
}

array slice(const array& a, const array& start, std::vector<int> axes, Shape slice_size,
            StreamOrDevice s) {
  check_dynamic_start(a, start, axes, "slice");
  if (slice_size.size() != a.ndim()) {
    detail::throw_invalid("[slice] Invalid slice size {} for array with {} dimensions.",
                          detail::shape_str(slice_size), a.ndim());
  }
  for (size_t i = 0; i < a.ndim(); ++i) {
    if (slice_size[i] < 0 || slice_size[i] > a.shape(i)) {
      detail::throw_invalid("[slice] Invalid slice size {} for array with shape {}.",
                            detail::shape_str(slice_size), detail::shape_str(a.shape()));
    }
  }
  auto out_shape = slice_size;
  return array(std::move(out_shape), a.dtype(),
               std::make_shared<DynamicSlice>(to_stream(s), std::move(axes), std::move(slice_size)),
               {a, start});
}

array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                   StreamOrDevice s) {
  return slice_update_impl(src, update, std::move(start), std::move(stop), std::move(strides),
                           ScatterReduce::None, s);
}

array slice_update(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s) {
  Shape strides(src.ndim(), 1);
  return slice_update(src, update, std::move(start), std::move(stop), std::move(strides), s);
}

#define LUMEN_SLICE_UPDATE_REDUCE(NAME, MODE)                                                    \
  array NAME(const array& src, const array& update, Shape start, Shape stop, Shape strides,     \
             StreamOrDevice s) {                                                                 \
    return slice_update_impl(src, update, std::move(start), std::move(stop), std::move(strides), \
                             ScatterReduce::MODE, s);                                            \
  }                                                                                              \
  array NAME(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s) { \
    Shape strides(src.ndim(), 1);                                                                \
    return NAME(src, update, std::move(start), std::move(stop), std::move(strides), s);         \
  }
LUMEN_SLICE_UPDATE_REDUCE(slice_update_add, Sum)
LUMEN_SLICE_UPDATE_REDUCE(slice_update_prod, Prod)
LUMEN_SLICE_UPDATE_REDUCE(slice_update_max, Max)
LUMEN_SLICE_UPDATE_REDUCE(slice_update_min, Min)
#undef LUMEN_SLICE_UPDATE_REDUCE

array slice_update(const array& src, const array& update, const array& start, std::vector<int> axes,
                   StreamOrDevice s) {
  check_dynamic_start(src, start, axes, "slice_update");
  if (update.ndim() > src.ndim()) {
    detail::throw_invalid("[slice_update] Update of shape {} has more dimensions than src {}.",
                          detail::shape_str(update.shape()), detail::shape_str(src.shape()));
  }
  // Missing leading axes of the update span src, except the indexed ones.
  size_t lead = src.ndim() - update.ndim();
  Shape shape = update.shape();
  shape.insert(shape.begin(), src.shape().begin(), src.shape().begin() + lead);
  for (auto ax : axes) {
    if (static_cast<size_t>(ax) < lead) shape[ax] = 1;
  }
  auto upd = broadcast_to(astype(update, src.dtype(), s), shape, s);
  for (size_t i = 0; i < src.ndim(); ++i) {
    if (shape[i] > src.shape(i)) {
      detail::throw_invalid("[slice_update] Update of shape {} does not fit in src {}.",
                            detail::shape_str(shape), detail::shape_str(src.shape()));
    }
  }
  return array(src.shape(), src.dtype(), std::make_shared<DynamicSliceUpdate>(to_stream(s), std::move(axes)),
               {src, upd, start});
}

const char* SliceUpdate::name() const {
  switch (mode_) {
    case ScatterReduce::Sum: return "SliceUpdate Sum";
    case ScatterReduce::Prod: return "SliceUpdate Prod";
    case ScatterReduce::Max: return "SliceUpdate Max";
    case ScatterReduce::Min: return "SliceUpdate Min";
    default: return "SliceUpdate";
  }
}
bool SliceUpdate::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> SliceUpdate::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

bool DynamicSliceUpdate::is_equivalent(const Primitive& other) const {
  return detail::same_state(*this, other);
}
std::vector<Shape> DynamicSliceUpdate::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

bool Slice::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Slice::output_shapes(const std::vector<array>&) {
  Shape shape(start_.size());
  for (size_t i = 0; i < shape.size(); ++i) shape[i] = length(start_[i], stop_[i], strides_[i]);
  return {shape};
}

bool DynamicSlice::is_equivalent(const Primitive& other) const {
  return detail::same_state(*this, other);
}
std::vector<Shape> DynamicSlice::output_shapes(const std::vector<array>&) { return {slice_size_}; }

}  // namespace lumen
