#include "lumen/indexing.h"

#include <set>

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

array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s) {
  size_t ndim = a.ndim();
  if (start.size() != ndim || stop.size() != ndim || strides.size() != ndim) {
    detail::throw_invalid(
        "[slice] Invalid number of indices or strides (start {}, stop {}, strides {}) for array "
        "with dimension {}.",
        detail::shape_str(start), detail::shape_str(stop), detail::shape_str(strides), ndim);
  }
  Shape out_shape(ndim);
  bool backwards = false;
  for (size_t i = 0; i < ndim; ++i) {
    if (strides[i] == 0) {
      detail::throw_invalid("[slice] Stride cannot be zero (strides {}).", detail::shape_str(strides));
    }
    normalize_bounds(a.shape(i), start[i], stop[i], strides[i]);
    out_shape[i] = Slice::length(start[i], stop[i], strides[i]);
    if (out_shape[i] <= 1) strides[i] = 1;  // the step no longer matters
    if (out_shape[i] == 0) start[i] = stop[i] = 0;
    backwards |= strides[i] < 0;
  }
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
