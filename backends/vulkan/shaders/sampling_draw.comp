// GumbelSample's draw, one dispatch: workgroup w draws chunk w % chunks of
// row w / chunks (or, for tiny vocabularies, each invocation one row): per
// element, z = s + g with s = logits / T and the gumbel noise g generated in
// registers (-inf where s is under the row's threshold; the logit itself
// where T = 0), a running argmax per thread, then a reduction across the
// workgroup (subgroup shuffles where available, shared memory between
// subgroups). A row of one chunk writes its id at once; otherwise each chunk
// writes its (value bits, index) pair and the row's last workgroup to finish
// (the row's counter in the stream's SampleSync, reset for the next call)
// combines them. Whoever writes a row's id also checks the row's runtime
// parameters (temperature >= 0, top_k >= 0, 0 < top_p <= 1) and records the
// first bad one in the stream's error record (kernels/index_errors.cpp
// throws it as std::invalid_argument when the stream finishes), as the CPU
// kernel throws while it runs.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require

#include "sampling.glsl"
#include "index.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool FILTERED = false;
layout(constant_id = 2) const bool SHUFFLE = false;  // subgroup shuffles available
layout(constant_id = 3) const bool ROW_PER_THREAD = false;  // tiny vocabularies: one row each
// The error record's op numbers of the three checks (IndexOp in
// kernels/index_errors.h).
layout(constant_id = 4) const uint BAD_TEMPERATURE = 0u;
layout(constant_id = 5) const uint BAD_TOP_K = 0u;
layout(constant_id = 6) const uint BAD_TOP_P = 0u;
const uint WG = gl_WorkGroupSize.x;

// Per stream, kept between calls (kernels/sampling.cpp): the error record's
// address and a counter per row, zero between calls.
layout(buffer_reference, std430, buffer_reference_align = 8) buffer SampleSync {
  uint64_t error_record;
  uint done[];
};
// Chunk results, coherent: the row's last workgroup reads what the others
// wrote.
layout(buffer_reference, std430, buffer_reference_align = 8) coherent buffer Partial { uvec2 v; };

shared float best_value[WG];
shared uint best_index[WG];
shared bool is_last;

// Above every noise value: gumbel_noise of the largest uniform, plus a
// margin for the last bits of log.
float noise_bound() { return gumbel_noise(0xffffffffu) + 1.0; }

// The scaled, noised and masked value of element j of row r (the logit
// itself at T = 0). Where even the largest noise leaves z under the thread's
// best (v, vi; a NaN best has a lower index) the element cannot win: -inf,
// without generating its noise (most of a real vocabulary at decode time).
float noise_at(uvec2 key, uint64_t words, uint64_t r, uint j) {
  return gumbel_noise(stream_word(key, r * uint64_t(pc.V) + j, words));
}
bool beaten(float s, float bound, float v, uint vi) {
  return vi != 0xffffffffu && (isnan(v) || s + bound < v);
}
float drawn(uvec2 key, uint64_t words, uint64_t r, uint j, float t, float cut, float bound, float v,
            uint vi) {
  float x = logit(r, j);
  if (t == 0.0) return x;
  float s = fdiv(x, t);
  if (s < cut || beaten(s, bound, v, vi)) return -F_INF;
  return s + noise_at(key, words, r, j);
}

float row_cut(uint64_t r) { return FILTERED ? row_state(r).cut : -F_INF; }

void check_row(uint64_t r) {
  uint64_t record = SampleSync(pc.sync).error_record;
  float t = row_temperature(r);
  if (!(t >= 0.0)) report_index_error(record, BAD_TEMPERATURE, int64_t(r), int64_t(floatBitsToUint(t)), 0l);
  if (!FILTERED) return;
  int k = row_top_k(r);
  if (k < 0) report_index_error(record, BAD_TOP_K, int64_t(r), int64_t(k), 0l);
  float p = row_top_p(r);
  if (!(p > 0.0 && p <= 1.0)) report_index_error(record, BAD_TOP_P, int64_t(r), int64_t(floatBitsToUint(p)), 0l);
}

void write_id(uint64_t r, uint id) {
  check_row(r);
  Ptr32(pc.out_addr + r * 4ul).v = id;
}

// (ov, oi) into (v, vi) by argmax's rule; index ~0 marks no candidate.
void offer(inout float v, inout uint vi, float ov, uint oi) {
  if (oi != 0xffffffffu && (vi == 0xffffffffu || better(ov, oi, v, vi))) {
    v = ov;
    vi = oi;
  }
}

// One invocation per row (chunks = 1): no reduction.
void draw_rows(uvec2 key, uint64_t words, float bound) {
  for (uint64_t r = gl_GlobalInvocationID.x; r < pc.rows; r += uint64_t(gl_NumWorkGroups.x) * WG) {
    float t = row_temperature(r), cut = row_cut(r);
    float v = -F_INF;
    uint vi = 0xffffffffu;
    for (uint j = 0u; j < pc.V; ++j) offer(v, vi, drawn(key, words, r, j, t, cut, bound, v, vi), j);
    write_id(r, vi);
  }
}

// The workgroup's best candidate, in best_value[0] / best_index[0].
void reduce_best(float v, uint vi) {
  const uint tid = gl_LocalInvocationID.x;
  if (SHUFFLE) {
    for (uint d = gl_SubgroupSize / 2; d > 0; d /= 2) {
      float ov = subgroupShuffleXor(v, d);
      uint oi = subgroupShuffleXor(vi, d);
      offer(v, vi, ov, oi);
    }
  }
  best_value[tid] = v;
  best_index[tid] = vi;
  barrier();
  uint step = SHUFFLE ? gl_SubgroupSize : 1u;
  for (uint h = WG / 2; h >= step; h /= 2) {
    if (tid < h && tid % step == 0u) {
      float mv = best_value[tid];
      uint mi = best_index[tid];
      offer(mv, mi, best_value[tid + h], best_index[tid + h]);
      best_value[tid] = mv;
      best_index[tid] = mi;
    }
    barrier();
  }
}

// Elements per thread of a chunk at most (chunks hold 4 or 16 per thread).
const uint MAX_PER = 16u;
shared float reference_z;

// Draws chunk [j0, j1) of row r (T != 0) into best_value[0] / best_index[0]
// in two phases over the thread's scaled logits, kept in registers: first
// the chunk's best scaled logit by argmax's rule and its z (the reference);
// then each element's z, except where even the largest noise leaves a
// finite s under the reference's z (or the thread's best so far): such an
// element cannot win (its z is not NaN and is smaller), so its noise is
// skipped.
void draw_chunk(uvec2 key, uint64_t words, uint64_t r, uint j0, uint j1, float t, float cut, float bound) {
  const uint tid = gl_LocalInvocationID.x;
  float sv[MAX_PER];
  float v = -F_INF;
  uint vi = 0xffffffffu;
  for (uint n = 0u; n < MAX_PER; ++n) {
    uint j = j0 + tid + n * WG;
    if (j >= j1) break;
    sv[n] = fdiv(logit(r, j), t);
    offer(v, vi, sv[n], j);
  }
  reduce_best(v, vi);
  const float s_ref = best_value[0];
  const uint j_ref = best_index[0];
  if (tid == 0u) reference_z = s_ref < cut ? -F_INF : s_ref + noise_at(key, words, r, j_ref);
  barrier();
  const float z_ref = reference_z;
  v = -F_INF;
  vi = 0xffffffffu;
  for (uint n = 0u; n < MAX_PER; ++n) {
    uint j = j0 + tid + n * WG;
    if (j >= j1) break;
    float s = sv[n];
    if (s < cut) {
      offer(v, vi, -F_INF, j);
      continue;
    }
    bool hopeless = j != j_ref && !isinf(s) && !isnan(s) && (isnan(z_ref) || s + bound < z_ref);
    if (hopeless || beaten(s, bound, v, vi)) continue;
    offer(v, vi, j == j_ref ? z_ref : s + noise_at(key, words, r, j), j);
  }
  reduce_best(v, vi);
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  // a runtime 1 (V > 0): threefry's additions become multiply-adds on
  // NVIDIA's FMA pipe (threefry.glsl)
  threefry_one = uint(pc.V != 0u);
  const uvec2 key = load_key(pc.key, int64_t(pc.key_step));
  const uint64_t words = uint64_t(pc.rows) * uint64_t(pc.V);
  const float bound = noise_bound();
  if (ROW_PER_THREAD) {
    draw_rows(key, words, bound);
    return;
  }
  const uint64_t groups = uint64_t(pc.rows) * uint64_t(pc.chunks);
  for (uint64_t w = gl_WorkGroupID.x; w < groups; w += gl_NumWorkGroups.x) {
    uint64_t r = w / pc.chunks;
    uint c = uint(w - r * pc.chunks);
    float t = row_temperature(r);
    float cut = row_cut(r);
    uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk);
    if (t == 0.0) {  // argmax of the logits
      float v = -F_INF;
      uint vi = 0xffffffffu;
      for (uint j = j0 + tid; j < j1; j += WG) offer(v, vi, logit(r, j), j);
      reduce_best(v, vi);
    } else {
      draw_chunk(key, words, r, j0, j1, t, cut, bound);
    }
    if (pc.chunks == 1u) {
      if (tid == 0u) write_id(r, best_index[0]);
      barrier();
      continue;
    }
    if (tid == 0u) Partial(pc.partial + w * 8ul).v = uvec2(floatBitsToUint(best_value[0]), best_index[0]);
    // the chunk's result before the counter (release); the last
    // workgroup's reads after it (acquire)
    memoryBarrierBuffer();
    barrier();
    if (tid == 0u) is_last = atomicAdd(SampleSync(pc.sync).done[uint(r)], 1u) == pc.chunks - 1u;
    barrier();
    if (is_last) {
      memoryBarrierBuffer();
      float v = -F_INF;
      uint vi = 0xffffffffu;
      for (uint i = tid; i < pc.chunks; i += WG) {
        uvec2 p = Partial(pc.partial + (r * pc.chunks + i) * 8ul).v;
        offer(v, vi, uintBitsToFloat(p.x), p.y);
      }
      reduce_best(v, vi);
      if (tid == 0u) {
        write_id(r, best_index[0]);
        SampleSync(pc.sync).done[uint(r)] = 0u;
      }
    }
    barrier();
  }
}
