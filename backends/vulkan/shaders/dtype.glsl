// Values from and to element bits. Each dtype computes in one class:
// integers (and bool) in 64-bit integers, float16/bfloat16/float32 in float,
// float64 in double, complex64 in vec2. float16 and bfloat16 are stored as
// uint16 and converted with round-to-nearest-even in integer arithmetic, bit
// for bit as core/half_types.h does on the CPU.
#ifndef LUMEN_DTYPE_GLSL
#define LUMEN_DTYPE_GLSL

#include "memory.glsl"

#define CLASS_INT 0
#define CLASS_FLOAT 1
#define CLASS_DOUBLE 2
#define CLASS_COMPLEX 3

uint dtype_class(uint dt) {
  if (dt == DT_F16 || dt == DT_F32 || dt == DT_BF16) return CLASS_FLOAT;
  if (dt == DT_F64) return CLASS_DOUBLE;
  if (dt == DT_C64) return CLASS_COMPLEX;
  return CLASS_INT;
}

bool dtype_is_unsigned(uint dt) {
  return dt == DT_BOOL || dt == DT_U8 || dt == DT_U16 || dt == DT_U32 || dt == DT_U64;
}

uint dtype_bits(uint dt) { return dtype_size(dt) * 8u; }

// ---- integers: sign- or zero-extended to 64 bits ----

int64_t bits_to_int(uint dt, uint64_t b) {
  if (dt == DT_I8) return int64_t(b << 56) >> 56;
  if (dt == DT_I16) return int64_t(b << 48) >> 48;
  if (dt == DT_I32) return int64_t(b << 32) >> 32;
  return int64_t(b);
}

// Truncates to the dtype's width (bool: any nonzero is true).
uint64_t int_to_bits(uint dt, int64_t v) {
  if (dt == DT_BOOL) return v != 0 ? 1ul : 0ul;
  uint bits = dtype_bits(dt);
  if (bits == 64) return uint64_t(v);
  return uint64_t(v) & ((1ul << bits) - 1ul);
}

// ---- float16 and bfloat16 ----

uint float_to_half_bits(float f) {
  uint x = floatBitsToUint(f);
  uint sign = (x >> 16) & 0x8000u;
  uint a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) return sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u);
  if (a >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520: infinity
  if (a < 0x38800000u) {
    // Subnormal half: round |f| * 2^24 to the nearest integer, ties to even.
    uint e = a >> 23;
    if (e < 102u) return sign;  // below 2^-25 (float subnormals included): zero
    uint mant = (a & 0x7fffffu) | 0x800000u;
    uint shift = 126u - e;      // 14..24
    uint r = mant >> shift;
    uint rest = mant & ((1u << shift) - 1u);
    uint halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (r & 1u) != 0u)) r += 1u;
    return sign | r;
  }
  a += 0xc8000fffu + ((a >> 13) & 1u);  // rebias the exponent and round to nearest even
  return sign | (a >> 13);
}

float half_bits_to_float(uint h) {
  uint sign = (h & 0x8000u) << 16;
  uint e = (h >> 10) & 0x1fu;
  uint mant = h & 0x3ffu;
  if (e == 0x1fu) return uintBitsToFloat(sign | 0x7f800000u | (mant << 13));
  if (e == 0u) {
    float v = float(mant) * 5.9604644775390625e-08;  // mant * 2^-24, exact
    return sign != 0u ? -v : v;
  }
  return uintBitsToFloat(sign | ((e + 112u) << 23) | (mant << 13));
}

// Round to nearest even, for a value known not to be NaN.
uint float_to_bfloat_bits_not_nan(float f) {
  uint x = floatBitsToUint(f);
  return (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
}

// The same rounding on the float pipe, for kernels bound by integer issue:
// Veltkamp's split of f at 16 bits (g = f * (2^16 + 1), hi = g + (f - g))
// is f rounded to bfloat16, ties to even, for every finite |f| < 2^111
// (checked against the integer form over all of them on the host); the
// result is its bits, in the high half of the word, the low half zero.
uint float_to_bfloat_word_split(float f) {
  precise float g = f * 65537.0;
  precise float d = f - g;
  precise float hi = g + d;
  return floatBitsToUint(hi);
}

uint float_to_bfloat_bits(float f) {
  uint x = floatBitsToUint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (x >> 16) | 0x40u;
  return float_to_bfloat_bits_not_nan(f);
}

float bfloat_bits_to_float(uint b) { return uintBitsToFloat(b << 16); }

// ---- float class ----

float bits_to_float(uint dt, uint64_t b) {
  if (dt == DT_F16) return half_bits_to_float(uint(b));
  if (dt == DT_BF16) return bfloat_bits_to_float(uint(b));
  return uintBitsToFloat(uint(b));
}

uint64_t float_to_bits(uint dt, float f) {
  if (dt == DT_F16) return uint64_t(float_to_half_bits(f));
  if (dt == DT_BF16) return uint64_t(float_to_bfloat_bits(f));
  return uint64_t(floatBitsToUint(f));
}

// ---- complex64: real part in the low word ----

vec2 bits_to_complex(uint64_t b) {
  uvec2 w = unpack32(b);
  return vec2(uintBitsToFloat(w.x), uintBitsToFloat(w.y));
}

uint64_t complex_to_bits(vec2 z) { return pack64(uvec2(floatBitsToUint(z.x), floatBitsToUint(z.y))); }

#endif
