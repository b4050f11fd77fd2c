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
// With TOUCH_AHEAD > 0, each step also loads one 32-bit word of every
// TOUCH_BYTES of K and V TOUCH_AHEAD steps ahead (cheap in registers: it asks
// the memory for those lines early so the 16-byte loads find them in L2).
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "index_table.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint LOADS = 4;
layout(constant_id = 2) const bool SPAN = false;
layout(constant_id = 3) const bool PREFETCH = false;
layout(constant_id = 4) const bool INTERLEAVE = false;
layout(constant_id = 5) const uint TOUCH_AHEAD = 0;
layout(constant_id = 6) const uint TOUCH_BYTES = 32;
// false: no loads at all (the grid's fixed cost).
layout(constant_id = 7) const bool LOAD = true;

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
const uint TOUCHES_PER_STEP = STEP_BYTES / TOUCH_BYTES;
const uint TOUCHES = (TOUCHES_PER_STEP + WG - 1) / WG;  // per invocation, array and step

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

// One word of every TOUCH_BYTES of step s's K and V.
uint touch_step(uint64_t k, uint64_t v, uint s, uint chunk, uint tid) {
  uint touched = 0;
  if (TOUCH_AHEAD == 0 || s >= pc.steps) return 0;
  uint off = step_offset(s, chunk);
  [[unroll]] for (uint t = 0; t < TOUCHES; ++t) {
    uint x = t * WG + tid, o = off + x * TOUCH_BYTES;
    if (x < TOUCHES_PER_STEP && o < pc.head_bytes) touched ^= Ptr32(k + o).v ^ Ptr32(v + o).v;
  }
  return touched;
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
        uint touched = touch_step(k, v, s + TOUCH_AHEAD, chunk, tid);
        if (s + 1 < pc.steps) LOAD_STEP(kb, vb, k, v, step_offset(s + 1, chunk), tid);
        FOLD_STEP(ka, va, acc);
        touched ^= touch_step(k, v, s + 1 + TOUCH_AHEAD, chunk, tid);
        if (s + 2 < pc.steps) LOAD_STEP(ka, va, k, v, step_offset(s + 2, chunk), tid);
        if (s + 1 < pc.steps) FOLD_STEP(kb, vb, acc);
        acc ^= touched;
      }
    } else {
      for (uint s = 0; s < pc.steps; ++s) {
        uint touched = touch_step(k, v, s + TOUCH_AHEAD, chunk, tid);
        LOAD_STEP(ka, va, k, v, step_offset(s, chunk), tid);
        FOLD_STEP(ka, va, acc);
        acc ^= touched;
      }
    }
  }
  if (acc == pc.never) Ptr32(pc.out_addr).v = acc;
}
