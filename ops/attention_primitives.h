// Primitives of scaled dot-product attention. The forward primitive keeps its
// plain composition (fast::Custom's fallback) for jvp and for vmap over
// per-head sinks; its vjp is the flash-attention backward through the saved
// logsumexp, and vmap folds the mapped axis into the batch.
#pragma once

#include <vector>

#include <lumen/fast_primitives.h>

namespace lumen::fast {

// Static parameters shared by the forward and backward primitives.
struct AttentionParams {
  float scale = 1.0f;
  bool causal = false;
  // Causal: query i sees key j iff j <= i + causal_offset (L_k - L_q for the
  // whole sequence; shifted for a chunk of keys).
  int causal_offset = 0;
  bool has_mask = false;   // inputs[3]: bool (true = keep) or additive, [B, H_q, L_q, L_k]
  bool has_sinks = false;  // last input before the backward's extras: [H_q]
  bool operator==(const AttentionParams&) const = default;
};

// Inputs {q [B, H_q, L_q, D], k [B, H_kv, L_k, D], v [B, H_kv, L_k, D_v],
// [mask], [sinks]}, all of one floating dtype except a bool mask. Outputs
// {out [B, H_q, L_q, D_v]} or, with output_lse, {out, lse [B, H_q, L_q] float32}.
class ScaledDotProductAttention : public Custom {
 public:
  ScaledDotProductAttention(Stream s, Fallback fallback, AttentionParams params, bool output_lse)
      : Custom(s, std::move(fallback)), params_(params), output_lse_(output_lse) {}
  const AttentionParams& params() const { return params_; }
  bool output_lse() const { return output_lse_; }
  const char* name() const override { return "ScaledDotProductAttention"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;
  std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,
                                                       const std::vector<int>& axes) override;

 private:
  AttentionParams params_;
  bool output_lse_;
};

// The flash-attention backward. Inputs {q, k, v, [mask], [sinks], lse, d_out,
// delta} where delta = sum(d_out * out, -1) - d_lse ([B, H_q, L_q], float32;
// float64 for float64). Outputs {dq, dk, dv}: probabilities are recomputed
// from q, k and lse, never stored. Its fallback is the same math in plain ops.
class ScaledDotProductAttentionVJP : public Custom {
 public:
  ScaledDotProductAttentionVJP(Stream s, Fallback fallback, AttentionParams params)
      : Custom(s, std::move(fallback)), params_(params) {}
  const AttentionParams& params() const { return params_; }
  const char* name() const override { return "ScaledDotProductAttentionVJP"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  AttentionParams params_;
};

// Builds the forward primitive on checked inputs (same dtype, mask broadcast
// to [B, H_q, L_q, L_k]): {out} or {out, lse}.
std::vector<array> attention_primitive(std::vector<array> inputs, const AttentionParams& params,
                                       bool output_lse, Stream s);
// Builds the backward primitive: {dq, dk, dv}.
std::vector<array> attention_backward(const std::vector<array>& inputs,
                                      const AttentionParams& params, Stream s);

}  // namespace lumen::fast

namespace lumen::detail {
// Keys per chunk of the KV-chunked path (taken when L_k exceeds it and no
// transform is tracing). Returns the previous value; for tests.
int set_attention_kv_chunk_size(int keys);
int attention_kv_chunk_size();
}  // namespace lumen::detail
