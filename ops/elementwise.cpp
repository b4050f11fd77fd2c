#include "lumen/elementwise.h"

#include <cmath>
#include <limits>

#include "core/detail/errors.h"
#include "lumen/creation.h"
#include "lumen/elementwise_primitives.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

Dtype at_least_float(Dtype d) { return issubdtype(d, inexact) ? d : promote_types(d, float32); }

array unary(UnaryOp op, const array& a, Dtype out, StreamOrDevice s) {
  auto in = astype(a, out, s);
  return array(in.shape(), out, std::make_shared<Unary>(to_stream(s), op), {in});
}

array float_unary(UnaryOp op, const array& a, StreamOrDevice s) {
  return unary(op, a, at_least_float(a.dtype()), s);
}

void no_complex(const char* op, const array& a) {
  if (a.dtype() == complex64) detail::throw_invalid("[{}] not supported for complex64", op);
}

// Promote, broadcast, and build a Binary with output dtype `out`.
array binary(BinaryOp op, const array& a, const array& b, Dtype compute, Dtype out,
             StreamOrDevice s) {
  auto ins = broadcast_arrays({astype(a, compute, s), astype(b, compute, s)}, s);
  auto shape = ins[0].shape();
  return array(std::move(shape), out, std::make_shared<Binary>(to_stream(s), op), std::move(ins));
}

array same_type_binary(BinaryOp op, const array& a, const array& b, StreamOrDevice s) {
  auto t = promote_types(a.dtype(), b.dtype());
  return binary(op, a, b, t, t, s);
}

array compare(BinaryOp op, const array& a, const array& b, StreamOrDevice s) {
  return binary(op, a, b, promote_types(a.dtype(), b.dtype()), bool_, s);
}

array bitwise(BinaryOp op, const char* name, const array& a, const array& b, bool shift,
              StreamOrDevice s) {
  auto t = promote_types(a.dtype(), b.dtype());
  if (shift && t == bool_) t = uint8;
  if (!(issubdtype(t, integer) || t == bool_)) {
    detail::throw_invalid("[{}] only integer and boolean types are supported, got {}", name,
                          dtype_to_string(t));
  }
  return binary(op, a, b, t, t, s);
}

}  // namespace

array astype(array a, Dtype dtype, StreamOrDevice s) {
  if (a.dtype() == dtype) return a;
  auto shape = a.shape();
  return array(std::move(shape), dtype, std::make_shared<AsType>(to_stream(s), dtype), {a});
}

array copy(array a, StreamOrDevice s) { return unary(UnaryOp::Copy, a, a.dtype(), s); }

array stop_gradient(const array& a, StreamOrDevice s) {
  return unary(UnaryOp::StopGradient, a, a.dtype(), s);
}

array abs(const array& a, StreamOrDevice s) {
  if (a.dtype() == complex64) return unary(UnaryOp::Abs, a, complex64, s);
  return unary(UnaryOp::Abs, a, a.dtype(), s);
}
array negative(const array& a, StreamOrDevice s) {
  if (a.dtype() == bool_) {
    detail::throw_invalid("[negative] not supported for bool, use logical_not instead");
  }
  return unary(UnaryOp::Negative, a, a.dtype(), s);
}
array sign(const array& a, StreamOrDevice s) { return unary(UnaryOp::Sign, a, a.dtype(), s); }
array logical_not(const array& a, StreamOrDevice s) {
  return unary(UnaryOp::LogicalNot, a, bool_, s);
}
array reciprocal(const array& a, StreamOrDevice s) {
  auto dt = at_least_float(a.dtype());
  return divide(array(1.0f, dt), a, s);
}
array square(const array& a, StreamOrDevice s) { return unary(UnaryOp::Square, a, a.dtype(), s); }
array sqrt(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Sqrt, a, s); }
array rsqrt(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Rsqrt, a, s); }
array exp(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Exp, a, s); }
array expm1(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Expm1, a, s); }
array log(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Log, a, s); }
array log2(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Log2, a, s); }
array log10(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Log10, a, s); }
array log1p(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Log1p, a, s); }
array sin(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Sin, a, s); }
array cos(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Cos, a, s); }
array tan(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Tan, a, s); }
array arcsin(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::ArcSin, a, s); }
array arccos(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::ArcCos, a, s); }
array arctan(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::ArcTan, a, s); }
array sinh(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Sinh, a, s); }
array cosh(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Cosh, a, s); }
array tanh(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Tanh, a, s); }
array arcsinh(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::ArcSinh, a, s); }
array arccosh(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::ArcCosh, a, s); }
array arctanh(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::ArcTanh, a, s); }
array sigmoid(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Sigmoid, a, s); }
array erf(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::Erf, a, s); }
array erfinv(const array& a, StreamOrDevice s) { return float_unary(UnaryOp::ErfInv, a, s); }
array floor(const array& a, StreamOrDevice s) {
  no_complex("floor", a);
  return unary(UnaryOp::Floor, a, a.dtype(), s);
}
array ceil(const array& a, StreamOrDevice s) {
  no_complex("ceil", a);
  return unary(UnaryOp::Ceil, a, a.dtype(), s);
}
array round(const array& a, int decimals, StreamOrDevice s) {
  if (decimals == 0) return unary(UnaryOp::Round, a, a.dtype(), s);
  auto dt = at_least_float(a.dtype());
  auto scale = array(static_cast<float>(std::pow(10.0, decimals)), dt);
  return divide(unary(UnaryOp::Round, multiply(a, scale, s), dt, s), scale, s);
}
array isnan(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), inexact)) return full(a.shape(), false, bool_, s);
  return not_equal(a, a, s);
}
array isposinf(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), inexact)) return full(a.shape(), false, bool_, s);
  return equal(a, array(std::numeric_limits<float>::infinity(), a.dtype()), s);
}
array isneginf(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), inexact)) return full(a.shape(), false, bool_, s);
  return equal(a, array(-std::numeric_limits<float>::infinity(), a.dtype()), s);
}
array isinf(const array& a, StreamOrDevice s) {
  return logical_or(isposinf(a, s), isneginf(a, s), s);
}
array isfinite(const array& a, StreamOrDevice s) {
  return logical_not(logical_or(isinf(a, s), isnan(a, s), s), s);
}
array real(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return a;
  return array(a.shape(), float32, std::make_shared<Unary>(to_stream(s), UnaryOp::Real), {a});
}
array imag(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return zeros_like(a, s);
  return array(a.shape(), float32, std::make_shared<Unary>(to_stream(s), UnaryOp::Imag), {a});
}
array conjugate(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return a;
  return unary(UnaryOp::Conjugate, a, complex64, s);
}
array bitwise_invert(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), integer) && a.dtype() != bool_) {
    detail::throw_invalid("[bitwise_invert] only integer and boolean types are supported, got {}",
                          dtype_to_string(a.dtype()));
  }
  return unary(UnaryOp::BitwiseInvert, a, a.dtype(), s);
}

array add(const array& a, const array& b, StreamOrDevice s) {
  return same_type_binary(BinaryOp::Add, a, b, s);
}
array subtract(const array& a, const array& b, StreamOrDevice s) {
  return same_type_binary(BinaryOp::Subtract, a, b, s);
}
array multiply(const array& a, const array& b, StreamOrDevice s) {
  return same_type_binary(BinaryOp::Multiply, a, b, s);
}
array divide(const array& a, const array& b, StreamOrDevice s) {
  auto t = at_least_float(promote_types(a.dtype(), b.dtype()));
  return binary(BinaryOp::Divide, a, b, t, t, s);
}
array floor_divide(const array& a, const array& b, StreamOrDevice s) {
  auto t = promote_types(a.dtype(), b.dtype());
  if (issubdtype(t, inexact)) return floor(divide(a, b, s), s);
  return binary(BinaryOp::Divide, a, b, t, t, s);
}
array remainder(const array& a, const array& b, StreamOrDevice s) {
  return same_type_binary(BinaryOp::Remainder, a, b, s);
}
std::vector<array> divmod(const array& a, const array& b, StreamOrDevice s) {
  return {floor_divide(a, b, s), remainder(a, b, s)};
}
array power(const array& a, const array& b, StreamOrDevice s) {
  return same_type_binary(BinaryOp::Power, a, b, s);
}
array maximum(const array& a, const array& b, StreamOrDevice s) {
  return same_type_binary(BinaryOp::Maximum, a, b, s);
}
array minimum(const array& a, const array& b, StreamOrDevice s) {
  return same_type_binary(BinaryOp::Minimum, a, b, s);
}
array arctan2(const array& a, const array& b, StreamOrDevice s) {
  auto t = at_least_float(promote_types(a.dtype(), b.dtype()));
  return binary(BinaryOp::ArcTan2, a, b, t, t, s);
}
array logaddexp(const array& a, const array& b, StreamOrDevice s) {
  auto t = at_least_float(promote_types(a.dtype(), b.dtype()));
  return binary(BinaryOp::LogAddExp, a, b, t, t, s);
}
array equal(const array& a, const array& b, StreamOrDevice s) {
  return compare(BinaryOp::Equal, a, b, s);
}
array not_equal(const array& a, const array& b, StreamOrDevice s) {
  return compare(BinaryOp::NotEqual, a, b, s);
}
array less(const array& a, const array& b, StreamOrDevice s) {
  return compare(BinaryOp::Less, a, b, s);
}
array less_equal(const array& a, const array& b, StreamOrDevice s) {
  return compare(BinaryOp::LessEqual, a, b, s);
}
array greater(const array& a, const array& b, StreamOrDevice s) {
  return compare(BinaryOp::Greater, a, b, s);
}
array greater_equal(const array& a, const array& b, StreamOrDevice s) {
  return compare(BinaryOp::GreaterEqual, a, b, s);
}
array logical_and(const array& a, const array& b, StreamOrDevice s) {
  return binary(BinaryOp::LogicalAnd, a, b, bool_, bool_, s);
}
array logical_or(const array& a, const array& b, StreamOrDevice s) {
  return binary(BinaryOp::LogicalOr, a, b, bool_, bool_, s);
}
array bitwise_and(const array& a, const array& b, StreamOrDevice s) {
  return bitwise(BinaryOp::BitwiseAnd, "bitwise_and", a, b, false, s);
}
array bitwise_or(const array& a, const array& b, StreamOrDevice s) {
  return bitwise(BinaryOp::BitwiseOr, "bitwise_or", a, b, false, s);
}
array bitwise_xor(const array& a, const array& b, StreamOrDevice s) {
  return bitwise(BinaryOp::BitwiseXor, "bitwise_xor", a, b, false, s);
}
array left_shift(const array& a, const array& b, StreamOrDevice s) {
  return bitwise(BinaryOp::LeftShift, "left_shift", a, b, true, s);
}
array right_shift(const array& a, const array& b, StreamOrDevice s) {
  return bitwise(BinaryOp::RightShift, "right_shift", a, b, true, s);
}

array where(const array& condition, const array& x, const array& y, StreamOrDevice s) {
  auto t = promote_types(x.dtype(), y.dtype());
  auto ins = broadcast_arrays({astype(condition, bool_, s), astype(x, t, s), astype(y, t, s)}, s);
  auto shape = ins[0].shape();
  return array(std::move(shape), t, std::make_shared<Select>(to_stream(s)), std::move(ins));
}

array clip(const array& a, const std::optional<array>& a_min, const std::optional<array>& a_max,
           StreamOrDevice s) {
  if (!a_min && !a_max) detail::throw_invalid("[clip] at most one of a_min and a_max may be None");
  array r = a;
  if (a_min) r = maximum(r, *a_min, s);
  if (a_max) r = minimum(r, *a_max, s);
  return r;
}

array operator-(const array& a) { return negative(a); }
array operator!(const array& a) { return logical_not(a); }
array operator~(const array& a) { return bitwise_invert(a); }
array operator+(const array& a, const array& b) { return add(a, b); }
array operator-(const array& a, const array& b) { return subtract(a, b); }
array operator*(const array& a, const array& b) { return multiply(a, b); }
array operator/(const array& a, const array& b) { return divide(a, b); }
array operator%(const array& a, const array& b) { return remainder(a, b); }
array operator==(const array& a, const array& b) { return equal(a, b); }
array operator!=(const array& a, const array& b) { return not_equal(a, b); }
array operator<(const array& a, const array& b) { return less(a, b); }
array operator<=(const array& a, const array& b) { return less_equal(a, b); }
array operator>(const array& a, const array& b) { return greater(a, b); }
array operator>=(const array& a, const array& b) { return greater_equal(a, b); }
array operator&&(const array& a, const array& b) { return logical_and(a, b); }
array operator||(const array& a, const array& b) { return logical_or(a, b); }
array operator&(const array& a, const array& b) { return bitwise_and(a, b); }
array operator|(const array& a, const array& b) { return bitwise_or(a, b); }
array operator^(const array& a, const array& b) { return bitwise_xor(a, b); }
array operator<<(const array& a, const array& b) { return left_shift(a, b); }
array operator>>(const array& a, const array& b) { return right_shift(a, b); }

// ---- primitive parameters ----

#define LUMEN_NAME_CASE(name) \
  case decltype(op)::name:    \
    return #name;
const char* op_name(UnaryOp op) {
  switch (op) { LUMEN_UNARY_OPS(LUMEN_NAME_CASE) }
  return "Unary";
}
const char* op_name(BinaryOp op) {
  switch (op) { LUMEN_BINARY_OPS(LUMEN_NAME_CASE) }
  return "Binary";
}
#undef LUMEN_NAME_CASE

bool Unary::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Unary*>(&other);
  return o && o->op_ == op_;
}
std::vector<Shape> Unary::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

bool Binary::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Binary*>(&other);
  return o && o->op_ == op_;
}
std::vector<Shape> Binary::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

bool Select::is_equivalent(const Primitive& other) const {
  return dynamic_cast<const Select*>(&other) != nullptr;
}
std::vector<Shape> Select::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

bool AsType::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const AsType*>(&other);
  return o && o->dtype_ == dtype_;
}
std::vector<Shape> AsType::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

}  // namespace lumen
