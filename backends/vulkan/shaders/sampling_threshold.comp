// GumbelSample's filtering thresholds (filtered calls only). Per row, on
// s = logits / T, the top-k threshold is the smallest value v of the row with
// count(s > v) < k and the top-p one the smallest v with mass(s > v) <
// p * total, mass being floor(exp(s - max) * 2^32) in integers (the plain
// composition's fixed point, exact in any order). Both are found by a radix
// select on the values' order keys, digits of 11, 11 and 10 bits, exactly as
// the CPU kernel's (which uses 8-bit digits; the choice is the same value).
// The cut is max(top-k, top-p threshold), -inf when both are off or T = 0.
//
// MODE_WHOLE_ROW (rows of one workgroup's chunk): a workgroup per row does
// every digit in shared memory. Otherwise a row is split across `chunks`
// workgroups, in 2 + DIGITS dispatches:
// - MODE_BOUND: every row's path (RowState.path, below). A radix row's
//   workgroups zero their share of the row's histograms and counters and
//   write their slice's maximum of s (top-p rows);
// - MODE_COMPACT: the candidates path's second pass (below);
// - MODE_DIGIT (digit d): each workgroup builds its slice's histogram of the
//   tokens under the prefixes chosen so far in shared memory and adds it to
//   the row's histogram with global atomics; the row's last workgroup to
//   finish (a counter) reads the row's histogram, picks the digit with a
//   parallel suffix scan and writes the new prefix (and, after the last
//   digit, the cut) for the next dispatch. No host round trip.
//
// Top-k rows without top-p (T > 0) take the candidates path, which leaves
// the radix passes nothing to do:
// - MODE_BOUND: each workgroup writes its chunk's group maxima (the largest
//   key of a group of threads' tokens); the row's last workgroup sorts the
//   row's maxima: the k-th largest is a lower bound of the k-th largest
//   logit (k groups hold a logit at least that large), so every token the
//   top-k keeps has s >= its s (division by T > 0 keeps the order);
// - MODE_COMPACT: each workgroup lists its tokens whose approximate s may
//   reach that bound (k or a few more per row); the row's last workgroup
//   computes their exact s, sorts them, takes the k-th largest as the cut
//   and draws among the kept ones (the draw then skips the row).
// Rows with a NaN, too few groups or too many candidates go to the radix
// passes (the last workgroup sets the row up for them).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "sampling.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0u;
layout(constant_id = 2) const uint DIGIT = 0u;  // MODE_DIGIT's digit
// MODE_BOUND: whether rows may take the candidates path (not where broadcast
// rows share one row's state: the draw would skip them all); MODE_DIGIT:
// with TOP_K_CANDIDATES, whether a row may be on it (its code compiled in)
layout(constant_id = 3) const bool CANDIDATES_ON = false;
// MODE_BOUND: whether top-k rows may take it (with few rows the serial sort
// of a row's group maxima costs more than the radix passes)
layout(constant_id = 4) const bool TOP_K_CANDIDATES = false;
// MODE_WHOLE_ROW: only the rows sampling_top_p.comp's list pass flagged
// (path PATH_RADIX: more tokens in the crossing bin than it holds)
layout(constant_id = 5) const bool ONLY_FLAGGED = false;
const uint MODE_DIGIT = 1u;
const uint MODE_WHOLE_ROW = 2u;
const uint MODE_BOUND = 3u;
#include "sampling_workgroup.glsl"

// lo += the low word of q, hi += its high word and the carry (the old value
// an atomic add returns tells whether that add wrapped). In sampling_top_p.comp
// this trick summed one 2^32 too many into a bin on the H100 (its bins sum
// 16-bit parts instead); here every test passes there, the cause unknown
// (docs/backends.md).
void add_mass_shared(uint b, uint64_t q) {
  uint lo = uint(q), hi = uint(q >> 32);
  uint old = atomicAdd(mass_lo[b], lo);
  hi += (old + lo < old) ? 1u : 0u;
  if (hi != 0u) atomicAdd(mass_hi[b], hi);
}

void clear_bins(uint nbins) {
  for (uint b = gl_LocalInvocationID.x; b < nbins; b += WG) {
    counts[b] = 0u;
    mass_lo[b] = 0u;
    mass_hi[b] = 0u;
  }
  barrier();
}

// counts[b] holds the bin's top-k count and its count of top-p tokens of
// mass 0: 16 bits each for rows with both filters (a workgroup's slice,
// at most 16384 tokens), else the one filter's count in all 32 bits (a whole
// row of any length in one workgroup: the fast paths' fallback).
uint p_unit(Row row) { return row.on_k ? 0x10000u : 1u; }
uint k_count(uint c, Row row) { return row.on_k ? (row.on_p ? c & 0xffffu : c) : 0u; }
uint p_count(uint c, Row row) { return row.on_p ? (row.on_k ? c >> 16 : c) : 0u; }

// Adds tokens [j0, j1) of row r under the prefixes to the shared bins of
// digit d. The float64 division s = x / t only where needed: the keys of
// sa -+ margin bound s's key, which leave most tokens surely outside both
// prefixes (after digit 0), or (top-k alone) surely in one bin.
void add_tokens(uint64_t r, uint j0, uint j1, Row row, uint d, uint prefix_k, uint prefix_p, float m) {
  const uint fixed_bits = digit_fixed(d), shift = digit_shift(d), mask = digit_bins(d) - 1u;
  const float rt = reciprocal(row.t);
  // THREAD_TOKENS a thread at a time, their loads issued together
  for (uint jb = j0; jb < j1; jb += THREAD_TOKENS * WG) {
    const uint je = min(j1, jb + THREAD_TOKENS * WG);
    float xs[THREAD_TOKENS];
    load_thread_tokens(r, jb, je, WG, xs);
    for (uint n = 0u; n < THREAD_TOKENS; ++n) {
      if (jb + gl_LocalInvocationID.x + n * WG >= je) break;
      float x = xs[n], sa = x * rt;
      uint key;
      if (isnan(sa) || isinf(sa)) {
        key = order_key(fdiv(x, row.t));
      } else {
        float e = approx_margin(sa);
        uint lo = order_key(sa - e), hi = order_key(sa + e);
        bool maybe_k = row.on_k && hi >= prefix_k && lo <= (prefix_k | ~fixed_bits);
        bool maybe_p = row.on_p && hi >= prefix_p && lo <= (prefix_p | ~fixed_bits);
        if (!maybe_k && !maybe_p) continue;
        bool sure = !maybe_p && (lo & fixed_bits) == prefix_k && (hi & fixed_bits) == prefix_k &&
                    ((lo >> shift) & mask) == ((hi >> shift) & mask);
        key = sure ? lo : order_key(fdiv(x, row.t));
      }
      float s = key_value(key);
      uint bin = (key >> shift) & mask;
      bool in_k = row.on_k && (key & fixed_bits) == prefix_k;
      bool in_p = row.on_p && (key & fixed_bits) == prefix_p;
      // a top-p token with mass marks its bin used through the mass: counted
      // only when its mass is 0 (one shared atomic per token either way)
      uint64_t q = in_p ? mass_of(s, m) : 0ul;
      bool count_p = in_p && q == 0ul;
      if (in_k || count_p) atomicAdd(counts[bin], (in_k ? 1u : 0u) + (count_p ? p_unit(row) : 0u));
      if (q != 0ul) add_mass_shared(bin, q);
    }
  }
  barrier();
}

// Whether top-p tokens fell in the bin: counted (mass 0) or with mass.
bool has_p_tokens(uint b, Row row) { return p_count(counts[b], row) != 0u || mass_lo[b] != 0u || mass_hi[b] != 0u; }

// The shared bins of a whole row turned into the selecting form.
void to_selecting_form(Row row) {
  for (uint b = gl_LocalInvocationID.x; b < BINS; b += WG) {
    bool used = has_p_tokens(b, row);
    counts[b] = k_count(counts[b], row);
    if (used) mass_hi[b] |= HAS_TOKENS;
  }
  barrier();
}

// Adds the slice's bins to the row's histogram of a digit.
void add_to_row(Words h, uint nbins, Row row) {
  for (uint b = gl_LocalInvocationID.x; b < nbins; b += WG) {
    uint k = k_count(counts[b], row);
    if (k != 0u) atomicAdd(h.v[3u * b], k);
    if (!has_p_tokens(b, row)) continue;
    uint lo = mass_lo[b], hi = mass_hi[b];
    uint old = atomicAdd(h.v[3u * b + 1u], lo);
    hi += (old + lo < old) ? 1u : 0u;
    atomicOr(h.v[3u * b + 2u], HAS_TOKENS);
    if (hi != 0u) atomicAdd(h.v[3u * b + 2u], hi);
  }
}

// The row's histogram of a digit into the shared bins (selecting form).
void load_row(Words h, uint nbins) {
  for (uint b = gl_LocalInvocationID.x; b < nbins; b += WG) {
    counts[b] = shared_word(h, 3u * b);
    mass_lo[b] = shared_word(h, 3u * b + 1u);
    mass_hi[b] = shared_word(h, 3u * b + 2u);
  }
  barrier();
}

uint64_t bin_weight(uint b, bool by_mass) {
  return by_mass ? (uint64_t(mass_hi[b] & ~HAS_TOKENS) << 32) | uint64_t(mass_lo[b]) : uint64_t(counts[b]);
}
bool bin_used(uint b, bool by_mass) {
  return by_mass ? (mass_hi[b] & HAS_TOKENS) != 0u : counts[b] != 0u;
}

// One step of a search from the shared bins [0, nbins), as the CPU kernel's
// loop: with the weight above each bin (above + the bins over it), the
// lowest used bin whose weight above is < limit, or the top used bin when
// none is. The limit is k, or p times the total (at the first step the sum
// of the bins). Sets picked, picked_above and grand_total; every thread
// calls it.
void select_among(uint nbins, bool first, bool by_mass, uint64_t above, uint k, float p, uint64_t total) {
  const uint tid = gl_LocalInvocationID.x;
  const uint per = (nbins + WG - 1u) / WG;
  const uint b0 = tid * per, b1 = min(b0 + per, nbins);
  uint64_t mine = 0ul;
  for (uint b = b0; b < b1; ++b) mine += bin_weight(b, by_mass);
  // suffix sums over the threads: scan[i] = sum of the bins of threads >= i
  scan[tid] = mine;
  if (tid == 0u) {
    pick_min = 0xffffffffu;
    pick_top = 0u;
  }
  barrier();
  for (uint off = 1u; off < WG; off <<= 1) {
    uint64_t x = scan[tid];
    if (tid + off < WG) x += scan[tid + off];
    barrier();
    scan[tid] = x;
    barrier();
  }
  if (first && by_mass) total = scan[0];
  limit_t limit = by_mass ? limit_t(total) * limit_t(p) : limit_t(k);
  uint64_t acc = above + scan[tid] - mine;
  for (uint b = b1; b > b0; --b) {
    if (!bin_used(b - 1u, by_mass)) continue;
    if (limit_t(acc) < limit) atomicMin(pick_min, b - 1u);
    atomicMax(pick_top, b);
    acc += bin_weight(b - 1u, by_mass);
  }
  barrier();
  const uint chosen = pick_min != 0xffffffffu ? pick_min : max(pick_top, 1u) - 1u;
  if (chosen >= b0 && chosen < b1) {
    uint64_t a = above + scan[tid] - mine;
    for (uint b = b1 - 1u; b > chosen; --b) a += bin_weight(b, by_mass);
    picked = chosen;
    picked_above = a;
    grand_total = total;
  }
  barrier();
}

// Digit d of the radix search.
void select_bin(uint d, bool by_mass, uint64_t above, uint k, float p, uint64_t total) {
  select_among(digit_bins(d), d == 0u, by_mass, above, k, p, total);
}

// The cut from the two thresholds: the CPU's std::max(top-k cut, top-p cut).
float row_cut(Row row, uint prefix_k, uint prefix_p) {
  float ck = row.on_k ? key_value(prefix_k) : -F_INF;
  if (!row.on_p) return ck;
  float cp = key_value(prefix_p);
  return ck < cp ? cp : ck;
}

void whole_row(uint64_t r, Row row) {
  float m = row.on_p ? range_max(r, 0u, pc.V, row.t) : 0.0;
  uint prefix_k = 0u, prefix_p = 0u;
  uint64_t above_k = 0ul, above_p = 0ul, total = 0ul;
  for (uint d = 0u; d < DIGITS; ++d) {
    clear_bins(BINS);
    add_tokens(r, 0u, pc.V, row, d, prefix_k, prefix_p, m);
    to_selecting_form(row);
    if (row.on_k) {
      select_bin(d, false, above_k, row.k, 0.0, 0ul);
      prefix_k |= picked << digit_shift(d);
      above_k = picked_above;
    }
    if (row.on_p) {
      select_bin(d, true, above_p, 0u, row.p, total);
      prefix_p |= picked << digit_shift(d);
      above_p = picked_above;
      total = grand_total;
    }
  }
  if (gl_LocalInvocationID.x == 0u) row_state(r).cut = row_cut(row, prefix_k, prefix_p);
}

// Zeroes histogram words [w0, w1) of row r; `first`: also sets the row up
// for the radix passes (counters, cut, path).
void clear_search(uint64_t r, uint w0, uint w1, bool first) {
  Words h = Words(histograms(r));
  for (uint i = w0 + gl_LocalInvocationID.x; i < w1; i += WG) h.v[i] = 0u;
  RowState st = row_state(r);
  if (first && gl_LocalInvocationID.x == 0u) {
    for (uint d = 0u; d < DIGITS; ++d) st.done[d] = 0u;
    st.cut = -F_INF;
    st.path = PATH_RADIX;
  }
}

// A row sent to the radix passes by a path's last workgroup: the whole row
// set up, and (top-p) every slice's maximum the row's, m.
void radix_fallback(uint64_t r, Row row, float m) {
  clear_search(r, 0u, HIST_WORDS, true);
  if (!row.on_p) return;
  for (uint c = gl_LocalInvocationID.x; c < pc.chunks; c += WG) {
    Ptr32(slice_maxima(r) + uint64_t(c) * 4ul).v = floatBitsToUint(m);
  }
}

// A row whose fast path failed after the radix passes began (too many
// candidates: ties): the last workgroup searches the whole row itself.
void whole_row_fallback(uint64_t r, Row row) {
  whole_row(r, row);
  if (gl_LocalInvocationID.x == 0u) row_state(r).path = PATH_CUT;
}

// A radix row's start, by chunk: this workgroup's share of the
// histograms' first `words` and (top-p) its slice's maximum.
void prepare(uint64_t r, uint c, Row row, uint words) {
  const uint per = (words + pc.chunks - 1u) / pc.chunks;
  clear_search(r, min(words, c * per), min(words, (c + 1u) * per), c == 0u);
  if (row.on_p) {
    uint j0 = c * pc.chunk;
    float m = range_max(r, j0, min(pc.V, j0 + pc.chunk), row.t);
    if (gl_LocalInvocationID.x == 0u) Ptr32(slice_maxima(r) + uint64_t(c) * 4ul).v = floatBitsToUint(m);
  }
}

void digit_pass(uint64_t r, uint c, Row row) {
  const uint d = DIGIT, tid = gl_LocalInvocationID.x;
  RowState st = row_state(r);
  uint prefix_k = d == 0u ? 0u : st.prefix_k[d - 1u];
  uint prefix_p = d == 0u ? 0u : st.prefix_p[d - 1u];
  float m = 0.0;
  if (row.on_p) {
    float mm = -F_INF;
    for (uint i = tid; i < pc.chunks; i += WG) mm = max_of(mm, uintBitsToFloat(Ptr32(slice_maxima(r) + uint64_t(i) * 4ul).v));
    m = workgroup_max(mm);
  }
  clear_bins(BINS);
  uint j0 = c * pc.chunk;
  add_tokens(r, j0, min(pc.V, j0 + pc.chunk), row, d, prefix_k, prefix_p, m);
  Words h = Words(histograms(r) + uint64_t(d * BINS * 3u) * 4ul);
  add_to_row(h, BINS, row);
  // the slice's additions before the counter (release); the last
  // workgroup's reads after it (acquire)
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(st.done[d], 1u) == pc.chunks - 1u;
  barrier();
  if (!is_last) return;
  memoryBarrierBuffer();
  load_row(h, BINS);
  if (row.on_k) {
    select_bin(d, false, d == 0u ? 0ul : st.above_k[d - 1u], row.k, 0.0, 0ul);
    prefix_k |= picked << digit_shift(d);
    if (tid == 0u) {
      st.prefix_k[d] = prefix_k;
      st.above_k[d] = picked_above;
    }
  }
  if (row.on_p) {
    select_bin(d, true, d == 0u ? 0ul : st.above_p[d - 1u], 0u, row.p, d == 0u ? 0ul : st.total);
    prefix_p |= picked << digit_shift(d);
    if (tid == 0u) {
      st.prefix_p[d] = prefix_p;
      st.above_p[d] = picked_above;
      if (d == 0u) st.total = grand_total;
    }
  }
  if (d == DIGITS - 1u && tid == 0u) st.cut = row_cut(row, prefix_k, prefix_p);
}

// ---- the candidates path ----

// The smallest power of two >= n (1 for n <= 1).
uint pow2_at_least(uint n) { return n <= 1u ? 1u : (1u << uint(findMSB(n - 1u) + 1)); }

// Sorts counts[0, n) (n a power of two) into descending order, carrying
// mass_lo[i] along (a bitonic network).
void sort_descending(uint n) {
  const uint tid = gl_LocalInvocationID.x;
  for (uint size = 2u; size <= n; size <<= 1) {
    for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
      for (uint i = tid; i < n; i += WG) {
        uint o = i ^ stride;
        if (o < i) continue;
        bool down = (i & size) == 0u;
        uint a = counts[i], b = counts[o];
        if (down ? a < b : a > b) {
          counts[i] = b;
          counts[o] = a;
          uint t = mass_lo[i];
          mass_lo[i] = mass_lo[o];
          mass_lo[o] = t;
        }
      }
      barrier();
    }
  }
}

// Row r's `total` listed tokens sorted by exact s, descending: their keys in
// counts, indices in mass_lo.
void sort_candidates(uint64_t r, uint total, float t) {
  Words list = Words(candidate_area(r));
  const uint n = pow2_at_least(total);
  for (uint i = gl_LocalInvocationID.x; i < n; i += WG) {
    uint j = i < total ? shared_word(list, i) : 0xffffffffu;
    counts[i] = i < total ? order_key(scaled(r, j, t)) : 0u;
    mass_lo[i] = j;
  }
  barrier();
  sort_descending(n);
}

// The workgroup's best (value, index) by argmax's rule (index ~0: none).
void workgroup_best(inout float v, inout uint vi) {
  const uint tid = gl_LocalInvocationID.x;
  reduce_f[tid] = v;
  reduce_i[tid] = vi;
  barrier();
  for (uint h = WG / 2u; h > 0u; h /= 2u) {
    if (tid < h) {
      float w = reduce_f[tid + h];
      uint wi = reduce_i[tid + h];
      if (wi != 0xffffffffu && (reduce_i[tid] == 0xffffffffu || better(w, wi, reduce_f[tid], reduce_i[tid]))) {
        reduce_f[tid] = w;
        reduce_i[tid] = wi;
      }
    }
    barrier();
  }
  v = reduce_f[0];
  vi = reduce_i[0];
  barrier();
}

// Workgroup reductions in place: counts[0, groups) the largest keys of the
// threads = i mod groups, reduce_i[0] the least index.
void reduce_keys(uint best, uint nan_at, uint groups) {
  const uint tid = gl_LocalInvocationID.x;
  counts[tid] = best;
  reduce_i[tid] = nan_at;
  barrier();
  for (uint h = WG / 2u; h > 0u; h /= 2u) {
    if (tid < h) {
      if (h >= groups) counts[tid] = max(counts[tid], counts[tid + h]);
      reduce_i[tid] = min(reduce_i[tid], reduce_i[tid + h]);
    }
    barrier();
  }
}

void bound_pass(uint64_t r, uint c, Row row) {
  const uint tid = gl_LocalInvocationID.x, k_groups = group_count();
  // (both fast paths hold a chunk in one load_thread_tokens)
  const bool short_chunks = pc.chunk <= THREAD_TOKENS * WG;
  const bool by_k = CANDIDATES_ON && TOP_K_CANDIDATES && short_chunks && k_groups > 0u && row.t > 0.0 && row.on_k &&
                    !row.on_p && row.p == 1.0 && row.k <= k_groups * pc.chunks;
  RowState st = row_state(r);
  if (!by_k) {
    prepare(r, c, row, HIST_WORDS);
    return;
  }
  // the chunk's group maxima and first NaN
  const uint groups = k_groups;
  const uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk);
  uint best = 0u, nan_at = 0xffffffffu;
  float xs[THREAD_TOKENS];
  load_thread_tokens(r, j0, j1, WG, xs);
  for (uint n = 0u; n < THREAD_TOKENS; ++n) {
    uint j = j0 + tid + n * WG;
    if (j >= j1) break;
    float x = xs[n];
    if (isnan(x)) nan_at = min(nan_at, j);
    best = max(best, order_key(x));
  }
  reduce_keys(best, nan_at, groups);
  Words maxima = Words(maxima_area(r)), nans = Words(nan_area(r));
  if (tid < groups) maxima.v[c * groups + tid] = counts[tid];
  if (tid == 0u) nans.v[c] = reduce_i[0];
  if (!last_of_row(r)) return;
  // the row's first NaN (if any, the radix path's)
  nan_at = 0xffffffffu;
  for (uint i = tid; i < pc.chunks; i += WG) nan_at = min(nan_at, shared_word(nans, i));
  reduce_keys(0u, nan_at, 1u);
  const uint first_nan = reduce_i[0];
  const uint m = groups * pc.chunks, n = pow2_at_least(m);
  barrier();
  for (uint i = tid; i < n; i += WG) counts[i] = i < m ? shared_word(maxima, i) : 0u;
  barrier();
  sort_descending(n);
  const uint lower = counts[row.k - 1u];
  // key 0 is no logit's (a padded or empty group)
  if (first_nan != 0xffffffffu || lower == 0u) {
    clear_search(r, 0u, HIST_WORDS, true);
  } else if (tid == 0u) {
    st.bound = fdiv(key_value(lower), row.t);
    st.candidates = 0u;
    st.path = PATH_CANDIDATES;
  }
}

void compact_pass(uint64_t r, uint c, Row row) {
  const uint tid = gl_LocalInvocationID.x;
  RowState st = row_state(r);
  if (st.path != PATH_CANDIDATES) return;
  const float rt = reciprocal(row.t), bound = st.bound;
  if (tid == 0u) local_count = 0u;
  barrier();
  // x * (1 / t) is within 1e-5 relative of s: a superset of the tokens
  // with s >= bound
  const uint j0 = c * pc.chunk, j1 = min(pc.V, j0 + pc.chunk);
  float xs[THREAD_TOKENS];
  load_thread_tokens(r, j0, j1, WG, xs);
  for (uint n = 0u; n < THREAD_TOKENS; ++n) {
    uint j = j0 + tid + n * WG;
    if (j >= j1) break;
    float sa = xs[n] * rt;
    if (sa >= bound || sa + approx_margin(sa) >= bound) list_candidate(j);
  }
  flush_candidates(r, st);
  if (!last_of_row(r)) return;
  const uint total = atomicAdd(st.candidates, 0u);
  if (total > CANDIDATES || total < row.k) {
    whole_row_fallback(r, row);
    return;
  }
  sort_candidates(r, total, row.t);
  // the cut is the k-th largest
  const uint cut_key = counts[row.k - 1u];
  // the draw among the kept (s >= cut: the sorted keys down to the cut's)
  threefry_one = 1u;
  const uvec2 key = load_key(pc.key, int64_t(pc.key_step));
  const uint64_t words = uint64_t(pc.rows) * uint64_t(pc.V);
  float v = -F_INF;
  uint vi = 0xffffffffu;
  for (uint i = tid; i < total && counts[i] >= cut_key; i += WG) {
    uint j = mass_lo[i];
    float z = key_value(counts[i]) + gumbel_noise(stream_word(key, r * uint64_t(pc.V) + j, words));
    if (vi == 0xffffffffu || better(z, j, v, vi)) {
      v = z;
      vi = j;
    }
  }
  workgroup_best(v, vi);
  if (tid == 0u) {
    st.cut = key_value(cut_key);
    // every kept z -inf (noise of u = 0 only): the draw's argmax over the
    // whole row decides
    if (vi == 0xffffffffu || v == -F_INF) {
      st.path = PATH_CUT;
    } else {
      Ptr32(pc.out_addr + r * 4ul).v = vi;
      st.path = PATH_DONE;
    }
  }
}

void main() {
  const uint64_t groups = uint64_t(pc.rows) * uint64_t(MODE == MODE_WHOLE_ROW ? 1u : pc.chunks);
  for (uint64_t w = gl_WorkGroupID.x; w < groups; w += gl_NumWorkGroups.x) {
    uint64_t r;
    uint c;
    split_unit(w, MODE == MODE_WHOLE_ROW ? 1u : pc.chunks, r, c);
    Row row = row_params(r);
    if (MODE == MODE_BOUND) {
      bound_pass(r, c, row);
    } else if (MODE == MODE_DIGIT) {
      // each row's pass by its path (the same for all its workgroups: only
      // its last one changes it)
      uint path = row_state(r).path;
      if (path == PATH_RADIX) {
        if (row.on_k || row.on_p) digit_pass(r, c, row);
      } else if (CANDIDATES_ON && TOP_K_CANDIDATES && path == PATH_CANDIDATES) {
        if (DIGIT == 0u) compact_pass(r, c, row);
      }
    } else if (ONLY_FLAGGED) {
      if (row_state(r).path == PATH_RADIX) whole_row_fallback(r, row);
    } else if (row.on_k || row.on_p) {
      whole_row(r, row);
    } else if (MODE == MODE_WHOLE_ROW && gl_LocalInvocationID.x == 0u) {
      row_state(r).cut = -F_INF;
    }
    barrier();  // shared memory is reused by the next group
  }
}
