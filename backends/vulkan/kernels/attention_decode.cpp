// Split-K decode attention: on devices with NVIDIA's mma fragments, float16
// and bfloat16 go to the tensor-core kernel (shaders/attention_decode_mma.comp,
// record_mma); otherwise the key lanes (shaders/attention_decode.comp), then
// shaders/attention_merge.comp for both: the keys are cut into chunks so that
// B * H_kv * row groups * chunks workgroups fill the device even for one
// query; each workgroup reads its chunk of K and V once for all the query
// rows of its row group (the q heads of a kv group) and writes a partial
// (max, sum, output) per row to a float32 scratch array, which the merge pass
// (or, MERGE, the last workgroup of each row group) combines through the
// partial logsumexps.
//
// Measuring variants on a device (environment, read per dispatch):
// LUMEN_VULKAN_DECODE_WORKGROUPS (workgroups to aim for, default
// kTargetWorkgroups), LUMEN_VULKAN_DECODE_UNROLL (keys per key lane and
// step), LUMEN_VULKAN_DECODE_LANES (at most this many invocations per key:
// fewer lanes, more segments each), LUMEN_VULKAN_DECODE_PREFETCH=0 (no loads
// a step ahead), LUMEN_VULKAN_DECODE_INTERLEAVE=0 (each chunk one run of the
// keys rather than every chunks-th step), LUMEN_VULKAN_DECODE_EARLY=0 (the
// first step's loads after the queries', not before),
// LUMEN_VULKAN_DECODE_MERGE=1 (the last workgroup per head merges: no merge
// pass), LUMEN_VULKAN_DECODE_LAZY=0 (the running max moves with every
// step, not only by more than e^8), LUMEN_VULKAN_DECODE_EXP2=0 (scores in
// base e), LUMEN_VULKAN_DECODE_ROW32=0 (64-bit row offsets),
// LUMEN_VULKAN_DECODE_FULL_STEPS=0 (every step checks each key against the
// chunk's end), LUMEN_VULKAN_DECODE_Q_SHARED=1 (queries from shared memory),
// LUMEN_VULKAN_DECODE_ROW_SPLIT=n (n key lanes share each key, rows split
// between them). LUMEN_VULKAN_DECODE_PROBE=1 replaces the kernel by a
// loads-only probe of its reads (record_probe). The tensor-core decode
// (record_mma; LUMEN_VULKAN_DECODE_MMA=0 takes the key lanes instead):
// LUMEN_VULKAN_DECODE_MMA_WORKGROUPS, LUMEN_VULKAN_DECODE_MMA_PREFETCH=0/1/2
// (tiles loaded ahead), LUMEN_VULKAN_DECODE_MMA_PROBE (bits: no products and
// softmax, no conversion, no loads; wrong results). docs/attention.md has
// what each measured.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "backends/vulkan/env.h"
#include "backends/vulkan/kernels/attention.h"
#include "backends/vulkan/kernels/matmul.h"

namespace lumen::vulkan {

namespace {

struct DecodePush {
  uint64_t q, k, v, mask, partial, strides, out, lse;
  uint32_t B, Hq, Hkv, Lq, Lk, D, Dv;
  int32_t causal_offset;
  float scale;
  uint32_t rows_per_group, row_groups, chunks, chunk_keys, pitch, chunk_lanes;
  uint32_t merge_flags;  // 1: sinks, 2: write the lse
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

// Every row offset of a head of a [B, H, L, D] K or V, (L - 1) * row stride
// bytes (non-negative), fits in 32 bits.
bool rows_fit_32_bits(const array& a) {
  const int64_t row = a.strides(2) * static_cast<int64_t>(a.itemsize());
  return row >= 0 && row * std::max<int64_t>(a.shape(2) - 1, 0) <= int64_t(UINT32_MAX);
}

// Chunks (at most max_chunks), keys per chunk and the partial layout of a
// call whose workgroups take `step` keys at a time.
struct Split {
  uint32_t row_groups, chunks, chunk_keys, pitch;
};

// Floats per partial: (max, sum, 2 unused, output), 16-byte aligned quads of
// output.
uint32_t partial_pitch(const AttentionInputs& in) {
  return 4 + 4 * ceil_div(static_cast<uint32_t>(in.v->shape(3)), 4);
}

// A split's row groups of `rows_per_group` query rows (of the q heads sharing
// a kv head x the queries) and its partial layout; returns the (batch, kv
// head, row group)s, which the chunks multiply.
uint64_t split_rows(const AttentionInputs& in, uint32_t rows_per_group, Split& sp) {
  const uint32_t group_rows = static_cast<uint32_t>(in.q->shape(1) / in.k->shape(1) * in.q->shape(2));
  sp.row_groups = ceil_div(group_rows, rows_per_group);
  sp.pitch = partial_pitch(in);
  return uint64_t(in.q->shape(0)) * in.k->shape(1) * sp.row_groups;
}

Split split_keys(const AttentionInputs& in, uint32_t rows_per_group, uint32_t step, uint32_t max_chunks) {
  const uint32_t Lk = static_cast<uint32_t>(in.k->shape(2));
  Split sp{};
  const uint64_t base = split_rows(in, rows_per_group, sp);
  const uint64_t target = env_positive("LUMEN_VULKAN_DECODE_WORKGROUPS", kTargetWorkgroups);
  uint32_t chunks = std::clamp<uint32_t>(ceil_div(target, base), 1, max_chunks);
  chunks = std::max(1u, std::min(chunks, ceil_div(Lk, step)));
  sp.chunk_keys = std::max(1u, ceil_div(ceil_div(Lk, chunks), step)) * step;
  sp.chunks = std::max(1u, ceil_div(Lk, sp.chunk_keys));
  return sp;
}

// The float32 scratch of partials: [B * H_q * L_q * chunks, pitch].
array partials_array(KernelContext& k, const AttentionInputs& in, const Split& sp) {
  const uint64_t rows = uint64_t(in.q->shape(0)) * in.q->shape(1) * in.q->shape(2);
  array partial(Shape{static_cast<int32_t>(rows * sp.chunks), static_cast<int32_t>(sp.pitch)}, float32, nullptr, {});
  k.allocate(partial);
  return partial;
}

// Quads of output per merge pass: the whole row where it fits in a
// partition of `part` invocations (one row's), the rest of the partition
// sums chunks side by side (attention_merge.glsl).
uint32_t merge_chunk_lanes(uint32_t Dv, uint32_t part) {
  return part / std::min(part, std::bit_ceil(std::max(1u, ceil_div(Dv, 4))));
}

// The merge pass over the partials (shaders/attention_merge.comp).
void record_merge(KernelContext& k, const fast::ScaledDotProductAttention& prim, const AttentionInputs& in,
                  const Split& sp, const array& partial, std::vector<array>& outputs) {
  const uint64_t rows = uint64_t(in.q->shape(0)) * in.q->shape(1) * in.q->shape(2);
  MergePush merge{};
  merge.partial = address_of(partial);
  merge.sinks = in.sinks ? address_of(*in.sinks) : merge.partial;
  merge.out = address_of(outputs[0]);
  merge.lse = prim.output_lse() ? address_of(outputs[1]) : merge.out;
  merge.sinks_stride = in.sinks ? in.sinks->strides(0) : 0;
  merge.rows = static_cast<uint32_t>(rows);
  merge.Hq = static_cast<uint32_t>(in.q->shape(1));
  merge.Lq = static_cast<uint32_t>(in.q->shape(2));
  merge.chunks = sp.chunks;
  merge.Dv = static_cast<uint32_t>(in.v->shape(3));
  merge.pitch = sp.pitch;
  merge.chunk_lanes = merge_chunk_lanes(merge.Dv, KernelContext::kWorkgroupSize);
  Constants merge_constants(4, 0);
  merge_constants[1] = dtype_id(in.q->dtype());
  merge_constants[2] = prim.params().has_sinks;
  merge_constants[3] = prim.output_lse();
  std::vector<const array*> reads{&partial};
  if (in.sinks) reads.push_back(in.sinks);
  std::vector<const array*> writes;
  for (auto& o : outputs) writes.push_back(&o);
  k.dispatch("attention_merge", std::move(merge_constants), &merge, sizeof(merge),
             rows * KernelContext::kWorkgroupSize, reads, writes);
}

// The key-lane kernel (shaders/attention_decode.comp), merging its own
// partials with plan.merge, else followed by the merge pass.
void record_key_lanes(KernelContext& k, const fast::ScaledDotProductAttention& prim, const AttentionInputs& in,
                      const DecodeAttention& plan, std::vector<array>& outputs) {
  const fast::AttentionParams& params = prim.params();
  const array &q = *in.q, &keys = *in.k, &v = *in.v;
  const uint32_t wg = KernelContext::kWorkgroupSize;
  // Merging in the kernel, each row's partition of the workgroup takes one
  // chunk's (m, l) per invocation.
  const uint32_t merge_part = wg / std::bit_ceil(plan.rows);
  const bool vec = vector_loads(keys) && vector_loads(v);
  const Split sp = split_keys(in, plan.rows, wg / (plan.lanes * plan.row_split) * plan.unroll,
                              plan.merge ? merge_part : kMaxChunks);
  array partial = partials_array(k, in, sp);
  const uint64_t head_groups = uint64_t(q.shape(0)) * keys.shape(1) * sp.row_groups;
  std::optional<array> counters;
  if (plan.merge) counters = stream_counters(k, prim.stream(), head_groups);
  DecodePush push{};
  set_attention_addresses(push, in);
  push.partial = address_of(partial);
  // The table's tail: the sinks' and the counters' addresses.
  push.strides = upload_attention_strides(
      k, in, {in.sinks},
      {static_cast<int64_t>(in.sinks ? address_of(*in.sinks) : 0),
       static_cast<int64_t>(counters ? address_of(*counters) : 0)});
  push.out = address_of(outputs[0]);
  push.lse = prim.output_lse() ? address_of(outputs[1]) : push.out;
  set_attention_dims(push, in, params);
  push.rows_per_group = plan.rows;
  push.row_groups = sp.row_groups;
  push.chunks = sp.chunks;
  push.chunk_keys = sp.chunk_keys;
  push.pitch = sp.pitch;
  push.chunk_lanes = merge_chunk_lanes(push.Dv, merge_part);
  push.merge_flags = (params.has_sinks ? 1u : 0u) | (prim.output_lse() ? 2u : 0u);

  Constants constants(20, 0);
  constants[1] = dtype_id(q.dtype());
  constants[2] = in.mask ? (in.mask->dtype() == bool_ ? 1 : 2) : 0;
  constants[3] = params.causal;
  constants[4] = vec;
  constants[5] = plan.lanes;
  constants[6] = plan.segs;
  constants[7] = plan.rows;
  constants[8] = plan.unroll;
  constants[9] = plan.q_shared;
  constants[10] = plan.prefetch;
  constants[11] = plan.row_split;
  constants[12] = plan.lazy;
  constants[13] = plan.early;
  constants[14] = plan.interleave;
  constants[15] = plan.merge;
  constants[16] = merge_part;
  constants[17] = plan.exp2;
  constants[18] = plan.row32 && rows_fit_32_bits(keys) && rows_fit_32_bits(v);
  constants[19] = plan.full_steps;
  std::vector<const array*> writes{&partial};
  if (plan.merge) {
    for (auto& o : outputs) writes.push_back(&o);
    writes.push_back(&*counters);
  }
  k.dispatch("attention_decode", std::move(constants), &push, sizeof(push), head_groups * sp.chunks * wg, in.all(),
             writes);
  if (!plan.merge) record_merge(k, prim, in, sp, partial, outputs);
}

// The tensor-core decode (shaders/attention_decode_mma.comp): a workgroup per
// (batch, kv head, group of 8 rows, chunk), each subgroup on its own 16-key
// tiles, on devices with 16 x 8 x 16 fragments in NVIDIA's mma layout; the
// merge pass combines the chunks. Workgroups: at most one per SM
// (LUMEN_VULKAN_DECODE_MMA_WORKGROUPS to measure others; kMmaWorkgroups where
// the device does not give its SM count), whole chunks per row group: one
// wave at ~240 registers. H100 (132 SMs), bf16 decode at 32K keys (GQA
// 32/8): 128 workgroups 0.0600 ms, 256 or 264 (two waves) 0.0644, 136 (a few
// in a second wave) 0.0935.
constexpr uint64_t kMmaWorkgroups = 132;
constexpr uint32_t kMmaRows = 8;
constexpr uint32_t kMmaTileKeys = 16;

// Whether the tensor-core decode takes these inputs: float16 or bfloat16, head
// dims multiples of 16 to 256, K and V by 16-byte loads with a tile's row
// offsets in 32 bits, a buffer of 16 padded rows per subgroup fitting the
// shared memory. LUMEN_VULKAN_DECODE_MMA=0 turns it off.
bool mma_decode_fits(KernelContext& k, const AttentionInputs& in) {
  if (env_is("LUMEN_VULKAN_DECODE_MMA", "0")) return false;
  const Dtype dt = in.q->dtype();
  if ((dt != float16 && dt != bfloat16) || in.k->dtype() != dt || in.v->dtype() != dt) return false;
  const int64_t D = in.q->shape(3), Dv = in.v->shape(3);
  if (D % 16 != 0 || Dv % 16 != 0 || D > 256 || Dv > 256) return false;
  if (!vector_loads(*in.k) || !vector_loads(*in.v)) return false;
  for (const array* a : {in.k, in.v}) {
    if (a->strides(2) * static_cast<int64_t>(a->itemsize()) * kMmaTileKeys > int64_t(UINT32_MAX)) return false;
  }
  // The subgroups' buffers, then Q's 8 rows, then the subgroups' row maxima
  // and sums.
  const uint64_t shared =
      ((KernelContext::kWorkgroupSize / 32) * 16 * (std::max(D, Dv) / 8 + 1) + 8 * (D / 8 + 1)) * 16 +
      (KernelContext::kWorkgroupSize / 32) * 8 * 8;
  if (shared > k.caps().max_shared_memory || !coopmat_offers(k.caps(), 16, 8, 16)) return false;
  // The mma layout of 16 x 16 fragments stands for that of 16 x 8 ones (the
  // kernel checks its own and writes NaN where it differs).
  return mma_fragment_layout(k).has_value();
}

void record_mma(KernelContext& k, const fast::ScaledDotProductAttention& prim, const AttentionInputs& in,
                std::vector<array>& outputs) {
  const fast::AttentionParams& params = prim.params();
  const uint32_t Lk = static_cast<uint32_t>(in.k->shape(2)), Dv = static_cast<uint32_t>(in.v->shape(3));
  Split sp{};
  const uint64_t base = split_rows(in, kMmaRows, sp);
  const uint32_t sms = k.caps().multiprocessors;
  const uint64_t target = env_positive("LUMEN_VULKAN_DECODE_MMA_WORKGROUPS", sms > 0 ? sms : kMmaWorkgroups);
  const uint32_t subgroups = KernelContext::kWorkgroupSize / 32;
  // Chunk c's subgroup w takes tiles subgroups c + w, then every
  // subgroups x chunks-th.
  sp.chunks = std::clamp<uint32_t>(static_cast<uint32_t>(target / base), 1,
                                   std::min(kMaxChunks, ceil_div(Lk, kMmaTileKeys * subgroups)));
  sp.chunk_keys = kMmaTileKeys * subgroups;
  array partial = partials_array(k, in, sp);
  DecodePush push{};
  set_attention_addresses(push, in);
  push.partial = address_of(partial);
  push.strides = upload_attention_strides(k, in, {});
  push.out = push.lse = push.partial;
  set_attention_dims(push, in, params);
  push.rows_per_group = kMmaRows;
  push.row_groups = sp.row_groups;
  push.chunks = sp.chunks;
  push.chunk_keys = sp.chunk_keys;
  push.pitch = sp.pitch;
  Constants constants(9, 0);
  constants[1] = dtype_id(in.q->dtype());
  constants[2] = in.mask ? (in.mask->dtype() == bool_ ? 1 : 2) : 0;
  constants[3] = params.causal;
  constants[4] = static_cast<uint32_t>(in.q->shape(3));
  constants[5] = Dv;
  // Tiles of K and V in registers ahead of their use (H100: none 0.0625 ms,
  // one 0.0600, two 0.074).
  const char* prefetch = std::getenv("LUMEN_VULKAN_DECODE_MMA_PREFETCH");
  constants[6] = prefetch ? std::clamp(std::atoi(prefetch), 0, 2) : 1;
  constants[7] = env_positive("LUMEN_VULKAN_DECODE_MMA_PROBE", 0);
  constants[8] = vector_loads(*in.q);
  k.dispatch("attention_decode_mma", std::move(constants), &push, sizeof(push),
             base * sp.chunks * KernelContext::kWorkgroupSize, in.all(), {&partial});
  record_merge(k, prim, in, sp, partial, outputs);
}

// Whether K and V are one contiguous run each of the same shape (the probe
// reads them as flat bytes, head after head).
bool probe_fits(const AttentionInputs& in) {
  return in.k->flags().row_contiguous && in.v->flags().row_contiguous && in.k->shape() == in.v->shape() &&
         in.k->itemsize() == 2 && address_of(*in.k) % 16 == 0 && address_of(*in.v) % 16 == 0 &&
         in.k->nbytes() / (in.k->shape(0) * in.k->shape(1)) % 16 == 0;
}

// LUMEN_VULKAN_DECODE_PROBE=1: loads K and V in the pattern of the
// PROBE_* knobs with no arithmetic (shaders/attention_decode_probe.comp),
// then, with PROBE_MERGE=1, the merge pass over uninitialized partials. The
// outputs hold garbage: for the bench only.
void record_probe(KernelContext& k, const fast::ScaledDotProductAttention& prim, const AttentionInputs& in,
                  std::vector<array>& outputs) {
  struct ProbePush {
    uint64_t k, v, out;
    uint32_t head_bytes, heads, chunks, steps, never;
  } push{};
  const uint32_t loads = env_positive("LUMEN_VULKAN_DECODE_PROBE_LOADS", 4);
  const uint64_t heads = uint64_t(in.k->shape(0)) * in.k->shape(1);
  push.k = address_of(*in.k);
  push.v = address_of(*in.v);
  push.out = address_of(outputs[0]);
  push.head_bytes = static_cast<uint32_t>(in.k->nbytes() / heads);
  push.heads = static_cast<uint32_t>(heads);
  push.chunks = std::max<uint32_t>(1, ceil_div(env_positive("LUMEN_VULKAN_DECODE_WORKGROUPS", kTargetWorkgroups), heads));
  push.steps = ceil_div(push.head_bytes, uint64_t(push.chunks) * KernelContext::kWorkgroupSize * 16 * loads);
  push.never = 0x9e3779b9u;
  Constants c(6, 0);
  c[1] = loads;
  c[2] = env_is("LUMEN_VULKAN_DECODE_PROBE_SPAN", "1");
  c[3] = env_is("LUMEN_VULKAN_DECODE_PROBE_PREFETCH", "1");
  c[4] = !env_is("LUMEN_VULKAN_DECODE_INTERLEAVE", "0");
  c[5] = !env_is("LUMEN_VULKAN_DECODE_PROBE_LOAD", "0");
  std::vector<const array*> writes{&outputs[0]};
  k.dispatch("attention_decode_probe", std::move(c), &push, sizeof(push),
             uint64_t(push.chunks) * heads * KernelContext::kWorkgroupSize, {in.k, in.v}, writes);
  if (!env_is("LUMEN_VULKAN_DECODE_PROBE_MERGE", "1")) return;
  Split sp{};
  sp.row_groups = 1;
  sp.chunks = std::min(push.chunks, kMaxChunks);
  sp.chunk_keys = ceil_div(in.k->shape(2), sp.chunks);
  sp.pitch = partial_pitch(in);
  array partial = partials_array(k, in, sp);
  record_merge(k, prim, in, sp, partial, outputs);
}

}  // namespace

std::optional<DecodeAttention> decode_attention_plan(const Capabilities& caps, const AttentionInputs& in) {
  const uint32_t subgroup = std::max(1u, caps.min_subgroup_size);
  if (!caps.subgroup_shuffle) return std::nullopt;
  const uint32_t segments =
      std::max(1u, ceil_div(std::max(in.q->shape(3), in.v->shape(3)), kSegment));
  DecodeAttention plan{};
  const uint32_t max_lanes = std::bit_floor(std::min(subgroup, env_positive("LUMEN_VULKAN_DECODE_LANES", subgroup)));
  plan.lanes = std::min({std::bit_ceil(segments), max_lanes, KernelContext::kWorkgroupSize});
  plan.segs = ceil_div(segments, plan.lanes);
  if (plan.segs > kMaxSegments) return std::nullopt;
  const uint32_t group_rows = static_cast<uint32_t>(in.q->shape(1) / in.k->shape(1) * in.q->shape(2));
  const uint32_t row_groups = ceil_div(group_rows, std::max(1u, kMaxRowSegments / plan.segs));
  plan.rows = ceil_div(group_rows, row_groups);
  plan.unroll = env_positive("LUMEN_VULKAN_DECODE_UNROLL", std::max(1u, 2 / plan.segs));
  plan.q_shared = env_positive("LUMEN_VULKAN_DECODE_Q_SHARED", 0) == 1;
  // H100, GQA decode at 32K keys: 0.066 ms with neither, 0.062 with both.
  plan.prefetch = !env_is("LUMEN_VULKAN_DECODE_PREFETCH", "0");
  plan.interleave = !env_is("LUMEN_VULKAN_DECODE_INTERLEAVE", "0");
  const uint32_t split = env_positive("LUMEN_VULKAN_DECODE_ROW_SPLIT", 1);
  const bool can_split = plan.rows % split == 0 && plan.lanes * split <= std::bit_floor(subgroup);
  plan.row_split = can_split ? split : 1;
  // H100, the decode row (session 7): LAZY takes the kernel from 155 to 127
  // registers (two workgroups per SM instead of one), 0.075 -> 0.065 ms; with
  // EXP2, ROW32 and FULL_STEPS and the merge pass, 128 registers and 0.062.
  // With MERGE as well it needs 170 (0.076); MERGE without FULL_STEPS: 127,
  // 0.063.
  plan.lazy = !env_is("LUMEN_VULKAN_DECODE_LAZY", "0");
  plan.early = !env_is("LUMEN_VULKAN_DECODE_EARLY", "0");
  plan.merge = env_is("LUMEN_VULKAN_DECODE_MERGE", "1");
  plan.exp2 = !env_is("LUMEN_VULKAN_DECODE_EXP2", "0");
  plan.row32 = !env_is("LUMEN_VULKAN_DECODE_ROW32", "0");
  plan.full_steps = !env_is("LUMEN_VULKAN_DECODE_FULL_STEPS", "0");
  return plan;
}

void attention_decode(KernelContext& k, const fast::ScaledDotProductAttention& prim,
                      const AttentionInputs& in, const DecodeAttention& plan,
                      std::vector<array>& outputs) {
  if (env_is("LUMEN_VULKAN_DECODE_PROBE", "1") && probe_fits(in)) return record_probe(k, prim, in, outputs);
  if (mma_decode_fits(k, in)) return record_mma(k, prim, in, outputs);
  record_key_lanes(k, prim, in, plan, outputs);
}

}  // namespace lumen::vulkan
