// ConvertFP8: float dtypes to E4M3 float8 bytes and back, bit for bit as the
// CPU's float_to_fp8 / fp8_to_float (backends/cpu/math.h): no infinities,
// values at or past 464 and NaN saturate to +-448, decoding has no NaN.
// Dense input and output (the kernel copies strided inputs first). Built
// once for float16/bfloat16/float32 (fp8) and once for float64
// (fp8_double).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "dtype.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint DT = DT_F32;  // the float side's dtype
layout(constant_id = 9) const bool TO_FP8 = true;

layout(push_constant) uniform Push {
  uint64_t out_addr;
  uint64_t in_addr;
  uint64_t n;
} pc;

uint float_to_fp8(float f) {
  uint b = floatBitsToUint(f);
  uint sign = (b >> 24) & 0x80u;
  float a = abs(f);
  if (!(a < 464.0)) return sign | 0x7eu;
  if (a < 0.015625) return sign | uint(roundEven(a * 512.0));  // subnormal steps of 2^-9, half to even
  uint abits = b & 0x7fffffffu;
  abits += 0x7ffffu + ((abits >> 20) & 1u);  // round the mantissa to 3 bits, half to even
  uint e = (abits >> 23) - 127u + 7u;
  return sign | (e << 3) | ((abits >> 20) & 7u);
}

float fp8_to_float(uint x) {
  uint e = (x >> 3) & 15u, mant = x & 7u;
  float v = e == 0u ? ldexp(float(mant), -9) : ldexp(1.0 + float(mant) / 8.0, int(e) - 7);
  return (x & 0x80u) != 0u ? -v : v;
}

void main() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  uint size = dtype_size(DT);
  for (uint64_t i = gl_GlobalInvocationID.x; i < pc.n; i += threads) {
    if (TO_FP8) {
      uint64_t bits = load_bits(DT, pc.in_addr + i * size);
#ifdef DOUBLE
      float f = float(uint64BitsToDouble(bits));
#else
      float f = bits_to_float(DT, bits);
#endif
      store_bits(DT_U8, pc.out_addr + i, uint64_t(float_to_fp8(f)));
    } else {
      float f = fp8_to_float(uint(load_bits(DT_U8, pc.in_addr + i)));
#ifdef DOUBLE
      uint64_t bits = doubleBitsToUint64(double(f));
#else
      uint64_t bits = float_to_bits(DT, f);
#endif
      store_bits(DT, pc.out_addr + i * size, bits);
    }
  }
}
