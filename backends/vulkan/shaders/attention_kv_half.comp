// A float16 copy of a bfloat16 K or V [B, H, L, D] (any strides) for
// attention_flash.comp, row-contiguous: converted once here instead of once
// per query tile in the attention kernel. The values are those the kernel
// would convert itself (float16 rounding of the bfloat16 value). An
// invocation converts 8 consecutive features (D is a multiple of 16).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "values.glsl"

layout(local_size_x_id = 0) in;
// Feature stride 1 and rows 16-byte aligned: 16-byte loads.
layout(constant_id = 1) const bool VEC = false;

layout(push_constant) uniform Push {
  uint64_t src;
  uint64_t dst;
  int64_t stride[4];  // of src, in elements
  uint B;
  uint H;
  uint L;
  uint D;
} pc;

void main() {
  const uint per_row = pc.D / 8;
  const uint64_t units = uint64_t(pc.B) * pc.H * pc.L * per_row;
  const uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t u = gl_GlobalInvocationID.x; u < units; u += threads) {
    const uint64_t row = u / per_row;
    const uint e0 = uint(u % per_row) * 8;
    const uint l = uint(row % pc.L), h = uint(row / pc.L % pc.H), b = uint(row / (uint64_t(pc.L) * pc.H));
    const int64_t first = int64_t(b) * pc.stride[0] + int64_t(h) * pc.stride[1] + int64_t(l) * pc.stride[2];
    float x[8];
    if (VEC) {
      uvec4 w = Ptr4x32(pc.src + uint64_t((first + e0) * 2)).v;
      for (uint i = 0; i < 4; ++i) {
        x[2 * i] = bfloat_bits_to_float(w[i] & 0xffffu);
        x[2 * i + 1] = bfloat_bits_to_float(w[i] >> 16);
      }
    } else {
      for (uint i = 0; i < 8; ++i) {
        x[i] = load_float(DT_BF16, pc.src + uint64_t((first + int64_t(e0 + i) * pc.stride[3]) * 2));
      }
    }
    uvec4 r;
    for (uint i = 0; i < 4; ++i) r[i] = packHalf2x16(vec2(x[2 * i], x[2 * i + 1]));
    Ptr4x32(pc.dst + (row * pc.D + e0) * 2).v = r;
  }
}
