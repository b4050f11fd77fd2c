// Shared by the Vulkan attention kernels (attention.cpp: the portable path
// and the dispatch; attention_decode.cpp: split-K decode;
// attention_coopmat.cpp: the tensor-core prefill).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "backends/vulkan/kernels/launch.h"
#include "lumen/attention_primitives.h"

namespace lumen::vulkan {

// The inputs of a forward or backward attention primitive, by role.
struct AttentionInputs {
  const array* q;
  const array* k;
  const array* v;
  const array* mask;   // null without one
  const array* sinks;  // null without them
  // Every input, for the dispatch's read ranges.
  std::vector<const array*> all() const;
};

AttentionInputs attention_inputs(const std::vector<array>& inputs, const fast::AttentionParams& params);

// Uploads the int64 stride table of shaders/attention.glsl: q, k, v, mask,
// then each of `extra`, 4 slots per tensor (its strides, zero-padded; zeros
// for a missing one), then the words of `tail`.
uint64_t upload_attention_strides(KernelContext& k, const AttentionInputs& in,
                                  const std::vector<const array*>& extra, const std::vector<int64_t>& tail = {});

// The addresses every attention push block starts with: q, k, v and the
// mask (q's address where there is none: the shaders read it only with one).
template <class Push>
void set_attention_addresses(Push& push, const AttentionInputs& in) {
  push.q = address_of(*in.q);
  push.k = address_of(*in.k);
  push.v = address_of(*in.v);
  push.mask = in.mask ? address_of(*in.mask) : push.q;
}

// The dimensions every attention push block starts its sizes with (B, Hq,
// Hkv, Lq, Lk, D, Dv, causal_offset, scale: the same names in each shader).
template <class Push>
void set_attention_dims(Push& push, const AttentionInputs& in, const fast::AttentionParams& params) {
  push.B = static_cast<uint32_t>(in.q->shape(0));
  push.Hq = static_cast<uint32_t>(in.q->shape(1));
  push.Hkv = static_cast<uint32_t>(in.k->shape(1));
  push.Lq = static_cast<uint32_t>(in.q->shape(2));
  push.Lk = static_cast<uint32_t>(in.k->shape(2));
  push.D = static_cast<uint32_t>(in.q->shape(3));
  push.Dv = static_cast<uint32_t>(in.v->shape(3));
  push.causal_offset = params.causal_offset;
  push.scale = params.scale;
}

// Split-K decode for L_q <= kDecodeMaxQueries (attention_decode.cpp; outputs
// allocated by the caller): the shape of its workgroups (specialization
// constants 5-15 of the shader), or nullopt where the device has no subgroup
// shuffles or the head dims are too large for them.
constexpr int kDecodeMaxQueries = 8;
struct DecodeAttention {
  uint32_t lanes;      // invocations per key (<= the subgroup)
  uint32_t segs;       // 8-feature segments per invocation
  uint32_t rows;       // query rows per workgroup
  uint32_t unroll;     // keys per key lane and step
  bool q_shared;       // queries read from shared memory in the loop
  bool prefetch;       // the next step's loads issued before this step's arithmetic
  uint32_t row_split;  // key lanes sharing a key, each for rows / row_split rows
  bool lazy;           // the reference max moves only by more than e^8
  bool early;          // the first step's loads go out before the queries'
  bool interleave;     // a chunk's steps are every chunks-th step, not a run
  bool merge;          // the last workgroup per head merges the chunks (no merge pass)
  bool exp2;           // scores in base 2 (log2 e folded into the queries)
  bool row32;          // row offsets in 32-bit arithmetic where they fit
  bool full_steps;     // steps wholly before the chunk's end skip the per-key check
};
std::optional<DecodeAttention> decode_attention_plan(const Capabilities& caps, const AttentionInputs& in);
void attention_decode(KernelContext& k, const fast::ScaledDotProductAttention& prim,
                      const AttentionInputs& in, const DecodeAttention& plan,
                      std::vector<array>& outputs);

// The tensor-core prefill (attention_coopmat.cpp): shaders/attention_flash.comp
// (softmax in registers; devices whose fragments have NVIDIA's mma layout) or
// shaders/attention_coopmat.comp (softmax through shared memory; any layout),
// or nullopt where the device, dtype or head dims suit neither.
struct CoopmatAttention {
  bool registers;          // attention_flash rather than attention_coopmat
  uint32_t fragment_n;     // the fragment's columns
  uint32_t keys_per_tile;
  uint32_t row_blocks;     // 16-row query blocks per subgroup (attention_flash)
  uint32_t stages;         // K/V tile buffers in shared memory (attention_flash)
  uint32_t layout_hi;      // the fragment's elements in an invocation's second row (attention_flash)
  bool kv_half;            // bfloat16 K and V converted to float16 copies first (attention_flash)
  bool fold;               // the scale folded into the exponent's fma (attention_flash)
  // Query rows per workgroup (8 subgroups).
  uint32_t query_rows() const { return 8 * 16 * (registers ? row_blocks : 1); }
  const char* shader() const { return registers ? "attention_flash" : "attention_coopmat"; }
};
// Reads the device's fragment layout on its first call (a dispatch waited for).
std::optional<CoopmatAttention> coopmat_attention_plan(KernelContext& k, const AttentionInputs& in);
// Specialization constants 6.. of the shader (1-5 are the portable kernel's).
void set_coopmat_attention_constants(const CoopmatAttention& plan, const AttentionInputs& in, Constants& c);
// Where the device's 16 x 16 x 16 float16 fragments have NVIDIA's mma layout:
// the elements of an accumulator fragment in an invocation's second row (the
// LAYOUT_HI constant of attention_flash.comp; the tensor-core decode takes it
// as the sign of NVIDIA's layouts); read on the first call (a dispatch waited
// for).
std::optional<uint32_t> mma_fragment_layout(KernelContext& k);
// A row-contiguous float16 copy of a bfloat16 K or V (plan.kv_half), recorded
// on k's stream (shaders/attention_kv_half.comp).
array kv_half_copy(KernelContext& k, const array& x);

}  // namespace lumen::vulkan
