#include "lumen/elementwise.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "core/detail/errors.h"
#include "lumen/creation.h"
#include "lumen/elementwise_primitives.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

Dtype at_least_float(Dtype d) { return issubdtype(d, inexact) ? d : promote_types(d, float32); }

template <typename Op>
void check_accepts(const char* name, Op op, Dtype d) {
  if (!dtype_in(d, accepted_dtypes(op))) {
    detail::throw_invalid("[{}] not supported for dtype {}", name, dtype_to_string(d));
  }
}

// Converts `a` to `t` and applies `op`; `name` is the public op's name for
// errors.
array unary(const char* name, UnaryOp op, const array& a, Dtype t, StreamOrDevice s) {
  check_accepts(name, op, t);
  auto in = astype(a, t, s);
  Dtype out = (op == UnaryOp::Real || op == UnaryOp::Imag) ? float32 : t;
  return array(in.shape(), out, std::make_shared<Unary>(to_stream(s), op), {in});
}

array float_unary(const char* name, UnaryOp op, const array& a, StreamOrDevice s) {
  return unary(name, op, a, at_least_float(a.dtype()), s);
}

// Converts both to `t`, broadcasts, and applies `op`.
array binary(const char* name, BinaryOp op, const array& a, const array& b, Dtype t,
             StreamOrDevice s) {
  check_accepts(name, op, t);
  auto ins = broadcast_arrays({astype(a, t, s), astype(b, t, s)}, s);
  auto shape = ins[0].shape();
  Dtype out = is_comparison(op) ? bool_ : t;
  return array(std::move(shape), out, std::make_shared<Binary>(to_stream(s), op), std::move(ins));
}

array promoted_binary(const char* name, BinaryOp op, const array& a, const array& b,
                      StreamOrDevice s) {
  return binary(name, op, a, b, promote_types(a.dtype(), b.dtype()), s);
}

array float_binary(const char* name, BinaryOp op, const array& a, const array& b,
                   StreamOrDevice s) {
  return binary(name, op, a, b, at_least_float(promote_types(a.dtype(), b.dtype())), s);
}

array bitwise(const char* name, BinaryOp op, const array& a, const array& b, StreamOrDevice s) {
  auto t = promote_types(a.dtype(), b.dtype());
  bool shift = op == BinaryOp::LeftShift || op == BinaryOp::RightShift;
  if (shift && t == bool_) t = uint8;
  if (!(issubdtype(t, integer) || t == bool_)) {
    detail::throw_invalid("[{}] only allowed on integer or boolean types but got types {} and {}",
                          name, dtype_to_string(a.dtype()), dtype_to_string(b.dtype()));
  }
  return binary(name, op, a, b, t, s);
}

void no_complex(const char* name, Dtype d) {
  if (d == complex64) detail::throw_invalid("[{}] not supported for complex64", name);
}

// An all-false (or all-true) bool array of a's shape.
array constant_bool(const array& a, bool value, StreamOrDevice s) {
  return full(a.shape(), value, bool_, s);
}

}  // namespace

array astype(array a, Dtype dtype, StreamOrDevice s) {
  if (a.dtype() == dtype) return a;
  auto shape = a.shape();
  return array(std::move(shape), dtype, std::make_shared<AsType>(to_stream(s), dtype),
               {std::move(a)});
}

array to_fp8(array x, StreamOrDevice s) {
  if (!issubdtype(x.dtype(), floating)) {
    detail::throw_invalid("[to_fp8] only real floating types are supported, got {}",
                          dtype_to_string(x.dtype()));
  }
  auto shape = x.shape();
  return array(std::move(shape), uint8, std::make_shared<ConvertFP8>(to_stream(s), true, uint8),
               {std::move(x)});
}

array from_fp8(array x, Dtype dtype, StreamOrDevice s) {
  if (x.dtype() != uint8) {
    detail::throw_invalid("[from_fp8] input must have type uint8, got {}", dtype_to_string(x.dtype()));
  }
  if (!issubdtype(dtype, floating)) {
    detail::throw_invalid("[from_fp8] only real floating types are supported, got {}",
                          dtype_to_string(dtype));
  }
  auto shape = x.shape();
  return array(std::move(shape), dtype, std::make_shared<ConvertFP8>(to_stream(s), false, dtype),
               {std::move(x)});
}

array copy(array a, StreamOrDevice s) { return unary("copy", UnaryOp::Copy, a, a.dtype(), s); }

array stop_gradient(const array& a, StreamOrDevice s) {
  return unary("stop_gradient", UnaryOp::StopGradient, a, a.dtype(), s);
}

array abs(const array& a, StreamOrDevice s) {
  auto out = unary("abs", UnaryOp::Abs, a, a.dtype(), s);
  // as MLX: the complex kernel writes |z| + 0i, then a cast keeps the real part
  return a.dtype() == complex64 ? astype(out, float32, s) : out;
}
array positive(const array& a, StreamOrDevice) { return a; }
array negative(const array& a, StreamOrDevice s) {
  if (a.dtype() == bool_) {
    detail::throw_invalid("[negative] not supported for bool, use logical_not instead");
  }
  return unary("negative", UnaryOp::Negative, a, a.dtype(), s);
}
array sign(const array& a, StreamOrDevice s) {
  return unary("sign", UnaryOp::Sign, a, a.dtype(), s);
}
array logical_not(const array& a, StreamOrDevice s) {
  return unary("logical_not", UnaryOp::LogicalNot, a, bool_, s);
}
array reciprocal(const array& a, StreamOrDevice s) {
  auto dt = at_least_float(a.dtype());
  return divide(array(1.0f, dt), a, s);
}
array square(const array& a, StreamOrDevice s) {
  return unary("square", UnaryOp::Square, a, a.dtype(), s);
}

#define LUMEN_FLOAT_UNARY(fn, Op) \
  array fn(const array& a, StreamOrDevice s) { return float_unary(#fn, UnaryOp::Op, a, s); }
LUMEN_FLOAT_UNARY(sqrt, Sqrt)
LUMEN_FLOAT_UNARY(rsqrt, Rsqrt)
LUMEN_FLOAT_UNARY(exp, Exp)
LUMEN_FLOAT_UNARY(expm1, Expm1)
LUMEN_FLOAT_UNARY(log, Log)
LUMEN_FLOAT_UNARY(log2, Log2)
LUMEN_FLOAT_UNARY(log10, Log10)
LUMEN_FLOAT_UNARY(log1p, Log1p)
LUMEN_FLOAT_UNARY(sin, Sin)
LUMEN_FLOAT_UNARY(cos, Cos)
LUMEN_FLOAT_UNARY(tan, Tan)
LUMEN_FLOAT_UNARY(arcsin, ArcSin)
LUMEN_FLOAT_UNARY(arccos, ArcCos)
LUMEN_FLOAT_UNARY(arctan, ArcTan)
LUMEN_FLOAT_UNARY(sinh, Sinh)
LUMEN_FLOAT_UNARY(cosh, Cosh)
LUMEN_FLOAT_UNARY(tanh, Tanh)
LUMEN_FLOAT_UNARY(arcsinh, ArcSinh)
LUMEN_FLOAT_UNARY(arccosh, ArcCosh)
LUMEN_FLOAT_UNARY(arctanh, ArcTanh)
LUMEN_FLOAT_UNARY(sigmoid, Sigmoid)
LUMEN_FLOAT_UNARY(erf, Erf)
LUMEN_FLOAT_UNARY(erfinv, ErfInv)
#undef LUMEN_FLOAT_UNARY

array floor(const array& a, StreamOrDevice s) {
  return unary("floor", UnaryOp::Floor, a, a.dtype(), s);
}
array ceil(const array& a, StreamOrDevice s) {
  return unary("ceil", UnaryOp::Ceil, a, a.dtype(), s);
}
array trunc(const array& a, StreamOrDevice s) {
  no_complex("trunc", a.dtype());
  if (issubdtype(a.dtype(), integer)) return a;
  auto zero = array(0, a.dtype());
  return where(less(a, zero, s), ceil(a, s), floor(a, s), s);
}
array round(const array& a, int decimals, StreamOrDevice s) {
  if (decimals == 0) return unary("round", UnaryOp::Round, a, a.dtype(), s);
  // as MLX: scale by 10^decimals in float32, round half to even, scale back
  // by the float32 reciprocal, and cast back to a's dtype
  auto dt = at_least_float(a.dtype());
  float scale = static_cast<float>(std::pow(10.0, decimals));
  auto r = multiply(a, array(scale, dt), s);
  r = round(r, 0, s);
  r = multiply(r, array(1.0f / scale, dt), s);
  return astype(r, a.dtype(), s);
}
array degrees(const array& a, StreamOrDevice s) {
  return multiply(a, array(180.0 / std::numbers::pi, at_least_float(a.dtype())), s);
}
array radians(const array& a, StreamOrDevice s) {
  return multiply(a, array(std::numbers::pi / 180.0, at_least_float(a.dtype())), s);
}

array isnan(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), inexact)) return constant_bool(a, false, s);
  return not_equal(a, a, s);
}
array isposinf(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), inexact)) return constant_bool(a, false, s);
  return equal(a, array(std::numeric_limits<float>::infinity(), a.dtype()), s);
}
array isneginf(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), inexact)) return constant_bool(a, false, s);
  return equal(a, array(-std::numeric_limits<float>::infinity(), a.dtype()), s);
}
array isinf(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), inexact)) return constant_bool(a, false, s);
  if (a.dtype() == complex64) return logical_or(isinf(real(a, s), s), isinf(imag(a, s), s), s);
  return logical_or(isposinf(a, s), isneginf(a, s), s);
}
array isfinite(const array& a, StreamOrDevice s) {
  if (!issubdtype(a.dtype(), inexact)) return constant_bool(a, true, s);
  return logical_not(logical_or(isinf(a, s), isnan(a, s), s), s);
}

array nan_to_num(const array& a, float nan, const std::optional<float> posinf,
                 const std::optional<float> neginf, StreamOrDevice s) {
  Dtype dt = a.dtype();
  if (!issubdtype(dt, inexact)) return a;
  if (dt == complex64) detail::throw_invalid("[nan_to_num] not supported for complex64");
  // The dtype's largest finite value (float64 too, where MLX throws).
  auto largest = [&]() -> double {
    if (dt == float16) return std::numeric_limits<float16_t>::max();
    if (dt == bfloat16) return std::numeric_limits<bfloat16_t>::max();
    if (dt == float32) return std::numeric_limits<float>::max();
    return std::numeric_limits<double>::max();
  };
  auto value = [&](const std::optional<float>& v, double fallback) {
    return v ? array(*v, dt) : array(fallback, dt);
  };
  auto out = where(isnan(a, s), array(nan, dt), a, s);
  out = where(isposinf(a, s), value(posinf, largest()), out, s);
  out = where(isneginf(a, s), value(neginf, -largest()), out, s);
  return out;
}

array real(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return a;
  return unary("real", UnaryOp::Real, a, complex64, s);
}
array imag(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return zeros_like(a, s);
  return unary("imag", UnaryOp::Imag, a, complex64, s);
}
array conjugate(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return a;
  return unary("conjugate", UnaryOp::Conjugate, a, complex64, s);
}
array bitwise_invert(const array& a, StreamOrDevice s) {
  if (issubdtype(a.dtype(), inexact)) {
    detail::throw_invalid("[bitwise_invert] only allowed on integer and boolean types, got {}",
                          dtype_to_string(a.dtype()));
  }
  if (a.dtype() == bool_) return logical_not(a, s);
  return unary("bitwise_invert", UnaryOp::BitwiseInvert, a, a.dtype(), s);
}

array add(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("add", BinaryOp::Add, a, b, s);
}
array subtract(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("subtract", BinaryOp::Subtract, a, b, s);
}
array multiply(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("multiply", BinaryOp::Multiply, a, b, s);
}
array divide(const array& a, const array& b, StreamOrDevice s) {
  return float_binary("divide", BinaryOp::Divide, a, b, s);
}
array floor_divide(const array& a, const array& b, StreamOrDevice s) {
  auto t = promote_types(a.dtype(), b.dtype());
  if (issubdtype(t, inexact)) return floor(divide(a, b, s), s);
  return binary("floor_divide", BinaryOp::Divide, a, b, t, s);
}
array remainder(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("remainder", BinaryOp::Remainder, a, b, s);
}
std::vector<array> divmod(const array& a, const array& b, StreamOrDevice s) {
  auto t = promote_types(a.dtype(), b.dtype());
  no_complex("divmod", t);
  auto ins = broadcast_arrays({astype(a, t, s), astype(b, t, s)}, s);
  auto shape = ins[0].shape();
  return array::make_arrays({shape, shape}, {t, t}, std::make_shared<DivMod>(to_stream(s)), ins);
}
array power(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("power", BinaryOp::Power, a, b, s);
}
array maximum(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("maximum", BinaryOp::Maximum, a, b, s);
}
array minimum(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("minimum", BinaryOp::Minimum, a, b, s);
}
array arctan2(const array& a, const array& b, StreamOrDevice s) {
  return float_binary("arctan2", BinaryOp::ArcTan2, a, b, s);
}
array logaddexp(const array& a, const array& b, StreamOrDevice s) {
  return float_binary("logaddexp", BinaryOp::LogAddExp, a, b, s);
}
array equal(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("equal", BinaryOp::Equal, a, b, s);
}
array not_equal(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("not_equal", BinaryOp::NotEqual, a, b, s);
}
array less(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("less", BinaryOp::Less, a, b, s);
}
array less_equal(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("less_equal", BinaryOp::LessEqual, a, b, s);
}
array greater(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("greater", BinaryOp::Greater, a, b, s);
}
array greater_equal(const array& a, const array& b, StreamOrDevice s) {
  return promoted_binary("greater_equal", BinaryOp::GreaterEqual, a, b, s);
}
array logical_and(const array& a, const array& b, StreamOrDevice s) {
  return binary("logical_and", BinaryOp::LogicalAnd, a, b, bool_, s);
}
array logical_or(const array& a, const array& b, StreamOrDevice s) {
  return binary("logical_or", BinaryOp::LogicalOr, a, b, bool_, s);
}
array logical_xor(const array& a, const array& b, StreamOrDevice s) {
  return not_equal(astype(a, bool_, s), astype(b, bool_, s), s);
}
array bitwise_and(const array& a, const array& b, StreamOrDevice s) {
  return bitwise("bitwise_and", BinaryOp::BitwiseAnd, a, b, s);
}
array bitwise_or(const array& a, const array& b, StreamOrDevice s) {
  return bitwise("bitwise_or", BinaryOp::BitwiseOr, a, b, s);
}
array bitwise_xor(const array& a, const array& b, StreamOrDevice s) {
  return bitwise("bitwise_xor", BinaryOp::BitwiseXor, a, b, s);
}
array left_shift(const array& a, const array& b, StreamOrDevice s) {
  return bitwise("left_shift", BinaryOp::LeftShift, a, b, s);
}
array right_shift(const array& a, const array& b, StreamOrDevice s) {
  return bitwise("right_shift", BinaryOp::RightShift, a, b, s);
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

array isclose(const array& a, const array& b, double rtol, double atol, bool equal_nan,
              StreamOrDevice s) {
  // the composition MLX builds: the tolerance test, then infinities fixed up
  auto rhs = add(array(atol), multiply(array(rtol), abs(b, s), s), s);
  auto lhs = abs(subtract(a, b, s), s);
  auto out = less_equal(lhs, rhs, s);
  auto a_pos = isposinf(a, s), b_pos = isposinf(b, s);
  auto a_neg = isneginf(a, s), b_neg = isneginf(b, s);
  auto any_inf = logical_or(logical_or(a_pos, a_neg, s), logical_or(b_pos, b_neg, s), s);
  auto both_inf = logical_or(logical_and(a_pos, b_pos, s), logical_and(a_neg, b_neg, s), s);
  out = logical_or(logical_and(out, logical_not(any_inf, s), s), both_inf, s);
  if (equal_nan) out = logical_or(out, logical_and(isnan(a, s), isnan(b, s), s), s);
  return out;
}

array operator-(const array& a) { return negative(a); }
array operator!(const array& a) { return logical_not(a); }
array operator~(const array& a) { return bitwise_invert(a); }
array operator+(const array& a, const array& b) { return add(a, b); }
array operator-(const array& a, const array& b) { return subtract(a, b); }
array operator*(const array& a, const array& b) { return multiply(a, b); }
array operator/(const array& a, const array& b) { return divide(a, b); }
array operator/(double a, const array& b) { return divide(array(a), b); }
array operator/(const array& a, double b) { return divide(a, array(b)); }
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

#define LUMEN_NAME_CASE(name, set) \
  case decltype(op)::name:         \
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

bool DivMod::is_equivalent(const Primitive& other) const {
  return dynamic_cast<const DivMod*>(&other) != nullptr;
}
std::vector<Shape> DivMod::output_shapes(const std::vector<array>& in) {
  return {in[0].shape(), in[0].shape()};
}

bool ConvertFP8::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const ConvertFP8*>(&other);
  return o && o->to_fp8_ == to_fp8_ && o->dtype_ == dtype_;
}
std::vector<Shape> ConvertFP8::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

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
