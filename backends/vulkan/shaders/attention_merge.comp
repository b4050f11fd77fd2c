// Merges the split-K partials of attention_decode.comp: per query row, the
// chunks' (max m_c, sum l_c, unnormalized output o_c) combine as
//   M = max(m_c, sink), l = sum_c l_c exp(m_c - M) + exp(sink - M),
//   out = sum_c o_c exp(m_c - M) / l, lse = M + log(l).
// One workgroup per row (grid-stride); a row with nothing visible gets 0 and
// lse -inf. Invocation c takes chunk c's (m, l) (chunks <= WG); the outputs
// go by passes of WG / chunk_lanes features, each feature summed over the
// chunks by chunk_lanes invocations (then through shared memory), so the
// partial's loads are spread over the whole workgroup. WRITE_LSE is a
// specialization constant, as in attention.comp.
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
  uint chunks;       // <= WG
  uint Dv;
  uint chunk_lanes;  // a power of two dividing WG
} pc;

const uint WG = gl_WorkGroupSize.x;
shared float weight[WG];
shared float red[WG];

float partial_at(uint64_t row, uint c, uint slot) {
  return uintBitsToFloat(Ptr32(pc.partial + ((row * pc.chunks + c) * (2 + pc.Dv) + slot) * 4).v);
}

// The max (or sum) of every invocation's x, given to all of them.
float workgroup_combine(float x, bool is_max) {
  uint tid = gl_LocalInvocationID.x;
  red[tid] = x;
  barrier();
  for (uint half_ = WG / 2; half_ > 0; half_ >>= 1) {
    if (tid < half_) red[tid] = is_max ? max(red[tid], red[tid + half_]) : red[tid] + red[tid + half_];
    barrier();
  }
  float r = red[0];
  barrier();
  return r;
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint size = dtype_size(DT);
  uint width = WG / pc.chunk_lanes;  // features per pass
  uint cl = tid / width, x = tid % width;
  for (uint64_t row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
    float sink = NEG_INF;
    if (HAS_SINKS) {
      uint h = uint((row / pc.Lq) % pc.Hq);
      sink = load_float(DT, pc.sinks + uint64_t(int64_t(h) * pc.sinks_stride * size));
    }
    float mc = tid < pc.chunks ? partial_at(row, tid, 0) : NEG_INF;
    float lc = tid < pc.chunks ? partial_at(row, tid, 1) : 0.0;
    float m = max(workgroup_combine(mc, true), sink);
    float w = mc == NEG_INF ? 0.0 : fexp(mc - m);
    weight[tid] = w;
    float l = workgroup_combine(w * lc, false);  // its barriers publish weight[]
    if (HAS_SINKS && m != NEG_INF) l += fexp(sink - m);
    uint64_t out_row = pc.out_addr + row * pc.Dv * size;
    for (uint e0 = 0; e0 < pc.Dv; e0 += width) {
      uint e = e0 + x;
      float o = 0.0;
      if (e < pc.Dv) {
        for (uint c = cl; c < pc.chunks; c += pc.chunk_lanes) o += weight[c] * partial_at(row, c, 2 + e);
      }
      red[tid] = o;
      barrier();
      if (cl == 0 && e < pc.Dv) {
        for (uint y = 1; y < pc.chunk_lanes; ++y) o += red[y * width + x];
        store_float(DT, out_row + e * size, l > 0.0 ? fdiv(o, l) : 0.0);
      }
      barrier();
    }
    if (WRITE_LSE && tid == 0) {
      Ptr32(pc.lse + row * 4).v = floatBitsToUint(l > 0.0 ? m + flog(l) : NEG_INF);
    }
  }
}
