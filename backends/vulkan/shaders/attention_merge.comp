// Merges the split-K partials of attention_decode.comp (when its workgroups
// do not merge them themselves): one workgroup per row (grid-stride), the
// combination in attention_merge.glsl. WRITE_LSE is a specialization
// constant, as in attention.comp.
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
#include "attention_merge.glsl"

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

void main() {
  uint size = dtype_size(DT);
  for (uint64_t row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
    float sink = NEG_INF;
    if (HAS_SINKS) {
      uint h = uint((row / pc.Lq) % pc.Hq);
      sink = load_float(DT, pc.sinks + uint64_t(int64_t(h) * pc.sinks_stride * size));
    }
    merge_partials(true, gl_WorkGroupSize.x, pc.partial + row * pc.chunks * pc.pitch * 4, pc.chunks, pc.pitch, pc.Dv, pc.chunk_lanes, sink,
                   pc.out_addr + row * pc.Dv * size, pc.lse + row * 4);
  }
}
