#include "lumen/reduction.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "core/detail/errors.h"
#include "ops/detail/shape_checks.h"
#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/reduction_primitives.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

std::vector<int> every_axis(const array& a) {
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  return axes;
}

Dtype at_least_float(Dtype d) { return issubdtype(d, inexact) ? d : promote_types(d, float32); }

struct ReduceShape {
  Shape shape;              // the input's shape with reduced axes set to 1
  std::vector<int> axes;    // sorted, non-negative
  bool is_noop = true;      // every reduced axis already has size 1
};

// Checks and normalizes `axes` for op `op`. An op without an identity (max,
// min) refuses to reduce an axis of size 0.
ReduceShape reduce_shape(const char* op, const std::vector<int>& axes, const Shape& shape,
                         bool has_identity = true) {
  const int ndim = static_cast<int>(shape.size());
  std::set<int> unique;
  for (int ax : axes) unique.insert(detail::normalize_axis_range(ax, ndim, op));
  if (unique.size() != axes.size()) {
    detail::throw_invalid("[{}] duplicate axes in ({})", op, fmt::join(axes, ", "));
  }
  ReduceShape r;
  r.shape = shape;
  r.axes.assign(unique.begin(), unique.end());
  for (int a : r.axes) {
    if (!has_identity && shape[a] == 0) {
      detail::throw_invalid("[{}] cannot {}-reduce axis {} of size 0", op, op, a);
    }
    r.is_noop &= shape[a] == 1;
    r.shape[a] = 1;
  }
  return r;
}

array drop_axes(const array& out, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  if (keepdims || axes.empty()) return out;
  return squeeze(out, axes, s);
}

array reduce(const char* op, Reduce::ReduceType type, Dtype out_type, const array& a,
             const std::vector<int>& axes, bool keepdims, StreamOrDevice s,
             bool has_identity = true) {
  auto r = reduce_shape(op, axes, a.shape(), has_identity);
  auto out = r.is_noop ? astype(a, out_type, s)
                       : array(std::move(r.shape), out_type,
                               std::make_shared<Reduce>(to_stream(s), type, r.axes), {a});
  return drop_axes(out, r.axes, keepdims, s);
}

// Sums and products widen integers as MLX does.
Dtype accumulated_type(Dtype d) {
  if (issubdtype(d, signedinteger)) return d.size() <= 4 ? int32 : int64;
  if (issubdtype(d, unsignedinteger)) return d.size() <= 4 ? uint32 : uint64;
  if (d == bool_) return int32;
  return d;
}

// The number of elements along `axes` (or its inverse) as a scalar of `dtype`.
array number_of_elements(const array& a, const std::vector<int>& axes, bool inverted, Dtype dtype) {
  double n = 1;
  const int ndim = static_cast<int>(a.ndim());
  for (int ax : axes) n *= a.shape(ax < 0 ? ax + ndim : ax);
  return array(inverted ? 1.0 / n : n, dtype);
}

void check_axes_in_range(const char* op, const array& a, const std::vector<int>& axes) {
  for (int ax : axes) detail::normalize_axis(ax, static_cast<int>(a.ndim()), op);
}

// Whether `axes` reduce exactly the last axis of `a` (leading ones of size 1
// may come along), so a last-axis primitive can do the work.
bool reduces_last_axis(const array& a, const std::vector<int>& axes) {
  const int ndim = static_cast<int>(a.ndim());
  if (axes.empty() || (axes.back() != ndim - 1 && axes.back() != -1)) return false;
  for (int i = static_cast<int>(axes.size()) - 2; i >= 0; --i) {
    if (axes[i] + 1 != axes[i + 1] || a.shape(axes[i]) != 1) return false;
  }
  return true;
}

array arg_reduce(const char* op, ArgReduce::ReduceType type, const array& a, int axis,
                 bool keepdims, StreamOrDevice s) {
  if (a.size() == 0) detail::throw_invalid("[{}] cannot reduce an array of size 0", op);
  auto r = reduce_shape(op, {axis}, a.shape());
  auto out = r.is_noop ? zeros(r.shape, uint32, s)
                       : array(std::move(r.shape), uint32,
                               std::make_shared<ArgReduce>(to_stream(s), type, r.axes[0]), {a});
  return drop_axes(out, r.axes, keepdims, s);
}

array arg_reduce_all(const char* op, ArgReduce::ReduceType type, const array& a, bool keepdims,
                     StreamOrDevice s) {
  auto out = arg_reduce(op, type, flatten(a, s), 0, true, s);
  return reshape(out, keepdims ? Shape(a.ndim(), 1) : Shape{}, s);
}

}  // namespace

// ---- all, any ----

array all(const array& a, bool keepdims, StreamOrDevice s) { return all(a, every_axis(a), keepdims, s); }
array all(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  return reduce("all", Reduce::And, bool_, a, axes, keepdims, s);
}
array all(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return all(a, std::vector<int>{axis}, keepdims, s);
}

array any(const array& a, bool keepdims, StreamOrDevice s) { return any(a, every_axis(a), keepdims, s); }
array any(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  return reduce("any", Reduce::Or, bool_, a, axes, keepdims, s);
}
array any(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return any(a, std::vector<int>{axis}, keepdims, s);
}

// ---- sum, prod, count_nonzero ----

array sum(const array& a, bool keepdims, StreamOrDevice s) { return sum(a, every_axis(a), keepdims, s); }
array sum(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  if (axes.empty()) return a;
  return reduce("sum", Reduce::Sum, accumulated_type(a.dtype()), a, axes, keepdims, s);
}
array sum(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return sum(a, std::vector<int>{axis}, keepdims, s);
}

array prod(const array& a, bool keepdims, StreamOrDevice s) { return prod(a, every_axis(a), keepdims, s); }
array prod(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  if (axes.empty()) return a;
  return reduce("prod", Reduce::Prod, accumulated_type(a.dtype()), a, axes, keepdims, s);
}
array prod(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return prod(a, std::vector<int>{axis}, keepdims, s);
}

array count_nonzero(const array& a, bool keepdims, StreamOrDevice s) {
  return count_nonzero(a, every_axis(a), keepdims, s);
}
array count_nonzero(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return count_nonzero(a, std::vector<int>{axis}, keepdims, s);
}
array count_nonzero(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto nonzero = astype(not_equal(a, array(0, a.dtype()), s), int32, s);
  return sum(nonzero, axes, keepdims, s);
}

// ---- max, min ----

array max(const array& a, bool keepdims, StreamOrDevice s) { return max(a, every_axis(a), keepdims, s); }
array max(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  return reduce("max", Reduce::Max, a.dtype(), a, axes, keepdims, s, false);
}
array max(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return max(a, std::vector<int>{axis}, keepdims, s);
}

array min(const array& a, bool keepdims, StreamOrDevice s) { return min(a, every_axis(a), keepdims, s); }
array min(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  if (axes.empty()) return a;
  return reduce("min", Reduce::Min, a.dtype(), a, axes, keepdims, s, false);
}
array min(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return min(a, std::vector<int>{axis}, keepdims, s);
}

// ---- mean, var, std ----

array mean(const array& a, bool keepdims, StreamOrDevice s) { return mean(a, every_axis(a), keepdims, s); }
array mean(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  check_axes_in_range("mean", a, axes);
  auto dtype = at_least_float(a.dtype());
  return multiply(sum(a, axes, keepdims, s), number_of_elements(a, axes, true, dtype), s);
}
array mean(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return mean(a, std::vector<int>{axis}, keepdims, s);
}

array var(const array& a, bool keepdims, int ddof, StreamOrDevice s) {
  return var(a, every_axis(a), keepdims, ddof, s);
}
array var(const array& a, const std::vector<int>& axes, bool keepdims, int ddof, StreamOrDevice s) {
  check_axes_in_range("var", a, axes);
  auto dtype = at_least_float(a.dtype());
  auto d = subtract(a, mean(a, axes, true, s), s);
  const bool is_complex = issubdtype(dtype, complexfloating);
  // |d|^2: d * conj(d) for complex input (d^2 could even be negative).
  auto sq = is_complex ? real(multiply(d, conjugate(d, s), s), s) : square(d, s);
  if (is_complex) dtype = float32;
  auto v = sum(sq, axes, keepdims, s);
  if (ddof == 0) return multiply(v, number_of_elements(a, axes, true, dtype), s);
  auto n = subtract(number_of_elements(a, axes, false, dtype), array(ddof, dtype), s);
  return divide(v, maximum(n, array(0, dtype), s), s);
}
array var(const array& a, int axis, bool keepdims, int ddof, StreamOrDevice s) {
  return var(a, std::vector<int>{axis}, keepdims, ddof, s);
}

array std(const array& a, bool keepdims, int ddof, StreamOrDevice s) {
  return std(a, every_axis(a), keepdims, ddof, s);
}
array std(const array& a, const std::vector<int>& axes, bool keepdims, int ddof, StreamOrDevice s) {
  return sqrt(var(a, axes, keepdims, ddof, s), s);
}
array std(const array& a, int axis, bool keepdims, int ddof, StreamOrDevice s) {
  return std(a, std::vector<int>{axis}, keepdims, ddof, s);
}

// ---- argmin, argmax ----

array argmin(const array& a, bool keepdims, StreamOrDevice s) {
  return arg_reduce_all("argmin", ArgReduce::ArgMin, a, keepdims, s);
}
array argmin(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return arg_reduce("argmin", ArgReduce::ArgMin, a, axis, keepdims, s);
}
array argmax(const array& a, bool keepdims, StreamOrDevice s) {
  return arg_reduce_all("argmax", ArgReduce::ArgMax, a, keepdims, s);
}
array argmax(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return arg_reduce("argmax", ArgReduce::ArgMax, a, axis, keepdims, s);
}

// ---- logsumexp, softmax ----

array logsumexp(const array& a, bool keepdims, StreamOrDevice s) {
  return logsumexp(a, every_axis(a), keepdims, s);
}
array logsumexp(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  if (a.size() == 0) detail::throw_invalid("[logsumexp] the array is empty (shape {})", detail::shape_str(a.shape()));
  if (a.ndim() == 0 && !axes.empty()) {
    detail::throw_invalid("[logsumexp] axes given for an array with 0 dimensions");
  }
  if (a.dtype() != complex64 && reduces_last_axis(a, axes)) {
    auto dtype = at_least_float(a.dtype());
    auto shape = a.shape();
    shape.back() = 1;
    auto out = array(std::move(shape), dtype, std::make_shared<LogSumExp>(to_stream(s)),
                     {astype(a, dtype, s)});
    return keepdims ? out : squeeze(out, axes, s);
  }
  // Integers and bool are made float first (MLX subtracts them as they are,
  // which wraps).
  auto x = a.dtype() == complex64 ? a : astype(a, at_least_float(a.dtype()), s);
  auto maxval = stop_gradient(max(x, axes, true, s), s);
  auto out = log(sum(exp(subtract(x, maxval, s), s), axes, keepdims, s), s);
  out = add(out, reshape(maxval, out.shape(), s), s);
  if (!keepdims) maxval = squeeze(maxval, axes, s);
  return where(isinf(maxval, s), maxval, out, s);
}
array logsumexp(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return logsumexp(a, std::vector<int>{axis}, keepdims, s);
}

array softmax(const array& a, const std::vector<int>& axes, bool precise, StreamOrDevice s) {
  if (a.size() == 0) return a;
  if (a.ndim() == 0 && !axes.empty()) {
    detail::throw_invalid("[softmax] axes given for an array with 0 dimensions");
  }
  const bool is_complex = a.dtype() == complex64;
  if (!is_complex && reduces_last_axis(a, axes)) {
    auto dtype = at_least_float(a.dtype());
    return array(a.shape(), dtype, std::make_shared<Softmax>(to_stream(s), precise),
                 {astype(a, dtype, s)});
  }
  // Integers and bool are made float first (MLX subtracts them as they are,
  // which wraps), precise half types float32 (float64 stays: MLX would drop
  // it to float32); the result keeps the input's dtype, as MLX's.
  auto compute = at_least_float(a.dtype());
  if (precise) compute = promote_types(compute, float32);
  auto in = is_complex ? a : astype(a, compute, s);
  auto a_max = stop_gradient(max(in, axes, true, s), s);
  auto ex = exp(subtract(in, a_max, s), s);
  return astype(divide(ex, sum(ex, axes, true, s), s), a.dtype(), s);
}
array softmax(const array& a, bool precise, StreamOrDevice s) {
  return softmax(a, every_axis(a), precise, s);
}

// ---- comparisons that reduce ----

array allclose(const array& a, const array& b, double rtol, double atol, bool equal_nan,
               StreamOrDevice s) {
  return all(isclose(a, b, rtol, atol, equal_nan, s), s);
}

array array_equal(const array& a, const array& b, bool equal_nan, StreamOrDevice s) {
  if (a.shape() != b.shape()) return array(false);
  auto dtype = promote_types(a.dtype(), b.dtype());
  auto x = astype(a, dtype, s), y = astype(b, dtype, s);
  auto eq = equal(x, y, s);
  if (equal_nan && issubdtype(dtype, inexact)) {
    eq = logical_or(eq, logical_and(isnan(x, s), isnan(y, s), s), s);
  }
  return all(eq, false, s);
}

// ---- primitives ----

const char* Reduce::name() const {
  switch (type_) {
    case And: return "And";
    case Or: return "Or";
    case Sum: return "Sum";
    case Prod: return "Prod";
    case Min: return "Min";
    case Max: return "Max";
  }
  return "Reduce";
}

bool Reduce::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Reduce*>(&other);
  return o && o->type_ == type_ && o->axes_ == axes_;
}

std::vector<Shape> Reduce::output_shapes(const std::vector<array>& inputs) {
  auto shape = inputs[0].shape();
  for (int ax : axes_) shape[ax] = 1;
  return {shape};
}

bool ArgReduce::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const ArgReduce*>(&other);
  return o && o->type_ == type_ && o->axis_ == axis_;
}

std::vector<Shape> ArgReduce::output_shapes(const std::vector<array>& inputs) {
  auto shape = inputs[0].shape();
  shape[axis_] = 1;
  return {shape};
}

bool LogSumExp::is_equivalent(const Primitive& other) const {
  return dynamic_cast<const LogSumExp*>(&other) != nullptr;
}

std::vector<Shape> LogSumExp::output_shapes(const std::vector<array>& inputs) {
  auto shape = inputs[0].shape();
  shape.back() = 1;
  return {shape};
}

bool Softmax::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Softmax*>(&other);
  return o && o->precise_ == precise_;
}

std::vector<Shape> Softmax::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

}  // namespace lumen
