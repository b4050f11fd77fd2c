// What the GumbelSample threshold shaders share (sampling_threshold.comp, sampling_top_p.comp):
// the row parameters, shared memory, the mass of a token, workgroup reductions, the
// row's last workgroup, candidate lists. The includer declares the workgroup
// size first.
#ifndef LUMEN_SAMPLING_WORKGROUP_GLSL
#define LUMEN_SAMPLING_WORKGROUP_GLSL

#include "sampling.glsl"

const uint WG = gl_WorkGroupSize.x;

// The limit of the weight above the threshold, float64 as in the plain
// composition where the device has it.
#if LUMEN_F64
#define limit_t double
#else
#define limit_t float
#endif

// Row histograms and lists, coherent: a row's last workgroup reads what the
// others added.
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Words { uint v[]; };

// BINS bins: 64-bit masses in mass_lo / mass_hi; counts the
// top-k counts (sampling_threshold.comp: while building a digit's bins of a
// slice, the top-k count + (the count of top-p tokens of mass 0 << 16); while
// selecting, the top-k count, with HAS_TOKENS in mass_hi for top-p) or a
// list of tokens (candidates; sorted: their keys in counts, indices in
// mass_lo).
shared uint counts[BINS];
shared uint mass_lo[BINS];
shared uint mass_hi[BINS];
shared uint64_t scan[WG];
shared float reduce_f[WG];
shared uint pick_min, pick_top, picked;
shared uint64_t picked_above, grand_total;
shared bool is_last;
shared uint reduce_i[WG];
shared uint local_count;

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

// floor(exp(d) * 2^32) for d = s - m, as the plain composition's Exp,
// Multiply and astype(int64); 0 for NaN (rows whose ids do not depend on
// the cut).
uint64_t mass_at(float d) {
  precise float e = exp_kernel(d) * 4294967296.0;
  return (e >= 0.0 && e <= 4294967296.0) ? uint64_t(e) : 0ul;
}
// The mass of s under the row's largest m (the plain Subtract first).
uint64_t mass_of(float s, float m) {
  precise float d = s - m;
  return mass_at(d);
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

// The largest s of tokens [j0, j1): x / t of the largest x (division by
// t > 0 keeps the order; other t are errors the draw reports).
float range_max(uint64_t r, uint j0, uint j1, float t) {
  float m = -F_INF;
  for (uint jb = j0; jb < j1; jb += THREAD_TOKENS * WG) {
    float xs[THREAD_TOKENS];
    load_thread_tokens(r, jb, min(j1, jb + THREAD_TOKENS * WG), WG, xs);
    for (uint n = 0u; n < THREAD_TOKENS; ++n) {
      if (thread_token(jb, n, WG) < j1) m = max_of(m, xs[n]);
    }
  }
  return fdiv(workgroup_max(m), t);
}

// Word i of w, which other workgroups of the pass wrote.
uint shared_word(Words w, uint i) { return w.v[i]; }

// Whether this workgroup is the last of row r's through the pass (the
// stream's per-row counter, left at zero for the next pass); its reads of
// what the others wrote come after.
bool last_of_row(uint64_t r) {
  memoryBarrierBuffer();
  barrier();
  if (gl_LocalInvocationID.x == 0u) {
    is_last = atomicAdd(SampleSync(pc.sync).done[uint(r)], 1u) == pc.chunks - 1u;
    if (is_last) SampleSync(pc.sync).done[uint(r)] = 0u;
  }
  barrier();
  if (is_last) memoryBarrierBuffer();
  return is_last;
}

// Lists token j in the workgroup's shared list (counts).
void list_candidate(uint j) {
  uint slot = atomicAdd(local_count, 1u);
  if (slot < CANDIDATES) counts[slot] = j;
}

// Appends the workgroup's shared list to row r's (RowState.candidates
// counts them all, past CANDIDATES too).
void flush_candidates(uint64_t r, RowState st) {
  const uint tid = gl_LocalInvocationID.x;
  barrier();
  const uint found = min(local_count, CANDIDATES);
  if (tid == 0u) picked = found == 0u ? 0u : atomicAdd(st.candidates, local_count);
  barrier();
  Words list = Words(candidate_area(r));
  for (uint i = tid; i < found && picked + i < CANDIDATES; i += WG) list.v[picked + i] = counts[i];
}

#endif
