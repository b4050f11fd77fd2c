// The last pass of a split contraction (binary_gemv*.comp, binary_gemm.comp):
// out[e] = the sum of the splits' float32 partial sums of element e, added in
// split order (deterministic), rounded once to DT. The loads of 16 splits
// are issued before their adds: one memory round trip per 16 splits, not
// one per split.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;

const uint BATCH = 16;

void main() {
  uint64_t count = uint64_t(pc.rows) * pc.cols;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t e = gl_GlobalInvocationID.x; e < count; e += threads) {
    float sum = 0.0;
    for (uint s0 = 0; s0 < pc.splits; s0 += BATCH) {
      float part[BATCH];
      [[unroll]] for (uint i = 0; i < BATCH; ++i) {
        part[i] = s0 + i < pc.splits ? uintBitsToFloat(Ptr32(pc.partials + (uint64_t(s0 + i) * count + e) * 4u).v) : 0.0;
      }
      [[unroll]] for (uint i = 0; i < BATCH; ++i) {
        if (s0 + i < pc.splits) sum += part[i];
      }
    }
    store_float(DT, pc.out_addr + e * dtype_size(DT), sum);
  }
}
