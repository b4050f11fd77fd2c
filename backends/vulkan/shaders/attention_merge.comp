// Merges the split-K partials of attention_decode.comp: per query row, the
// chunks' (max m_c, sum l_c, unnormalized output o_c) combine as
//   M = max(m_c, sink), l = sum_c l_c exp(m_c - M) + exp(sink - M),
//   out = sum_c o_c exp(m_c - M) / l, lse = M + log(l).
// One workgroup per row (grid-stride); a row with nothing visible gets 0 and
// lse -inf. Invocation c takes chunk c's (m, l) (chunks <= WG). The outputs
// go by passes of `width` 4-feature quads (16-byte loads), each quad summed
// over the chunks by chunk_lanes invocations, BATCH chunks' loads issued
// together (the merge is a chain of load latencies otherwise), then summed
// through shared memory. WRITE_LSE is a specialization constant, as in
// attention.comp.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "ids.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const bool HAS_SINKS = false;
layout(constant_id = 3) const bool WRITE_LSE = false;
const uint MASK = 0;
const bool CAUSAL = false;

#include "attention.glsl"

layout(push_constant) uniform Push {
  uint64_t partial;  // float32 [rows, chunks, pitch]: m, l, -, -, output
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
  uint pitch;        // 4 + D_v rounded up to 4
} pc;

const uint WG = gl_WorkGroupSize.x;
const uint BATCH = 4;
shared float weight[WG];
shared vec4 red[WG];

// The max (or sum) of every invocation's x, given to all of them.
float workgroup_combine(float x, bool is_max) {
  uint tid = gl_LocalInvocationID.x;
  red[tid].x = x;
  barrier();
  for (uint half_ = WG / 2; half_ > 0; half_ >>= 1) {
    if (tid < half_) red[tid].x = is_max ? max(red[tid].x, red[tid + half_].x) : red[tid].x + red[tid + half_].x;
    barrier();
  }
  float r = red[0].x;
  barrier();
  return r;
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint size = dtype_size(DT);
  uint width = WG / pc.chunk_lanes;  // quads per pass
  uint cl = tid / width, x = tid % width;
  uint quads = (pc.Dv + 3) / 4;
  for (uint64_t row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
    uint64_t base = pc.partial + row * pc.chunks * pc.pitch * 4;
    float sink = NEG_INF;
    if (HAS_SINKS) {
      uint h = uint((row / pc.Lq) % pc.Hq);
      sink = load_float(DT, pc.sinks + uint64_t(int64_t(h) * pc.sinks_stride * size));
    }
    vec2 ml = tid < pc.chunks ? uintBitsToFloat(Ptr2x32(base + uint64_t(tid) * pc.pitch * 4).v) : vec2(NEG_INF, 0.0);
    float m = max(workgroup_combine(ml.x, true), sink);
    float w = ml.x == NEG_INF ? 0.0 : fexp(ml.x - m);
    weight[tid] = w;
    float l = workgroup_combine(w * ml.y, false);  // its barriers publish weight[]
    if (HAS_SINKS && m != NEG_INF) l += fexp(sink - m);
    uint64_t out_row = pc.out_addr + row * pc.Dv * size;
    for (uint q0 = 0; q0 < quads; q0 += width) {
      uint qd = q0 + x;
      vec4 o = vec4(0.0);
      if (qd < quads) {
        for (uint c = cl; c < pc.chunks; c += BATCH * pc.chunk_lanes) {
          vec4 part[BATCH];
          [[unroll]] for (uint u = 0; u < BATCH; ++u) {
            uint cu = c + u * pc.chunk_lanes;
            part[u] = cu < pc.chunks ? uintBitsToFloat(Ptr4x32(base + (uint64_t(cu) * pc.pitch + 4 + 4 * qd) * 4).v)
                                     : vec4(0.0);
          }
          [[unroll]] for (uint u = 0; u < BATCH; ++u) {
            uint cu = c + u * pc.chunk_lanes;
            if (cu < pc.chunks) o += weight[cu] * part[u];
          }
        }
      }
      red[tid] = o;
      barrier();
      if (cl == 0 && qd < quads) {
        for (uint y = 1; y < pc.chunk_lanes; ++y) o += red[y * width + x];
        [[unroll]] for (uint t = 0; t < 4; ++t) {
          uint e = 4 * qd + t;
          if (e < pc.Dv) store_float(DT, out_row + e * size, l > 0.0 ? fdiv(o[t], l) : 0.0);
        }
      }
      barrier();
    }
    if (WRITE_LSE && tid == 0) {
      Ptr32(pc.lse + row * 4).v = floatBitsToUint(l > 0.0 ? m + flog(l) : NEG_INF);
    }
  }
}
