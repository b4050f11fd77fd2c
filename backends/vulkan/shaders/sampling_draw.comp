// GumbelSample, stage 2: workgroup w draws chunk w % chunks of row
// w / chunks: per element, z = s + g with s = logits / T and the gumbel noise
// g generated in registers (-inf where s is under the row's threshold; the
// logit itself where T = 0), a running argmax per thread, then a reduction
// across the workgroup (subgroup shuffles where available, shared memory
// between subgroups). Writes the chunk's (value bits, index) pair.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require

#include "sampling.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool FILTERED = false;
layout(constant_id = 2) const bool SHUFFLE = false;  // subgroup shuffles available
const uint WG = gl_WorkGroupSize.x;

shared float best_value[WG];
shared uint best_index[WG];

void main() {
  uint tid = gl_LocalInvocationID.x;
  const uvec2 key = load_key(pc.key, int64_t(pc.key_step));
  const uint64_t words = pc.rows * uint64_t(pc.V);
  const uint64_t groups = pc.rows * uint64_t(pc.chunks);
  for (uint64_t w = gl_WorkGroupID.x; w < groups; w += gl_NumWorkGroups.x) {
    uint64_t r = w / pc.chunks;
    uint c = uint(w - r * pc.chunks);
    float t = row_temperature(r);
    float cut = FILTERED ? uintBitsToFloat(Ptr32(pc.cut + r * uint64_t(pc.cut_step) * 4ul).v) : -F_INF;
    uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk);
    float v = -F_INF;
    uint vi = 0xffffffffu;
    for (uint j = j0 + tid; j < j1; j += WG) {
      float x = logit(r, j);
      float z;
      if (t == 0.0) {
        z = x;
      } else {
        float s = fdiv(x, t);
        z = s < cut ? -F_INF : s + gumbel_noise(stream_word(key, r * pc.V + j, words));
      }
      if (vi == 0xffffffffu || better(z, j, v, vi)) {
        v = z;
        vi = j;
      }
    }
    // threads without elements hold index ~0: any real candidate beats them
    if (SHUFFLE) {
      for (uint d = gl_SubgroupSize / 2; d > 0; d /= 2) {
        float ov = subgroupShuffleXor(v, d);
        uint oi = subgroupShuffleXor(vi, d);
        if (oi != 0xffffffffu && (vi == 0xffffffffu || better(ov, oi, v, vi))) {
          v = ov;
          vi = oi;
        }
      }
    }
    best_value[tid] = v;
    best_index[tid] = vi;
    barrier();
    uint step = SHUFFLE ? gl_SubgroupSize : 1u;
    for (uint h = WG / 2; h >= step; h /= 2) {
      if (tid < h && tid % step == 0u) {
        float ov = best_value[tid + h];
        uint oi = best_index[tid + h];
        uint mi = best_index[tid];
        if (oi != 0xffffffffu && (mi == 0xffffffffu || better(ov, oi, best_value[tid], mi))) {
          best_value[tid] = ov;
          best_index[tid] = oi;
        }
      }
      barrier();
    }
    if (tid == 0) {
      Ptr2x32(pc.partial + w * 8ul).v = uvec2(floatBitsToUint(best_value[0]), best_index[0]);
    }
    barrier();
  }
}
