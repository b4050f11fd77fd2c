// GumbelSample's top-p thresholds for calls whose top-k is off in every row
// (GumbelSample::no_top_k) with rows split across workgroups: three lean
// dispatches (few registers, no other path compiled in), `chunks`
// workgroups a row, the row's last workgroup (a counter in the stream's
// SampleSync) deciding for the next dispatch. With s = logits / T and m the
// row's largest s, a token's mass is floor(exp(s - m) * 2^32) (the plain
// composition's fixed point, exact in any order); the cut is the smallest s
// whose mass above it is < p * total (sampling_threshold.comp's radix search
// finds the same value). Masses are binned by u = m - s (the mass's own
// subtraction, monotone in s), BIN_SCALE bins per unit: ties share a bin and
// every bin is an interval of s.
// - MODE_MAX: the chunk's largest s and its share of zeroing the row's bins;
//   chunk 0 sets the row up (rows with T = 0 or top_p = 1: cut -inf, done).
// - MODE_MASS: every token's exact s and mass into BINS_P shared bins (in
//   16-bit parts, no carries), added to the row's (split at bit 24, so that
//   plain atomic adds never carry); tokens surely without mass (u >=
//   ZERO_MASS_U) skip the division: they are never kept nor the cut. The
//   row's last workgroup picks the crossing bin: the last (in decreasing s)
//   whose mass above is < p * total.
// - MODE_LIST: the crossing bin's tokens listed (the others screened by
//   sa = x * (1 / T) -+ a margin, which bounds u); the row's last workgroup
//   takes the cut among them by a radix select on their order keys, the
//   mass above the bin carried in: the smallest s whose mass above is
//   < p * total. A bin of more than CANDIDATES tokens (ties, or a flat row
//   at a high T) flags the row (PATH_RADIX) for the whole-row search
//   (sampling_threshold.comp's MODE_WHOLE_ROW with ONLY_FLAGGED, the
//   dispatch after).
// Rows with a NaN or infinite largest s need no cut (the draw takes the
// first NaN or +inf, or all of an all -inf row): cut -inf.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "sampling.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0u;
const uint MODE_MAX = 1u;
const uint MODE_MASS = 2u;
const uint MODE_LIST = 3u;

// Bins of u = m - s: BIN_SCALE per unit (a power of two: u * BIN_SCALE is
// exact), BINS_P of them (the shared arrays' size, within lavapipe's 32 KiB),
// so u < 16; the last bin takes every larger u. A token with mass has
// u < 22.2 (exp(-22.2) * 2^32 < 1); those past 16 weigh under exp(-16) of
// the largest each: the crossing lies among them only for a top_p close to
// 1 over a long tail, whose bin then holds more than CANDIDATES tokens and
// sends the row to the whole-row search.
const uint BINS_P = BINS;
const float BIN_SCALE = 128.0;
const float ZERO_MASS_U = 24.0;
#include "sampling_workgroup.glsl"

// A row's bins in its histogram area: two words each, the sum of the
// chunks' masses split at bit 24 (lo: bits 0-23 of each chunk's sum, hi:
// the rest): at most 256 chunks of at most 16384 tokens (kTopPMaxChunks and
// kTopPMaxChunk, kernels/sampling.cpp) never carry out of a word.
const uint BIN_WORDS = 2u * BINS_P;

// The bin of a token whose s - m is d.
uint bin_of(float d) {
  float w = -d * BIN_SCALE;
  return w >= float(BINS_P - 1u) ? BINS_P - 1u : (w > 0.0 ? uint(w) : 0u);
}

// A chunk's bins: the masses' bits 0-15 summed in mass_lo, the rest in
// mass_hi, by plain atomic adds that never carry (a chunk's at most 16384
// tokens add under 2^30 to each word). (The carry trick of
// add_mass_shared, the old value an atomic add returns telling whether it
// wrapped, summed one 2^32 too many into a bin on the H100 where a token
// of mass 2^32 shared it; sessions 5 and 6 met the fault without finding it.)
void add_mass_parts(uint b, uint64_t q) {
  atomicAdd(mass_lo[b], uint(q) & 0xffffu);
  atomicAdd(mass_hi[b], uint(q >> 16));
}
uint64_t chunk_bin_mass(uint b) { return (uint64_t(mass_hi[b]) << 16) + uint64_t(mass_lo[b]); }
// The row's bins once loaded: 64-bit masses, low and high words.
uint64_t bin_mass(uint b) { return (uint64_t(mass_hi[b]) << 32) | uint64_t(mass_lo[b]); }

// Every thread's exclusive prefix of the per-thread sums `mine` (in thread
// order); grand_total gets their sum and pick_top 0. Every thread calls it.
uint64_t thread_prefix(uint64_t mine) {
  const uint tid = gl_LocalInvocationID.x;
  scan[tid] = mine;
  if (tid == 0u) pick_top = 0u;
  barrier();
  for (uint off = 1u; off < WG; off <<= 1) {
    uint64_t x = scan[tid];
    if (tid >= off) x += scan[tid - off];
    barrier();
    scan[tid] = x;
    barrier();
  }
  if (tid == WG - 1u) grand_total = scan[tid];
  const uint64_t before = scan[tid] - mine;
  barrier();
  return before;
}

void max_pass(uint64_t r, uint c, Row row) {
  const uint tid = gl_LocalInvocationID.x;
  RowState st = row_state(r);
  if (!row.on_p) {
    if (c == 0u && tid == 0u) {
      st.cut = -F_INF;
      st.path = PATH_CUT;
    }
    return;
  }
  const uint j0 = c * pc.chunk;
  const float m = range_max(r, j0, min(pc.V, j0 + pc.chunk), row.t);
  if (tid == 0u) Ptr32(slice_maxima(r) + uint64_t(c) * 4ul).v = floatBitsToUint(m);
  const uint per = (BIN_WORDS + pc.chunks - 1u) / pc.chunks;
  Words h = Words(histograms(r));
  for (uint i = c * per + tid; i < min(BIN_WORDS, (c + 1u) * per); i += WG) h.v[i] = 0u;
  if (c == 0u && tid == 0u) {
    st.cut = -F_INF;
    st.path = PATH_TOP_P;
    st.candidates = 0u;
  }
}

// The row's largest s, from the slices' (every thread calls it).
float row_max(uint64_t r) {
  float mm = -F_INF;
  for (uint i = gl_LocalInvocationID.x; i < pc.chunks; i += WG) {
    mm = max_of(mm, uintBitsToFloat(Ptr32(slice_maxima(r) + uint64_t(i) * 4ul).v));
  }
  return workgroup_max(mm);
}

// The row's bins into the shared bins (64-bit masses).
void load_row_bins(Words h) {
  for (uint b = gl_LocalInvocationID.x; b < BINS_P; b += WG) {
    uint64_t w = (uint64_t(shared_word(h, 2u * b + 1u)) << 24) + uint64_t(shared_word(h, 2u * b));
    mass_lo[b] = uint(w);
    mass_hi[b] = uint(w >> 32);
  }
  barrier();
}

// Over the shared bins [0, nbins) in order of decreasing s: the last used
// bin whose weight above (base + the weights of the bins before it) is
// < p * total, where a `total` of 0 stands for the bins' sum (a row's first
// pick). Weights: the loaded row bins (used: weight != 0), or (`parts`) a
// workgroup's 16-bit parts with counts marking the used bins. Sets picked,
// picked_above and grand_total (the total); every thread calls it. (The
// first used bin qualifies when base is under the limit, as every crossing
// bin's is.)
uint64_t weight_of(uint b, bool parts) { return parts ? chunk_bin_mass(b) : bin_mass(b); }
void pick_last_under(uint nbins, bool parts, uint64_t base, uint64_t total, float p) {
  const uint tid = gl_LocalInvocationID.x;
  const uint per = (nbins + WG - 1u) / WG, b0 = min(nbins, tid * per), b1 = min(b0 + per, nbins);
  uint64_t mine = 0ul;
  for (uint b = b0; b < b1; ++b) mine += weight_of(b, parts);
  const uint64_t before = base + thread_prefix(mine);
  if (total == 0ul) total = grand_total;
  const limit_t limit = limit_t(total) * limit_t(p);
  uint64_t acc = before;
  for (uint b = b0; b < b1; ++b) {
    const uint64_t w = weight_of(b, parts);
    const bool used = parts ? counts[b] != 0u : w != 0ul;
    if (used && limit_t(acc) < limit) atomicMax(pick_top, b + 1u);
    acc += w;
  }
  barrier();
  const uint chosen = max(pick_top, 1u) - 1u;
  if (chosen >= b0 && chosen < b1) {
    uint64_t above = before;
    for (uint b = b0; b < chosen; ++b) above += weight_of(b, parts);
    picked = chosen;
    picked_above = above;
    grand_total = total;
  }
  barrier();
}

void mass_token(float x, float rt, float t, float m) {
  const float sa = x * rt;
  if (!isnan(sa) && -((sa + approx_margin(sa)) - m) >= ZERO_MASS_U) return;
  precise float d = div_by(x, t, rt) - m;
  const uint64_t q = mass_at(d);
  if (q != 0ul) add_mass_parts(bin_of(d), q);
}

void mass_pass(uint64_t r, uint c, Row row) {
  const uint tid = gl_LocalInvocationID.x;
  if (!row.on_p) return;
  RowState st = row_state(r);
  const uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk);
  // the first tokens' loads in flight while the row's maximum is read
  float xs[THREAD_TOKENS];
  load_thread_tokens(r, j0, min(j1, j0 + THREAD_TOKENS * WG), WG, xs);
  const float m = row_max(r);
  if (isnan(m) || isinf(m)) {
    if (c == 0u && tid == 0u) st.path = PATH_CUT;
    return;
  }
  for (uint b = tid; b < BINS_P; b += WG) {
    mass_lo[b] = 0u;
    mass_hi[b] = 0u;
  }
  barrier();
  const float rt = reciprocal(row.t);
  for (uint jb = j0; jb < j1; jb += THREAD_TOKENS * WG) {
    const uint je = min(j1, jb + THREAD_TOKENS * WG);
    if (jb != j0) load_thread_tokens(r, jb, je, WG, xs);
    // (unrolled: a loop would index the register array, in local memory)
    [[unroll]] for (uint n = 0u; n < THREAD_TOKENS; ++n) {
      if (thread_token(jb, n, WG) < je) mass_token(xs[n], rt, row.t, m);
    }
  }
  barrier();
  Words h = Words(histograms(r));
  for (uint b = tid; b < BINS_P; b += WG) {
    const uint64_t sum = chunk_bin_mass(b);
    if (sum == 0ul) continue;
    atomicAdd(h.v[2u * b], uint(sum) & 0xffffffu);
    atomicAdd(h.v[2u * b + 1u], uint(sum >> 24));
  }
  if (!last_of_row(r)) return;
  load_row_bins(h);
  pick_last_under(BINS_P, false, 0ul, 0ul, row.p);
  if (tid == 0u) {
    st.top = m;
    st.total = grand_total;
    st.prefix_p[0] = picked;
    st.above_p[0] = picked_above;
    st.candidates = 0u;
  }
}

// The cut from the row's `total` listed tokens (the crossing bin's, whose
// mass above is above_p[0]): a radix select on their order keys (digits of
// DIGIT_BITS, most significant first, each a pick_last_under over the
// digit's bins in decreasing order), as the CPU kernel's over a whole row.
// The tokens' keys and masses stay in registers, CANDIDATES / WG a thread.
const uint DIGIT_BITS = 8u;
const uint DIGIT_BINS = 1u << DIGIT_BITS;
const uint HELD = CANDIDATES / WG;
void resolve(uint64_t r, Row row, RowState st, uint total) {
  const uint tid = gl_LocalInvocationID.x;
  const float m = st.top;
  Words list = Words(candidate_area(r));
  uint keys[HELD];
  uint64_t masses[HELD];
  [[unroll]] for (uint i = 0u; i < HELD; ++i) {
    const uint at = tid + i * WG;
    const float s = at < total ? scaled(r, shared_word(list, at), row.t) : 0.0;
    keys[i] = at < total ? order_key(s) : 0u;  // (0: no token's key)
    masses[i] = at < total ? mass_of(s, m) : 0ul;
  }
  uint prefix = 0u, decided = 0u;
  uint64_t base = st.above_p[0];
  for (int shift = int(32u - DIGIT_BITS); shift >= 0; shift -= int(DIGIT_BITS)) {
    for (uint b = tid; b < DIGIT_BINS; b += WG) {
      counts[b] = 0u;
      mass_lo[b] = 0u;
      mass_hi[b] = 0u;
    }
    barrier();
    // bin DIGIT_BINS - 1 - digit: bins in decreasing order of keys
    [[unroll]] for (uint i = 0u; i < HELD; ++i) {
      if (keys[i] == 0u || (keys[i] & decided) != prefix) continue;
      const uint b = DIGIT_BINS - 1u - ((keys[i] >> uint(shift)) & (DIGIT_BINS - 1u));
      atomicAdd(counts[b], 1u);
      add_mass_parts(b, masses[i]);
    }
    barrier();
    pick_last_under(DIGIT_BINS, true, base, st.total, row.p);
    prefix |= (DIGIT_BINS - 1u - picked) << uint(shift);
    decided |= (DIGIT_BINS - 1u) << uint(shift);
    base = picked_above;
  }
  if (tid == 0u) {
    st.cut = key_value(prefix);
    st.path = PATH_CUT;
  }
}

void list_pass(uint64_t r, uint c, Row row) {
  const uint tid = gl_LocalInvocationID.x;
  RowState st = row_state(r);
  if (!row.on_p || st.path != PATH_TOP_P) return;
  const uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk);
  float xs[THREAD_TOKENS];
  load_thread_tokens(r, j0, min(j1, j0 + THREAD_TOKENS * WG), WG, xs);
  const float m = st.top;
  const uint want = st.prefix_p[0];
  const float want_lo = float(want), want_hi = want == BINS_P - 1u ? F_INF : float(want + 1u);
  if (tid == 0u) local_count = 0u;
  barrier();
  const float rt = reciprocal(row.t);
  for (uint jb = j0; jb < j1; jb += THREAD_TOKENS * WG) {
    const uint je = min(j1, jb + THREAD_TOKENS * WG);
    if (jb != j0) load_thread_tokens(r, jb, je, WG, xs);
    // the tokens that may lie in the bin (bits of `maybe`: s lies in
    // [sa - e, sa + e], so w = -(s - m) * BIN_SCALE in [w_lo, w_hi], and
    // bin_of is under `want` exactly where w < want, over it where w >=
    // want + 1: float compares, no float-to-integer conversions, which cost
    // the H100 0.035 ms at 64 x 262144), then their exact bins: about one
    // token in 500 of a language model's or a normal row, loaded again
    // rather than indexed in the register array (a loop over it would put
    // the array in local memory)
    uint maybe = 0u;
    [[unroll]] for (uint n = 0u; n < THREAD_TOKENS; ++n) {
      const float sa = xs[n] * rt, e = approx_margin(sa);
      const bool sure = !isnan(sa) && !isinf(sa);
      const float w_lo = -((sa + e) - m) * BIN_SCALE, w_hi = -((sa - e) - m) * BIN_SCALE;
      const bool outside = sure && (w_hi < want_lo || w_lo >= want_hi);
      maybe |= thread_token(jb, n, WG) < je && !outside ? 1u << n : 0u;
    }
    while (maybe != 0u) {
      const uint n = uint(findLSB(maybe)), j = thread_token(jb, n, WG);
      maybe &= maybe - 1u;
      precise float d = div_by(logit(r, j), row.t, rt) - m;
      if (bin_of(d) == want) list_candidate(j);
    }
  }
  flush_candidates(r, st);
  if (!last_of_row(r)) return;
  const uint total = atomicAdd(st.candidates, 0u);
  if (total > CANDIDATES) {
    if (tid == 0u) st.path = PATH_RADIX;
    return;
  }
  resolve(r, row, st, total);
}

void main() {
  const uint64_t groups = uint64_t(pc.rows) * uint64_t(pc.chunks);
  for (uint64_t w = gl_WorkGroupID.x; w < groups; w += gl_NumWorkGroups.x) {
    uint64_t r;
    uint c;
    split_unit(w, pc.chunks, r, c);
    Row row = row_params(r);
    if (MODE == MODE_MAX) {
      max_pass(r, c, row);
    } else if (MODE == MODE_MASS) {
      mass_pass(r, c, row);
    } else {
      list_pass(r, c, row);
    }
    barrier();  // shared memory is reused by the next group
  }
}
