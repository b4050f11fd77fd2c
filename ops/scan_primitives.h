// The Scan primitive (MLX's): cumulative sum, product, max, min, logaddexp.
#pragma once

#include <lumen/primitive.h>

namespace lumen {

// Scans along `axis` (non-negative), from the end when `reverse`. Inclusive:
// out[i] combines in[0..i]; exclusive: in[0..i-1], out[0] being the identity.
// The output has the input's shape; its dtype is chosen by the op (bool sums
// to int32, everything else keeps its dtype and integers wrap). Max/Min
// propagate NaN; the identities are 0, 1, the dtype's lowest/highest value
// (-inf/+inf for floats) and -inf (LogAddExp, floating inputs only).
class Scan : public UnaryPrimitive {
 public:
  enum ReduceType { Max, Min, Sum, Prod, LogAddExp };

  Scan(Stream s, ReduceType type, int axis, bool reverse, bool inclusive)
      : UnaryPrimitive(s), type_(type), axis_(axis), reverse_(reverse), inclusive_(inclusive) {}
  ReduceType reduce_type() const { return type_; }
  int axis() const { return axis_; }
  bool reverse() const { return reverse_; }
  bool inclusive() const { return inclusive_; }
  const char* name() const override;
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  ReduceType type_;
  int axis_;
  bool reverse_;
  bool inclusive_;
};

}  // namespace lumen
