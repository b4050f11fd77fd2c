// MEASUREMENT PROBE (wrong results; LUMEN_VULKAN_BINARY_GEMV=stream): the
// memory traffic of x @ W^T with nothing else. A subgroup streams blocks of
// ROWS whole weight rows (their words, then their scales) as one contiguous
// run of 16-byte loads, BATCH loads in flight per invocation, and writes one
// value per row. One dispatch: the ceiling the GEMV designs are measured
// against.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint ROWS = 8;
layout(constant_id = 3) const uint BATCH = 8;

layout(buffer_reference, std430, buffer_reference_align = 16) readonly restrict buffer QuadPtr { uvec4 v; };

void main() {
  uint lane = gl_SubgroupInvocationID, size = gl_SubgroupSize;
  uint subgroups = gl_NumWorkGroups.x * gl_NumSubgroups;
  uint blocks = (pc.N + ROWS - 1u) / ROWS;
  uint row_bytes = pc.words * 4u, scale_bytes = groups_per_row() * 2u;
  for (uint b = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID; b < blocks; b += subgroups) {
    uint rows = min(ROWS, pc.N - b * ROWS);
    uvec4 acc = uvec4(0);
    [[unroll]] for (uint part = 0; part < 2u; ++part) {
      uint64_t base = part == 0u ? pc.indices + uint64_t(b) * ROWS * row_bytes
                                 : pc.scales + uint64_t(b) * ROWS * scale_bytes;
      uint chunks = rows * (part == 0u ? row_bytes : scale_bytes) / 16u;
      for (uint c0 = 0; c0 < chunks; c0 += BATCH * size) {
        uvec4 v[BATCH];
        [[unroll]] for (uint i = 0; i < BATCH; ++i) {
          uint c = c0 + i * size + lane;
          v[i] = c < chunks ? QuadPtr(base + uint64_t(c) * 16u).v : uvec4(0);
        }
        [[unroll]] for (uint i = 0; i < BATCH; ++i) acc ^= v[i];
      }
    }
    uint x = subgroupXor(acc.x ^ acc.y ^ acc.z ^ acc.w);
    if (lane < rows) store_float(DT, pc.out_addr + (uint64_t(b) * ROWS + lane) * dtype_size(DT), float(x & 0xffu));
  }
}
