// Vulkan kernel of ScaledDotProductAttention (shaders/attention.comp): the
// portable path, one query row per workgroup with an online softmax over key
// blocks of the workgroup's size. Inputs are read through their strides (a
// table uploaded per dispatch); out and lse are row-contiguous. The lse is a
// specialization constant, so the variant that does not write it is its own
// pipeline. The backward primitive has no GPU kernel yet.
#include <cstdint>
#include <vector>

#include "backends/vulkan/kernels/launch.h"
#include "core/detail/errors.h"
#include "lumen/attention_primitives.h"

namespace lumen::vulkan {

namespace {

// Push constants of shaders/attention.comp.
struct AttentionPush {
  uint64_t q, k, v, mask, sinks, out, lse, strides;
  uint32_t B, Hq, Hkv, Lq, Lk, D, Dv;
  int32_t causal_offset;
  float scale;
  uint32_t pad;
};

constexpr uint32_t kMaxFeaturesPerInvocation = 4;  // MAX_FEATURES in the shader

void attention_kernel(const Primitive& p, const std::vector<array>& inputs,
                      std::vector<array>& outputs) {
  const auto& prim = static_cast<const fast::ScaledDotProductAttention&>(p);
  const fast::AttentionParams& params = prim.params();
  KernelContext k(p);
  const array &q = inputs[0], &keys = inputs[1], &v = inputs[2];
  const Dtype dt = q.dtype();
  if (dt != float32 && dt != float16 && dt != bfloat16) {
    detail::throw_invalid("[ScaledDotProductAttention] no GPU kernel for dtype {}",
                          dtype_to_string(dt));
  }
  if (v.shape(3) > static_cast<int>(kMaxFeaturesPerInvocation * KernelContext::kWorkgroupSize)) {
    detail::throw_invalid("[ScaledDotProductAttention] no GPU kernel for value head dim {} (at most {})",
                          v.shape(3), kMaxFeaturesPerInvocation * KernelContext::kWorkgroupSize);
  }
  for (auto& o : outputs) k.allocate(o);
  if (outputs[0].size() == 0) return;
  const array* mask = params.has_mask ? &inputs[3] : nullptr;
  const array* sinks = params.has_sinks ? &inputs.back() : nullptr;

  std::vector<int64_t> strides;
  for (const array* a : {&q, &keys, &v}) {
    for (int d = 0; d < 4; ++d) strides.push_back(a->strides(d));
  }
  for (int d = 0; d < 4; ++d) strides.push_back(mask ? mask->strides(d) : 0);
  strides.push_back(sinks ? sinks->strides(0) : 0);

  AttentionPush push{};
  push.q = address_of(q);
  push.k = address_of(keys);
  push.v = address_of(v);
  push.mask = mask ? address_of(*mask) : push.q;
  push.sinks = sinks ? address_of(*sinks) : push.q;
  push.out = address_of(outputs[0]);
  push.lse = prim.output_lse() ? address_of(outputs[1]) : push.out;
  push.strides = k.stream().upload(strides.data(), strides.size() * sizeof(int64_t));
  push.B = static_cast<uint32_t>(q.shape(0));
  push.Hq = static_cast<uint32_t>(q.shape(1));
  push.Hkv = static_cast<uint32_t>(keys.shape(1));
  push.Lq = static_cast<uint32_t>(q.shape(2));
  push.Lk = static_cast<uint32_t>(keys.shape(2));
  push.D = static_cast<uint32_t>(q.shape(3));
  push.Dv = static_cast<uint32_t>(v.shape(3));
  push.causal_offset = params.causal_offset;
  push.scale = params.scale;

  Constants constants(6, 0);
  constants[1] = dtype_id(dt);
  constants[2] = mask ? (mask->dtype() == bool_ ? 1 : 2) : 0;
  constants[3] = params.causal;
  constants[4] = params.has_sinks;
  constants[5] = prim.output_lse();
  std::vector<const array*> reads{&q, &keys, &v};
  if (mask) reads.push_back(mask);
  if (sinks) reads.push_back(sinks);
  std::vector<const array*> writes;
  for (auto& o : outputs) writes.push_back(&o);
  const uint64_t rows = uint64_t(push.B) * push.Hq * push.Lq;
  k.dispatch("attention", std::move(constants), &push, sizeof(push),
             rows * KernelContext::kWorkgroupSize, reads, writes);
}

LUMEN_REGISTER_KERNEL(Device::gpu, fast::ScaledDotProductAttention, attention_kernel);

}  // namespace
}  // namespace lumen::vulkan
