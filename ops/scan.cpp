#include "lumen/scan.h"

#include "core/detail/errors.h"
#include "ops/detail/shape_checks.h"
#include "lumen/elementwise.h"
#include "lumen/scan_primitives.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

array scan(const char* op, Scan::ReduceType type, const array& a, int axis, bool reverse,
           bool inclusive, Dtype out_type, StreamOrDevice s) {
  axis = detail::normalize_axis(axis, static_cast<int>(a.ndim()), op);
  return array(a.shape(), out_type,
               std::make_shared<Scan>(to_stream(s), type, axis, reverse, inclusive), {a});
}

}  // namespace

array cumsum(const array& a, int axis, bool reverse, bool inclusive, std::optional<Dtype> dtype,
             StreamOrDevice s) {
  auto x = dtype ? astype(a, *dtype, s) : a;
  auto out_type = x.dtype() == bool_ ? int32 : x.dtype();
  return scan("cumsum", Scan::Sum, x, axis, reverse, inclusive, out_type, s);
}
array cumsum(const array& a, bool reverse, bool inclusive, std::optional<Dtype> dtype,
             StreamOrDevice s) {
  return cumsum(flatten(a, s), 0, reverse, inclusive, dtype, s);
}

array cumprod(const array& a, int axis, bool reverse, bool inclusive, std::optional<Dtype> dtype,
              StreamOrDevice s) {
  auto x = dtype ? astype(a, *dtype, s) : a;
  return scan("cumprod", Scan::Prod, x, axis, reverse, inclusive, x.dtype(), s);
}
array cumprod(const array& a, bool reverse, bool inclusive, std::optional<Dtype> dtype,
              StreamOrDevice s) {
  return cumprod(flatten(a, s), 0, reverse, inclusive, dtype, s);
}

array cummax(const array& a, int axis, bool reverse, bool inclusive, StreamOrDevice s) {
  return scan("cummax", Scan::Max, a, axis, reverse, inclusive, a.dtype(), s);
}
array cummax(const array& a, bool reverse, bool inclusive, StreamOrDevice s) {
  return cummax(flatten(a, s), 0, reverse, inclusive, s);
}

array cummin(const array& a, int axis, bool reverse, bool inclusive, StreamOrDevice s) {
  return scan("cummin", Scan::Min, a, axis, reverse, inclusive, a.dtype(), s);
}
array cummin(const array& a, bool reverse, bool inclusive, StreamOrDevice s) {
  return cummin(flatten(a, s), 0, reverse, inclusive, s);
}

array logcumsumexp(const array& a, int axis, bool reverse, bool inclusive, StreamOrDevice s) {
  if (a.dtype() == complex64) {
    detail::throw_invalid("[logcumsumexp] complex64 input is not supported");
  }
  auto x = issubdtype(a.dtype(), inexact) ? a : astype(a, float32, s);
  return scan("logcumsumexp", Scan::LogAddExp, x, axis, reverse, inclusive, x.dtype(), s);
}
array logcumsumexp(const array& a, bool reverse, bool inclusive, StreamOrDevice s) {
  return logcumsumexp(flatten(a, s), 0, reverse, inclusive, s);
}

const char* Scan::name() const {
  switch (type_) {
    case Sum: return "CumSum";
    case Prod: return "CumProd";
    case Min: return "CumMin";
    case Max: return "CumMax";
    case LogAddExp: return "CumLogAddExp";
  }
  return "Scan";
}

bool Scan::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Scan*>(&other);
  return o && o->type_ == type_ && o->axis_ == axis_ && o->reverse_ == reverse_ &&
         o->inclusive_ == inclusive_;
}

std::vector<Shape> Scan::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

}  // namespace lumen
