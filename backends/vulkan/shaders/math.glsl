// Float and double arithmetic with the CPU backend's results. Add, subtract
// and multiply are correctly rounded in Vulkan; division and square root are
// not guaranteed to be, so float ones go through double where the device
// has it (the double result rounded to float is the correctly rounded float
// result: 53 >= 2 * 24 + 2 bits). Transcendental functions come from
// math_double.glsl with shaderFloat64 and from GLSL's built-ins without.
//
// Every module is compiled twice: LUMEN_F64=1 (the device has shaderFloat64)
// and LUMEN_F64=0. A module for one transcendental op defines MATH_OP (an
// OP_* number); float_math/double_math/complex_math (math_op.glsl) then compute that op and
// reference no other function, which keeps modules small (lavapipe's
// pipeline compile time grows with module size, not live code).
#ifndef LUMEN_MATH_GLSL
#define LUMEN_MATH_GLSL

#include "dtype.glsl"
#if LUMEN_F64
#include "libc_logf.glsl"
#include "math_double.glsl"
#endif

#define F_INF uintBitsToFloat(0x7f800000u)
#define F_NAN uintBitsToFloat(0x7fc00000u)

bool sign_bit(float x) { return (floatBitsToUint(x) >> 31) != 0u; }

// |x| with the sign bit of `negative`. Signed zeros are made from bits, not
// written as -0.0: a compiler may merge the constants 0.0 and -0.0.
float with_sign(float x, bool negative) {
  return uintBitsToFloat((floatBitsToUint(x) & 0x7fffffffu) | (negative ? 0x80000000u : 0u));
}

// x / y where y is zero or infinite, or x is not finite: IEEE's answers
// (devices need not give them).
float fdiv_special(float x, float y) {
  if (isnan(x) || isnan(y)) return F_NAN;
  bool neg = sign_bit(x) != sign_bit(y);
  if (y == 0.0) return x == 0.0 ? F_NAN : (neg ? -F_INF : F_INF);
  if (isinf(y)) return isinf(x) ? F_NAN : with_sign(0.0, neg);
  return with_sign(F_INF, neg);
}

// x / y, correctly rounded with shaderFloat64.
float fdiv(float x, float y) {
  if (y == 0.0 || isinf(y) || isinf(x) || isnan(x) || isnan(y)) return fdiv_special(x, y);
  // The sign is the sign bits' exclusive or, whatever the device's division
  // does with zero and tiny quotients.
  bool neg = sign_bit(x) != sign_bit(y);
#if LUMEN_F64
  return with_sign(float(double(x) / double(y)), neg);
#else
  return with_sign(x / y, neg);
#endif
}

// sqrt(x), correctly rounded with shaderFloat64.
float fsqrt(float x) {
  if (x < 0.0 || isnan(x)) return F_NAN;
  if (x == 0.0 || isinf(x)) return x;
#if LUMEN_F64
  return float(sqrt(double(x)));
#else
  return sqrt(x);
#endif
}

// fmod(x, y) exactly (the result is always representable), by long division
// of the significands in integer arithmetic.
float fmod_exact(float x, float y) {
  uint ux = floatBitsToUint(x), uy = floatBitsToUint(y);
  uint sx = ux & 0x80000000u;
  ux &= 0x7fffffffu;
  uy &= 0x7fffffffu;
  if (uy == 0u || ux >= 0x7f800000u || uy > 0x7f800000u) return F_NAN;
  if (ux < uy) return x;
  if (ux == uy) return uintBitsToFloat(sx);
  int ex = int(ux >> 23), ey = int(uy >> 23);
  uint mx, my;
  if (ex == 0) {  // subnormal: normalize
    mx = ux;
    ex = 1;
    while ((mx & 0x800000u) == 0u) {
      mx <<= 1;
      ex -= 1;
    }
  } else {
    mx = (ux & 0x7fffffu) | 0x800000u;
  }
  if (ey == 0) {
    my = uy;
    ey = 1;
    while ((my & 0x800000u) == 0u) {
      my <<= 1;
      ey -= 1;
    }
  } else {
    my = (uy & 0x7fffffu) | 0x800000u;
  }
  for (; ex > ey; --ex) {
    if (mx >= my) mx -= my;
    if (mx == 0u) return uintBitsToFloat(sx);
    mx <<= 1;
  }
  if (mx >= my) mx -= my;
  if (mx == 0u) return uintBitsToFloat(sx);
  while ((mx & 0x800000u) == 0u) {
    mx <<= 1;
    ex -= 1;
  }
  uint r;
  if (ex > 0) r = (mx - 0x800000u) | (uint(ex) << 23);
  else r = mx >> uint(1 - ex);  // subnormal result, exact
  return uintBitsToFloat(r | sx);
}

#if LUMEN_F64
bool sign_bit_d(double x) { return (doubleBitsToUint64(x) >> 63) != 0ul; }

double with_sign_d(double x, bool negative) {
  return uint64BitsToDouble((doubleBitsToUint64(x) & 0x7ffffffffffffffful) |
                            (negative ? 0x8000000000000000ul : 0ul));
}

double ddiv(double x, double y) {
  if (isnan(x) || isnan(y)) return D_NAN;
  bool neg = sign_bit_d(x) != sign_bit_d(y);
  if (y == 0.0lf) return x == 0.0lf ? D_NAN : (neg ? -D_INF : D_INF);
  if (isinf(y)) return isinf(x) ? D_NAN : with_sign_d(0.0lf, neg);
  if (isinf(x)) return with_sign_d(D_INF, neg);
  return with_sign_d(x / y, neg);
}

double dsqrt(double x) {
  if (x < 0.0lf || isnan(x)) return D_NAN;
  if (x == 0.0lf || isinf(x)) return x;
  return sqrt(x);
}

double fmod_exact_d(double x, double y) {
  uint64_t ux = doubleBitsToUint64(x), uy = doubleBitsToUint64(y);
  uint64_t sx = ux & 0x8000000000000000ul;
  ux &= 0x7ffffffffffffffful;
  uy &= 0x7ffffffffffffffful;
  const uint64_t IMPLICIT = 0x10000000000000ul;
  if (uy == 0ul || ux >= 0x7ff0000000000000ul || uy > 0x7ff0000000000000ul) return D_NAN;
  if (ux < uy) return x;
  if (ux == uy) return uint64BitsToDouble(sx);
  int ex = int(ux >> 52), ey = int(uy >> 52);
  uint64_t mx, my;
  if (ex == 0) {
    mx = ux;
    ex = 1;
    while ((mx & IMPLICIT) == 0ul) {
      mx <<= 1;
      ex -= 1;
    }
  } else {
    mx = (ux & (IMPLICIT - 1ul)) | IMPLICIT;
  }
  if (ey == 0) {
    my = uy;
    ey = 1;
    while ((my & IMPLICIT) == 0ul) {
      my <<= 1;
      ey -= 1;
    }
  } else {
    my = (uy & (IMPLICIT - 1ul)) | IMPLICIT;
  }
  for (; ex > ey; --ex) {
    if (mx >= my) mx -= my;
    if (mx == 0ul) return uint64BitsToDouble(sx);
    mx <<= 1;
  }
  if (mx >= my) mx -= my;
  if (mx == 0ul) return uint64BitsToDouble(sx);
  while ((mx & IMPLICIT) == 0ul) {
    mx <<= 1;
    ex -= 1;
  }
  uint64_t r;
  if (ex > 0) r = (mx - IMPLICIT) | (uint64_t(ex) << 52);
  else r = mx >> uint(1 - ex);
  return uint64BitsToDouble(r | sx);
}
#endif

// ---- elementary functions of float ----

#if LUMEN_F64
float fexp(float x) { return float(exp_d(double(x))); }
float flog(float x) { return libc_logf(x); }  // the CPU's logf, bit for bit
float flog1p(float x) { return float(log1p_d(double(x))); }
float fsin(float x) { return float(sin_d(double(x))); }
float fcos(float x) { return float(cos_d(double(x))); }
float fsinh(float x) { return float(sinh_d(double(x))); }
float fcosh(float x) { return float(cosh_d(double(x))); }
float fatan2(float y, float x) { return float(atan2_d(double(y), double(x))); }
#else
float fexp(float x) { return exp(x); }
float flog(float x) {
  if (x < 0.0 || isnan(x)) return F_NAN;
  if (x == 0.0) return -F_INF;
  return log(x);
}
float flog1p(float x) {
  if (x < -1.0 || isnan(x)) return F_NAN;
  precise float u = 1.0 + x;
  if (u == 1.0 || isinf(x)) return x;
  precise float um1 = u - 1.0;
  return flog(u) * (x / um1);
}
float fsin(float x) { return sin(x); }
float fcos(float x) { return cos(x); }
float fsinh(float x) { return sinh(x); }
float fcosh(float x) { return cosh(x); }
float fatan2(float y, float x) {
  if (x == 0.0 && y == 0.0) {
    return with_sign(sign_bit(x) ? 3.14159265 : 0.0, sign_bit(y));
  }
  return atan(y, x);
}
#endif

#ifdef MATH_OP

#if !LUMEN_F64
float fexpm1(float x) {
  if (x > 88.8) return F_INF;
  float u = exp(x);
  if (u == 1.0) return x;
  precise float um1 = u - 1.0;
  if (um1 == -1.0) return -1.0;
  if (abs(x) > 0.5) return um1;
  return um1 * (x / log(u));
}
float fpow(float x, float y) {
  if (y == 0.0 || x == 1.0) return 1.0;
  if (isnan(x) || isnan(y)) return F_NAN;
  bool y_int = floor(y) == y;
  bool y_odd = y_int && abs(y) < 16777216.0 && mod(y, 2.0) == 1.0;
  if (x < 0.0 && !y_int && !isinf(y)) return F_NAN;
  if (x == 0.0) {
    float z = y < 0.0 ? F_INF : 0.0;
    return (sign_bit(x) && y_odd) ? -z : z;
  }
  float r = exp2(y * log2(abs(x)));
  return (x < 0.0 && y_odd) ? -r : r;
}
#endif

// The CPU's float formula (backends/cpu/math.h), with a correctly rounded exp.
float fsigmoid(float x) {
  precise float y = fdiv(1.0, 1.0 + fexp(abs(x)));
  precise float r = x < 0.0 ? y : 1.0 - y;
  return r;
}

// Whether fma() rounds once on this device (set by the pipeline cache from
// Capabilities::native_fma for every pipeline).
layout(constant_id = 200) const bool NATIVE_FMA = false;

// fma(a, b, c) rounded once: drivers may split GLSL's fma into a multiply
// and an add (lavapipe does), so where the device's fma is not known to be
// fused it goes through double: the product is exact and only the sum rounds
// (to double, then to float: off only at a double-rounding tie). The double
// path costs two float<->double conversions per call, a quarter-rate
// operation on most GPUs: erfinv's nine fmas made random::normal 3x slower.
float ffma(float a, float b, float c) {
#if LUMEN_F64
  if (NATIVE_FMA) {
    precise float f = fma(a, b, c);
    return f;
  }
  precise double r = double(a) * double(b) + double(c);
  return float(r);
#else
  return fma(a, b, c);
#endif
}

// MLX's float32 exp, erf and erfinv, operation for operation as the CPU
// backend computes them (backends/cpu/mlx_math.h), so both devices give
// MLX's numbers.
float mlx_exp(float x0) {
  if (isnan(x0)) return x0;
  if (x0 > 88.0) return F_INF;
  if (x0 < -88.0) return 0.0;
  precise float y = x0 * 1.442695;
  // floor(y + 0.5) as MLX computes it, adding in double, exactly in float:
  // floor(y) + 0.5 is exact for |y| < 128 (y + 0.5 in float rounds at ties)
  precise float below = floor(y);
  precise float whole = y >= below + 0.5 ? below + 1.0 : below;
  precise float frac = y - whole;
  precise float p = 1.535336188319500e-4;
  p = ffma(p, frac, 1.339887440266574e-3);
  p = ffma(p, frac, 9.618437357674640e-3);
  p = ffma(p, frac, 5.550332471162809e-2);
  p = ffma(p, frac, 2.402264791363012e-1);
  p = ffma(p, frac, 6.931472028550421e-1);
  p = ffma(p, frac, 1.0);
  return intBitsToFloat((int(whole) + 127) << 23) * p;
}

float mlx_erf(float x) {
  precise float t = fdiv(1.0, ffma(0.3275911, abs(x), 1.0));
  precise float r = ffma(1.061405429, t, -1.453152027);
  r = ffma(r, t, 1.421413741);
  r = ffma(r, t, -0.284496736);
  r = ffma(r, t, 0.254829592);
  precise float e = -mlx_exp(-x * x);
  precise float result = ffma(e * t, r, 1.0);
  return x > 0.0 ? result : -result;
}

float mlx_erfinv(float a) {
  precise float t = flog(ffma(a, -a, 1.0));  // 1 - a^2: the product's sign of zero cannot show
  precise float p;
  if (abs(t) > 6.125) {
    p = 3.03697567e-10;
    p = ffma(p, t, 2.93243101e-8);
    p = ffma(p, t, 1.22150334e-6);
    p = ffma(p, t, 2.84108955e-5);
    p = ffma(p, t, 3.93552968e-4);
    p = ffma(p, t, 3.02698812e-3);
    p = ffma(p, t, 4.83185798e-3);
    p = ffma(p, t, -2.64646143e-1);
    p = ffma(p, t, 8.40016484e-1);
  } else {
    p = 5.43877832e-9;
    p = ffma(p, t, 1.43285448e-7);
    p = ffma(p, t, 1.22774793e-6);
    p = ffma(p, t, 1.12963626e-7);
    p = ffma(p, t, -5.61530760e-5);
    p = ffma(p, t, -1.47697632e-4);
    p = ffma(p, t, 2.31468678e-3);
    p = ffma(p, t, 1.15392581e-2);
    p = ffma(p, t, -2.32015476e-1);
    p = ffma(p, t, 8.86226892e-1);
  }
  return a * p;
}

#endif  // MATH_OP

#endif
