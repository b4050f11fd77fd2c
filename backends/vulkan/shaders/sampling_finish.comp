// GumbelSample, stage 3: one invocation per row combines the row's chunk
// results (argmax's rule, sampling.glsl) and writes the int32 id.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "sampling.glsl"

layout(local_size_x_id = 0) in;

void main() {
  for (uint64_t r = gl_GlobalInvocationID.x; r < pc.rows; r += uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x) {
    float v = 0.0;
    uint vi = 0xffffffffu;
    for (uint c = 0u; c < pc.chunks; ++c) {
      uvec2 p = Ptr2x32(pc.partial + (r * pc.chunks + c) * 8ul).v;
      float ov = uintBitsToFloat(p.x);
      if (p.y != 0xffffffffu && (vi == 0xffffffffu || better(ov, p.y, v, vi))) {
        v = ov;
        vi = p.y;
      }
    }
    Ptr32(pc.out_addr + r * 4ul).v = vi;
  }
}
