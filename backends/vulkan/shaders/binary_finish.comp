// The last pass of a split contraction (binary_gemv.comp, binary_gemm.comp):
// out[e] = the sum of the splits' float32 partial sums of element e, added in
// split order (deterministic), rounded once to DT.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;

void main() {
  uint64_t count = uint64_t(pc.rows) * pc.cols;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t e = gl_GlobalInvocationID.x; e < count; e += threads) {
    float sum = 0.0;
    for (uint s = 0; s < pc.splits; ++s) sum += uintBitsToFloat(Ptr32(pc.partials + (uint64_t(s) * count + e) * 4u).v);
    store_float(DT, pc.out_addr + e * dtype_size(DT), sum);
  }
}
