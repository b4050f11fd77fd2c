// Elementwise primitives. One class per arity with the op as a parameter:
// kernels, vjp/jvp rules and compile's code generator switch on the op, and
// the op list below is the single place that names them all.
#pragma once

#include <lumen/primitive.h>

namespace lumen {

// X(Name): Name is the op and the primitive's printable name (MLX's names).
#define LUMEN_UNARY_OPS(X)                                                                    \
  X(Abs) X(Ceil) X(Floor) X(Round) X(Negative) X(Sign) X(Sqrt) X(Rsqrt) X(Square)              \
  X(Exp) X(Expm1) X(Log) X(Log2) X(Log10) X(Log1p) X(Sin) X(Cos) X(Tan) X(ArcSin) X(ArcCos)   \
  X(ArcTan) X(Sinh) X(Cosh) X(Tanh) X(ArcSinh) X(ArcCosh) X(ArcTanh) X(Sigmoid) X(Erf)        \
  X(ErfInv) X(LogicalNot) X(BitwiseInvert) X(Real) X(Imag) X(Conjugate) X(Copy) X(StopGradient)

#define LUMEN_BINARY_OPS(X)                                                                  \
  X(Add) X(Subtract) X(Multiply) X(Divide) X(Remainder) X(Power) X(Maximum) X(Minimum)         \
  X(Equal) X(NotEqual) X(Less) X(LessEqual) X(Greater) X(GreaterEqual) X(LogicalAnd)          \
  X(LogicalOr) X(BitwiseAnd) X(BitwiseOr) X(BitwiseXor) X(LeftShift) X(RightShift) X(ArcTan2) \
  X(LogAddExp)

#define LUMEN_ENUM_ENTRY(name) name,
enum class UnaryOp { LUMEN_UNARY_OPS(LUMEN_ENUM_ENTRY) };
enum class BinaryOp { LUMEN_BINARY_OPS(LUMEN_ENUM_ENTRY) };
#undef LUMEN_ENUM_ENTRY

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);

class Unary : public UnaryPrimitive {
 public:
  Unary(Stream s, UnaryOp op) : UnaryPrimitive(s), op_(op) {}
  UnaryOp op() const { return op_; }
  const char* name() const override { return op_name(op_); }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;

 private:
  UnaryOp op_;
};

// Inputs have the output's shape (ops broadcast first) and the same dtype.
// Integer Divide truncates, as MLX's.
class Binary : public UnaryPrimitive {
 public:
  Binary(Stream s, BinaryOp op) : UnaryPrimitive(s), op_(op) {}
  BinaryOp op() const { return op_; }
  const char* name() const override { return op_name(op_); }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;

 private:
  BinaryOp op_;
};

// where(condition, x, y)
class Select : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  const char* name() const override { return "Select"; }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;
};

// Conversion between dtypes (round to nearest even into float16/bfloat16).
class AsType : public UnaryPrimitive {
 public:
  AsType(Stream s, Dtype dtype) : UnaryPrimitive(s), dtype_(dtype) {}
  Dtype dtype() const { return dtype_; }
  const char* name() const override { return "AsType"; }
  bool is_elementwise() const override { return true; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;

 private:
  Dtype dtype_;
};

}  // namespace lumen
