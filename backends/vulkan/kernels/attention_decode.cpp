// Split-K decode attention (shaders/attention_decode.comp, then
// shaders/attention_merge.comp): the keys are cut into chunks so that
// B * H_kv * row groups * chunks workgroups fill the device even for one
// query; each workgroup reads its chunk of K and V once for all the query
// rows of its row group (the q heads of a kv group) and writes a partial
// (max, sum, output) per row to a float32 scratch array, which the merge pass
// combines through the partial logsumexps.
//
// Measuring variants on a device: LUMEN_VULKAN_DECODE_WORKGROUPS (workgroups
// to aim for, default kTargetWorkgroups), LUMEN_VULKAN_DECODE_UNROLL (keys per
// key lane and step), LUMEN_VULKAN_DECODE_LANES (at most this many
// invocations per key: fewer lanes, more segments each),
// LUMEN_VULKAN_DECODE_Q_SHARED=1 (queries from shared memory),
// LUMEN_VULKAN_DECODE_PREFETCH=1 (loads a step ahead),
// LUMEN_VULKAN_DECODE_ROW_SPLIT=n (n key lanes share each key, rows split
// between them; measured slower with 256 workgroups, so off by default) and
// LUMEN_VULKAN_DECODE_LAZY=1 (the running max moves only by more than e^8).
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>

#include "backends/vulkan/kernels/attention.h"

namespace lumen::vulkan {

namespace {

struct DecodePush {
  uint64_t q, k, v, mask, partial, strides;
  uint32_t B, Hq, Hkv, Lq, Lk, D, Dv;
  int32_t causal_offset;
  float scale;
  uint32_t rows_per_group, row_groups, chunks, chunk_keys, pitch;
};
static_assert(sizeof(DecodePush) <= 128, "Vulkan guarantees 128 bytes of push constants");

struct MergePush {
  uint64_t partial, sinks, out, lse;
  int64_t sinks_stride;
  uint32_t rows, Hq, Lq, chunks, Dv, chunk_lanes, pitch;
};

constexpr uint32_t kSegment = 8;   // features per segment (SEG in the shader)
constexpr uint32_t kMaxSegments = 8;  // per invocation (head dims to 2048 on NVIDIA)
// Query rows x segments per workgroup: each holds 8 query and 8 output
// features in registers per invocation.
constexpr uint32_t kMaxRowSegments = 8;
// Workgroups to aim for: about two per SM of an H100 (132 SMs), one wave
// (measured: 256 beat 512, 1024 and 2048).
constexpr uint64_t kTargetWorkgroups = 256;
constexpr uint32_t kMaxChunks = KernelContext::kWorkgroupSize;  // one merge weight per invocation

uint32_t ceil_div(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

uint32_t env_or(const char* name, uint32_t fallback) {
  const char* v = std::getenv(name);
  const long n = v ? std::atol(v) : 0;
  return n > 0 ? static_cast<uint32_t>(n) : fallback;
}

// K and V can go by 16-byte loads: unit feature stride, whole 8-feature
// segments, rows and base 16-byte aligned.
bool vector_loads(const array& a) {
  const int64_t item = static_cast<int64_t>(a.itemsize());
  if (a.strides(3) != 1 && a.shape(3) > 1) return false;
  if (a.shape(3) % kSegment != 0 || address_of(a) % 16 != 0) return false;
  for (int d = 0; d < 3; ++d) {
    if (a.shape(d) > 1 && (a.strides(d) * item) % 16 != 0) return false;
  }
  return true;
}

}  // namespace

std::optional<DecodeAttention> decode_attention_plan(const Capabilities& caps, const AttentionInputs& in) {
  const uint32_t subgroup = std::max(1u, caps.min_subgroup_size);
  if (!caps.subgroup_shuffle) return std::nullopt;
  const uint32_t segments =
      std::max(1u, ceil_div(std::max(in.q->shape(3), in.v->shape(3)), kSegment));
  DecodeAttention plan{};
  const uint32_t max_lanes = std::bit_floor(std::min(subgroup, env_or("LUMEN_VULKAN_DECODE_LANES", subgroup)));
  plan.lanes = std::min({std::bit_ceil(segments), max_lanes, KernelContext::kWorkgroupSize});
  plan.segs = ceil_div(segments, plan.lanes);
  if (plan.segs > kMaxSegments) return std::nullopt;
  const uint32_t group_rows = static_cast<uint32_t>(in.q->shape(1) / in.k->shape(1) * in.q->shape(2));
  const uint32_t row_groups = ceil_div(group_rows, std::max(1u, kMaxRowSegments / plan.segs));
  plan.rows = ceil_div(group_rows, row_groups);
  plan.unroll = env_or("LUMEN_VULKAN_DECODE_UNROLL", std::max(1u, 2 / plan.segs));
  plan.q_shared = env_or("LUMEN_VULKAN_DECODE_Q_SHARED", 0) == 1;
  plan.prefetch = env_or("LUMEN_VULKAN_DECODE_PREFETCH", 0) == 1;
  const uint32_t split = env_or("LUMEN_VULKAN_DECODE_ROW_SPLIT", 1);
  const bool can_split = plan.rows % split == 0 && plan.lanes * split <= std::bit_floor(subgroup);
  plan.row_split = can_split ? split : 1;
  plan.lazy = env_or("LUMEN_VULKAN_DECODE_LAZY", 0) == 1;
  return plan;
}

void attention_decode(KernelContext& k, const fast::ScaledDotProductAttention& prim,
                      const AttentionInputs& in, const DecodeAttention& plan,
                      std::vector<array>& outputs) {
  const fast::AttentionParams& params = prim.params();
  const array &q = *in.q, &keys = *in.k, &v = *in.v;
  const uint32_t wg = KernelContext::kWorkgroupSize;
  DecodePush push{};
  push.q = address_of(q);
  push.k = address_of(keys);
  push.v = address_of(v);
  push.mask = in.mask ? address_of(*in.mask) : push.q;
  push.strides = upload_attention_strides(k, in, {});
  set_attention_dims(push, in, params);

  const uint32_t group_rows = push.Hq / push.Hkv * push.Lq;
  push.rows_per_group = plan.rows;
  push.row_groups = ceil_div(group_rows, plan.rows);
  const uint32_t step = wg / (plan.lanes * plan.row_split) * plan.unroll;  // keys per workgroup step
  const uint64_t base = uint64_t(push.B) * push.Hkv * push.row_groups;
  const uint64_t target = env_or("LUMEN_VULKAN_DECODE_WORKGROUPS", kTargetWorkgroups);
  uint32_t chunks = std::clamp<uint32_t>(ceil_div(target, base), 1, kMaxChunks);
  chunks = std::max(1u, std::min(chunks, ceil_div(push.Lk, step)));
  push.chunk_keys = std::max(1u, ceil_div(ceil_div(push.Lk, chunks), step)) * step;
  push.chunks = std::max(1u, ceil_div(push.Lk, push.chunk_keys));

  // A partial is (max, sum, 2 unused, output): 16-byte aligned quads of output.
  const uint32_t quads = ceil_div(push.Dv, 4);
  push.pitch = 4 + 4 * quads;
  const uint64_t rows = uint64_t(push.B) * push.Hq * push.Lq;
  array partial(Shape{static_cast<int32_t>(rows * push.chunks), static_cast<int32_t>(push.pitch)},
                float32, nullptr, {});
  k.allocate(partial);
  push.partial = address_of(partial);

  Constants constants(13, 0);
  constants[1] = dtype_id(q.dtype());
  constants[2] = in.mask ? (in.mask->dtype() == bool_ ? 1 : 2) : 0;
  constants[3] = params.causal;
  constants[4] = vector_loads(keys) && vector_loads(v);
  constants[5] = plan.lanes;
  constants[6] = plan.segs;
  constants[7] = plan.rows;
  constants[8] = plan.unroll;
  constants[9] = plan.q_shared;
  constants[10] = plan.prefetch;
  constants[11] = plan.row_split;
  constants[12] = plan.lazy;
  const uint64_t groups = base * push.chunks;
  k.dispatch("attention_decode", std::move(constants), &push, sizeof(push), groups * wg, in.all(),
             {&partial});

  MergePush merge{};
  merge.partial = push.partial;
  merge.sinks = in.sinks ? address_of(*in.sinks) : push.partial;
  merge.out = address_of(outputs[0]);
  merge.lse = prim.output_lse() ? address_of(outputs[1]) : merge.out;
  merge.sinks_stride = in.sinks ? in.sinks->strides(0) : 0;
  merge.rows = static_cast<uint32_t>(rows);
  merge.Hq = push.Hq;
  merge.Lq = push.Lq;
  merge.chunks = push.chunks;
  merge.Dv = push.Dv;
  merge.pitch = push.pitch;
  // Quads per pass: the whole row where it fits, the rest of the workgroup
  // sums chunks side by side.
  merge.chunk_lanes = wg / std::min(wg, std::bit_ceil(std::max(1u, quads)));
  Constants merge_constants(4, 0);
  merge_constants[1] = dtype_id(q.dtype());
  merge_constants[2] = params.has_sinks;
  merge_constants[3] = prim.output_lse();
  std::vector<const array*> reads{&partial};
  if (in.sinks) reads.push_back(in.sinks);
  std::vector<const array*> writes;
  for (auto& o : outputs) writes.push_back(&o);
  k.dispatch("attention_merge", std::move(merge_constants), &merge, sizeof(merge), rows * wg, reads,
             writes);
}

}  // namespace lumen::vulkan
