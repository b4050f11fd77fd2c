// fast::scaled_dot_product_attention: MLX's argument checks and dtype rules,
// the fused primitive, its plain composition (the fallback the transforms use
// for jvp and some vmaps) and the KV-chunked path for very long key sequences.
#include "lumen/attention.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "core/detail/errors.h"
#include "lumen/attention_primitives.h"
#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/linalg.h"
#include "lumen/reduction.h"
#include "lumen/shape.h"
#include "lumen/tracing.h"

namespace lumen::detail {

namespace {
std::atomic<int> kv_chunk_size{32768};
}  // namespace

int set_attention_kv_chunk_size(int keys) {
  if (keys <= 0) throw_invalid("[attention] the KV chunk size must be positive, got {}", keys);
  return kv_chunk_size.exchange(keys);
}

int attention_kv_chunk_size() { return kv_chunk_size.load(); }

}  // namespace lumen::detail

namespace lumen::fast {

namespace {

constexpr const char* kOp = "[scaled_dot_product_attention]";

// The checked, converted inputs of one call.
struct AttentionCall {
  std::vector<array> inputs;  // q, k, v, [mask], [sinks]
  AttentionParams params;
  Dtype dtype = float32;
};

// Accumulation type of the merges and of the backward's delta.
Dtype accumulation_type(Dtype d) { return d == float64 ? float64 : float32; }

array lowest_of(Dtype d) {
  switch (d) {
    case float16: return array(std::numeric_limits<float16_t>::lowest(), float16);
    case bfloat16: return array(std::numeric_limits<bfloat16_t>::lowest(), bfloat16);
    case float64: return array(std::numeric_limits<double>::lowest(), float64);
    default: return array(std::numeric_limits<float>::lowest(), float32);
  }
}

AttentionCall check_attention(const array& queries, const array& keys, const array& values,
                              float scale, const std::string& mask_mode,
                              std::optional<array> mask_arr, const std::optional<array>& sinks,
                              Stream s) {
  for (const array* t : {&queries, &keys, &values}) {
    if (t->ndim() != 4) {
      detail::throw_invalid("{} input with shape {} expected to be rank 4", kOp,
                            detail::shape_str(t->shape()));
    }
  }
  if (mask_mode != "" && mask_mode != "causal" && mask_mode != "array") {
    detail::throw_invalid("{} invalid mask_mode '{}': mask_mode must be 'causal', 'array' or ''",
                          kOp, mask_mode);
  }
  const bool causal = mask_mode == "causal";
  if (causal && mask_arr) {
    detail::throw_invalid("{} mask_mode 'causal' takes no mask_arr (got one with shape {})", kOp,
                          detail::shape_str(mask_arr->shape()));
  }
  const bool has_mask = !causal && mask_arr.has_value();
  if (has_mask && mask_arr->ndim() > 4) {
    detail::throw_invalid("{} the mask with shape {} expected to have at most rank 4", kOp,
                          detail::shape_str(mask_arr->shape()));
  }
  for (const array* t : {&keys, &values}) {
    if (t->shape(0) != queries.shape(0)) {
      detail::throw_invalid("{} mismatching batch dimension for input with shape {} (queries {})",
                            kOp, detail::shape_str(t->shape()), detail::shape_str(queries.shape()));
    }
  }
  if (queries.shape(-1) != keys.shape(-1)) {
    detail::throw_invalid(
        "{} query, keys expected to have matching last dimension; found query shape {} for keys "
        "shape {}",
        kOp, detail::shape_str(queries.shape()), detail::shape_str(keys.shape()));
  }
  if (keys.shape(-2) != values.shape(-2)) {
    detail::throw_invalid("{} keys with shape {} and values with shape {} differ in length", kOp,
                          detail::shape_str(keys.shape()), detail::shape_str(values.shape()));
  }
  const int n_q_heads = queries.shape(-3), n_kv_heads = keys.shape(-3);
  if (keys.shape(-3) != values.shape(-3)) {
    detail::throw_invalid(
        "{} keys, values expected to have matching n_kv_heads; found keys with n_heads {} for "
        "values with n_heads {}",
        kOp, keys.shape(-3), values.shape(-3));
  }
  if (n_kv_heads == 0 || n_q_heads % n_kv_heads != 0) {
    detail::throw_invalid("{} n_heads must be a multiple of n_kv_heads, found n_heads {} for "
                          "n_kv_heads {}",
                          kOp, n_q_heads, n_kv_heads);
  }
  const Dtype dtype = promote_types(promote_types(queries.dtype(), keys.dtype()), values.dtype());
  if (!issubdtype(dtype, floating)) {
    detail::throw_invalid("{} received unsupported type {}", kOp, dtype_to_string(dtype));
  }

  AttentionCall call;
  call.dtype = dtype;
  call.params.scale = scale;
  call.params.causal = causal;
  call.params.causal_offset = keys.shape(-2) - queries.shape(-2);
  call.params.has_mask = has_mask;
  call.params.has_sinks = sinks.has_value();
  call.inputs = {astype(queries, dtype, s), astype(keys, dtype, s), astype(values, dtype, s)};
  if (has_mask) {
    const bool is_bool = mask_arr->dtype() == bool_;
    if (promote_types(mask_arr->dtype(), dtype) != dtype) {
      detail::throw_invalid("{} mask type {} must promote to output type {}", kOp,
                            dtype_to_string(mask_arr->dtype()), dtype_to_string(dtype));
    }
    array mask = is_bool ? *mask_arr : astype(*mask_arr, dtype, s);
    Shape mask_shape = queries.shape();
    mask_shape.back() = keys.shape(-2);
    call.inputs.push_back(broadcast_to(mask, mask_shape, s));
  }
  if (sinks) {
    if (promote_types(sinks->dtype(), dtype) != dtype) {
      detail::throw_invalid("{} type of sinks {} must promote to output type {}", kOp,
                            dtype_to_string(sinks->dtype()), dtype_to_string(dtype));
    }
    if (sinks->ndim() != 1 || sinks->shape(0) != n_q_heads) {
      detail::throw_invalid("{} received invalid shape for sinks {} (expected ({}))", kOp,
                            detail::shape_str(sinks->shape()), n_q_heads);
    }
    call.inputs.push_back(astype(*sinks, dtype, s));
  }
  return call;
}

// Grouped-query attention in plain ops: queries [B, H_kv, R, L_q, D] against
// keys [B, H_kv, 1, L_k, D] when R = H_q / H_kv > 1.
struct HeadGroups {
  int n_kv, n_rep;
  array split_q(const array& x, Stream s) const {  // [B, H_q, ...] -> [B, H_kv, R, ...]
    return n_rep > 1 ? unflatten(x, 1, {n_kv, n_rep}, s) : x;
  }
  array split_kv(const array& x, Stream s) const { return n_rep > 1 ? expand_dims(x, 2, s) : x; }
  array merge_q(const array& x, Stream s) const { return n_rep > 1 ? flatten(x, 1, 2, s) : x; }
  // Gradients of the shared keys/values sum over the heads of their group.
  array reduce_kv(const array& x, Stream s) const { return n_rep > 1 ? sum(x, 2, false, s) : x; }
};

HeadGroups head_groups(const std::vector<array>& in) {
  const int n_kv = in[1].shape(1);
  return {n_kv, in[0].shape(1) / n_kv};
}

// The causal mask (true = keep) as [L_q, L_k].
array causal_mask(int lq, int lk, int offset, Stream s) {
  auto q_idx = expand_dims(arange(offset, lq + offset, s), 1, s);
  auto k_idx = expand_dims(arange(0, lk, s), 0, s);
  return greater_equal(q_idx, k_idx, s);
}

// The array or causal mask in the head layout of `groups`, or nothing.
std::optional<array> grouped_mask(const std::vector<array>& in, const AttentionParams& p,
                                  const HeadGroups& groups, Stream s) {
  if (p.causal) return causal_mask(in[0].shape(2), in[1].shape(2), p.causal_offset, s);
  if (!p.has_mask) return std::nullopt;
  return groups.split_q(in[3], s);  // the mask is [B, H_q, L_q, L_k]
}

Fallback forward_fallback(AttentionParams p, bool output_lse, Stream s) {
  return [p, output_lse, s](std::vector<array> in) {
    const HeadGroups groups = head_groups(in);
    const Dtype dtype = in[0].dtype();
    auto q = groups.split_q(multiply(array(p.scale, dtype), in[0], s), s);
    auto k = groups.split_kv(in[1], s);
    auto v = groups.split_kv(in[2], s);
    auto scores = matmul(q, swapaxes(k, -1, -2, s), s);
    if (auto mask = grouped_mask(in, p, groups, s)) {
      scores = mask->dtype() == bool_ ? where(*mask, scores, lowest_of(dtype), s)
                                      : add(scores, *mask, s);
    }
    if (p.has_sinks) {
      auto sinks = expand_dims(in.back(), {0, 2, 3}, s);  // [1, H_q, 1, 1]
      sinks = groups.split_q(sinks, s);
      Shape column = scores.shape();
      column.back() = 1;
      scores = concatenate({broadcast_to(sinks, column, s), scores}, -1, s);
    }
    std::vector<array> outs;
    auto probs = softmax(scores, std::vector<int>{-1}, /*precise=*/true, s);
    if (p.has_sinks) {
      Shape start(probs.ndim(), 0);
      start.back() = 1;
      probs = slice(probs, std::move(start), probs.shape(), s);
    }
    outs.push_back(groups.merge_q(matmul(probs, v, s), s));
    if (output_lse) {
      outs.push_back(groups.merge_q(logsumexp(astype(scores, float32, s), -1, false, s), s));
    }
    return outs;
  };
}

// The flash backward in plain ops (it materializes the probabilities; the
// kernels do not). Inputs as ScaledDotProductAttentionVJP's.
Fallback backward_fallback(AttentionParams p, Stream s) {
  return [p, s](std::vector<array> in) {
    const HeadGroups groups = head_groups(in);
    const size_t n = in.size();
    const Dtype dtype = in[0].dtype();
    const Dtype acc = in[n - 1].dtype();
    auto q = groups.split_q(astype(in[0], acc, s), s);
    auto k = groups.split_kv(astype(in[1], acc, s), s);
    auto v = groups.split_kv(astype(in[2], acc, s), s);
    auto lse = expand_dims(groups.split_q(astype(in[n - 3], acc, s), s), -1, s);
    auto d_out = groups.split_q(astype(in[n - 2], acc, s), s);
    auto delta = expand_dims(groups.split_q(in[n - 1], s), -1, s);
    const array scale(p.scale, acc);
    auto scores = multiply(matmul(q, swapaxes(k, -1, -2, s), s), scale, s);
    const array neg_inf(-std::numeric_limits<float>::infinity(), acc);
    if (auto mask = grouped_mask(in, p, groups, s)) {
      scores = mask->dtype() == bool_ ? where(*mask, scores, neg_inf, s)
                                      : add(scores, astype(*mask, acc, s), s);
    }
    // A fully masked row (lse = -inf) has no probabilities.
    auto probs = where(isneginf(lse, s), array(0, acc), exp(subtract(scores, lse, s), s), s);
    auto dv = groups.reduce_kv(matmul(swapaxes(probs, -1, -2, s), d_out, s), s);
    auto dp = matmul(d_out, swapaxes(v, -1, -2, s), s);
    auto ds = multiply(multiply(probs, subtract(dp, delta, s), s), scale, s);
    auto dq = groups.merge_q(matmul(ds, k, s), s);
    auto dk = groups.reduce_kv(matmul(swapaxes(ds, -1, -2, s), q, s), s);
    return std::vector<array>{astype(dq, dtype, s), astype(dk, dtype, s), astype(dv, dtype, s)};
  };
}

// Merges attention over disjoint key chunks exactly through their lse values
// (and the sinks' logits, counted once): out = sum_c w_c out_c / Z with
// w_c = exp(lse_c - M), Z = sum_c w_c + exp(sink - M).
std::vector<array> merge_chunks(const std::vector<array>& outs, const std::vector<array>& lses,
                                const std::optional<array>& sinks, Dtype dtype, Stream s) {
  const Dtype acc = accumulation_type(dtype);
  auto lse = astype(stack(lses, 0, s), acc, s);  // [C, B, H, L_q]
  auto m = max(lse, 0, false, s);
  std::optional<array> sink_logit;
  if (sinks) {
    sink_logit = reshape(astype(*sinks, acc, s), {1, sinks->shape(0), 1}, s);
    m = maximum(m, *sink_logit, s);
  }
  // Rows with nothing visible anywhere keep M = 0 so no -inf - -inf appears.
  m = where(isneginf(m, s), array(0, acc), m, s);
  auto w = exp(subtract(lse, m, s), s);
  auto z = sum(w, 0, false, s);
  if (sink_logit) z = add(z, exp(subtract(*sink_logit, m, s), s), s);
  auto weighted = sum(multiply(expand_dims(w, -1, s), astype(stack(outs, 0, s), acc, s), s), 0,
                      false, s);
  auto z_col = expand_dims(z, -1, s);
  auto out = where(greater(z_col, array(0, acc), s), divide(weighted, z_col, s), array(0, acc), s);
  return {astype(out, dtype, s), astype(add(m, log(z, s), s), float32, s)};
}

// Attention over KV chunks of `chunk` keys, each by the fused primitive with
// its lse, merged exactly. Causal chunks that no query sees are skipped.
std::vector<array> chunked_attention(const AttentionCall& call, int chunk, Stream s) {
  const auto& in = call.inputs;
  const array &q = in[0], &k = in[1], &v = in[2];
  const int B = q.shape(0), Hq = q.shape(1), Lq = q.shape(2);
  const int Hkv = k.shape(1), Lk = k.shape(2), D = k.shape(3), Dv = v.shape(3);
  std::vector<array> outs, lses;
  for (int c0 = 0; c0 < Lk; c0 += chunk) {
    const int c1 = std::min(Lk, c0 + chunk);
    AttentionParams p = call.params;
    if (p.causal) {
      if (c0 > Lq - 1 + p.causal_offset) break;
      p.causal_offset -= c0;
    }
    p.has_sinks = false;
    std::vector<array> part{q, slice(k, {0, 0, c0, 0}, {B, Hkv, c1, D}, s),
                            slice(v, {0, 0, c0, 0}, {B, Hkv, c1, Dv}, s)};
    if (p.has_mask) part.push_back(slice(in[3], {0, 0, 0, c0}, {B, Hq, Lq, c1}, s));
    auto res = attention_primitive(std::move(part), p, /*output_lse=*/true, s);
    outs.push_back(res[0]);
    lses.push_back(res[1]);
  }
  if (outs.empty()) return attention_primitive(in, call.params, true, s);
  std::optional<array> sinks;
  if (call.params.has_sinks) sinks = in.back();
  return merge_chunks(outs, lses, sinks, call.dtype, s);
}

// {out} or {out, lse}: the fused primitive, or the chunked path for long KV
// outside transforms. Under a transform the primitive always also makes its
// lse, which its vjp needs; the output is the same either way.
std::vector<array> attention(const array& queries, const array& keys, const array& values,
                             float scale, const std::string& mask_mode,
                             std::optional<array> mask_arr, const std::optional<array>& sinks,
                             bool want_lse, StreamOrDevice s_) {
  const Stream s = to_stream(s_);
  AttentionCall call =
      check_attention(queries, keys, values, scale, mask_mode, std::move(mask_arr), sinks, s);
  const int chunk = lumen::detail::attention_kv_chunk_size();
  if (!lumen::detail::in_tracing() && keys.shape(2) > chunk) {
    return chunked_attention(call, chunk, s);
  }
  return attention_primitive(std::move(call.inputs), call.params,
                             want_lse || lumen::detail::in_tracing(), s);
}

}  // namespace

std::vector<array> attention_primitive(std::vector<array> inputs, const AttentionParams& params,
                                       bool output_lse, Stream s) {
  const array &q = inputs[0], &v = inputs[2];
  Shape out_shape{q.shape(0), q.shape(1), q.shape(2), v.shape(3)};
  auto prim = std::make_shared<ScaledDotProductAttention>(
      s, forward_fallback(params, output_lse, s), params, output_lse);
  if (!output_lse) return {array(std::move(out_shape), q.dtype(), prim, std::move(inputs))};
  Shape lse_shape{q.shape(0), q.shape(1), q.shape(2)};
  const Dtype dtype = q.dtype();
  return array::make_arrays({std::move(out_shape), std::move(lse_shape)}, {dtype, float32}, prim,
                            inputs);
}

std::vector<array> attention_backward(const std::vector<array>& inputs,
                                      const AttentionParams& params, Stream s) {
  const Dtype dtype = inputs[0].dtype();
  return array::make_arrays(
      {inputs[0].shape(), inputs[1].shape(), inputs[2].shape()}, {dtype, dtype, dtype},
      std::make_shared<ScaledDotProductAttentionVJP>(s, backward_fallback(params, s), params),
      inputs);
}

array scaled_dot_product_attention(const array& queries, const array& keys, const array& values,
                                   const float scale, const std::string& mask_mode,
                                   std::optional<array> mask_arr,
                                   const std::optional<array>& sinks, bool /*force_fused*/,
                                   StreamOrDevice s) {
  return attention(queries, keys, values, scale, mask_mode, std::move(mask_arr), sinks, false,
                   s)[0];
}

std::pair<array, array> scaled_dot_product_attention_with_lse(
    const array& queries, const array& keys, const array& values, const float scale,
    const std::string& mask_mode, std::optional<array> mask_arr,
    const std::optional<array>& sinks, bool /*force_fused*/, StreamOrDevice s) {
  auto outs =
      attention(queries, keys, values, scale, mask_mode, std::move(mask_arr), sinks, true, s);
  return {outs[0], outs[1]};
}

bool ScaledDotProductAttention::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const ScaledDotProductAttention*>(&other);
  return o && o->params_ == params_ && o->output_lse_ == output_lse_;
}

std::vector<Shape> ScaledDotProductAttention::output_shapes(const std::vector<array>& inputs) {
  const array &q = inputs[0], &v = inputs[2];
  std::vector<Shape> shapes{{q.shape(0), q.shape(1), q.shape(2), v.shape(3)}};
  if (output_lse_) shapes.push_back({q.shape(0), q.shape(1), q.shape(2)});
  return shapes;
}

bool ScaledDotProductAttentionVJP::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const ScaledDotProductAttentionVJP*>(&other);
  return o && o->params_ == params_;
}

std::vector<Shape> ScaledDotProductAttentionVJP::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape(), inputs[1].shape(), inputs[2].shape()};
}

}  // namespace lumen::fast
