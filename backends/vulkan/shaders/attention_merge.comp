// Merges the split-K partials of attention_decode.comp: per query row, the
// chunks' (max m_c, sum l_c, unnormalized output o_c) combine as
//   M = max(m_c, sink), l = sum_c l_c exp(m_c - M) + exp(sink - M),
//   out = sum_c o_c exp(m_c - M) / l, lse = M + log(l).
// One workgroup per row (grid-stride); a row with nothing visible gets 0 and
// lse -inf. WRITE_LSE is a specialization constant, as in attention.comp.
#version 460
#extension GL_GOOGLE_include_directive : require
#include "ids.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const bool HAS_SINKS = false;
layout(constant_id = 3) const bool WRITE_LSE = false;
const uint MASK = 0;
const bool CAUSAL = false;

#include "attention.glsl"

layout(push_constant) uniform Push {
  uint64_t partial;  // float32 [rows, chunks, 2 + D_v]
  uint64_t sinks;    // DT [H_q], sinks_stride apart
  uint64_t out_addr; // DT [rows, D_v]
  uint64_t lse;      // float32 [rows]
  int64_t sinks_stride;
  uint rows;
  uint Hq;
  uint Lq;
  uint chunks;  // <= WG
  uint Dv;
} pc;

const uint WG = gl_WorkGroupSize.x;
shared float weight[WG];

float partial_at(uint64_t row, uint c, uint slot) {
  return uintBitsToFloat(Ptr32(pc.partial + ((row * pc.chunks + c) * (2 + pc.Dv) + slot) * 4).v);
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint size = dtype_size(DT);
  for (uint64_t row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
    float sink = NEG_INF;
    if (HAS_SINKS) {
      uint h = uint((row / pc.Lq) % pc.Hq);
      sink = load_float(DT, pc.sinks + uint64_t(int64_t(h) * pc.sinks_stride * size));
    }
    float m = sink;
    for (uint c = 0; c < pc.chunks; ++c) m = max(m, partial_at(row, c, 0));
    if (tid < pc.chunks) {
      float mc = partial_at(row, tid, 0);
      weight[tid] = mc == NEG_INF ? 0.0 : fexp(mc - m);
    }
    barrier();
    float l = HAS_SINKS && m != NEG_INF ? fexp(sink - m) : 0.0;
    for (uint c = 0; c < pc.chunks; ++c) l += weight[c] * partial_at(row, c, 1);
    uint64_t out_row = pc.out_addr + row * pc.Dv * size;
    for (uint e = tid; e < pc.Dv; e += WG) {
      float o = 0.0;
      for (uint c = 0; c < pc.chunks; ++c) o += weight[c] * partial_at(row, c, 2 + e);
      store_float(DT, out_row + e * size, l > 0.0 ? fdiv(o, l) : 0.0);
    }
    if (WRITE_LSE && tid == 0) {
      Ptr32(pc.lse + row * 4).v = floatBitsToUint(l > 0.0 ? m + flog(l) : NEG_INF);
    }
    barrier();
  }
}
