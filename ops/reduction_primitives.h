// Reduction primitives (MLX's Reduce, ArgReduce, LogSumExp, Softmax).
#pragma once

#include <vector>

#include <lumen/primitive.h>

namespace lumen {

// Reduces the input over `axes` (sorted, unique, non-negative). The output
// keeps the reduced axes with size 1 (ops squeeze them when asked). Output
// dtypes are chosen by the ops: Sum/Prod give int32 for bool and signed
// integers up to 32 bits, uint32 for unsigned ones up to 32 bits, and keep
// int64, uint64 and inexact types (float16/bfloat16 accumulate in float32;
// integers wrap); And/Or give bool (an element is true when it compares
// unequal to zero: NaN is true, -0.0 false); Max/Min keep the input's dtype,
// NaN propagating. An empty reduction gives the identity (0, 1, true, false);
// Max/Min of an empty axis is refused by the ops.
class Reduce : public UnaryPrimitive {
 public:
  enum ReduceType { And, Or, Sum, Prod, Min, Max };

  Reduce(Stream s, ReduceType type, std::vector<int> axes)
      : UnaryPrimitive(s), type_(type), axes_(std::move(axes)) {}
  ReduceType reduce_type() const { return type_; }
  const std::vector<int>& axes() const { return axes_; }
  const char* name() const override;
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  ReduceType type_;
  std::vector<int> axes_;
};

// Index (uint32) of the first maximum/minimum along `axis`; the axis is kept
// with size 1. A NaN counts as greater and smaller than everything, so the
// first NaN wins (NumPy's rule).
class ArgReduce : public UnaryPrimitive {
 public:
  enum ReduceType { ArgMin, ArgMax };

  ArgReduce(Stream s, ReduceType type, int axis) : UnaryPrimitive(s), type_(type), axis_(axis) {}
  ReduceType reduce_type() const { return type_; }
  int axis() const { return axis_; }
  const char* name() const override { return "ArgReduce"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  ReduceType type_;
  int axis_;
};

// log(sum(exp(x))) over the last axis of a floating input (kept with size 1),
// computed stably around the row's maximum; a row whose maximum is infinite
// gives that maximum.
class LogSumExp : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  const char* name() const override { return "LogSumExp"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
};

// Softmax over the last axis of a floating input. `precise` asks float16 and
// bfloat16 to accumulate in float32 (the CPU always does).
class Softmax : public UnaryPrimitive {
 public:
  Softmax(Stream s, bool precise) : UnaryPrimitive(s), precise_(precise) {}
  bool precise() const { return precise_; }
  const char* name() const override { return "Softmax"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  bool precise_;
};

}  // namespace lumen
