// What the GumbelSample shaders share (kernels/sampling.cpp): the push
// constants, the per-row parameters, the scaled logit, the gumbel noise of an
// element and argmax's combining rule. Each float step is the one the plain
// composition's kernels take on the GPU (fdiv, flog, fexp of math.glsl), in
// the same order, so the ids equal the plain composition's.
#ifndef LUMEN_SAMPLING_GLSL
#define LUMEN_SAMPLING_GLSL

#include "math.glsl"
#include "threefry.glsl"
#include "values.glsl"

layout(push_constant) uniform Push {
  uint64_t x;           // logits [rows, V], any strides
  uint64_t temperature; // [rows] float32
  uint64_t top_k;       // [rows] int32 (filtered only)
  uint64_t top_p;       // [rows] float32 (filtered only)
  uint64_t key;         // (2,) uint32
  uint64_t cut;         // [rows] float32 thresholds (0 when not filtered)
  uint64_t partial;     // [rows * chunks] (value bits, index) pairs
  uint64_t out_addr;    // [rows] int32
  int64_t row_step, col_step;       // logits strides (elements)
  int t_step, k_step, p_step, key_step;  // parameter strides (elements)
  uint64_t rows;
  uint V;
  uint chunk;   // elements per draw workgroup
  uint chunks;  // draw workgroups per row
  uint dt;      // logits dtype id
  uint cut_step;  // 0 when every row shares row 0's threshold (broadcast rows)
} pc;

float logit(uint64_t r, uint j) {
  uint size = dtype_size(pc.dt);
  return load_float(pc.dt, pc.x + uint64_t((int64_t(r) * pc.row_step + int64_t(j) * pc.col_step) *
                                           int64_t(size)));
}
float row_temperature(uint64_t r) { return uintBitsToFloat(Ptr32(pc.temperature + uint64_t(int64_t(r) * int64_t(pc.t_step) * 4)).v); }
int row_top_k(uint64_t r) { return int(Ptr32(pc.top_k + uint64_t(int64_t(r) * int64_t(pc.k_step) * 4)).v); }
float row_top_p(uint64_t r) { return uintBitsToFloat(Ptr32(pc.top_p + uint64_t(int64_t(r) * int64_t(pc.p_step) * 4)).v); }

// Word i of the key's threefry stream of n words (RandomBits' layout).
uint stream_word(uvec2 key, uint64_t i, uint64_t n) {
  uint64_t half_n = n / 2ul, second = n - half_n;
  if (i < half_n) return threefry2x32(key, uvec2(uint(i), uint(i + second))).x;
  if (i == half_n && (n & 1ul) == 1ul) return threefry2x32(key, uvec2(uint(half_n), 0u)).x;
  uint64_t j = i - second;
  return threefry2x32(key, uvec2(uint(j), uint(j + second))).y;
}

// random::gumbel for one word: the uniform chain (bits -> float32 / 2^32 ->
// min(below one); its "* 1 + 0" is exact), then -log(-log(u)).
float gumbel_noise(uint bits) {
  float u = fdiv(float(bits), 4294967296.0);
  u = min(u, uintBitsToFloat(0x3f7fffffu));
  return -flog(-flog(u));
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

#endif
