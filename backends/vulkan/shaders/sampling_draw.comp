// GumbelSample's draw: workgroup w draws chunk w % chunks of row w / chunks
// (or, for tiny vocabularies, each invocation one row): per element,
// z = s + g with s = logits / T and the gumbel noise g generated in
// registers (-inf where s is under the row's threshold; the logit itself
// where T = 0), a running argmax per thread, then a reduction
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
layout(constant_id = 3) const bool ROW_PER_THREAD = false;  // tiny vocabularies: one row each
const uint WG = gl_WorkGroupSize.x;

shared float best_value[WG];
shared uint best_index[WG];

// The scaled, noised and masked value of element j of row r (the logit
// itself at T = 0).
float drawn(uvec2 key, uint64_t words, uint64_t r, uint j, float t, float cut) {
  float x = logit(r, j);
  if (t == 0.0) return x;
  float s = fdiv(x, t);
  return s < cut ? -F_INF : s + gumbel_noise(stream_word(key, r * pc.V + j, words));
}

float row_cut(uint64_t r) { return FILTERED ? row_state(r).cut : -F_INF; }

// One invocation per row (chunks = 1): no reduction.
void draw_rows(uvec2 key, uint64_t words) {
  for (uint64_t r = gl_GlobalInvocationID.x; r < pc.rows; r += uint64_t(gl_NumWorkGroups.x) * WG) {
    float t = row_temperature(r), cut = row_cut(r);
    float v = drawn(key, words, r, 0u, t, cut);
    uint vi = 0u;
    for (uint j = 1u; j < pc.V; ++j) {
      float z = drawn(key, words, r, j, t, cut);
      if (better(z, j, v, vi)) {
        v = z;
        vi = j;
      }
    }
    Ptr2x32(pc.partial + r * 8ul).v = uvec2(floatBitsToUint(v), vi);
  }
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  if (ROW_PER_THREAD) {
    draw_rows(load_key(pc.key, int64_t(pc.key_step)), pc.rows * uint64_t(pc.V));
    return;
  }
  const uvec2 key = load_key(pc.key, int64_t(pc.key_step));
  const uint64_t words = pc.rows * uint64_t(pc.V);
  const uint64_t groups = pc.rows * uint64_t(pc.chunks);
  for (uint64_t w = gl_WorkGroupID.x; w < groups; w += gl_NumWorkGroups.x) {
    uint64_t r = w / pc.chunks;
    uint c = uint(w - r * pc.chunks);
    float t = row_temperature(r);
    float cut = row_cut(r);
    uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk);
    float v = -F_INF;
    uint vi = 0xffffffffu;
    for (uint j = j0 + tid; j < j1; j += WG) {
      float z = drawn(key, words, r, j, t, cut);
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
