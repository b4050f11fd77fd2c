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
// workgroups, in 1 + DIGITS dispatches:
// - MODE_PREPARE: zeroes the row's histograms and counters, and writes each
//   slice's maximum of s (top-p rows);
// - MODE_DIGIT (digit d): each workgroup builds its slice's histogram of the
//   tokens under the prefixes chosen so far in shared memory and adds it to
//   the row's histogram with global atomics; the row's last workgroup to
//   finish (a counter) reads the row's histogram, picks the digit with a
//   parallel suffix scan and writes the new prefix (and, after the last
//   digit, the cut) for the next dispatch. No host round trip.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "sampling.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0u;
layout(constant_id = 2) const uint DIGIT = 0u;  // MODE_DIGIT's digit
const uint MODE_PREPARE = 0u;
const uint MODE_DIGIT = 1u;
const uint MODE_WHOLE_ROW = 2u;
const uint WG = gl_WorkGroupSize.x;

// The limit of the weight above the threshold, float64 as in the plain
// composition where the device has it.
#if LUMEN_F64
#define limit_t double
#else
#define limit_t float
#endif

// The row histograms, coherent: the last workgroup reads what the others
// added.
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Words { uint v[]; };

// Bins of one digit: while building, counts holds the top-k count + (the
// count of top-p tokens of mass 0 << 16) of a slice (<= 4096 tokens); while
// selecting, the top-k count, with HAS_TOKENS in mass_hi for top-p.
shared uint counts[BINS];
shared uint mass_lo[BINS];
shared uint mass_hi[BINS];
shared uint64_t scan[WG];
shared float reduce_f[WG];
shared uint pick_min, pick_top, picked;
shared uint64_t picked_above, grand_total;
shared bool is_last;

struct Row {
  float t;
  bool on_k, on_p;
  uint k;
  float p;
};

Row row_params(uint64_t r) {
  Row row;
  row.t = row_temperature(r);
  int k = row_top_k(r);
  row.p = row_top_p(r);
  row.on_k = row.t != 0.0 && k > 0 && uint(k) < pc.V;
  row.on_p = row.t != 0.0 && row.p < 1.0;
  row.k = uint(max(k, 0));
  return row;
}

// floor(exp(s - m) * 2^32) as the plain composition's Subtract, Exp, Multiply
// and astype(int64); 0 for NaN (rows whose ids do not depend on the cut).
uint64_t mass_of(float s, float m) {
  precise float d = s - m;
  precise float e = exp_kernel(d) * 4294967296.0;
  return (e >= 0.0 && e <= 4294967296.0) ? uint64_t(e) : 0ul;
}

// The CPU kernel's maximum: NaN once any value is NaN.
float max_of(float a, float b) { return (isnan(a) || a >= b) ? a : b; }

float workgroup_max(float v) {
  uint tid = gl_LocalInvocationID.x;
  reduce_f[tid] = v;
  barrier();
  for (uint h = WG / 2u; h > 0u; h /= 2u) {
    if (tid < h) reduce_f[tid] = max_of(reduce_f[tid], reduce_f[tid + h]);
    barrier();
  }
  float m = reduce_f[0];
  barrier();
  return m;
}

float range_max(uint64_t r, uint j0, uint j1, float t) {
  float m = -F_INF;
  for (uint j = j0 + gl_LocalInvocationID.x; j < j1; j += WG) m = max_of(m, scaled(r, j, t));
  return workgroup_max(m);
}

void clear_bins() {
  for (uint b = gl_LocalInvocationID.x; b < BINS; b += WG) {
    counts[b] = 0u;
    mass_lo[b] = 0u;
    mass_hi[b] = 0u;
  }
  barrier();
}

// lo += the low word of q, hi += its high word and the carry (the old value
// an atomic add returns tells whether that add wrapped).
void add_mass_shared(uint b, uint64_t q) {
  uint lo = uint(q), hi = uint(q >> 32);
  uint old = atomicAdd(mass_lo[b], lo);
  hi += (old + lo < old) ? 1u : 0u;
  if (hi != 0u) atomicAdd(mass_hi[b], hi);
}

// Adds tokens [j0, j1) of row r under the prefixes to the shared bins of
// digit d.
void add_tokens(uint64_t r, uint j0, uint j1, Row row, uint d, uint prefix_k, uint prefix_p, float m) {
  const uint fixed_bits = digit_fixed(d), shift = digit_shift(d), mask = digit_bins(d) - 1u;
  for (uint j = j0 + gl_LocalInvocationID.x; j < j1; j += WG) {
    float s = scaled(r, j, row.t);
    uint key = order_key(s);
    uint bin = (key >> shift) & mask;
    bool in_k = row.on_k && (key & fixed_bits) == prefix_k;
    bool in_p = row.on_p && (key & fixed_bits) == prefix_p;
    // a top-p token with mass marks its bin used through the mass: counted
    // only when its mass is 0 (one shared atomic per token either way)
    uint64_t q = in_p ? mass_of(s, m) : 0ul;
    bool count_p = in_p && q == 0ul;
    if (in_k || count_p) atomicAdd(counts[bin], (in_k ? 1u : 0u) + (count_p ? 0x10000u : 0u));
    if (q != 0ul) add_mass_shared(bin, q);
  }
  barrier();
}

// Whether top-p tokens fell in the bin: counted (mass 0) or with mass.
bool has_p_tokens(uint b) { return (counts[b] >> 16) != 0u || mass_lo[b] != 0u || mass_hi[b] != 0u; }

// The shared bins of a whole row turned into the selecting form.
void to_selecting_form() {
  for (uint b = gl_LocalInvocationID.x; b < BINS; b += WG) {
    bool used = has_p_tokens(b);
    counts[b] &= 0xffffu;
    if (used) mass_hi[b] |= HAS_TOKENS;
  }
  barrier();
}

// Adds the slice's bins to the row's histogram of a digit.
void add_to_row(Words h) {
  for (uint b = gl_LocalInvocationID.x; b < BINS; b += WG) {
    uint c = counts[b];
    if ((c & 0xffffu) != 0u) atomicAdd(h.v[3u * b], c & 0xffffu);
    if (!has_p_tokens(b)) continue;
    uint lo = mass_lo[b], hi = mass_hi[b];
    uint old = atomicAdd(h.v[3u * b + 1u], lo);
    hi += (old + lo < old) ? 1u : 0u;
    atomicOr(h.v[3u * b + 2u], HAS_TOKENS);
    if (hi != 0u) atomicAdd(h.v[3u * b + 2u], hi);
  }
}

// The row's histogram of a digit into the shared bins (selecting form).
void load_row(Words h) {
  for (uint b = gl_LocalInvocationID.x; b < BINS; b += WG) {
    counts[b] = atomicOr(h.v[3u * b], 0u);
    mass_lo[b] = atomicOr(h.v[3u * b + 1u], 0u);
    mass_hi[b] = atomicOr(h.v[3u * b + 2u], 0u);
  }
  barrier();
}

uint64_t bin_weight(uint b, bool by_mass) {
  return by_mass ? (uint64_t(mass_hi[b] & ~HAS_TOKENS) << 32) | uint64_t(mass_lo[b]) : uint64_t(counts[b]);
}
bool bin_used(uint b, bool by_mass) {
  return by_mass ? (mass_hi[b] & HAS_TOKENS) != 0u : counts[b] != 0u;
}

// Digit d of one search from the shared bins, as the CPU kernel's loop: with
// the weight above each bin (above + the bins over it), the lowest used bin
// whose weight above is < limit, or the top used bin when none is. The limit
// is k, or p times the total (at digit 0 the sum of the bins). Sets picked,
// picked_above and grand_total; every thread calls it.
void select_bin(uint d, bool by_mass, uint64_t above, uint k, float p, uint64_t total) {
  const uint tid = gl_LocalInvocationID.x;
  const uint per = (digit_bins(d) + WG - 1u) / WG;
  const uint b0 = tid * per, b1 = min(b0 + per, digit_bins(d));
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
  if (d == 0u && by_mass) total = scan[0];
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
    clear_bins();
    add_tokens(r, 0u, pc.V, row, d, prefix_k, prefix_p, m);
    to_selecting_form();
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

void prepare(uint64_t r, uint c, Row row) {
  // this workgroup's share of the row's histogram words
  const uint per = (HIST_WORDS + pc.chunks - 1u) / pc.chunks;
  Words h = Words(histograms(r));
  for (uint i = c * per + gl_LocalInvocationID.x; i < min(HIST_WORDS, (c + 1u) * per); i += WG) h.v[i] = 0u;
  RowState st = row_state(r);
  if (c == 0u && gl_LocalInvocationID.x == 0u) {
    for (uint d = 0u; d < DIGITS; ++d) st.done[d] = 0u;
    st.cut = -F_INF;
  }
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
  clear_bins();
  uint j0 = c * pc.chunk;
  add_tokens(r, j0, min(pc.V, j0 + pc.chunk), row, d, prefix_k, prefix_p, m);
  Words h = Words(histograms(r) + uint64_t(d * BINS * 3u) * 4ul);
  add_to_row(h);
  // the slice's additions before the counter (release); the last
  // workgroup's reads after it (acquire)
  memoryBarrierBuffer();
  barrier();
  if (tid == 0u) is_last = atomicAdd(st.done[d], 1u) == pc.chunks - 1u;
  barrier();
  if (!is_last) return;
  memoryBarrierBuffer();
  load_row(h);
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

void main() {
  const uint64_t groups = uint64_t(pc.rows) * uint64_t(MODE == MODE_WHOLE_ROW ? 1u : pc.chunks);
  for (uint64_t w = gl_WorkGroupID.x; w < groups; w += gl_NumWorkGroups.x) {
    uint64_t r = MODE == MODE_WHOLE_ROW ? w : w / pc.chunks;
    uint c = uint(w - r * (MODE == MODE_WHOLE_ROW ? 1u : pc.chunks));
    Row row = row_params(r);
    if (MODE == MODE_PREPARE) {
      prepare(r, c, row);
    } else if (row.on_k || row.on_p) {
      if (MODE == MODE_WHOLE_ROW) whole_row(r, row);
      else digit_pass(r, c, row);
    } else if (MODE == MODE_WHOLE_ROW && gl_LocalInvocationID.x == 0u) {
      row_state(r).cut = -F_INF;
    }
    barrier();  // shared memory is reused by the next group
  }
}
