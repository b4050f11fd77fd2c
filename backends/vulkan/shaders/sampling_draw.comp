// GumbelSample's draw, one dispatch: workgroup w draws chunk w % chunks of
// row w / chunks (with an even number of rows, that chunk of rows r and
// r + rows / 2, which share threefry hashes; for tiny vocabularies each
// invocation one row): per token, z = s + g with s = logits / T and the
// gumbel noise g generated in registers (-inf where s is under the row's
// threshold; the logit itself where T = 0), exactly only where cheap bounds
// leave the token a chance (draw_chunk), a running argmax per thread, then a
// reduction across the workgroup (subgroup shuffles where available, shared
// memory between subgroups). A row of one chunk writes its id at once;
// otherwise each chunk writes its (value bits, index) pair and the row's
// last workgroup to finish (the row's counter in the stream's SampleSync,
// reset for the next call) combines them. Whoever writes a row's id also
// checks the row's runtime parameters (temperature >= 0, top_k >= 0,
// 0 < top_p <= 1) and records the first bad one in the stream's error
// record (kernels/index_errors.cpp throws it as std::invalid_argument when
// the stream finishes), as the CPU kernel throws while it runs. Rows the
// threshold passes drew already (top-k's candidates path) are skipped.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
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
// Rows may have been drawn already (RowState.path, sampling_threshold.comp).
layout(constant_id = 7) const bool SKIP_DONE = false;
// Tokens a thread of a chunk (chunk / WG).
layout(constant_id = 8) const uint PER = 16u;
// An even number of rows (and chunks split): see draw_chunk_pair.
layout(constant_id = 9) const bool PAIRED = false;
// (constant 10 is sampling.glsl's DT)
// Whether draw_chunk's bound that some token surely reaches is the
// workgroup's (else the subgroup's): one exact evaluation a workgroup
// instead of one a subgroup.
layout(constant_id = 11) const bool WORKGROUP_REACHED = true;
// Rows of several chunks (with WORKGROUP_REACHED): a chunk of at most SLOTS
// candidates, none on the exact path, leaves their exact z to the row's last
// workgroup (see defer_candidates), which evaluates only those that may
// still win: about one exact evaluation a row instead of one a chunk.
layout(constant_id = 12) const bool DEFER = false;
// Whether the workgroup's argmax takes one shared round (each subgroup's
// best, after shuffles, read by every thread) and a pair of rows reduces and
// finishes together (else a tree in shared memory per row: more barriers).
layout(constant_id = 13) const bool FEW_BARRIERS = false;
const uint SLOTS = 7u;
// A chunk's record in `partial` (uvec2s): its header, then (DEFER) SLOTS
// candidates. Header: (value bits, RESOLVED | index) for a chunk drawn
// itself; (reached bits, candidate count) for a deferred one.
const uint RECORD = DEFER ? 1u + SLOTS : 1u;
const uint RESOLVED = 0x80000000u;
const uint WG = gl_WorkGroupSize.x;

// Chunk results, coherent: the row's last workgroup reads what the others
// wrote.
layout(buffer_reference, std430, buffer_reference_align = 8) coherent buffer Partial { uvec2 v; };

shared float best_value[WG];
shared uint best_index[WG];
shared float best_value2[WG];
shared uint best_index2[WG];
shared bool is_last2;
shared bool is_last;
// DEFER: per row of a pair, the chunk's candidate count and whether any is
// on the exact path
shared uint defer_count[2];
shared uint defer_exact[2];

uint64_t record_at(uint64_t r, uint c, uint slot) {
  return pc.partial + ((r * uint64_t(pc.chunks) + uint64_t(c)) * uint64_t(RECORD) + uint64_t(slot)) * 8ul;
}

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

// The argmax rule over a subgroup (every lane ends with the result).
void subgroup_best(inout float v, inout uint vi) {
  for (uint d = gl_SubgroupSize / 2; d > 0; d /= 2) {
    float ov = subgroupShuffleXor(v, d);
    uint oi = subgroupShuffleXor(vi, d);
    offer(v, vi, ov, oi);
  }
}

// The workgroup's best candidate into every thread's (v, vi). FEW_BARRIERS
// (with shuffles): each subgroup's best through shared memory, one round.
void workgroup_best(inout float v, inout uint vi) {
  if (!(SHUFFLE && FEW_BARRIERS)) {
    reduce_best(v, vi);
    v = best_value[0];
    vi = best_index[0];
    barrier();
    return;
  }
  subgroup_best(v, vi);
  if (subgroupElect()) {
    best_value[gl_SubgroupID] = v;
    best_index[gl_SubgroupID] = vi;
  }
  barrier();
  for (uint i = 0u; i < gl_NumSubgroups; ++i) offer(v, vi, best_value[i], best_index[i]);
  barrier();
}

// The same for two candidates at once (a pair of rows), in one round.
void workgroup_best2(inout float v, inout uint vi, inout float v2, inout uint vi2) {
  subgroup_best(v, vi);
  subgroup_best(v2, vi2);
  if (subgroupElect()) {
    best_value[gl_SubgroupID] = v;
    best_index[gl_SubgroupID] = vi;
    best_value2[gl_SubgroupID] = v2;
    best_index2[gl_SubgroupID] = vi2;
  }
  barrier();
  for (uint i = 0u; i < gl_NumSubgroups; ++i) {
    offer(v, vi, best_value[i], best_index[i]);
    offer(v2, vi2, best_value2[i], best_index2[i]);
  }
  barrier();
}

// The exact z of a token (its scaled logit exactly, -inf under the cut).
float exact_z(float x, float t, float cut, uint bits) {
  float s = fdiv(x, t);
  return s < cut ? -F_INF : s + gumbel_noise(bits);
}

// Sweep one of a token (see draw_chunk): the upper bound of its z (-inf
// where it surely cannot win: past the chunk, surely under the cut);
// raises `reached` to its lower bound where it is surely kept; `exact`:
// NaN or infinite sa, or u = 0, take the exact path.
float token_bound(float sa, uint bits, float cut, bool valid, inout float reached, out bool exact) {
  float g = gumbel_noise_approx(bits);
  float e = approx_margin(sa);
  bool finite = !isnan(sa) && !isinf(sa) && bits != 0u;
  bool cut_off = sa + e < cut, kept = sa - e >= cut;
  float margin = abs(sa) * 1e-5 + 2.0 * NOISE_ERROR;
  float z = sa + g;
  if (valid && finite && kept) reached = max(reached, z - margin);
  exact = valid && !finite;
  return valid && finite && !cut_off ? z + margin : -F_INF;
}

float subgroup_max(float v) {
  if (SHUFFLE) {
    for (uint d = gl_SubgroupSize / 2u; d > 0u; d /= 2u) v = max(v, subgroupShuffleXor(v, d));
  }
  return v;
}

// The largest of the threads' a (and b) over the subgroup, or over the
// workgroup (WORKGROUP_REACHED: subgroup maxima through shared memory, or a
// tree there without subgroup shuffles). -inf where none.
shared vec2 reach_slots[WG];
vec2 reached_max(float a, float b) {
  a = subgroup_max(a);
  b = subgroup_max(b);
  if (!WORKGROUP_REACHED) return vec2(a, b);
  const uint tid = gl_LocalInvocationID.x;
  if (SHUFFLE) {
    if (subgroupElect()) reach_slots[gl_SubgroupID] = vec2(a, b);
    barrier();
    vec2 m = vec2(-F_INF);
    for (uint i = 0u; i < gl_NumSubgroups; ++i) m = max(m, reach_slots[i]);
    barrier();
    return m;
  }
  reach_slots[tid] = vec2(a, b);
  barrier();
  for (uint h = WG / 2u; h > 0u; h /= 2u) {
    if (tid < h) reach_slots[tid] = max(reach_slots[tid], reach_slots[tid + h]);
    barrier();
  }
  vec2 m = reach_slots[0];
  barrier();
  return m;
}

// Where a chunk's tokens take their words of the key's stream (stream_word):
// all from the first half (word x of the hash of counter (i, i + second)),
// all from the second (word y of (i - second, i)), or either (per token).
const uint WORDS_X = 0u;
const uint WORDS_Y = 1u;
const uint WORDS_EITHER = 2u;
uint chunk_words(uint64_t r, uint j0, uint j1, uint64_t words) {
  uint64_t lo = r * uint64_t(pc.V) + j0, hi = r * uint64_t(pc.V) + j1 - 1u, half_n = words / 2ul;
  if (hi < half_n) return WORDS_X;
  if (lo >= words - half_n && lo != half_n) return WORDS_Y;
  return WORDS_EITHER;
}
// The word of token j (counter index ci = its stream index, truncated as the
// hash's counters are).
uint token_word(uvec2 key, uint mode, uint ci, uint second, uint64_t r, uint j, uint64_t words) {
  if (mode == WORDS_X) return threefry2x32(key, uvec2(ci, ci + second)).x;
  if (mode == WORDS_Y) return threefry2x32(key, uvec2(ci - second, ci)).y;
  return stream_word(key, r * uint64_t(pc.V) + j, words);
}

// Sweep two (see draw_chunk): bit n of the result set where token n may win
// (its up reaches the subgroup's `reached`) or takes the exact path.
uint candidates_of(float up[PER], uint exact, float reached) {
  uint mask = exact;
  [[unroll]] for (uint n = 0u; n < PER; ++n) mask |= up[n] != -F_INF && up[n] >= reached ? 1u << n : 0u;
  return mask;
}

// Sweep three: the exact z of the thread's candidates of row r (bits of
// `mask`), into (v, vi).
void draw_candidates(uvec2 key, uint64_t words, uint64_t r, uint j0, float t, float cut, uint mask,
                     inout float v, inout uint vi) {
  while (mask != 0u) {
    uint n = uint(findLSB(mask));
    mask &= mask - 1u;
    uint j = j0 + gl_LocalInvocationID.x + n * WG;
    offer(v, vi, exact_z(logit(r, j), t, cut, stream_word(key, r * uint64_t(pc.V) + j, words)), j);
  }
}

// The workgroup's best of the threads' (v, vi); a thread starts from its
// first token at -inf (the argmax of a chunk whose tokens are all -inf).
void chunk_best(float v, uint vi, out float bv, out uint bi) {
  workgroup_best(v, vi);
  bv = v;
  bi = RESOLVED | vi;
}

// DEFER (rows of several chunks): whether chunk c of row r (the pair's row
// p) leaves its candidates (bits of `mask`, upper bounds `up`) to the row's
// last workgroup: at most SLOTS of them and none on the exact path
// (`exact`); they then go to the chunk's record, and (reached, count) is
// the chunk's result. Every thread calls it.
bool defer_candidates(uint64_t r, uint c, uint p, uint j0, float up[PER], uint mask, uint exact, float reached,
                      out float bv, out uint bi) {
  if (!DEFER || pc.chunks == 1u) return false;
  uint slot = mask != 0u ? atomicAdd(defer_count[p], bitCount(mask)) : 0u;
  if (exact != 0u) atomicOr(defer_exact[p], 1u);
  barrier();
  const uint count = defer_count[p];
  if (count > SLOTS || defer_exact[p] != 0u) return false;
  [[unroll]] for (uint n = 0u; n < PER; ++n) {
    if ((mask & (1u << n)) == 0u) continue;
    Partial(record_at(r, c, 1u + slot)).v = uvec2(floatBitsToUint(up[n]), j0 + gl_LocalInvocationID.x + n * WG);
    ++slot;
  }
  bv = reached;
  bi = count;
  return true;
}

void reset_defer() {
  if (DEFER && gl_LocalInvocationID.x == 0u) {
    defer_count[0] = 0u;
    defer_count[1] = 0u;
    defer_exact[0] = 0u;
    defer_exact[1] = 0u;
  }
}

// Draws chunk [j0, j1) of row r (T != 0). The exact z = x / t + noise takes
// a float64 division and float64 logs; cheap bounds leave it to the few
// tokens that may win. Sweep one: each token's threefry bits,
// sa = x * (1 / t) (within 1e-5 of s) and the approximate noise (within
// NOISE_ERROR) bound its z in [lo, up]; the workgroup's largest lo is a z
// that some token surely reaches. Sweep two: the tokens whose up reaches it
// (about one a workgroup), and NaN and infinite ones, are candidates; every
// other token's z is smaller than that token's. Sweep three: the
// candidates' exact z. The first two sweeps are straight-line code over PER
// tokens a thread (their loads issued together) and hold no float64 state.
// A thread's PER logits of chunk [j0, j1) of row r (0 past j1), loaded
// together.
void load_chunk(uint64_t r, uint j0, uint j1, out float x[PER]) {
  const uint j = j0 + gl_LocalInvocationID.x;
  const uint64_t a0 = thread_logits(r, j), step = logits_step(WG);
  [[unroll]] for (uint n = 0u; n < PER; ++n) x[n] = j + n * WG < j1 ? load_float(DT, a0 + n * step) : 0.0;
}

void draw_chunk(uvec2 key, uint64_t words, uint64_t r, uint c, uint j0, uint j1, float t, float cut,
                float x[PER], out float bv, out uint bi) {
  const uint tid = gl_LocalInvocationID.x;
  const float rt = reciprocal(t);
  reset_defer();
  const uint mode = chunk_words(r, j0, j1, words), second = uint(words - words / 2ul);
  const uint c0 = uint(r * uint64_t(pc.V)) + j0 + tid;
  float up[PER];
  float reached = -F_INF;
  uint exact = 0u;
  [[unroll]] for (uint n = 0u; n < PER; ++n) {
    uint j = j0 + tid + n * WG;
    bool ex;
    uint bits = token_word(key, mode, c0 + n * WG, second, r, j, words);
    up[n] = token_bound(x[n] * rt, bits, cut, j < j1, reached, ex);
    exact |= ex ? 1u << n : 0u;
  }
  reached = reached_max(reached, -F_INF).x;
  uint mask = candidates_of(up, exact, reached);
  if (defer_candidates(r, c, 0u, j0, up, mask, exact, reached, bv, bi)) return;
  float v = -F_INF;
  uint vi = j0 + tid < j1 ? j0 + tid : 0xffffffffu;
  draw_candidates(key, words, r, j0, t, cut, mask, v, vi);
  chunk_best(v, vi, bv, bi);
}

// The same chunk of rows r and r + rows / 2 (rows even): their tokens' words
// are the two of one threefry hash, so one hash serves both.
void draw_chunk_pair(uvec2 key, uint64_t words, uint64_t r, uint c, uint j0, uint j1, float t, float cut,
                     float t2, float cut2, float x[PER], float x2[PER], out float bv, out uint bi, out float bv2,
                     out uint bi2) {
  const uint tid = gl_LocalInvocationID.x;
  reset_defer();
  const uint64_t r2 = r + uint64_t(pc.rows / 2u);
  const uint second = uint(words / 2ul), c0 = uint(r * uint64_t(pc.V)) + j0 + tid;
  const float rt = reciprocal(t), rt2 = reciprocal(t2);
  float up[PER], up2[PER];
  float reached = -F_INF, reached2 = -F_INF;
  uint exact = 0u, exact2 = 0u;
  [[unroll]] for (uint n = 0u; n < PER; ++n) {
    bool valid = j0 + tid + n * WG < j1, ex, ex2;
    uint ci = c0 + n * WG;
    uvec2 bits = threefry2x32(key, uvec2(ci, ci + second));
    up[n] = token_bound(x[n] * rt, bits.x, cut, valid, reached, ex);
    up2[n] = token_bound(x2[n] * rt2, bits.y, cut2, valid, reached2, ex2);
    exact |= ex ? 1u << n : 0u;
    exact2 |= ex2 ? 1u << n : 0u;
  }
  const vec2 both = reached_max(reached, reached2);
  uint mask = candidates_of(up, exact, both.x);
  uint mask2 = candidates_of(up2, exact2, both.y);
  const bool deferred = defer_candidates(r, c, 0u, j0, up, mask, exact, both.x, bv, bi);
  const bool deferred2 = defer_candidates(r2, c, 1u, j0, up2, mask2, exact2, both.y, bv2, bi2);
  float v = -F_INF, v2 = -F_INF;
  uint vi = j0 + tid < j1 ? j0 + tid : 0xffffffffu, vi2 = vi;
  if (SHUFFLE && FEW_BARRIERS && !deferred && !deferred2) {
    draw_candidates(key, words, r, j0, t, cut, mask, v, vi);
    draw_candidates(key, words, r2, j0, t2, cut2, mask2, v2, vi2);
    workgroup_best2(v, vi, v2, vi2);
    bv = v;
    bi = RESOLVED | vi;
    bv2 = v2;
    bi2 = RESOLVED | vi2;
    return;
  }
  if (!deferred) {
    draw_candidates(key, words, r, j0, t, cut, mask, v, vi);
    chunk_best(v, vi, bv, bi);
  }
  if (!deferred2) {
    draw_candidates(key, words, r2, j0, t2, cut2, mask2, v2, vi2);
    chunk_best(v2, vi2, bv2, bi2);
  }
}

// The argmax of row r's logits over [j0, j1) (T = 0).
void argmax_chunk(uint64_t r, uint j0, uint j1, out float bv, out uint bi) {
  float v = -F_INF;
  uint vi = 0xffffffffu;
  for (uint j = j0 + gl_LocalInvocationID.x; j < j1; j += WG) offer(v, vi, logit(r, j), j);
  chunk_best(v, vi, bv, bi);
}

// Chunk c of row r drawn (bv, bi: see RECORD): a row of one chunk writes
// its id; else the chunk's result goes to its record, and the row's last
// workgroup to finish (the row's counter in the stream's SampleSync, reset
// for the next call) combines them: the largest of the chunks' reached
// values and drawn z is a z some token reaches, so only deferred candidates
// whose upper bound reaches it need their exact z.
// The row's last workgroup: its id from the chunks' records.
void combine_chunks(uvec2 key, uint64_t words, uint64_t r, float t, float cut) {
  const uint tid = gl_LocalInvocationID.x;
  memoryBarrierBuffer();
  float reached = -F_INF;
  if (DEFER) {
    for (uint i = tid; i < pc.chunks; i += WG) {
      float h = uintBitsToFloat(Partial(record_at(r, i, 0u)).v.x);
      if (!isnan(h)) reached = max(reached, h);
    }
    reached = reached_max(reached, -F_INF).x;
  }
  float v = -F_INF;
  uint vi = 0xffffffffu;
  for (uint i = tid; i < pc.chunks; i += WG) {
    uvec2 h = Partial(record_at(r, i, 0u)).v;
    if (!DEFER || (h.y & RESOLVED) != 0u) {
      offer(v, vi, uintBitsToFloat(h.x), h.y & ~RESOLVED);
      continue;
    }
    offer(v, vi, -F_INF, i * pc.chunk);  // the chunk's argmax where all its z are -inf
    for (uint slot = 1u; slot <= h.y; ++slot) {
      uvec2 e = Partial(record_at(r, i, slot)).v;
      if (!(uintBitsToFloat(e.x) >= reached)) continue;
      offer(v, vi, exact_z(logit(r, e.y), t, cut, stream_word(key, r * uint64_t(pc.V) + e.y, words)), e.y);
    }
  }
  workgroup_best(v, vi);
  if (tid == 0u) {
    write_id(r, vi);
    SampleSync(pc.sync).done[uint(r)] = 0u;
  }
}

void finish_chunk(uvec2 key, uint64_t words, uint64_t r, uint c, float t, float cut, float bv, uint bi) {
  const uint tid = gl_LocalInvocationID.x;
  if (pc.chunks == 1u) {
    if (tid == 0u) write_id(r, bi & ~RESOLVED);
    return;
  }
  if (tid == 0u) Partial(record_at(r, c, 0u)).v = uvec2(floatBitsToUint(bv), bi);
  // the chunk's record before the counter (release); the last workgroup's
  // reads after it (acquire)
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(SampleSync(pc.sync).done[uint(r)], 1u) == pc.chunks - 1u;
  barrier();
  if (!is_last) return;
  combine_chunks(key, words, r, t, cut);
  barrier();
}

// finish_chunk for chunk c of rows r and r2 at once (FEW_BARRIERS): both
// records, then both counters, in one round.
void finish_pair(uvec2 key, uint64_t words, uint64_t r, uint64_t r2, uint c, float t, float cut, float t2,
                 float cut2, float bv, uint bi, float bv2, uint bi2) {
  const uint tid = gl_LocalInvocationID.x;
  if (pc.chunks == 1u) {
    if (tid == 0u) {
      write_id(r, bi & ~RESOLVED);
      write_id(r2, bi2 & ~RESOLVED);
    }
    return;
  }
  if (tid == 0u) {
    Partial(record_at(r, c, 0u)).v = uvec2(floatBitsToUint(bv), bi);
    Partial(record_at(r2, c, 0u)).v = uvec2(floatBitsToUint(bv2), bi2);
  }
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) {
    is_last = atomicAdd(SampleSync(pc.sync).done[uint(r)], 1u) == pc.chunks - 1u;
    is_last2 = atomicAdd(SampleSync(pc.sync).done[uint(r2)], 1u) == pc.chunks - 1u;
  }
  barrier();
  const bool last = is_last, last2 = is_last2;
  if (last) combine_chunks(key, words, r, t, cut);
  if (last2) combine_chunks(key, words, r2, t2, cut2);
  if (last || last2) barrier();
}

// Chunk c of row r, by itself.
void draw_one(uvec2 key, uint64_t words, uint64_t r, uint c) {
  if (SKIP_DONE && row_state(r).path == PATH_DONE) return;
  uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk), bi;
  float x[PER];
  float t = row_temperature(r), bv;
  float cut = row_cut(r);
  if (t == 0.0) {
    argmax_chunk(r, j0, j1, bv, bi);
  } else {
    load_chunk(r, j0, j1, x);
    draw_chunk(key, words, r, c, j0, j1, t, cut, x, bv, bi);
  }
  finish_chunk(key, words, r, c, t, cut, bv, bi);
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  // a runtime 1 (V > 0): threefry's additions become multiply-adds on
  // NVIDIA's FMA pipe (threefry.glsl)
  threefry_one = uint(pc.V != 0u);
  const uvec2 key = load_key(pc.key, int64_t(pc.key_step));
  const uint64_t words = uint64_t(pc.rows) * uint64_t(pc.V);
  if (ROW_PER_THREAD) {  // (noise_bound's float64 logs only here)
    draw_rows(key, words, noise_bound());
    return;
  }
  // PAIRED: a workgroup draws a chunk of rows r and r + rows / 2
  const uint64_t units = uint64_t(PAIRED ? pc.rows / 2u : pc.rows) * uint64_t(pc.chunks);
  for (uint64_t w = gl_WorkGroupID.x; w < units; w += gl_NumWorkGroups.x) {
    uint64_t r;
    uint c;
    split_unit(w, pc.chunks, r, c);
    if (!PAIRED) {
      draw_one(key, words, r, c);
      continue;
    }
    const uint64_t r2 = r + uint64_t(pc.rows / 2u);
    float t = row_temperature(r), t2 = row_temperature(r2);
    bool both = t != 0.0 && t2 != 0.0 &&
                !(SKIP_DONE && (row_state(r).path == PATH_DONE || row_state(r2).path == PATH_DONE));
    if (!both) {
      draw_one(key, words, r, c);
      draw_one(key, words, r2, c);
      continue;
    }
    uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk), bi, bi2;
    float bv, bv2, cut = row_cut(r), cut2 = row_cut(r2);
    float x[PER], x2[PER];
    load_chunk(r, j0, j1, x);
    load_chunk(r2, j0, j1, x2);
    draw_chunk_pair(key, words, r, c, j0, j1, t, cut, t2, cut2, x, x2, bv, bi, bv2, bi2);
    if (FEW_BARRIERS) {
      finish_pair(key, words, r, r2, c, t, cut, t2, cut2, bv, bi, bv2, bi2);
    } else {
      finish_chunk(key, words, r, c, t, cut, bv, bi);
      finish_chunk(key, words, r2, c, t2, cut2, bv2, bi2);
    }
  }
}
