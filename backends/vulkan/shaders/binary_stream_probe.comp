// MEASUREMENT PROBE (wrong results; LUMEN_VULKAN_BINARY_GEMV=stream): the
// memory traffic of x @ W^T with nothing else. Workgroup w reads slice
// w % pc.splits of every row (pc.splits = 1: whole rows): a subgroup streams
// blocks of ROWS rows, the block's runs of words (16-byte loads) and then of
// scales (4-byte loads) as consecutive chunks, BATCH loads in flight per
// invocation, and writes one value per row (to the partial sums of its
// slice when split). Measures how run length and loads in flight set the
// rate, without tables. MAJOR: the slice's bytes addressed as if the weights
// were stored slice-major (slice s of every row side by side, then slice
// s + 1): what a slice-major layout would read, on the row-major arrays.
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
layout(constant_id = 4) const bool MAJOR = false;

layout(buffer_reference, std430, buffer_reference_align = 16) readonly restrict buffer QuadPtr { uvec4 v; };
layout(buffer_reference, std430, buffer_reference_align = 4) readonly restrict buffer WordPtr { uint v; };

void main() {
  uint lane = gl_SubgroupInvocationID, size = gl_SubgroupSize;
  uint slice = gl_WorkGroupID.x % pc.splits;
  uint subgroups = gl_NumWorkGroups.x / pc.splits * gl_NumSubgroups;
  uint blocks = (pc.N + ROWS - 1u) / ROWS;
  uint row_bytes = pc.words * 4u, scale_bytes = groups_per_row() * 2u;
  uint first = gl_WorkGroupID.x / pc.splits * gl_NumSubgroups + gl_SubgroupID;
  for (uint b = first; b < blocks; b += subgroups) {
    uint rows = min(ROWS, pc.N - b * ROWS);
    uvec4 acc = uvec4(0);
    [[unroll]] for (uint part = 0; part < 2u; ++part) {
      uint chunk = part == 0u ? 16u : 4u;
      uint stride = part == 0u ? row_bytes : scale_bytes;
      uint run = stride / pc.splits / chunk;  // chunks per row of the slice
      uint64_t base = (part == 0u ? pc.indices : pc.scales) + uint64_t(b) * ROWS * stride + slice * run * chunk;
      // Slice-major: slice s of rows [0, N) is one run of N * run chunks.
      uint64_t major = (part == 0u ? pc.indices : pc.scales) + (uint64_t(slice) * pc.N + b * ROWS) * run * chunk;
      uint chunks = rows * run;
      for (uint c0 = 0; c0 < chunks; c0 += BATCH * size) {
        uvec4 v[BATCH];
        [[unroll]] for (uint i = 0; i < BATCH; ++i) {
          uint c = c0 + i * size + lane;
          uint64_t at = MAJOR ? major + uint64_t(c) * chunk : base + uint64_t(c / run) * stride + (c % run) * chunk;
          v[i] = c >= chunks ? uvec4(0) : part == 0u ? QuadPtr(at).v : uvec4(WordPtr(at).v);
        }
        [[unroll]] for (uint i = 0; i < BATCH; ++i) acc ^= v[i];
      }
    }
    uint x = subgroupXor(acc.x ^ acc.y ^ acc.z ^ acc.w);
    for (uint r = lane; r < rows; r += size) {
      uint n = b * ROWS + r;
      if (pc.splits == 1u) {
        store_float(DT, pc.out_addr + uint64_t(n) * dtype_size(DT), float(x & 0xffu));
      } else {
        Ptr32(pc.partials + (uint64_t(slice) * pc.N + n) * 4u).v = x;
      }
    }
  }
}
