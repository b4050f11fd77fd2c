// Elementwise primitives. One class per arity with the op as a parameter:
// kernels, vjp/jvp rules and compile's code generator switch on the op, and
// the op lists below are the single place that names them all.
#pragma once

#include <cstdint>

#include <lumen/primitive.h>

namespace lumen {

// The dtypes an elementwise kernel accepts. Ops convert their inputs before
// building the primitive, so a kernel only sees these (the op throws
// std::invalid_argument for anything else).
enum class DtypeSet : uint8_t {
  any,           // all 14
  real,          // all but complex64
  numeric,       // all but bool
  inexact,       // floating and complex64
  floating,      // float16, bfloat16, float32, float64
  integer,       // signed and unsigned integers
  integer_bool,  // integers and bool
  boolean,       // bool only
  complex,       // complex64 only
};

constexpr bool dtype_in(Dtype d, DtypeSet set) {
  using V = Dtype::Val;
  V v = d.val();
  bool is_bool = v == V::bool_;
  bool is_complex = v == V::complex64;
  bool is_float = v == V::float16 || v == V::bfloat16 || v == V::float32 || v == V::float64;
  bool is_int = !is_bool && !is_complex && !is_float;
  switch (set) {
    case DtypeSet::any: return true;
    case DtypeSet::real: return !is_complex;
    case DtypeSet::numeric: return !is_bool;
    case DtypeSet::inexact: return is_float || is_complex;
    case DtypeSet::floating: return is_float;
    case DtypeSet::integer: return is_int;
    case DtypeSet::integer_bool: return is_int || is_bool;
    case DtypeSet::boolean: return is_bool;
    case DtypeSet::complex: return is_complex;
  }
  return false;
}

// X(Name, DtypeSet): Name is the op and the primitive's printable name
// (MLX's names); the set is what the kernel accepts. Outputs have the input
// dtype except Real and Imag (complex64 -> float32). Abs of an unsigned or
// bool, and Floor/Ceil/Round/Sign of an integer or bool, return the input.
#define LUMEN_UNARY_OPS(X)                                                                   \
  X(Abs, any) X(Ceil, real) X(Floor, real) X(Round, any) X(Negative, numeric) X(Sign, any)   \
  X(Sqrt, inexact) X(Rsqrt, inexact) X(Square, any) X(Exp, inexact) X(Expm1, floating)       \
  X(Log, inexact) X(Log2, inexact) X(Log10, inexact) X(Log1p, inexact) X(Sin, inexact)       \
  X(Cos, inexact) X(Tan, inexact) X(ArcSin, inexact) X(ArcCos, inexact) X(ArcTan, inexact)   \
  X(Sinh, inexact) X(Cosh, inexact) X(Tanh, inexact) X(ArcSinh, inexact) X(ArcCosh, inexact) \
  X(ArcTanh, inexact) X(Sigmoid, floating) X(Erf, floating) X(ErfInv, floating)              \
  X(LogicalNot, boolean) X(BitwiseInvert, integer) X(Real, complex) X(Imag, complex)         \
  X(Conjugate, complex) X(Copy, any) X(StopGradient, any)

// Both inputs have the output's shape (ops broadcast first) and one dtype.
// Comparisons (Equal .. GreaterEqual, NaNEqual) output bool, the rest the
// input dtype. Integer semantics follow MLX: Divide truncates toward zero
// (floor_divide of integers uses it), Remainder takes the divisor's sign,
// Power with a negative integer exponent is 0; this backend also defines
// what C++ leaves undefined: x / 0 and x % 0 are 0 for integers, shifts by a
// negative or too large amount give 0 (or -1 for a negative value shifted
// right), signed overflow wraps.
#define LUMEN_BINARY_OPS(X)                                                                    \
  X(Add, any) X(Subtract, any) X(Multiply, any) X(Divide, any) X(Remainder, real)              \
  X(Power, any) X(Maximum, any) X(Minimum, any) X(Equal, any) X(NaNEqual, inexact)             \
  X(NotEqual, any) X(Less, any) X(LessEqual, any) X(Greater, any) X(GreaterEqual, any)         \
  X(LogicalAnd, boolean) X(LogicalOr, boolean) X(BitwiseAnd, integer_bool)                     \
  X(BitwiseOr, integer_bool) X(BitwiseXor, integer_bool) X(LeftShift, integer)                 \
  X(RightShift, integer) X(ArcTan2, floating) X(LogAddExp, inexact)

#define LUMEN_ENUM_ENTRY(name, set) name,
enum class UnaryOp { LUMEN_UNARY_OPS(LUMEN_ENUM_ENTRY) };
enum class BinaryOp { LUMEN_BINARY_OPS(LUMEN_ENUM_ENTRY) };
#undef LUMEN_ENUM_ENTRY

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);

#define LUMEN_SET_CASE(name, set) \
  case Op::name:                  \
    return DtypeSet::set;
constexpr DtypeSet accepted_dtypes(UnaryOp op) {
  using Op = UnaryOp;
  switch (op) { LUMEN_UNARY_OPS(LUMEN_SET_CASE) }
  return DtypeSet::any;
}
constexpr DtypeSet accepted_dtypes(BinaryOp op) {
  using Op = BinaryOp;
  switch (op) { LUMEN_BINARY_OPS(LUMEN_SET_CASE) }
  return DtypeSet::any;
}
#undef LUMEN_SET_CASE

// Whether the op's output is bool whatever its input dtype.
constexpr bool is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::Equal:
    case BinaryOp::NaNEqual:
    case BinaryOp::NotEqual:
    case BinaryOp::Less:
    case BinaryOp::LessEqual:
    case BinaryOp::Greater:
    case BinaryOp::GreaterEqual: return true;
    default: return false;
  }
}

class Unary : public UnaryPrimitive {
 public:
  Unary(Stream s, UnaryOp op) : UnaryPrimitive(s), op_(op) {}
  UnaryOp op() const { return op_; }
  const char* name() const override { return op_name(op_); }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  UnaryOp op_;
};

class Binary : public UnaryPrimitive {
 public:
  Binary(Stream s, BinaryOp op) : UnaryPrimitive(s), op_(op) {}
  BinaryOp op() const { return op_; }
  const char* name() const override { return op_name(op_); }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  BinaryOp op_;
};

// divmod: two outputs, the floored quotient and the remainder (integers:
// quotient rounded toward -inf, unlike Divide; floats: floor(a / b) and the
// remainder with the divisor's sign).
class DivMod : public Primitive {
 public:
  using Primitive::Primitive;
  const char* name() const override { return "DivMod"; }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
};

// where(condition, x, y): inputs bool, T, T of one shape.
class Select : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  const char* name() const override { return "Select"; }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
};

// Conversion between any two dtypes: round to nearest even into float16,
// bfloat16 and float32; float to integer truncates toward zero, saturates,
// and maps NaN to 0; to bool is != 0; complex to real keeps the real part.
class AsType : public UnaryPrimitive {
 public:
  AsType(Stream s, Dtype dtype) : UnaryPrimitive(s), dtype_(dtype) {}
  Dtype dtype() const { return dtype_; }
  const char* name() const override { return "AsType"; }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  Dtype dtype_;
};

// E4M3 float8 stored as uint8 (MLX's fast::ConvertFP8): to_fp8 rounds a
// float32 value to nearest even, saturating at +-448 (NaN too, as MLX);
// from_fp8 decodes without NaN (0x7f is 480, as MLX).
class ConvertFP8 : public UnaryPrimitive {
 public:
  // dtype: the output's (uint8 for to_fp8, the float type for from_fp8)
  ConvertFP8(Stream s, bool to_fp8, Dtype dtype) : UnaryPrimitive(s), to_fp8_(to_fp8), dtype_(dtype) {}
  bool to_fp8() const { return to_fp8_; }
  Dtype dtype() const { return dtype_; }
  const char* name() const override { return to_fp8_ ? "ToFP8" : "FromFP8"; }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  bool to_fp8_;
  Dtype dtype_;
};

}  // namespace lumen
