// RandomUniform and RandomNormal (NORMAL): a key's threefry words straight to
// the output dtype in registers, one write per element. Each step is the
// plain chain's GPU kernel's own code (ops.glsl, math.glsl, dtype.glsl), so
// fused and plain give the same bits on the GPU:
//   uniform: AsType uint32 -> float32, Divide by float32(2^32 - 1), Minimum
//            with the bound below 1, AsType, Multiply by the range, Add low;
//   normal:  the float32 uniform on [nextafter(-1, 0), 1) the same way, ErfInv
//            (unary.comp's float_math, MATH_OP = OP_ERFINV), AsType, Multiply
//            by sqrt(2) * scale, Add loc.
// Layout (MLX's, backends/cpu/random_threefry.h): for n words, half = n / 2,
// second = n - half; counter (j, j + second) gives words j and j + second,
// and for odd n counter (half, 0) gives word half. An invocation hashes
// PAIRS consecutive counters and writes two runs of PAIRS elements, with
// 16-byte stores where a run is aligned.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#if defined(NORMAL) && LUMEN_F64
#define LIBC_LOGF_SHARED  // erfinv's log of every element
#endif
#include "ops.glsl"
#include "threefry.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const bool HAS_LOC = false;  // normal: a loc to add

layout(push_constant) uniform Push {
  uint64_t out_addr;
  uint64_t key;
  int64_t key_step;  // elements between the key's two words
  uint64_t p0;       // one element of DT: uniform's low; normal's sqrt(2) * scale
  uint64_t p1;       // one element of DT: uniform's range; normal's loc
  uint64_t n;        // elements (= words)
  float upper;       // the clip bound below 1 (of DT for uniform, of float32 for normal)
  float low32;       // normal: the float32 uniform's low bound and range
  float range32;
  uint one;          // 1: threefry.glsl's threefry_one
} pc;

const uint PAIRS = 8;

// An element's output word: float32 and float16 bits in the low half;
// bfloat16 bits in the HIGH half (the low half zero), which is also the
// float32 of the rounded value, so rounding to bfloat16 and back costs no
// shifts, and two such words pack with one (store_run). The kernel is
// bound by integer issue (two integer instructions per element are 0.1 ms
// on the H100 at 16384^2), so bfloat16 rounds on the float pipe wherever
// that is exact (float_to_bfloat_word_split: finite |f| < 2^111; here only
// normal floats, whatever the device does with subnormal ones).
uint dtype_word(float f) {
  if (DT != DT_BF16) return uint(float_to_bits(DT, f));
  float a = abs(f);
  // a branch, not a select: the integer form is for outputs that rarely occur
  [[dont_flatten]] if (a >= uintBitsToFloat(0x00800000u) && a < uintBitsToFloat(0x77000000u)) {
    return float_to_bfloat_word_split(f);
  }
  return float_to_bfloat_bits(f) << 16;
}

// dtype_word for an f known to be +0 or a normal float below 2^111.
uint dtype_word_normal(float f) { return DT == DT_BF16 ? float_to_bfloat_word_split(f) : dtype_word(f); }

float word_value(uint w) { return DT == DT_BF16 ? uintBitsToFloat(w) : bits_to_float(DT, uint64_t(w)); }

// The value rounded to DT, as an AsType to DT and back.
float round_to_dtype(float x) { return word_value(dtype_word(x)); }

// uint32 bits -> float32 / float32(2^32 - 1), kept below `upper`. Both
// steps are exactly specified, so cheaper exact forms give the plain chain's
// bits: the conversion is correctly rounded from 32 bits as from astype.comp's
// 64; the divisor float32(2^32 - 1) is 2^32, so the correctly rounded
// quotient (the Divide kernel's fdiv) is the exact product with 2^-32.
float unit_float(uint bits) {
  float x = float(bits);
  precise float q = x * 2.3283064365386963e-10;
  return min(q, pc.upper);  // the Minimum kernel's result: q is never NaN
}

// `unit`: uniform's low is 0 and its range 1 (the default bounds), where
// range * x and + low give x back exactly, so they are skipped.
uint element_word(uint word, float p0, float p1, bool unit) {
#ifdef NORMAL
  float u = float_binary(OP_ADD, float_binary(OP_MULTIPLY, pc.range32, unit_float(word)), pc.low32);
  // erfinv(u) is +0 or normal below 5: u is 0 or at least 2^-24 in magnitude
  // (a difference of two floats near 1), never -0 (x + -x rounds to +0)
  float x = word_value(dtype_word_normal(float_math(u)));
  float y = float_binary(OP_MULTIPLY, p0, x);
  if (HAS_LOC) y = float_binary(OP_ADD, p1, round_to_dtype(y));
  return dtype_word(y);
#else
  float u = unit_float(word);
  // u is in [0, 1): +0 or a normal float (at least 2^-32)
  uint w = dtype_word_normal(u);
  if (unit) return w;
  float scaled = round_to_dtype(float_binary(OP_MULTIPLY, p1, word_value(w)));
  return dtype_word(float_binary(OP_ADD, scaled, p0));
#endif
}

// Element e from its word.
void store_word(uint64_t e, uint w) {
  store_bits(DT, pc.out_addr + e * dtype_size(DT), uint64_t(DT == DT_BF16 ? w >> 16 : w));
}

// Elements [e, e + count) from their words v, count <= PAIRS.
void store_run(uint64_t e, uint v[PAIRS], uint count) {
  uint size = dtype_size(DT);
  uint64_t addr = pc.out_addr + e * size;
  if (count == PAIRS && (addr & 15ul) == 0ul) {
    if (DT == DT_BF16) {
      Ptr4x32(addr).v = uvec4(v[1] + (v[0] >> 16), v[3] + (v[2] >> 16), v[5] + (v[4] >> 16), v[7] + (v[6] >> 16));
    } else if (size == 2u) {
      Ptr4x32(addr).v = uvec4(v[0] | (v[1] << 16), v[2] | (v[3] << 16), v[4] | (v[5] << 16), v[6] | (v[7] << 16));
    } else {
      Ptr4x32(addr).v = uvec4(v[0], v[1], v[2], v[3]);
      Ptr4x32(addr + 16).v = uvec4(v[4], v[5], v[6], v[7]);
    }
    return;
  }
  for (uint i = 0; i < count; ++i) store_word(e + i, v[i]);
}

void main() {
  threefry_one = pc.one;
#ifdef LIBC_LOGF_SHARED
  libc_logf_load_table();
#endif
  uvec2 key = load_key(pc.key, pc.key_step);
  float p0 = bits_to_float(DT, load_bits(DT, pc.p0));
#ifdef NORMAL
  float p1 = HAS_LOC ? bits_to_float(DT, load_bits(DT, pc.p1)) : 0.0;
#else
  float p1 = bits_to_float(DT, load_bits(DT, pc.p1));
#endif
#ifdef NORMAL
  bool unit = false;
#else
  bool unit = p0 == 0.0 && p1 == 1.0;
#endif
  uint64_t half_n = pc.n / 2;
  uint64_t second = pc.n - half_n;
  uint64_t chunks = (half_n + PAIRS - 1) / PAIRS;
  uint64_t total = chunks + (pc.n & 1ul);  // the last one: the odd stream's middle word
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t c = gl_GlobalInvocationID.x; c < total; c += threads) {
    if (c == chunks) {
      uint w = threefry2x32(key, uvec2(uint(half_n), 0u)).x;
      store_word(half_n, element_word(w, p0, p1, unit));
      continue;
    }
    uint64_t j0 = c * PAIRS;
    uint count = uint(min(uint64_t(PAIRS), half_n - j0));
    uint first[PAIRS], second_words[PAIRS];
    // counters are 32-bit words: the truncated indices
    uint c0 = uint(j0), c1 = uint(j0 + second);
    for (uint i = 0; i < PAIRS; ++i) {
      uvec2 r = threefry2x32(key, uvec2(c0 + i, c1 + i));
      first[i] = element_word(r.x, p0, p1, unit);
      second_words[i] = element_word(r.y, p0, p1, unit);
    }
    store_run(j0, first, count);
    store_run(j0 + second, second_words, count);
  }
}
