// Joining, splitting, repeating, padding and rolling (the shape ops that
// move data), mostly composed from views plus Concatenate and Pad.
#include <algorithm>
#include <limits>
#include <numeric>

#include "core/detail/errors.h"
#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/shape.h"
#include "lumen/shape_primitives.h"
#include "ops/detail/shape_checks.h"

namespace lumen {

namespace {

int32_t checked_dim(int64_t d, const char* op) {
  if (d > std::numeric_limits<int32_t>::max()) {
    detail::throw_invalid("[{}] Resulting dimension {} does not fit in int32.", op, d);
  }
  return static_cast<int32_t>(d);
}

std::string shapes_str(const std::vector<array>& arrays) {
  std::string out;
  for (auto& a : arrays) out += (out.empty() ? "" : ", ") + detail::shape_str(a.shape());
  return out;
}

// A window of `a` along one axis, [start, stop).
array axis_slice(const array& a, int axis, int start, int stop, StreamOrDevice s) {
  Shape lo(a.ndim(), 0), hi = a.shape();
  lo[axis] = start;
  hi[axis] = stop;
  return slice(a, std::move(lo), std::move(hi), s);
}

// Edge padding of one axis: its first and last slices repeated.
array edge_pad_axis(const array& a, int axis, int low, int high, StreamOrDevice s) {
  int n = a.shape(axis);
  std::vector<array> parts;
  auto repeated = [&](int at, int count) {
    Shape shape = a.shape();
    shape[axis] = count;
    return broadcast_to(axis_slice(a, axis, at, at + 1, s), shape, s);
  };
  if (low > 0) parts.push_back(repeated(0, low));
  parts.push_back(a);
  if (high > 0) parts.push_back(repeated(n - 1, high));
  return concatenate(std::move(parts), axis, s);
}

// Reflection padding of one axis. Mirroring at most one period at a time
// about the current boundary gives numpy's periodic extension for any width.
array reflect_pad_axis(const array& a, int axis, int low, int high, bool include_edge,
                       StreamOrDevice s) {
  int n = a.shape(axis);
  int skip = (!include_edge && n > 1) ? 1 : 0;  // reflect skips the edge value, symmetric repeats it
  int period = n - skip;
  array x = a;
  for (int left = low; left > 0;) {
    int chunk = std::min(left, period);
    auto piece = flip(axis_slice(x, axis, skip, skip + chunk, s), axis, s);
    x = concatenate({piece, x}, axis, s);
    left -= chunk;
  }
  for (int left = high; left > 0;) {
    int chunk = std::min(left, period);
    int m = x.shape(axis);
    auto piece = flip(axis_slice(x, axis, m - skip - chunk, m - skip, s), axis, s);
    x = concatenate({x, piece}, axis, s);
    left -= chunk;
  }
  return x;
}

}  // namespace

array concatenate(std::vector<array> arrays, int axis, StreamOrDevice s) {
  if (arrays.empty()) detail::throw_invalid("[concatenate] No arrays provided for concatenation.");
  if (arrays.size() == 1) return arrays[0];
  int ndim = static_cast<int>(arrays[0].ndim());
  int ax = detail::normalize_axis(axis, ndim, "concatenate");
  Shape shape = arrays[0].shape();
  int64_t total = 0;
  Dtype dtype = arrays[0].dtype();
  for (auto& a : arrays) {
    if (static_cast<int>(a.ndim()) != ndim) {
      detail::throw_invalid(
          "[concatenate] All the input arrays must have the same number of dimensions, got shapes {}.",
          shapes_str(arrays));
    }
    for (int i = 0; i < ndim; ++i) {
      if (i != ax && a.shape(i) != shape[i]) {
        detail::throw_invalid(
            "[concatenate] All the input array dimensions must match exactly except for the "
            "concatenation axis {}, got shapes {}.",
            axis, shapes_str(arrays));
      }
    }
    total += a.shape(ax);
    dtype = promote_types(dtype, a.dtype());
  }
  shape[ax] = checked_dim(total, "concatenate");
  for (auto& a : arrays) a = astype(a, dtype, s);
  return array(std::move(shape), dtype, std::make_shared<Concatenate>(to_stream(s), ax),
               std::move(arrays));
}

array concatenate(std::vector<array> arrays, StreamOrDevice s) {
  for (auto& a : arrays) a = flatten(a, s);
  return concatenate(std::move(arrays), 0, s);
}

array stack(const std::vector<array>& arrays, int axis, StreamOrDevice s) {
  if (arrays.empty()) detail::throw_invalid("[stack] No arrays provided for stacking.");
  for (auto& a : arrays) {
    if (a.shape() != arrays[0].shape()) {
      detail::throw_invalid("[stack] All arrays must have the same shape, got {}.", shapes_str(arrays));
    }
  }
  int ax = detail::normalize_axis(axis, static_cast<int>(arrays[0].ndim()) + 1, "stack");
  std::vector<array> expanded;
  for (auto& a : arrays) expanded.push_back(expand_dims(a, ax, s));
  return concatenate(std::move(expanded), ax, s);
}

array stack(const std::vector<array>& arrays, StreamOrDevice s) { return stack(arrays, 0, s); }

std::vector<array> split(const array& a, const Shape& indices, int axis, StreamOrDevice s) {
  int ax = detail::normalize_axis(axis, static_cast<int>(a.ndim()), "split");
  std::vector<array> parts;
  int start = 0;
  for (size_t i = 0; i <= indices.size(); ++i) {
    int stop = i < indices.size() ? indices[i] : a.shape(ax);
    parts.push_back(axis_slice(a, ax, start, stop, s));
    start = stop;
  }
  return parts;
}

std::vector<array> split(const array& a, const Shape& indices, StreamOrDevice s) {
  return split(a, indices, 0, s);
}

std::vector<array> split(const array& a, int num_splits, int axis, StreamOrDevice s) {
  int ax = detail::normalize_axis(axis, static_cast<int>(a.ndim()), "split");
  if (num_splits <= 0) {
    detail::throw_invalid("[split] num_splits must be positive, got {}.", num_splits);
  }
  if (a.shape(ax) % num_splits != 0) {
    detail::throw_invalid(
        "[split] Array split does not result in sub arrays with equal size: {} splits along axis {} "
        "for shape {}.",
        num_splits, axis, detail::shape_str(a.shape()));
  }
  int size = a.shape(ax) / num_splits;
  Shape indices(num_splits - 1);
  for (int i = 0; i + 1 < num_splits; ++i) indices[i] = (i + 1) * size;
  return split(a, indices, ax, s);
}

std::vector<array> split(const array& a, int num_splits, StreamOrDevice s) {
  return split(a, num_splits, 0, s);
}

std::vector<array> unstack(const array& a, int axis, StreamOrDevice s) {
  int ax = detail::normalize_axis(axis, static_cast<int>(a.ndim()), "unstack");
  std::vector<array> out;
  for (int i = 0; i < a.shape(ax); ++i) out.push_back(squeeze(axis_slice(a, ax, i, i + 1, s), ax, s));
  return out;
}

std::vector<array> unstack(const array& a, StreamOrDevice s) { return unstack(a, 0, s); }

std::vector<array> meshgrid(const std::vector<array>& arrays, bool sparse, const std::string& indexing,
                            StreamOrDevice s) {
  if (indexing != "xy" && indexing != "ij") {
    detail::throw_invalid("[meshgrid] Invalid indexing value '{}'. Valid values are 'xy' and 'ij'.",
                          indexing);
  }
  size_t n = arrays.size();
  std::vector<array> out;
  for (size_t i = 0; i < n; ++i) {
    Shape shape(n, 1);
    // "xy" swaps the roles of the first two axes (Cartesian order).
    size_t at = (indexing == "xy" && n > 1 && i < 2) ? 1 - i : i;
    shape[at] = -1;
    out.push_back(reshape(arrays[i], std::move(shape), s));
  }
  return sparse ? out : broadcast_arrays(out, s);
}

array repeat(const array& arr, int repeats, int axis, StreamOrDevice s) {
  int ax = detail::normalize_axis(axis, static_cast<int>(arr.ndim()), "repeat");
  if (repeats < 0) detail::throw_invalid("[repeat] Number of repeats cannot be negative, got {}.", repeats);
  Shape out_shape = arr.shape();
  out_shape[ax] = checked_dim(int64_t{out_shape[ax]} * repeats, "repeat");
  if (repeats == 0) return zeros(out_shape, arr.dtype(), s);
  if (repeats == 1) return arr;
  // Each element repeated: a broadcast new axis right after `ax`, merged back.
  Shape wide = arr.shape();
  wide.insert(wide.begin() + ax + 1, repeats);
  return reshape(broadcast_to(expand_dims(arr, ax + 1, s), wide, s), std::move(out_shape), s);
}

array repeat(const array& arr, int repeats, StreamOrDevice s) {
  return repeat(flatten(arr, s), repeats, 0, s);
}

array tile(const array& arr, std::vector<int> reps, StreamOrDevice s) {
  for (auto r : reps) {
    if (r < 0) detail::throw_invalid("[tile] Repetitions must be non-negative, got ({}).", fmt::join(reps, ", "));
  }
  Shape shape = arr.shape();
  if (reps.size() < shape.size()) reps.insert(reps.begin(), shape.size() - reps.size(), 1);
  if (shape.size() < reps.size()) shape.insert(shape.begin(), reps.size() - shape.size(), 1);
  // Each repeated axis gets a broadcast axis in front of it, merged back.
  Shape expanded, wide, out_shape;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (reps[i] != 1) {
      expanded.push_back(1);
      wide.push_back(reps[i]);
    }
    expanded.push_back(shape[i]);
    wide.push_back(shape[i]);
    out_shape.push_back(checked_dim(int64_t{reps[i]} * shape[i], "tile"));
  }
  auto x = broadcast_to(reshape(arr, std::move(expanded), s), wide, s);
  return reshape(x, std::move(out_shape), s);
}

array pad(const array& a, const std::vector<int>& axes, const Shape& low_pad_size,
          const Shape& high_pad_size, const array& pad_value, const std::string& mode,
          StreamOrDevice s) {
  if (axes.size() != low_pad_size.size() || axes.size() != high_pad_size.size()) {
    detail::throw_invalid("[pad] Got {} axes but {} low and {} high padding sizes.", axes.size(),
                          low_pad_size.size(), high_pad_size.size());
  }
  int ndim = static_cast<int>(a.ndim());
  std::vector<int> norm_axes;
  Shape out_shape = a.shape();
  for (size_t i = 0; i < axes.size(); ++i) {
    int ax = detail::normalize_axis(axes[i], ndim, "pad");
    if (std::find(norm_axes.begin(), norm_axes.end(), ax) != norm_axes.end()) {
      detail::throw_invalid("[pad] Repeat axes not allowed in ({}).", fmt::join(axes, ", "));
    }
    norm_axes.push_back(ax);
    if (low_pad_size[i] < 0 || high_pad_size[i] < 0) {
      detail::throw_invalid("[pad] Padding sizes must be non-negative, got ({}, {}) for axis {}.",
                            low_pad_size[i], high_pad_size[i], axes[i]);
    }
    out_shape[ax] = checked_dim(int64_t{out_shape[ax]} + low_pad_size[i] + high_pad_size[i], "pad");
  }
  if (mode == "constant") {
    if (pad_value.size() != 1) {
      detail::throw_invalid("[pad] The padding value must be a scalar, got shape {}.",
                            detail::shape_str(pad_value.shape()));
    }
    auto value = astype(reshape(pad_value, {}, s), a.dtype(), s);
    return array(std::move(out_shape), a.dtype(),
                 std::make_shared<Pad>(to_stream(s), std::move(norm_axes), low_pad_size, high_pad_size),
                 {a, value});
  }
  bool edge = mode == "edge";
  if (!edge && mode != "reflect" && mode != "symmetric") {
    detail::throw_invalid("[pad] Invalid padding mode '{}'; use constant, edge, reflect or symmetric.",
                          mode);
  }
  array x = a;
  for (size_t i = 0; i < norm_axes.size(); ++i) {
    int ax = norm_axes[i], low = low_pad_size[i], high = high_pad_size[i];
    if (low == 0 && high == 0) continue;
    if (a.shape(ax) == 0) {
      detail::throw_invalid("[pad] Cannot pad empty axis {} using mode '{}'.", ax, mode);
    }
    x = edge ? edge_pad_axis(x, ax, low, high, s)
             : reflect_pad_axis(x, ax, low, high, mode == "symmetric", s);
  }
  return x;
}

array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width, const array& pad_value,
          const std::string& mode, StreamOrDevice s) {
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  Shape lows, highs;
  for (auto& [lo, hi] : pad_width) {
    lows.push_back(lo);
    highs.push_back(hi);
  }
  return pad(a, axes, lows, highs, pad_value, mode, s);
}

array pad(const array& a, const std::pair<int, int>& pad_width, const array& pad_value,
          const std::string& mode, StreamOrDevice s) {
  return pad(a, std::vector<std::pair<int, int>>(a.ndim(), pad_width), pad_value, mode, s);
}

array pad(const array& a, int pad_width, const array& pad_value, const std::string& mode,
          StreamOrDevice s) {
  return pad(a, std::pair<int, int>{pad_width, pad_width}, pad_value, mode, s);
}

array roll(const array& a, const Shape& shift, const std::vector<int>& axes, StreamOrDevice s) {
  if (shift.size() < axes.size()) {
    detail::throw_invalid("[roll] At least one shift value per axis is required, {} provided for {} axes.",
                          shift.size(), axes.size());
  }
  array x = a;
  for (size_t i = 0; i < axes.size(); ++i) {
    int ax = detail::normalize_axis(axes[i], static_cast<int>(a.ndim()), "roll");
    int64_t n = a.shape(ax);
    if (n == 0) continue;
    // The element at n - shift (mod n) comes first.
    int64_t cut = ((n - int64_t{shift[i]}) % n + n) % n;
    if (cut == 0) continue;
    auto parts = split(x, Shape{static_cast<int32_t>(cut)}, ax, s);
    x = concatenate({parts[1], parts[0]}, ax, s);
  }
  return x;
}

array roll(const array& a, int shift, StreamOrDevice s) {
  return reshape(roll(flatten(a, s), Shape{shift}, std::vector<int>{0}, s), a.shape(), s);
}

array roll(const array& a, const Shape& shift, StreamOrDevice s) {
  int64_t total = std::accumulate(shift.begin(), shift.end(), int64_t{0});
  int64_t n = std::max<int64_t>(static_cast<int64_t>(a.size()), 1);
  return roll(a, static_cast<int>(total % n), s);
}

array roll(const array& a, int shift, int axis, StreamOrDevice s) {
  return roll(a, Shape{shift}, std::vector<int>{axis}, s);
}

array roll(const array& a, int shift, const std::vector<int>& axes, StreamOrDevice s) {
  return roll(a, Shape(axes.size(), shift), axes, s);
}

array roll(const array& a, const Shape& shift, int axis, StreamOrDevice s) {
  int ax = detail::normalize_axis(axis, static_cast<int>(a.ndim()), "roll");
  int64_t total = std::accumulate(shift.begin(), shift.end(), int64_t{0});
  int64_t n = std::max<int64_t>(a.shape(ax), 1);
  return roll(a, Shape{static_cast<int32_t>(total % n)}, std::vector<int>{ax}, s);
}

}  // namespace lumen
