// Rules of ScaledDotProductAttention. vjp: the flash-attention backward
// through the saved lse (probabilities recomputed from q, k and lse); a
// gradient for an additive mask goes through the plain composition. vmap:
// the mapped axis folds into the batch axis (per-head sinks that are mapped
// go through the plain composition). jvp: through the plain composition
// (fast::Custom).
#include <algorithm>

#include "lumen/attention_primitives.h"
#include "lumen/elementwise.h"
#include "lumen/reduction.h"
#include "lumen/shape.h"

namespace lumen::fast {

std::vector<array> ScaledDotProductAttention::vjp(const std::vector<array>& primals,
                                                  const std::vector<array>& cotangents,
                                                  const std::vector<int>& argnums,
                                                  const std::vector<array>& outputs) {
  const int mask_arg = params_.has_mask ? 3 : -1;
  const int sinks_arg = params_.has_sinks ? static_cast<int>(primals.size()) - 1 : -1;
  if (std::find(argnums.begin(), argnums.end(), mask_arg) != argnums.end()) {
    return Custom::vjp(primals, cotangents, argnums, outputs);
  }
  const Stream s = stream();
  const Dtype dtype = primals[0].dtype();
  const Dtype acc = dtype == float64 ? float64 : float32;
  // Made under a transform, the primitive has its lse; otherwise recompute it.
  const array lse =
      output_lse_ ? outputs[1] : attention_primitive(primals, params_, /*output_lse=*/true, s)[1];
  // delta = d(out) . out - d(lse): the row term of softmax's backward, with the
  // lse cotangent folded in (d lse / d score = probability).
  auto delta = sum(multiply(astype(cotangents[0], acc, s), astype(outputs[0], acc, s), s), -1,
                   false, s);
  if (output_lse_) delta = subtract(delta, astype(cotangents[1], acc, s), s);

  std::vector<array> backward_inputs = primals;
  backward_inputs.push_back(lse);
  backward_inputs.push_back(astype(cotangents[0], dtype, s));
  backward_inputs.push_back(delta);
  std::optional<std::vector<array>> grads;
  std::vector<array> vjps;
  for (int arg : argnums) {
    if (arg == sinks_arg) {
      // d out / d sink = -p_sink * out, p_sink = exp(sink - lse).
      const int n_heads = primals[sinks_arg].shape(0);
      auto sink = reshape(astype(primals[sinks_arg], acc, s), {1, n_heads, 1}, s);
      auto p_sink = exp(subtract(sink, astype(lse, acc, s), s), s);
      auto d_sink = negative(sum(multiply(p_sink, delta, s), {0, 2}, false, s), s);
      vjps.push_back(astype(d_sink, dtype, s));
      continue;
    }
    if (!grads) grads = attention_backward(backward_inputs, params_, s);
    vjps.push_back((*grads)[arg]);
  }
  return vjps;
}

std::pair<std::vector<array>, std::vector<int>> ScaledDotProductAttention::vmap(
    const std::vector<array>& inputs, const std::vector<int>& axes) {
  const int sinks_arg = params_.has_sinks ? static_cast<int>(inputs.size()) - 1 : -1;
  if (sinks_arg >= 0 && axes[sinks_arg] >= 0) return Custom::vmap(inputs, axes);
  const Stream s = stream();
  int n_mapped = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (axes[i] >= 0) n_mapped = inputs[i].shape(axes[i]);
  }
  const int batch = inputs[0].shape(axes[0] == 0 ? 1 : 0);
  // [..., V at axes[i], ...] (or unmapped) -> [V * B, ...]
  std::vector<array> folded;
  for (size_t i = 0; i < inputs.size(); ++i) {
    array x = inputs[i];
    if (static_cast<int>(i) == sinks_arg) {
      folded.push_back(x);
      continue;
    }
    if (axes[i] >= 0) {
      x = moveaxis(x, axes[i], 0, s);
    } else {
      Shape shape = x.shape();
      shape.insert(shape.begin(), n_mapped);
      x = broadcast_to(expand_dims(x, 0, s), shape, s);
    }
    folded.push_back(flatten(x, 0, 1, s));
  }
  auto outs = attention_primitive(std::move(folded), params_, output_lse_, s);
  for (auto& o : outs) o = unflatten(o, 0, {n_mapped, batch}, s);
  return {outs, std::vector<int>(outs.size(), 0)};
}

}  // namespace lumen::fast
