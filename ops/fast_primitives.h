// Primitives of the fast ops (MLX's fast_primitives.h). Each keeps the plain
// composition it replaces (its fallback): transforms differentiate and
// vectorize through that composition, while backends run the primitive's own
// kernel.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <lumen/primitive.h>

namespace lumen::fast {

using Fallback = std::function<std::vector<array>(std::vector<array>)>;

class Custom : public Primitive {
 public:
  Custom(Stream s, Fallback fallback) : Primitive(s), fallback_(std::move(fallback)) {}
  // The same computation in plain ops, for inputs like this primitive's.
  const Fallback& fallback() const { return fallback_; }
  // Rules through the fallback.
  LUMEN_DECLARE_RULES()

 protected:
  Fallback fallback_;
};

// Inputs {x, weight}: x * rsqrt(mean(x^2, -1) + eps) * weight, with weight
// [D] or a scalar; all of the output dtype. float32 accumulation for
// float16/bfloat16 (float64 in float64), one rounding at the end.
class RMSNorm : public Custom {
 public:
  RMSNorm(Stream s, Fallback fallback, float eps) : Custom(s, std::move(fallback)), eps_(eps) {}
  float eps() const { return eps_; }
  const char* name() const override { return "RMSNorm"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  float eps_;
};

// Inputs {x, weight, bias}: (x - mean) * rsqrt(var + eps) * weight + bias
// over the last axis, weight and bias [D] or scalars.
class LayerNorm : public Custom {
 public:
  LayerNorm(Stream s, Fallback fallback, float eps) : Custom(s, std::move(fallback)), eps_(eps) {}
  float eps() const { return eps_; }
  const char* name() const override { return "LayerNorm"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  float eps_;
};

// Inputs {x, offset} or {x, offset, freqs}: rotary embedding of the first
// `dims` features of x [B, ..., T, D]; offset is an int32/uint32 scalar or one
// per batch entry B; freqs (float32 [dims / 2]) replaces base^(-2i/dims).
// forward == false applies the inverse rotation (the vjp).
class RoPE : public Custom {
 public:
  RoPE(Stream s, Fallback fallback, int dims, bool traditional, float base, float scale,
       bool forward)
      : Custom(s, std::move(fallback)),
        dims_(dims),
        traditional_(traditional),
        base_(base),
        scale_(scale),
        forward_(forward) {}
  int dims() const { return dims_; }
  bool traditional() const { return traditional_; }
  float base() const { return base_; }
  float scale() const { return scale_; }
  bool forward() const { return forward_; }
  const char* name() const override { return "RoPE"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;

 private:
  int dims_;
  bool traditional_;
  float base_;
  float scale_;
  bool forward_;
};

// RoPE on already checked inputs {x, offset[, freqs]} in either direction
// (the vjp of a rotation is the rotation with forward == false).
array rope_primitive(std::vector<array> inputs, int dims, bool traditional, float base,
                     float scale, bool forward, StreamOrDevice s = {});

}  // namespace lumen::fast
