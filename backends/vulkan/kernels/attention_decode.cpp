// Split-K decode attention (shaders/attention_decode.comp, then
// shaders/attention_merge.comp): the keys are cut into chunks so that
// B * H_kv * chunks workgroups fill the device even for one query; each
// workgroup reads its chunk of K and V once for every q head of its kv group
// and writes partial (max, sum, output) per row to a float32 scratch array,
// which the merge pass combines through the partial logsumexps.
#include <algorithm>
#include <cstdint>

#include "backends/vulkan/kernels/attention.h"

namespace lumen::vulkan {

namespace {

struct DecodePush {
  uint64_t q, k, v, mask, partial, strides;
  uint32_t B, Hq, Hkv, Lq, Lk, D, Dv;
  int32_t causal_offset;
  float scale;
  uint32_t rows_per_group, row_groups, chunks, chunk_keys, lanes;
};
static_assert(sizeof(DecodePush) <= 128, "Vulkan guarantees 128 bytes of push constants");

struct MergePush {
  uint64_t partial, sinks, out, lse;
  int64_t sinks_stride;
  uint32_t rows, Hq, Lq, chunks, Dv;
};

constexpr uint32_t kMaxRows = 8;       // MAX_ROWS in the shader
constexpr uint32_t kSegment = 8;       // features per invocation (SEG)
// Workgroups to aim for: several per SM of an H100 (132 SMs), so that enough
// loads are in flight to saturate HBM.
constexpr uint64_t kTargetWorkgroups = 1024;
constexpr uint32_t kMinChunkKeys = 64;  // below this the merge costs more than it spreads
constexpr uint32_t kMaxChunks = KernelContext::kWorkgroupSize;  // one merge weight per invocation

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

uint32_t ceil_div(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

}  // namespace

void attention_decode(KernelContext& k, const fast::ScaledDotProductAttention& prim,
                      const AttentionInputs& in, std::vector<array>& outputs) {
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
  push.lanes = std::max(1u, ceil_div(std::max(push.D, push.Dv), kSegment));
  const uint32_t keys_per_pass = wg / push.lanes;
  push.rows_per_group = std::min({kMaxRows, group_rows, kMaxRows * wg / std::max(push.D, 1u)});
  push.row_groups = ceil_div(group_rows, push.rows_per_group);
  const uint64_t base = uint64_t(push.B) * push.Hkv * push.row_groups;
  uint32_t chunks = std::clamp<uint32_t>(ceil_div(kTargetWorkgroups, base), 1, kMaxChunks);
  chunks = std::max(1u, std::min(chunks, ceil_div(push.Lk, kMinChunkKeys)));
  push.chunk_keys = std::max(1u, ceil_div(ceil_div(push.Lk, chunks), keys_per_pass)) * keys_per_pass;
  push.chunks = std::max(1u, ceil_div(push.Lk, push.chunk_keys));

  const uint64_t rows = uint64_t(push.B) * push.Hq * push.Lq;
  array partial(Shape{static_cast<int32_t>(rows * push.chunks), static_cast<int32_t>(push.Dv + 2)},
                float32, nullptr, {});
  k.allocate(partial);
  push.partial = address_of(partial);

  Constants constants(5, 0);
  constants[1] = dtype_id(q.dtype());
  constants[2] = in.mask ? (in.mask->dtype() == bool_ ? 1 : 2) : 0;
  constants[3] = params.causal;
  constants[4] = vector_loads(keys) && vector_loads(v);
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
