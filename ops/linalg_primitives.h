// Matrix-product primitives.
#pragma once

#include <lumen/primitive.h>

namespace lumen {

// a @ b for inputs [..., M, K] and [..., K, N] of one floating dtype whose
// batch dims agree (the op broadcasts them first); output [..., M, N].
class Matmul : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  const char* name() const override { return "Matmul"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
};

// alpha * (a @ b) + beta * c for inputs {a, b, c}: a and b as Matmul's, c
// already broadcast to the output shape. beta == 0 ignores c (BLAS rule).
class AddMM : public UnaryPrimitive {
 public:
  AddMM(Stream s, float alpha, float beta) : UnaryPrimitive(s), alpha_(alpha), beta_(beta) {}
  float alpha() const { return alpha_; }
  float beta() const { return beta_; }
  const char* name() const override { return "AddMM"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  float alpha_;
  float beta_;
};

}  // namespace lumen
