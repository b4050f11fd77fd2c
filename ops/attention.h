// Scaled dot-product attention with MLX's signature (mlx/fast.h), and a
// variant that also returns the logsumexp of each query's scores.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen::fast {

// softmax(scale * queries @ keys^T + mask) @ values for queries [B, H_q, L_q, D],
// keys [B, H_kv, L_k, D] and values [B, H_kv, L_k, D_v], H_q a multiple of
// H_kv (grouped-query attention). mask_mode: "" (none), "causal" (query i sees
// keys j <= i + L_k - L_q) or "array" (mask_arr: boolean, true = keep, or
// additive; broadcastable to [B, H_q, L_q, L_k]). sinks [H_q] adds one logit
// per head to every softmax denominator. The result has the promoted dtype of
// the inputs; scores accumulate in float32 (float64 for float64).
// A query whose every key is masked gives 0 (MLX's fallback averages values
// there). force_fused is accepted for MLX compatibility; the CPU always runs
// the fused kernel.
array scaled_dot_product_attention(const array& queries, const array& keys, const array& values,
                                   const float scale, const std::string& mask_mode = "",
                                   std::optional<array> mask_arr = {},
                                   const std::optional<array>& sinks = {},
                                   bool force_fused = false, StreamOrDevice s = {});

// The same output (bit-identical) and lse [B, H_q, L_q] float32,
// lse = log(sum_k exp(scale * q.k + mask)) in natural log, the sink's logit
// included in the sum; -inf for a fully masked query without sinks.
std::pair<array, array> scaled_dot_product_attention_with_lse(
    const array& queries, const array& keys, const array& values, const float scale,
    const std::string& mask_mode = "", std::optional<array> mask_arr = {},
    const std::optional<array>& sinks = {}, bool force_fused = false, StreamOrDevice s = {});

}  // namespace lumen::fast
