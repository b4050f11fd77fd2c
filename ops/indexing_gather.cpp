// Gathers and scatters: gather, take, take_along_axis, put_along_axis,
// scatter and its reductions.
#include <numeric>
#include <set>

#include "core/detail/errors.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/indexing_primitives.h"
#include "lumen/shape.h"
#include "ops/detail/shape_checks.h"

namespace lumen {

namespace {

const char* scatter_op_name(ScatterReduce mode) {
  static const char* names[] = {"scatter", "scatter_add", "scatter_prod", "scatter_max", "scatter_min"};
  return names[static_cast<int>(mode)];
}

// The common integer dtype of the index arrays.
Dtype index_dtype(const std::vector<array>& indices, const char* op) {
  Dtype dtype = indices.empty() ? int32 : indices[0].dtype();
  for (auto& idx : indices) {
    if (!issubdtype(idx.dtype(), integer)) {
      detail::throw_invalid("[{}] Indices must be integers, got {}.", op, dtype_to_string(idx.dtype()));
    }
    dtype = promote_types(dtype, idx.dtype());
  }
  if (!issubdtype(dtype, integer)) {
    detail::throw_invalid("[{}] Indices must promote to an integer type, got {}.", op,
                          dtype_to_string(dtype));
  }
  return dtype;
}

// Index arrays broadcast against each other and cast to one integer dtype.
std::vector<array> prepare_indices(const std::vector<array>& indices, const char* op, StreamOrDevice s) {
  auto dtype = index_dtype(indices, op);
  auto out = broadcast_arrays(indices, s);
  for (auto& idx : out) idx = astype(idx, dtype, s);
  return out;
}

// Checks `axes` against a and the number of index arrays.
void check_index_axes(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
                      const char* op) {
  if (indices.size() > a.ndim()) {
    detail::throw_invalid("[{}] Too many index arrays. Got {} index arrays for input with {} dimensions.",
                          op, indices.size(), a.ndim());
  }
  if (indices.size() != axes.size()) {
    detail::throw_invalid("[{}] Number of index arrays ({}) does not match number of axes ({}).", op,
                          indices.size(), axes.size());
  }
  std::set<int> dims(axes.begin(), axes.end());
  if (dims.size() != axes.size()) {
    detail::throw_invalid("[{}] Repeat axes not allowed in ({}).", op, fmt::join(axes, ", "));
  }
  for (auto ax : axes) {
    if (ax < 0 || ax >= static_cast<int>(a.ndim())) {
      detail::throw_invalid("[{}] Axis {} does not match an array with {} dimensions.", op, ax, a.ndim());
    }
  }
}

// Arrays of one rank broadcast against each other on every axis but `axis`,
// where each keeps its own size.
std::vector<array> broadcast_except(const std::vector<array>& arrays, int axis, const char* op,
                                    StreamOrDevice s) {
  size_t ndim = arrays[0].ndim();
  Shape shape(ndim, 1);
  for (auto& a : arrays) {
    for (size_t i = 0; i < ndim; ++i) {
      if (static_cast<int>(i) == axis || a.shape(i) == 1) continue;
      if (shape[i] != 1 && shape[i] != a.shape(i)) {
        std::string shapes;
        for (auto& b : arrays) shapes += detail::shape_str(b.shape()) + " ";
        detail::throw_invalid("[{}] Shapes {}cannot be broadcast (ignoring axis {}).", op, shapes, axis);
      }
      shape[i] = a.shape(i);
    }
  }
  std::vector<array> out;
  for (auto& a : arrays) {
    Shape target = shape;
    target[axis] = a.shape(axis);
    out.push_back(broadcast_to(a, target, s));
  }
  return out;
}

array scatter_axis(const array& a, const array& indices, const array& values, int axis,
                   ScatterReduce mode, StreamOrDevice s) {
  const char* op = mode == ScatterReduce::None ? "put_along_axis" : "scatter_add_axis";
  int ax = detail::normalize_axis(axis, static_cast<int>(a.ndim()), op);
  if (indices.ndim() != a.ndim()) {
    detail::throw_invalid("[{}] Indices of dimension {} does not match array of dimension {}.", op,
                          indices.ndim(), a.ndim());
  }
  index_dtype({indices}, op);
  if (a.size() == 0) return a;
  auto upd = astype(values, a.dtype(), s);
  if (upd.ndim() > indices.ndim()) {  // leading size-1 axes of the values go
    std::vector<int> lead(upd.ndim() - indices.ndim());
    std::iota(lead.begin(), lead.end(), 0);
    upd = squeeze(upd, lead, s);
  }
  auto pair = broadcast_arrays({indices, upd}, s);
  auto ins = broadcast_except({a, pair[0], pair[1]}, ax, op, s);
  auto shape = ins[0].shape();
  return array(std::move(shape), a.dtype(), std::make_shared<ScatterAxis>(to_stream(s), mode, ax),
               std::move(ins));
}

array scatter_impl(const array& a, const std::vector<array>& indices, const array& updates,
                   const std::vector<int>& axes, ScatterReduce mode, StreamOrDevice s) {
  const char* op = scatter_op_name(mode);
  check_index_axes(a, indices, axes, op);
  if (a.dtype() == complex64 && (mode == ScatterReduce::Max || mode == ScatterReduce::Min)) {
    detail::throw_invalid("[{}] complex64 is not supported.", op);
  }
  auto inputs = prepare_indices(indices, op, s);
  Shape idx_shape = inputs.empty() ? Shape{} : inputs[0].shape();
  if (updates.ndim() != a.ndim() + idx_shape.size()) {
    detail::throw_invalid(
        "[{}] Updates with {} dimensions does not match the sum of the array ({}) and indices ({}) "
        "dimensions.",
        op, updates.ndim(), a.ndim(), idx_shape.size());
  }
  for (size_t i = 0; i < idx_shape.size(); ++i) {
    if (updates.shape(i) != idx_shape[i]) {
      detail::throw_invalid("[{}] Update shape {} is not valid for broadcasted index shape {}.", op,
                            detail::shape_str(updates.shape()), detail::shape_str(idx_shape));
    }
  }
  for (size_t i = 0; i < a.ndim(); ++i) {
    if (updates.shape(i + idx_shape.size()) > a.shape(i)) {
      detail::throw_invalid("[{}] Updates with shape {} are too large for array with shape {}.", op,
                            detail::shape_str(updates.shape()), detail::shape_str(a.shape()));
    }
  }
  inputs.insert(inputs.begin(), a);
  inputs.push_back(astype(updates, a.dtype(), s));
  return array(a.shape(), a.dtype(), std::make_shared<Scatter>(to_stream(s), mode, axes),
               std::move(inputs));
}

}  // namespace

array gather(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
             const Shape& slice_sizes, StreamOrDevice s) {
  check_index_axes(a, indices, axes, "gather");
  if (slice_sizes.size() != a.ndim()) {
    detail::throw_invalid("[gather] Got slice_sizes {} for array with {} dimensions.",
                          detail::shape_str(slice_sizes), a.ndim());
  }
  auto inputs = prepare_indices(indices, "gather", s);
  int64_t idx_size = inputs.empty() ? 1 : static_cast<int64_t>(inputs[0].size());
  int64_t slice_total = 1;
  for (size_t i = 0; i < a.ndim(); ++i) {
    if (slice_sizes[i] < 0 || slice_sizes[i] > a.shape(i)) {
      detail::throw_invalid("[gather] Slice sizes must be in [0, a.shape(i)]. Got {} for array with shape {}.",
                            detail::shape_str(slice_sizes), detail::shape_str(a.shape()));
    }
    slice_total *= slice_sizes[i];
  }
  for (auto ax : axes) {
    if (a.shape(ax) == 0 && idx_size != 0 && slice_total != 0) {
      detail::throw_invalid("[gather] Cannot gather from empty axis {} of shape {}.", ax,
                            detail::shape_str(a.shape()));
    }
  }
  Shape out_shape = inputs.empty() ? Shape{} : inputs[0].shape();
  out_shape.insert(out_shape.end(), slice_sizes.begin(), slice_sizes.end());
  inputs.insert(inputs.begin(), a);
  return array(std::move(out_shape), a.dtype(), std::make_shared<Gather>(to_stream(s), axes, slice_sizes),
               std::move(inputs));
}

array take(const array& a, const array& indices, int axis, StreamOrDevice s) {
  int ndim = static_cast<int>(a.ndim());
  if (axis < -ndim || axis >= ndim) {
    detail::throw_invalid("[take] Received invalid axis {} for array with {} dimensions.", axis, ndim);
  }
  int ax = axis < 0 ? axis + ndim : axis;
  if (a.shape(ax) == 0 && indices.size() != 0) {
    detail::throw_invalid("[take] Cannot do a non-empty take from an empty axis {} of shape {}.", axis,
                          detail::shape_str(a.shape()));
  }
  Shape slice_sizes = a.shape();
  slice_sizes[ax] = 1;
  auto out = gather(a, indices, ax, slice_sizes, s);
  // Gather's layout is (index dims, a's dims with axis of size 1): move the
  // index dims to where the axis was, then drop it.
  int ind = static_cast<int>(indices.ndim());
  if (ax != 0) {
    std::vector<int> perm(out.ndim());
    std::iota(perm.begin(), perm.begin() + ax, ind);
    std::iota(perm.begin() + ax, perm.begin() + ax + ind, 0);
    std::iota(perm.begin() + ax + ind, perm.end(), ind + ax);
    out = transpose(out, std::move(perm), s);
  }
  return squeeze(out, ind + ax, s);
}

array take(const array& a, const array& indices, StreamOrDevice s) {
  return take(flatten(a, s), indices, 0, s);
}

array take(const array& a, int index, int axis, StreamOrDevice s) {
  int ndim = static_cast<int>(a.ndim());
  if (axis < -ndim || axis >= ndim) {
    detail::throw_invalid("[take] Received invalid axis {} for array with {} dimensions.", axis, ndim);
  }
  int ax = axis < 0 ? axis + ndim : axis;
  int n = a.shape(ax);
  int i = index < 0 ? index + n : index;
  if (i < 0 || i >= n) {
    detail::throw_range("[take] Index {} is out of bounds for axis {} with size {}.", index, axis, n);
  }
  Shape start(ndim, 0), stop = a.shape();
  start[ax] = i;
  stop[ax] = i + 1;
  return squeeze(slice(a, std::move(start), std::move(stop), s), ax, s);
}

array take(const array& a, int index, StreamOrDevice s) { return take(flatten(a, s), index, 0, s); }

array take_along_axis(const array& a, const array& indices, int axis, StreamOrDevice s) {
  int ax = detail::normalize_axis(axis, static_cast<int>(a.ndim()), "take_along_axis");
  if (indices.ndim() != a.ndim()) {
    detail::throw_invalid("[take_along_axis] Indices of dimension {} does not match array of dimension {}.",
                          indices.ndim(), a.ndim());
  }
  index_dtype({indices}, "take_along_axis");
  if (a.shape(ax) == 0 && indices.shape(ax) != 0) {
    detail::throw_invalid("[take_along_axis] Cannot take from empty axis {} of shape {}.", ax,
                          detail::shape_str(a.shape()));
  }
  auto ins = broadcast_except({a, indices}, ax, "take_along_axis", s);
  auto shape = ins[1].shape();
  return array(std::move(shape), a.dtype(), std::make_shared<GatherAxis>(to_stream(s), ax), std::move(ins));
}

array put_along_axis(const array& a, const array& indices, const array& values, int axis,
                     StreamOrDevice s) {
  return scatter_axis(a, indices, values, axis, ScatterReduce::None, s);
}

array scatter_add_axis(const array& a, const array& indices, const array& values, int axis,
                       StreamOrDevice s) {
  return scatter_axis(a, indices, values, axis, ScatterReduce::Sum, s);
}

array scatter(const array& a, const std::vector<array>& indices, const array& updates,
              const std::vector<int>& axes, StreamOrDevice s) {
  return scatter_impl(a, indices, updates, axes, ScatterReduce::None, s);
}
array scatter_add(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s) {
  return scatter_impl(a, indices, updates, axes, ScatterReduce::Sum, s);
}
array scatter_prod(const array& a, const std::vector<array>& indices, const array& updates,
                   const std::vector<int>& axes, StreamOrDevice s) {
  return scatter_impl(a, indices, updates, axes, ScatterReduce::Prod, s);
}
array scatter_max(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s) {
  return scatter_impl(a, indices, updates, axes, ScatterReduce::Max, s);
}
array scatter_min(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s) {
  return scatter_impl(a, indices, updates, axes, ScatterReduce::Min, s);
}

bool Gather::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Gather::output_shapes(const std::vector<array>& inputs) {
  Shape shape = inputs.size() > 1 ? inputs[1].shape() : Shape{};
  shape.insert(shape.end(), slice_sizes_.begin(), slice_sizes_.end());
  return {shape};
}

bool GatherAxis::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> GatherAxis::output_shapes(const std::vector<array>& inputs) {
  return {inputs[1].shape()};
}

const char* Scatter::name() const {
  switch (mode_) {
    case ScatterReduce::Sum: return "Scatter Sum";
    case ScatterReduce::Prod: return "Scatter Prod";
    case ScatterReduce::Max: return "Scatter Max";
    case ScatterReduce::Min: return "Scatter Min";
    default: return "Scatter";
  }
}
bool Scatter::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> Scatter::output_shapes(const std::vector<array>& inputs) { return {inputs[0].shape()}; }

const char* ScatterAxis::name() const {
  return mode_ == ScatterReduce::Sum ? "ScatterAxis Sum" : "ScatterAxis";
}
bool ScatterAxis::is_equivalent(const Primitive& other) const { return detail::same_state(*this, other); }
std::vector<Shape> ScatterAxis::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

}  // namespace lumen
