// What the GumbelSample shaders share (kernels/sampling.cpp): the push
// constants, the per-row parameters and state, the scaled logit, the gumbel
// noise of an element and argmax's combining rule. Each float step is the
// one the plain composition's GPU kernels take, through their own code: fdiv
// (Divide), the Log and Exp kernels' float_math (math_op.glsl, included here
// once per op under other names), in the same order, so the ids equal the
// plain composition's on the same device.
#ifndef LUMEN_SAMPLING_GLSL
#define LUMEN_SAMPLING_GLSL

// ops.glsl with a MATH_OP that is no op brings the transcendental helpers;
// math_op.glsl then gives the Log and Exp kernels' functions (as compile's
// generated kernels do, backends/vulkan/codegen/fused_source.cpp).
#define MATH_OP 1000
#include "ops.glsl"
#undef MATH_OP
#define MATH_OP OP_LOG
#define float_math log_kernel
#define float_math2 log_kernel2
#define double_math log_kernel_d
#define double_math2 log_kernel_d2
#define complex_math log_kernel_c
#define complex_math2 log_kernel_c2
#include "math_op.glsl"
#undef MATH_OP
#undef float_math
#undef float_math2
#undef double_math
#undef double_math2
#undef complex_math
#undef complex_math2
#define MATH_OP OP_EXP
#define float_math exp_kernel
#define float_math2 exp_kernel2
#define double_math exp_kernel_d
#define double_math2 exp_kernel_d2
#define complex_math exp_kernel_c
#define complex_math2 exp_kernel_c2
#include "math_op.glsl"
#undef MATH_OP
#undef float_math
#undef float_math2
#undef double_math
#undef double_math2
#undef complex_math
#undef complex_math2

#include "threefry.glsl"
#include "values.glsl"

layout(push_constant) uniform Push {
  uint64_t x;           // logits [rows, V], any strides
  uint64_t temperature; // [rows] float32
  uint64_t top_k;       // [rows] int32 (filtered only)
  uint64_t top_p;       // [rows] float32 (filtered only)
  uint64_t key;         // (2,) uint32
  uint64_t scratch;     // filtered: a RowState per row, then histograms per row, then slice maxima
  uint64_t partial;     // [rows * chunks] (value bits, index) pairs of the draw
  uint64_t out_addr;    // [rows] int32
  uint64_t sync;        // the stream's SampleSync (sampling_draw.comp)
  int64_t row_step, col_step;       // logits strides (elements)
  int t_step, k_step, p_step, key_step;  // parameter strides (elements)
  uint rows;    // rows of this dispatch (1 for the threshold of broadcast rows)
  uint V;
  uint chunk;   // elements per workgroup
  uint chunks;  // workgroups per row
  uint dt;      // logits dtype id (the shaders use DT)
  uint state_step;  // 0 when every row shares row 0's state (broadcast rows)
} pc;

// The logits' dtype, a specialization constant (kernels/sampling.cpp): each
// load is then one straight-line access, so a thread's loads of several
// tokens are in flight together (a runtime dtype puts each behind branches).
layout(constant_id = 10) const uint DT = DT_F32;

float logit(uint64_t r, uint j) {
  return load_float(DT, pc.x + uint64_t((int64_t(r) * pc.row_step + int64_t(j) * pc.col_step) *
                                        int64_t(dtype_size(DT))));
}
// A thread's logits of row r: the address of token j (its first) and the
// step to its next, `wg` tokens on.
uint64_t thread_logits(uint64_t r, uint j) {
  return pc.x + uint64_t((int64_t(r) * pc.row_step + int64_t(j) * pc.col_step) * int64_t(dtype_size(DT)));
}
uint64_t logits_step(uint wg) { return uint64_t(int64_t(wg) * pc.col_step * int64_t(dtype_size(DT))); }

// A thread's tokens of chunk [j0, j1) of row r, at most THREAD_TOKENS,
// loaded together so that their loads are in flight at once (0 past j1):
// token n is thread_token(j0, n, wg). VEC_LOADS (constant 16, rows of
// contiguous logits at 16-byte aligned addresses; kernels/sampling.cpp):
// in 16-byte loads of VEC tokens, load k of a thread at token j0 + VEC *
// (tid + k * wg) (a subgroup's loads 512 contiguous bytes; on the H100 a
// pass of 4-byte loads read about 1 TB/s); else j0 + tid + n * wg.
const uint THREAD_TOKENS = 16u;
layout(constant_id = 16) const bool VEC_LOADS = false;
const uint VEC = DT == DT_F32 ? 4u : 8u;
uint thread_token(uint j0, uint n, uint wg) {
  const uint tid = gl_LocalInvocationID.x;
  return VEC_LOADS ? j0 + VEC * (tid + (n / VEC) * wg) + n % VEC : j0 + tid + n * wg;
}
void load_thread_tokens(uint64_t r, uint j0, uint j1, uint wg, out float x[THREAD_TOKENS]) {
  if (VEC_LOADS) {
    for (uint k = 0u; k < THREAD_TOKENS / VEC; ++k) {
      const uint j = thread_token(j0, k * VEC, wg);
      const uint64_t a = thread_logits(r, j);
      if (j + VEC <= j1) {
        const uvec4 w = Ptr4x32(a).v;
        for (uint i = 0u; i < VEC; ++i) {
          x[k * VEC + i] = VEC == 4u ? uintBitsToFloat(w[i]) : bits_to_float(DT, uint64_t((w[i / 2u] >> (16u * (i % 2u))) & 0xffffu));
        }
      } else {
        for (uint i = 0u; i < VEC; ++i) x[k * VEC + i] = j + i < j1 ? load_float(DT, a + uint64_t(i * dtype_size(DT))) : 0.0;
      }
    }
    return;
  }
  const uint j = j0 + gl_LocalInvocationID.x;
  const uint64_t a0 = thread_logits(r, j), step = logits_step(wg);
  for (uint n = 0u; n < THREAD_TOKENS; ++n) x[n] = j + n * wg < j1 ? load_float(DT, a0 + n * step) : 0.0;
}

float row_temperature(uint64_t r) { return uintBitsToFloat(Ptr32(pc.temperature + uint64_t(int64_t(r) * int64_t(pc.t_step) * 4)).v); }
int row_top_k(uint64_t r) { return int(Ptr32(pc.top_k + uint64_t(int64_t(r) * int64_t(pc.k_step) * 4)).v); }
float row_top_p(uint64_t r) { return uintBitsToFloat(Ptr32(pc.top_p + uint64_t(int64_t(r) * int64_t(pc.p_step) * 4)).v); }

// Workgroup unit w's row (w / per) and chunk (the remainder), by a 32-bit
// division where w fits (a 64-bit division by a runtime value is a long
// routine, which every thread of the draw ran for each unit).
void split_unit(uint64_t w, uint per, out uint64_t r, out uint c) {
  if (w <= 0xfffffffful) {
    const uint w32 = uint(w), r32 = w32 / per;
    r = uint64_t(r32);
    c = w32 - r32 * per;
  } else {
    r = w / per;
    c = uint(w - r * per);
  }
}

// The scaled logit s = logits / T (the Divide kernel's fdiv).
float scaled(uint64_t r, uint j, float t) { return fdiv(logit(r, j), t); }

// Whether reciprocal() takes the device's float division where Vulkan
// bounds its error (a constant of both shaders, kernels/sampling.cpp; else
// a float64 division in every thread: on the H100 the draw with this and
// its fewer barriers took 0.124 ms at 64 x 262144, 0.131 without both).
layout(constant_id = 15) const bool FAST_RECIPROCAL = false;

// 1 / t within 2.5 ulp (the device's division for |t| in [1e-30, 1e30],
// else correctly rounded with shaderFloat64): sa = x * (1 / t) is then
// within 4 ulp of s = x / t (within 1e-5 relative and 1e-30 absolute, the
// margin of the screens that use sa to skip the float64 division).
float reciprocal(float t) {
  if (FAST_RECIPROCAL && abs(t) >= 1e-30 && abs(t) <= 1e30) return 1.0 / t;
#if LUMEN_F64
  return float(1.0lf / double(t));
#else
  return 1.0 / t;
#endif
}
float approx_margin(float sa) { return abs(sa) * 1e-5 + 1e-30; }

// x / t, fdiv's value (correctly rounded), from rt = reciprocal(t) in float
// arithmetic: q = x * rt, one residual step, and a check that the residual
// x - q * t (exact in an fma for normal values) is under half an ulp of q
// times |t| (a quarter where q is a power of two: the ulp below is half);
// else (ties, extreme magnitudes) fdiv itself. Several float operations
// instead of fdiv's float64 division.
float div_by(float x, float t, float rt) {
  precise float q0 = x * rt;
  precise float r0 = fma(-q0, t, x);
  precise float q = fma(r0, rt, q0);
  precise float r = fma(-q, t, x);
  const float aq = abs(q), at = abs(t);
  if (aq >= 8.7e-19 && aq <= 1.1e18 && at >= 9.4e-10 && at <= 1.0e9) {  // 2^-60, 2^60; 2^-30, 2^30
    const uint b = floatBitsToUint(aq);
    const float tolerance = uintBitsToFloat((b & 0x7f800000u) - ((b & 0x7fffffu) == 0u ? (25u << 23) : (24u << 23)));
    if (abs(r) < at * tolerance) return q;
  }
  return fdiv(x, t);
}

// Word i of the key's threefry stream of n words (RandomBits' layout).
// (Without branches: one hash for every case.)
uint stream_word(uvec2 key, uint64_t i, uint64_t n) {
  uint64_t half_n = n / 2ul, second = n - half_n;
  bool first = i < half_n, middle = i == half_n && (n & 1ul) == 1ul;
  uint64_t j = first ? i : i - second;
  uvec2 w = threefry2x32(key, middle ? uvec2(uint(half_n), 0u) : uvec2(uint(j), uint(j + second)));
  return first || middle ? w.x : w.y;
}

// random::gumbel for one word: the uniform chain (bits -> float32 / 2^32 ->
// min(below one); its "* 1 + 0" is exact), then -log(-log(u)) with the Log
// kernel's function.
// (bits / 2^32 is exact as a product with 2^-32: the same float as fdiv.)
float uniform_of(uint bits) { return min(float(bits) * (1.0 / 4294967296.0), uintBitsToFloat(0x3f7fffffu)); }
float gumbel_noise(uint bits) { return -log_kernel(-log_kernel(uniform_of(bits))); }

// gumbel_noise(bits) within NOISE_ERROR, in a few float operations and two
// of the device's own logs, whose error Vulkan bounds (3 ulp, or 2^-21
// absolute in [0.5, 2]): a = -log(u), for u >= 1/2 by eight terms of
// -log(1 - d) = d + d^2/2 + ... (the rest under 6.3e-4 of a at d = 1/2),
// below by the device's log; then -log(a). u = 0 (bits 0) is left to the
// exact path. The margin is three times the worst case.
const float NOISE_ERROR = 2e-3;
float gumbel_noise_approx(uint bits) {
  float u = uniform_of(bits);
  float d = 1.0 - u;  // exact for u >= 1/2
  float series = d * (1.0 + d * (0.5 + d * (0.333333333 + d * (0.25 + d * (0.2 + d * (0.166666667 +
                 d * (0.142857143 + d * 0.125)))))));
  return -log(u >= 0.5 ? series : -log(u));
}

// An unsigned key ordered as the float values (-0 as +0).
uint order_key(float v) {
  uint b = floatBitsToUint(v);
  if (b == 0x80000000u) b = 0u;
  return (b & 0x80000000u) != 0u ? ~b : (b | 0x80000000u);
}
float key_value(uint k) {
  return uintBitsToFloat((k & 0x80000000u) != 0u ? (k & 0x7fffffffu) : ~k);
}

// argmax's rule: the first NaN wins, then the larger value, then the lower
// index. Associative, so partial results combine in any grouping.
bool better(float v, uint i, float w, uint j) {
  bool vn = isnan(v), wn = isnan(w);
  if (vn || wn) return vn && (!wn || i < j);
  return v > w || (v == w && i < j);
}

// ---- filtering state (sampling_threshold.comp writes it, the draw reads cut) ----

// Radix digits of the order keys, most significant first: 11, 11 and 10 bits.
const uint DIGITS = 3u;
const uint BINS = 2048u;
uint digit_shift(uint d) { return d == 0u ? 21u : (d == 1u ? 10u : 0u); }
uint digit_bins(uint d) { return d == 2u ? 1024u : 2048u; }
// The key bits fixed by the digits before d.
uint digit_fixed(uint d) { return d == 0u ? 0u : (0xffffffffu << digit_shift(d - 1u)); }

// One row's search: per digit, the key prefixes chosen and the weight above
// them (top-k: a count, top-p: fixed-point mass), each written once (by the
// pass's last workgroup) and read by the next pass; the row's total mass, the
// threshold, and the counters that find each pass's last workgroup.
layout(buffer_reference, std430, buffer_reference_align = 8) buffer RowState {
  uint64_t above_k[DIGITS];  // after digit d: weight of the tokens above the prefix
  uint64_t above_p[DIGITS];
  uint64_t total;            // the row's top-p mass
  uint prefix_k[DIGITS];     // after digit d: the key bits chosen so far
  uint prefix_p[DIGITS];
  float cut;                 // the threshold (-inf: no filtering)
  uint done[DIGITS];         // workgroups of the row through digit d's pass
  uint path;                 // PATH_*: how the row's cut and id are found
  float bound;               // PATH_CANDIDATES: the least candidate s
  uint candidates;           // PATH_CANDIDATES, PATH_TOP_P: how many a pass listed
  float top;                 // PATH_TOP_P: the row's largest s
};
// A row's path (written by the bound pass of calls with rows split across
// workgroups, see sampling_threshold.comp, or by sampling_top_p.comp's):
// the radix search (from sampling_top_p.comp: the whole-row search); top-k
// from the candidates over a lower bound; the cut found (the draw uses it);
// the id drawn too (the draw skips the row); top-p by bins of mass.
const uint PATH_RADIX = 0u;
const uint PATH_CANDIDATES = 1u;
const uint PATH_CUT = 2u;
const uint PATH_DONE = 3u;
const uint PATH_TOP_P = 4u;
const uint STATE_BYTES = 128u;
// A row's histograms, one per digit, of BINS bins of three words: the top-k
// count, and the top-p mass in two words (low, high) with HAS_TOKENS set in
// the high word when a top-p token fell in the bin (masses may be 0).
const uint HIST_WORDS = DIGITS * BINS * 3u;
const uint HAS_TOKENS = 0x80000000u;

uint64_t state_rows() { return pc.state_step == 0u ? 1ul : uint64_t(pc.rows); }
RowState row_state(uint64_t r) { return RowState(pc.scratch + r * uint64_t(pc.state_step) * STATE_BYTES); }
uint64_t histograms(uint64_t r) {
  return pc.scratch + state_rows() * STATE_BYTES + r * uint64_t(HIST_WORDS) * 4ul;
}
uint64_t slice_maxima(uint64_t r) {
  return pc.scratch + state_rows() * (STATE_BYTES + uint64_t(HIST_WORDS) * 4ul) + r * uint64_t(pc.chunks) * 4ul;
}
// Per row of the candidates path: CANDIDATES token indices, then MAXIMA
// order keys (the bound pass's group maxima, group_count per chunk), then a
// word per chunk (its first NaN's index, or ~0).
const uint CANDIDATES = 2048u;
const uint MAXIMA = 2048u;
uint64_t candidate_area(uint64_t r) {
  uint64_t row_words = uint64_t(CANDIDATES + MAXIMA + pc.chunks);
  return pc.scratch + state_rows() * (STATE_BYTES + uint64_t(HIST_WORDS) * 4ul + uint64_t(pc.chunks) * 4ul) +
         r * row_words * 4ul;
}
uint64_t maxima_area(uint64_t r) { return candidate_area(r) + uint64_t(CANDIDATES) * 4ul; }
uint64_t nan_area(uint64_t r) { return maxima_area(r) + uint64_t(MAXIMA) * 4ul; }
// Group maxima per chunk: the largest power of two <= 16 that keeps a row's
// under MAXIMA (0: too many chunks, no candidates path).
uint group_count() {
  uint g = 16u;
  while (g > 0u && g * pc.chunks > MAXIMA) g /= 2u;
  return g;
}

// Per stream, kept between calls (kernels/sampling.cpp): the error record's
// address and a counter per row, zero between passes (each pass's last
// workgroup of a row resets it).
layout(buffer_reference, std430, buffer_reference_align = 8) buffer SampleSync {
  uint64_t error_record;
  uint done[];
};

#endif
