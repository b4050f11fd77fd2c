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
  uint dt;      // logits dtype id
  uint state_step;  // 0 when every row shares row 0's state (broadcast rows)
} pc;

float logit(uint64_t r, uint j) {
  uint size = dtype_size(pc.dt);
  return load_float(pc.dt, pc.x + uint64_t((int64_t(r) * pc.row_step + int64_t(j) * pc.col_step) *
                                           int64_t(size)));
}
float row_temperature(uint64_t r) { return uintBitsToFloat(Ptr32(pc.temperature + uint64_t(int64_t(r) * int64_t(pc.t_step) * 4)).v); }
int row_top_k(uint64_t r) { return int(Ptr32(pc.top_k + uint64_t(int64_t(r) * int64_t(pc.k_step) * 4)).v); }
float row_top_p(uint64_t r) { return uintBitsToFloat(Ptr32(pc.top_p + uint64_t(int64_t(r) * int64_t(pc.p_step) * 4)).v); }

// The scaled logit s = logits / T (the Divide kernel's fdiv).
float scaled(uint64_t r, uint j, float t) { return fdiv(logit(r, j), t); }

// Word i of the key's threefry stream of n words (RandomBits' layout).
uint stream_word(uvec2 key, uint64_t i, uint64_t n) {
  uint64_t half_n = n / 2ul, second = n - half_n;
  if (i < half_n) return threefry2x32(key, uvec2(uint(i), uint(i + second))).x;
  if (i == half_n && (n & 1ul) == 1ul) return threefry2x32(key, uvec2(uint(half_n), 0u)).x;
  uint64_t j = i - second;
  return threefry2x32(key, uvec2(uint(j), uint(j + second))).y;
}

// random::gumbel for one word: the uniform chain (bits -> float32 / 2^32 ->
// min(below one); its "* 1 + 0" is exact), then -log(-log(u)) with the Log
// kernel's function.
float gumbel_noise(uint bits) {
  float u = fdiv(float(bits), 4294967296.0);
  u = min(u, uintBitsToFloat(0x3f7fffffu));
  return -log_kernel(-log_kernel(u));
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
};
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

#endif
