// Which (row, column) each element of a 16 x 16 float32 cooperative-matrix
// fragment holds, as the device lays it out: the first subgroup loads a matrix
// whose entries are their own indices (row * 16 + column) and writes, for each
// invocation and element, the entry it holds (out[lane * 8 + e], 8 slots per
// invocation, 0xffffffff past the fragment's length), then the length
// (out[256]). kernels/attention_coopmat.cpp reads it once per device to choose
// attention_flash.comp and its LAYOUT_HI constant.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_shader_subgroup_basic : require
#include "memory.glsl"

layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { uint64_t out_addr; } pc;

shared float entries[256];

void main() {
  if (gl_SubgroupID != 0) return;
  const uint lane = gl_SubgroupInvocationID;
  for (uint e = lane; e < 256; e += gl_SubgroupSize) entries[e] = float(e);
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> m;
  coopMatLoadNV(m, entries, 0, 16, false);
  for (int e = 0; e < 8; ++e) {
    Ptr32(pc.out_addr + (lane * 8 + e) * 4).v = e < m.length() ? uint(m[e]) : 0xffffffffu;
  }
  if (lane == 0) Ptr32(pc.out_addr + 256 * 4).v = uint(m.length());
}
