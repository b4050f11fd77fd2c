// A loads-only probe of decode attention's read of K and V
// (LUMEN_VULKAN_DECODE_PROBE=1; attention_decode.cpp): the same bytes as a
// decode of contiguous K and V [Hkv, L_k, D], read in the pattern its knobs
// pick, with no arithmetic, so a device run shows which pattern reaches the
// memory's bandwidth and what the grid and its merge pass cost alone.
//
// A workgroup takes chunk `chunk` of one kv head: steps of STEP_BYTES of K
// and the same bytes of V (one run of steps, or with INTERLEAVE every
// chunks-th step of the head). In a step each invocation loads LOADS 16-byte
// pieces of K and LOADS of V: consecutive invocations on consecutive pieces
// (SPAN = false) or each invocation on LOADS consecutive pieces (SPAN). With
// PREFETCH the next step's loads go out before this step's are consumed.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "index_table.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint LOADS = 4;
layout(constant_id = 2) const bool SPAN = false;
layout(constant_id = 3) const bool PREFETCH = false;
layout(constant_id = 4) const bool INTERLEAVE = false;
// false: no loads at all (the grid's fixed cost).
layout(constant_id = 5) const bool LOAD = true;

layout(push_constant) uniform Push {
  uint64_t k;
  uint64_t v;
  uint64_t out_addr;  // one word, written only if the loads xor to `never`
  uint head_bytes;    // bytes of one kv head's K (and V)
  uint heads;
  uint chunks;        // per head
  uint steps;         // per chunk
  uint never;
} pc;

const uint WG = gl_WorkGroupSize.x;
const uint STEP_BYTES = WG * 16 * LOADS;

// Byte offset in the head of step s of this chunk.
uint step_offset(uint s, uint chunk) {
  return (INTERLEAVE ? s * pc.chunks + chunk : chunk * pc.steps + s) * STEP_BYTES;
}

uint piece_offset(uint u, uint tid) { return SPAN ? (tid * LOADS + u) * 16 : (u * WG + tid) * 16; }

// Two buffers of a step's pieces (PREFETCH alternates them); arrays sized by
// specialization constants cannot be function arguments, hence the macros.
uvec4 ka[LOADS], va[LOADS], kb[LOADS], vb[LOADS];

#define LOAD_STEP(KB, VB, k, v, off, tid)                          \
  [[unroll]] for (uint u = 0; u < LOADS; ++u) {                   \
    uint o = (off) + piece_offset(u, tid);                        \
    bool in_head = o < pc.head_bytes;                             \
    KB[u] = in_head ? ReadPtr4x32((k) + o).v : uvec4(0);          \
    VB[u] = in_head ? ReadPtr4x32((v) + o).v : uvec4(0);          \
  }

#define FOLD_STEP(KB, VB, acc)                                                                  \
  [[unroll]] for (uint u = 0; u < LOADS; ++u) {                                                 \
    acc ^= KB[u].x ^ KB[u].y ^ KB[u].z ^ KB[u].w ^ VB[u].x ^ VB[u].y ^ VB[u].z ^ VB[u].w;       \
  }

void main() {
  const uint tid = gl_LocalInvocationID.x;
  uint acc = 0;
  for (uint wg = gl_WorkGroupID.x; wg < pc.heads * pc.chunks; wg += gl_NumWorkGroups.x) {
    if (!LOAD) continue;
    uint chunk = wg % pc.chunks;
    uint64_t head = uint64_t(wg / pc.chunks) * pc.head_bytes;
    uint64_t k = pc.k + head, v = pc.v + head;
    if (PREFETCH) {
      // Steps in pairs: the other buffer's loads are in flight while one is consumed.
      LOAD_STEP(ka, va, k, v, step_offset(0, chunk), tid);
      for (uint s = 0; s < pc.steps; s += 2) {
        if (s + 1 < pc.steps) LOAD_STEP(kb, vb, k, v, step_offset(s + 1, chunk), tid);
        FOLD_STEP(ka, va, acc);
        if (s + 2 < pc.steps) LOAD_STEP(ka, va, k, v, step_offset(s + 2, chunk), tid);
        if (s + 1 < pc.steps) FOLD_STEP(kb, vb, acc);
      }
    } else {
      for (uint s = 0; s < pc.steps; ++s) {
        LOAD_STEP(ka, va, k, v, step_offset(s, chunk), tid);
        FOLD_STEP(ka, va, acc);
      }
    }
  }
  if (acc == pc.never) Ptr32(pc.out_addr).v = acc;
}
