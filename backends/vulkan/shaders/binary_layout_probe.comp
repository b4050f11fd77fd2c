// MEASUREMENT (LUMEN_VULKAN_BINARY_LAYOUT=1, logged): which (k, n) each
// element of a 16 x 16 float16 B fragment holds when loaded column-major, as
// binary_gemm_coopmat.comp loads W's tile: the first subgroup loads a matrix
// whose entries are their own indices (k * 16 + n, exact in float16) and
// writes, per invocation and element, the entry it holds (out[lane * 8 + e],
// 0xffffffff past the fragment's length), then the length (out[256]). The
// layout would let a decoder build B fragments in registers.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#include "memory.glsl"

layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { uint64_t out_addr; } pc;

// Column-major: entry (k, n) at n * 16 + k.
shared float16_t entries[256];

void main() {
  if (gl_SubgroupID != 0) return;
  const uint lane = gl_SubgroupInvocationID;
  for (uint e = lane; e < 256; e += gl_SubgroupSize) entries[e] = float16_t(float(e % 16u * 16u + e / 16u));
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> m;
  coopMatLoadNV(m, entries, 0, 16, true);
  for (int e = 0; e < 8; ++e) {
    Ptr32(pc.out_addr + (lane * 8 + e) * 4).v = e < m.length() ? uint(float(m[e])) : 0xffffffffu;
  }
  if (lane == 0) Ptr32(pc.out_addr + 256 * 4).v = uint(m.length());
}
