#include "lumen/shape.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>

#include "core/detail/errors.h"
#include "lumen/creation.h"
#include "lumen/indexing.h"
#include "lumen/shape_primitives.h"
#include "ops/detail/shape_checks.h"

namespace lumen {

namespace detail {

Shape infer_shape(Shape shape, int64_t size, const char* op) {
  auto mismatch = [&] {
    throw_invalid("[{}] Cannot reshape array of size {} into shape {}.", op, size, shape_str(shape));
  };
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < static_cast<int>(shape.size()); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw_invalid("[{}] Can only infer one dimension, got shape {}.", op, shape_str(shape));
      infer = i;
    } else if (shape[i] < 0) {
      throw_invalid("[{}] Invalid dimension {} in shape {}.", op, shape[i], shape_str(shape));
    } else {
      if (shape[i] != 0 && known > std::numeric_limits<int64_t>::max() / shape[i]) mismatch();
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0) {
      throw_invalid("[{}] Cannot infer the shape of an empty array (shape {}).", op, shape_str(shape));
    }
    int64_t dim = size / known;
    if (dim * known != size || dim > std::numeric_limits<int32_t>::max()) mismatch();
    shape[infer] = static_cast<int32_t>(dim);
  } else if (known != size) {
    mismatch();
  }
  return shape;
}

}  // namespace detail

namespace {

int ndim_of(const array& a) { return static_cast<int>(a.ndim()); }

std::vector<int> sorted_unique_axes(const std::vector<int>& axes, int ndim, const char* op) {
  std::set<int> unique;
  for (auto ax : axes) unique.insert(detail::normalize_axis(ax, ndim, op));
  if (unique.size() != axes.size()) {
    detail::throw_invalid("[{}] Received duplicate axes in ({}).", op, fmt::join(axes, ", "));
  }
  return {unique.begin(), unique.end()};
}

std::vector<int> squeeze_axes(const array& a, const std::vector<int>& axes) {
  auto out = sorted_unique_axes(axes, ndim_of(a), "squeeze");
  for (auto ax : out) {
    if (a.shape(ax) != 1) {
      detail::throw_invalid("[squeeze] Cannot squeeze axis {} with size {} which is not equal to 1.",
                            ax, a.shape(ax));
    }
  }
  return out;
}

array make_squeeze(const array& a, std::vector<int> axes, StreamOrDevice s) {
  if (axes.empty()) return a;
  auto shape = Squeeze::output_shape(a, axes);
  return array(std::move(shape), a.dtype(), std::make_shared<Squeeze>(to_stream(s), std::move(axes)),
               {a});
}

array make_expand_dims(const array& a, std::vector<int> axes, StreamOrDevice s) {
  auto shape = ExpandDims::output_shape(a, axes);
  return array(std::move(shape), a.dtype(),
               std::make_shared<ExpandDims>(to_stream(s), std::move(axes)), {a});
}

template <typename F>
std::vector<array> map_arrays(const std::vector<array>& in, F f) {
  std::vector<array> out;
  out.reserve(in.size());
  for (auto& a : in) out.push_back(f(a));
  return out;
}

}  // namespace

array reshape(const array& a, Shape shape, StreamOrDevice s) {
  if (a.shape() == shape) return a;
  auto out_shape = Reshape::output_shape(a, shape);
  return array(std::move(out_shape), a.dtype(), std::make_shared<Reshape>(to_stream(s), std::move(shape)),
               {a});
}

array unflatten(const array& a, int axis, Shape shape, StreamOrDevice s) {
  if (shape.empty()) detail::throw_invalid("[unflatten] Shape to unflatten to cannot be empty.");
  int ax = detail::normalize_axis(axis, ndim_of(a), "unflatten");
  int n = a.shape(ax);
  try {
    shape = detail::infer_shape(shape, n, "unflatten");
  } catch (const std::invalid_argument&) {
    detail::throw_invalid("[unflatten] Cannot unflatten axis {} with size {} into shape {}.", axis, n,
                          detail::shape_str(shape));
  }
  if (shape.size() == 1) return a;
  auto out_shape = Unflatten::output_shape(a, ax, shape);
  return array(std::move(out_shape), a.dtype(),
               std::make_shared<Unflatten>(to_stream(s), ax, std::move(shape)), {a});
}

array flatten(const array& a, int start_axis, int end_axis, StreamOrDevice s) {
  int ndim = ndim_of(a);
  if (ndim == 0) return reshape(a, {1}, s);
  int start = std::max(0, start_axis < 0 ? start_axis + ndim : start_axis);
  int end = std::min(ndim - 1, end_axis < 0 ? end_axis + ndim : end_axis);
  if (start >= ndim) {
    detail::throw_invalid("[flatten] Invalid start_axis {} for array with {} dimensions.", start_axis,
                          ndim);
  }
  if (end < 0) {
    detail::throw_invalid("[flatten] Invalid end_axis {} for array with {} dimensions.", end_axis, ndim);
  }
  if (end < start) {
    detail::throw_invalid("[flatten] start_axis {} must be less than or equal to end_axis {}.",
                          start_axis, end_axis);
  }
  if (start == end) return a;
  return array(Flatten::output_shape(a, start, end), a.dtype(),
               std::make_shared<Flatten>(to_stream(s), start, end), {a});
}

array flatten(const array& a, StreamOrDevice s) { return flatten(a, 0, ndim_of(a) - 1, s); }

array squeeze(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return make_squeeze(a, squeeze_axes(a, axes), s);
}

array squeeze(const array& a, int axis, StreamOrDevice s) {
  return make_squeeze(a, squeeze_axes(a, {axis}), s);
}

array squeeze(const array& a, StreamOrDevice s) {
  std::vector<int> axes;
  for (int i = 0; i < ndim_of(a); ++i) {
    if (a.shape(i) == 1) axes.push_back(i);
  }
  return make_squeeze(a, std::move(axes), s);
}

array expand_dims(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  if (axes.empty()) return a;
  int out_ndim = ndim_of(a) + static_cast<int>(axes.size());
  return make_expand_dims(a, sorted_unique_axes(axes, out_ndim, "expand_dims"), s);
}

array expand_dims(const array& a, int axis, StreamOrDevice s) {
  return expand_dims(a, std::vector<int>{axis}, s);
}

array transpose(const array& a, std::vector<int> axes, StreamOrDevice s) {
  int ndim = ndim_of(a);
  if (static_cast<int>(axes.size()) != ndim) {
    detail::throw_invalid("[transpose] Received {} axes for array with {} dimensions.", axes.size(),
                          ndim);
  }
  std::vector<bool> seen(ndim, false);
  Shape shape(ndim);
  for (int i = 0; i < ndim; ++i) {
    int ax = axes[i] < 0 ? axes[i] + ndim : axes[i];
    if (ax < 0 || ax >= ndim) {
      detail::throw_invalid("[transpose] Invalid axis ({}) for array with {} dimensions.", axes[i], ndim);
    }
    if (seen[ax]) detail::throw_invalid("[transpose] Repeat axes not allowed in ({}).", fmt::join(axes, ", "));
    seen[ax] = true;
    axes[i] = ax;
    shape[i] = a.shape(ax);
  }
  return array(std::move(shape), a.dtype(), std::make_shared<Transpose>(to_stream(s), std::move(axes)),
               {a});
}

array transpose(const array& a, StreamOrDevice s) {
  std::vector<int> axes(a.ndim());
  std::iota(axes.rbegin(), axes.rend(), 0);
  return transpose(a, std::move(axes), s);
}

array swapaxes(const array& a, int axis1, int axis2, StreamOrDevice s) {
  int ndim = ndim_of(a);
  axis1 = detail::normalize_axis_range(axis1, ndim, "swapaxes");
  axis2 = detail::normalize_axis_range(axis2, ndim, "swapaxes");
  std::vector<int> axes(ndim);
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[axis1], axes[axis2]);
  return transpose(a, std::move(axes), s);
}

array moveaxis(const array& a, int source, int destination, StreamOrDevice s) {
  int ndim = ndim_of(a);
  source = detail::normalize_axis_range(source, ndim, "moveaxis");
  destination = detail::normalize_axis_range(destination, ndim, "moveaxis");
  if (source == destination) return a;
  std::vector<int> axes(ndim);
  std::iota(axes.begin(), axes.end(), 0);
  axes.erase(axes.begin() + source);
  axes.insert(axes.begin() + destination, source);
  return transpose(a, std::move(axes), s);
}

array atleast_1d(const array& a, StreamOrDevice s) {
  return a.ndim() == 0 ? reshape(a, {1}, s) : a;
}

array atleast_2d(const array& a, StreamOrDevice s) {
  switch (a.ndim()) {
    case 0: return reshape(a, {1, 1}, s);
    case 1: return reshape(a, {1, a.shape(0)}, s);
    default: return a;
  }
}

array atleast_3d(const array& a, StreamOrDevice s) {
  switch (a.ndim()) {
    case 0: return reshape(a, {1, 1, 1}, s);
    case 1: return reshape(a, {1, a.shape(0), 1}, s);
    case 2: return reshape(a, {a.shape(0), a.shape(1), 1}, s);
    default: return a;
  }
}

std::vector<array> atleast_1d(const std::vector<array>& a, StreamOrDevice s) {
  return map_arrays(a, [&](const array& x) { return atleast_1d(x, s); });
}
std::vector<array> atleast_2d(const std::vector<array>& a, StreamOrDevice s) {
  return map_arrays(a, [&](const array& x) { return atleast_2d(x, s); });
}
std::vector<array> atleast_3d(const std::vector<array>& a, StreamOrDevice s) {
  return map_arrays(a, [&](const array& x) { return atleast_3d(x, s); });
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      detail::throw_invalid("[{}] shapes {} and {} cannot be broadcast", op, detail::shape_str(a),
                            detail::shape_str(b));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s) {
  if (a.shape() == shape) return a;
  detail::checked_size(shape, "broadcast_to");
  if (shape.size() < a.ndim() || broadcast_shapes(a.shape(), shape, "broadcast_to") != shape) {
    detail::throw_invalid("[broadcast_to] cannot broadcast shape {} to {}",
                          detail::shape_str(a.shape()), detail::shape_str(shape));
  }
  return array(shape, a.dtype(), std::make_shared<Broadcast>(to_stream(s), shape), {a});
}

std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s) {
  Shape shape;
  for (auto& in : inputs) shape = broadcast_shapes(shape, in.shape(), "broadcast_arrays");
  std::vector<array> out;
  for (auto& in : inputs) out.push_back(broadcast_to(in, shape, s));
  return out;
}

array as_strided(array a, Shape shape, Strides strides, size_t offset, StreamOrDevice s) {
  detail::checked_size(shape, "as_strided");
  if (strides.size() != shape.size()) {
    detail::throw_invalid("[as_strided] Got {} strides for shape {}.", strides.size(),
                          detail::shape_str(shape));
  }
  auto dtype = a.dtype();
  auto out_shape = shape;
  // The primitive addresses the input as one row-contiguous vector.
  return array(std::move(out_shape), dtype,
               std::make_shared<AsStrided>(to_stream(s), std::move(shape), std::move(strides), offset),
               {flatten(a, s)});
}

array view(const array& a, const Dtype& dtype, StreamOrDevice s) {
  if (a.dtype() == dtype) return a;
  auto shape = a.shape();
  int ibytes = size_of(a.dtype());
  int obytes = size_of(dtype);
  if (ibytes != obytes) {
    if (a.ndim() == 0) {
      detail::throw_invalid(
          "[view] Changing the type of a scalar is only allowed for types with the same size "
          "({} has {} bytes, {} has {}).",
          dtype_to_string(a.dtype()), ibytes, dtype_to_string(dtype), obytes);
    }
    if (ibytes < obytes) {
      if (shape.back() % (obytes / ibytes) != 0) {
        detail::throw_invalid(
            "[view] When viewing as a larger dtype, the size in bytes of the last axis must be a "
            "multiple of the requested type size (last axis {} x {} bytes, {} has {} bytes).",
            shape.back(), ibytes, dtype_to_string(dtype), obytes);
      }
      shape.back() /= obytes / ibytes;
    } else {
      int64_t grown = static_cast<int64_t>(shape.back()) * (ibytes / obytes);
      if (grown > std::numeric_limits<int32_t>::max()) {
        detail::throw_invalid("[view] Last axis of {} elements overflows as {}.", grown,
                              dtype_to_string(dtype));
      }
      shape.back() = static_cast<int32_t>(grown);
    }
  }
  return array(std::move(shape), dtype, std::make_shared<View>(to_stream(s), dtype), {a});
}

array flip(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  int ndim = ndim_of(a);
  Shape start(ndim, 0), stop = a.shape(), strides(ndim, 1);
  for (auto axis : axes) {
    int ax = detail::normalize_axis(axis, ndim, "flip");
    start[ax] = a.shape(ax) - 1;
    stop[ax] = -a.shape(ax) - 1;
    strides[ax] = -1;
  }
  return slice(a, std::move(start), std::move(stop), std::move(strides), s);
}

array flip(const array& a, int axis, StreamOrDevice s) { return flip(a, std::vector<int>{axis}, s); }

array flip(const array& a, StreamOrDevice s) {
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  return flip(a, axes, s);
}

array diagonal(const array& a, int offset, int axis1, int axis2, StreamOrDevice s) {
  int ndim = ndim_of(a);
  if (ndim < 2) {
    detail::throw_invalid("[diagonal] Array must have at least two dimensions, but got {} dimensions.",
                          ndim);
  }
  int ax1 = detail::normalize_axis_range(axis1, ndim, "diagonal");
  int ax2 = detail::normalize_axis_range(axis2, ndim, "diagonal");
  if (ax1 == ax2) detail::throw_invalid("[diagonal] axis1 and axis2 cannot be the same axis ({}).", ax1);
  int64_t off1 = std::max(-int64_t{offset}, int64_t{0});
  int64_t off2 = std::max(int64_t{offset}, int64_t{0});
  int64_t size = std::max<int64_t>(0, std::min(a.shape(ax1) - off1, a.shape(ax2) - off2));
  // A strided view of the row-major input: the other axes in order, then the
  // diagonal, which steps both axes at once.
  auto rm = detail::row_major_strides(a.shape());
  Shape shape;
  Strides strides;
  for (int i = 0; i < ndim; ++i) {
    if (i == ax1 || i == ax2) continue;
    shape.push_back(a.shape(i));
    strides.push_back(rm[i]);
  }
  shape.push_back(static_cast<int32_t>(size));
  strides.push_back(rm[ax1] + rm[ax2]);
  size_t start = size > 0 ? static_cast<size_t>(off1 * rm[ax1] + off2 * rm[ax2]) : 0;
  return as_strided(a, std::move(shape), std::move(strides), start, s);
}

array diag(const array& a, int k, StreamOrDevice s) {
  if (a.ndim() == 2) return diagonal(a, k, 0, 1, s);
  if (a.ndim() != 1) {
    detail::throw_invalid("[diag] array must be 1-D or 2-D, got array with {} dimensions.", a.ndim());
  }
  int m = a.shape(0);
  int64_t n = int64_t{m} + std::abs(int64_t{k});
  if (n > std::numeric_limits<int32_t>::max()) {
    detail::throw_invalid("[diag] Output size {} does not fit in int32.", n);
  }
  auto out = zeros({static_cast<int32_t>(n), static_cast<int32_t>(n)}, a.dtype(), s);
  if (m == 0) return out;
  std::vector<int32_t> rows(m), cols(m);
  for (int i = 0; i < m; ++i) {
    rows[i] = i + std::max(0, -k);
    cols[i] = i + std::max(0, k);
  }
  return scatter(out, {array(rows.begin(), {m}, int32), array(cols.begin(), {m}, int32)},
                 reshape(a, {m, 1, 1}, s), {0, 1}, s);
}

array contiguous(const array& a, bool allow_col_major, StreamOrDevice s) {
  return array(a.shape(), a.dtype(), std::make_shared<Contiguous>(to_stream(s), allow_col_major), {a});
}

}  // namespace lumen
