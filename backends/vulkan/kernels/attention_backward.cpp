// Vulkan kernel of ScaledDotProductAttentionVJP (shaders/attention_backward.comp):
// the flash-attention backward from the saved lse, in two dispatches of one
// shader with no atomics: dQ per query row, then dK and dV per key row over
// every query of its kv head's group. Portable (no shared tiles or
// cooperative matrices); probabilities are recomputed in both passes.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/vulkan/kernels/attention.h"
#include "core/detail/errors.h"

namespace lumen::vulkan {

namespace {

struct BackwardPush {
  uint64_t q, k, v, mask, d_out, lse, delta, strides, grad_a, grad_b;
  uint32_t B, Hq, Hkv, Lq, Lk, D, Dv;
  int32_t causal_offset;
  float scale;
};
static_assert(sizeof(BackwardPush) <= 128, "Vulkan guarantees 128 bytes of push constants");

constexpr uint32_t kMaxFeaturesPerInvocation = 4;  // MAX_FEATURES in the shader

void attention_vjp_kernel(const Primitive& p, const std::vector<array>& inputs,
                          std::vector<array>& outputs) {
  const auto& prim = static_cast<const fast::ScaledDotProductAttentionVJP&>(p);
  const fast::AttentionParams& params = prim.params();
  KernelContext k(p);
  const AttentionInputs in = attention_inputs(inputs, params);
  const size_t n = inputs.size();
  const array &lse = inputs[n - 3], &d_out = inputs[n - 2], &delta = inputs[n - 1];
  const Dtype dt = in.q->dtype();
  if (dt != float32 && dt != float16 && dt != bfloat16) {
    detail::throw_invalid("[ScaledDotProductAttentionVJP] no GPU kernel for dtype {}",
                          dtype_to_string(dt));
  }
  const uint32_t max_features = kMaxFeaturesPerInvocation * KernelContext::kWorkgroupSize;
  if (static_cast<uint32_t>(std::max(in.q->shape(3), in.v->shape(3))) > max_features) {
    detail::throw_invalid("[ScaledDotProductAttentionVJP] no GPU kernel for head dims {} and {} (at most {})",
                          in.q->shape(3), in.v->shape(3), max_features);
  }
  for (auto& o : outputs) k.allocate(o);

  BackwardPush push{};
  set_attention_addresses(push, in);
  push.d_out = address_of(d_out);
  push.lse = address_of(lse);
  push.delta = address_of(delta);
  push.strides = upload_attention_strides(k, in, {&d_out, &lse, &delta});
  set_attention_dims(push, in, params);

  std::vector<const array*> reads = in.all();
  reads.insert(reads.end(), {&lse, &d_out, &delta});
  const uint32_t wg = KernelContext::kWorkgroupSize;
  for (bool key_rows : {false, true}) {
    Constants constants(5, 0);
    constants[1] = dtype_id(dt);
    constants[2] = in.mask ? (in.mask->dtype() == bool_ ? 1 : 2) : 0;
    constants[3] = params.causal;
    constants[4] = key_rows;
    BackwardPush pass = push;
    pass.grad_a = address_of(outputs[key_rows ? 1 : 0]);
    pass.grad_b = key_rows ? address_of(outputs[2]) : pass.grad_a;
    const uint64_t rows = key_rows ? uint64_t(push.B) * push.Hkv * push.Lk
                                   : uint64_t(push.B) * push.Hq * push.Lq;
    std::vector<const array*> writes{&outputs[key_rows ? 1 : 0]};
    if (key_rows) writes.push_back(&outputs[2]);
    k.dispatch("attention_backward", std::move(constants), &pass, sizeof(pass), rows * wg, reads,
               writes);
  }
}

LUMEN_REGISTER_KERNEL(Device::gpu, fast::ScaledDotProductAttentionVJP, attention_vjp_kernel);

}  // namespace
}  // namespace lumen::vulkan
