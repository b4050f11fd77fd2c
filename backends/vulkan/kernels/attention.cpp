// Vulkan kernel of ScaledDotProductAttention. Decode shapes (L_q <= 8) go to
// the split-K kernel (attention_decode.cpp) where the device has subgroup
// shuffles and the head dims suit it; the rest to the tensor-core
// flash kernel where the device has cooperative matrices (float16/bfloat16,
// attention_coopmat.cpp), else to the portable path (shaders/attention.comp):
// one query row per workgroup with an online softmax over key blocks of the
// workgroup's size. Inputs are read through their
// strides (a table uploaded per dispatch); out and lse are row-contiguous.
// The lse is a specialization constant, so the variant that does not write
// it is its own pipeline.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/vulkan/kernels/attention.h"
#include "core/detail/errors.h"

namespace lumen::vulkan {

std::vector<const array*> AttentionInputs::all() const {
  std::vector<const array*> reads{q, k, v};
  if (mask) reads.push_back(mask);
  if (sinks) reads.push_back(sinks);
  return reads;
}

AttentionInputs attention_inputs(const std::vector<array>& inputs, const fast::AttentionParams& params) {
  return {&inputs[0], &inputs[1], &inputs[2], params.has_mask ? &inputs[3] : nullptr,
          params.has_sinks ? &inputs[params.has_mask ? 4 : 3] : nullptr};
}

uint64_t upload_attention_strides(KernelContext& k, const AttentionInputs& in,
                                  const std::vector<const array*>& extra, const std::vector<int64_t>& tail) {
  std::vector<const array*> tensors{in.q, in.k, in.v, in.mask};
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  std::vector<int64_t> strides;
  for (const array* a : tensors) {
    for (int d = 0; d < 4; ++d) {
      strides.push_back(a && d < static_cast<int>(a->ndim()) ? a->strides(d) : 0);
    }
  }
  strides.insert(strides.end(), tail.begin(), tail.end());
  return k.stream().upload(strides.data(), strides.size() * sizeof(int64_t));
}

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

// The portable kernel, or the tensor-core one with a plan (same push
// constants and first specialization constants).
void prefill_attention(KernelContext& k, const fast::ScaledDotProductAttention& prim,
                       const AttentionInputs& given, std::vector<array>& outputs,
                       const std::optional<CoopmatAttention>& coopmat) {
  const fast::AttentionParams& params = prim.params();
  // With kv_half the kernel reads float16 copies of K and V.
  AttentionInputs in = given;
  std::optional<array> k_half, v_half;
  if (coopmat && coopmat->kv_half) {
    k_half = kv_half_copy(k, *given.k);
    v_half = kv_half_copy(k, *given.v);
    in.k = &*k_half;
    in.v = &*v_half;
  }
  const array& q = *in.q;
  AttentionPush push{};
  set_attention_addresses(push, in);
  push.sinks = in.sinks ? address_of(*in.sinks) : push.q;
  push.out = address_of(outputs[0]);
  push.lse = prim.output_lse() ? address_of(outputs[1]) : push.out;
  push.strides = upload_attention_strides(k, in, {in.sinks});
  set_attention_dims(push, in, params);

  Constants constants(6, 0);
  constants[1] = dtype_id(q.dtype());
  constants[2] = in.mask ? (in.mask->dtype() == bool_ ? 1 : 2) : 0;
  constants[3] = params.causal;
  constants[4] = params.has_sinks;
  constants[5] = prim.output_lse();
  std::vector<const array*> writes;
  for (auto& o : outputs) writes.push_back(&o);
  const uint64_t wg = KernelContext::kWorkgroupSize;
  if (coopmat) {
    set_coopmat_attention_constants(*coopmat, in, constants);
    const uint64_t rows = coopmat->query_rows();
    const uint64_t tiles = uint64_t(push.B) * push.Hq * ((push.Lq + rows - 1) / rows);
    k.dispatch(coopmat->shader(), std::move(constants), &push, sizeof(push), tiles * wg, in.all(), writes);
    return;
  }
  const uint64_t rows = uint64_t(push.B) * push.Hq * push.Lq;
  k.dispatch("attention", std::move(constants), &push, sizeof(push), rows * wg, in.all(), writes);
}

void attention_kernel(const Primitive& p, const std::vector<array>& inputs,
                      std::vector<array>& outputs) {
  const auto& prim = static_cast<const fast::ScaledDotProductAttention&>(p);
  KernelContext k(p);
  const Dtype dt = inputs[0].dtype();
  if (dt != float32 && dt != float16 && dt != bfloat16) {
    detail::throw_invalid("[ScaledDotProductAttention] no GPU kernel for dtype {}",
                          dtype_to_string(dt));
  }
  const AttentionInputs in = attention_inputs(inputs, prim.params());
  const int Dv = in.v->shape(3);
  const std::optional<DecodeAttention> decode =
      in.q->shape(2) <= kDecodeMaxQueries ? decode_attention_plan(k.caps(), in) : std::nullopt;
  const std::optional<CoopmatAttention> coopmat =
      decode ? std::nullopt : coopmat_attention_plan(k, in);
  if (!decode && !coopmat && Dv > static_cast<int>(kMaxFeaturesPerInvocation * KernelContext::kWorkgroupSize)) {
    detail::throw_invalid("[ScaledDotProductAttention] no GPU kernel for value head dim {} (at most {})",
                          Dv, kMaxFeaturesPerInvocation * KernelContext::kWorkgroupSize);
  }
  for (auto& o : outputs) k.allocate(o);
  if (outputs[0].size() == 0) return;
  if (decode) attention_decode(k, prim, in, *decode, outputs);
  else prefill_attention(k, prim, in, outputs, coopmat);
}

LUMEN_REGISTER_KERNEL(Device::gpu, fast::ScaledDotProductAttention, attention_kernel);

}  // namespace
}  // namespace lumen::vulkan
