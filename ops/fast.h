// Fused ops with MLX's signatures (mlx/fast.h): normalizations and rotary
// position embeddings.
#pragma once

#include <optional>

#include <lumen/array.h>
#include <lumen/attention.h>
#include <lumen/stream.h>

namespace lumen::fast {

// x * rsqrt(mean(x^2, last axis) + eps) * weight; weight is 1-D of size
// x.shape(-1). The result has the promoted dtype of x and weight.
array rms_norm(const array& x, const std::optional<array>& weight, float eps,
               StreamOrDevice s = {});

// (x - mean) * rsqrt(var + eps) * weight + bias over the last axis.
array layer_norm(const array& x, const std::optional<array>& weight,
                 const std::optional<array>& bias, float eps, StreamOrDevice s = {});

// Rotary position embedding of the first `dims` features of x (at least
// 3-D, [B, ..., T, D]); position t of batch entry b is (t + offset[b]) * scale.
// traditional rotates adjacent pairs, else the two halves. Exactly one of
// base and freqs is given.
array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale,
           int offset, const std::optional<array>& freqs = std::nullopt, StreamOrDevice s = {});
// offset: an integer scalar or one per batch entry (shape [B]).
array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale,
           const array& offset, const std::optional<array>& freqs = std::nullopt,
           StreamOrDevice s = {});

}  // namespace lumen::fast
