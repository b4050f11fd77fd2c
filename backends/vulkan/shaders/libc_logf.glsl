// The C library's float32 log (glibc's logf since 2.28, the ARM optimized
// routines' algorithm), which MLX's CPU backend reaches through std::log:
// x = 2^k * z with z near one of 16 centres c, log x = k ln2 + log c +
// log1p(z / c - 1), the last by a cubic, all in double and rounded once.
// Computing it the same way gives the C library's float result (in double
// the steps differ from it only by double roundings, which move the float
// result only at ties that do not occur in practice), so MLX's erfinv, and
// with it random::normal, matches the CPU backend's bits rather than lying
// within an ulp of them. Needs shaderFloat64.
#ifndef LUMEN_LIBC_LOGF_GLSL
#define LUMEN_LIBC_LOGF_GLSL

#include "memory.glsl"

// 1/c and log(c) of the 16 subintervals, ln2 and the cubic's coefficients
// (x^2, x^3, x^4 terms; the linear one is 1), as IEEE double bit patterns.
const uint64_t LIBC_LOGF_INVC[16] = uint64_t[](0x3ff661ec79f8f3beul, 0x3ff571ed4aaf883dul, 0x3ff49539f0f010b0ul, 0x3ff3c995b0b80385ul, 0x3ff30d190c8864a5ul, 0x3ff25e227b0b8ea0ul, 0x3ff1bb4a4a1a343ful, 0x3ff12358f08ae5baul, 0x3ff0953f419900a7ul, 0x3ff0000000000000ul, 0x3fee608cfd9a47acul, 0x3feca4b31f026aa0ul, 0x3feb2036576afce6ul, 0x3fe9c2d163a1aa2dul, 0x3fe886e6037841edul, 0x3fe767dcf5534862ul);
const uint64_t LIBC_LOGF_LOGC[16] = uint64_t[](0xbfd57bf7808caadeul, 0xbfd2bef0a7c06ddbul, 0xbfd01eae7f513a67ul, 0xbfcb31d8a68224e9ul, 0xbfc6574f0ac07758ul, 0xbfc1aa2bc79c8100ul, 0xbfba4e76ce8c0e5eul, 0xbfb1973c5a611cccul, 0xbfa252f438e10c1eul, 0x0000000000000000ul, 0x3faaa5aa5df25984ul, 0x3fbc5e53aa362eb4ul, 0x3fc526e57720db08ul, 0x3fcbc2860d224770ul, 0x3fd1058bc8a07ee1ul, 0x3fd4043057b6ee09ul);
const uint64_t LIBC_LOGF_LN2 = 0x3fe62e42fefa39eful;
const uint64_t LIBC_LOGF_POLY[3] = uint64_t[](0xbfd00ea348b88334ul, 0x3fd5575b0be00b6aul, 0xbfdffffef20a4123ul);

// A kernel that takes the log of many elements defines LIBC_LOGF_SHARED and
// calls libc_logf_load_table() where every invocation of the workgroup
// passes: NVIDIA serves constant arrays from its constant cache, which
// serializes a warp's different indices (random::normal ran 1.7x slower).
#ifdef LIBC_LOGF_SHARED
shared dvec2 libc_logf_table[16];  // (1/c, log(c)): one 16-byte load

void libc_logf_load_table() {
  for (uint i = gl_LocalInvocationIndex; i < 16u; i += gl_WorkGroupSize.x * gl_WorkGroupSize.y * gl_WorkGroupSize.z) {
    libc_logf_table[i] = dvec2(uint64BitsToDouble(LIBC_LOGF_INVC[i]), uint64BitsToDouble(LIBC_LOGF_LOGC[i]));
  }
  barrier();
}
#endif

float libc_logf(float x) {
  uint ix = floatBitsToUint(x);
  if (ix - 0x00800000u >= 0x7f000000u) {  // zero, subnormal, negative, infinite or NaN
    if ((ix & 0x7fffffffu) == 0u) return uintBitsToFloat(0xff800000u);  // -inf
    if (ix == 0x7f800000u) return x;
    if ((ix & 0x80000000u) != 0u || ix > 0x7f800000u) return isnan(x) ? x : uintBitsToFloat(0x7fc00000u);
    // subnormal: x * 2^23 normalized in integers (float arithmetic may flush), then k -= 23
    int m = findMSB(ix);
    ix = (uint(m + 1) << 23) | ((ix << uint(23 - m)) & 0x7fffffu);
    ix -= 23u << 23;
  }
  // x = 1 needs no case of its own: its centre is 1 (log c = 0, k = 0), so r = 0 and y = +0
  uint tmp = ix - 0x3f330000u;
  int i = int((tmp >> 19) & 15u);
  int k = int(tmp) >> 23;  // arithmetic shift
  uint iz = ix - (tmp & (0x1ffu << 23));
  // z = 2^-k x in [0.7, 1.4), a normal float: its double's bits directly
  // (the conversion costs more than two shifts where the log is per element)
  double z = uint64BitsToDouble(packUint2x32(uvec2(iz << 29, (iz >> 3) + 0x38000000u)));
#ifdef LIBC_LOGF_SHARED
  dvec2 c = libc_logf_table[i];
  double invc = c.x, logc = c.y;
#else
  double invc = uint64BitsToDouble(LIBC_LOGF_INVC[i]);
  double logc = uint64BitsToDouble(LIBC_LOGF_LOGC[i]);
#endif
  // glibc builds this with or without fused multiply-adds (its x86-64 FMA
  // variant); the float result is the same either way for every float
  // (checked on the host over all of them), so the fused form, seven double
  // operations instead of twelve, gives the C library's bits too. Where a
  // driver splits fma (lavapipe) it is the other form, equally exact.
  precise double r = fma(z, invc, -1.0lf);
  precise double y0 = fma(double(k), uint64BitsToDouble(LIBC_LOGF_LN2), logc);
  precise double r2 = r * r;
  precise double y = fma(uint64BitsToDouble(LIBC_LOGF_POLY[1]), r, uint64BitsToDouble(LIBC_LOGF_POLY[2]));
  y = fma(uint64BitsToDouble(LIBC_LOGF_POLY[0]), r2, y);
  y = fma(y, r2, y0 + r);
  return float(y);
}

#endif
