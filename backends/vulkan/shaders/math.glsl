// Float and double arithmetic with the CPU backend's results. Add, subtract
// and multiply are correctly rounded in Vulkan; division and square root are
// not guaranteed to be, so they are computed to be (through double where the
// device has it). Transcendental functions come from math_double.glsl on
// devices with shaderFloat64 and from GLSL's built-ins elsewhere.
//
// Shaders are compiled twice: LUMEN_F64=1 (the device has shaderFloat64) and
// LUMEN_F64=0.
#ifndef LUMEN_MATH_GLSL
#define LUMEN_MATH_GLSL

#include "dtype.glsl"
#if LUMEN_F64
#include "math_double.glsl"
#endif

#define F_INF uintBitsToFloat(0x7f800000u)
#define F_NAN uintBitsToFloat(0x7fc00000u)

bool sign_bit(float x) { return (floatBitsToUint(x) >> 31) != 0u; }

// x / y where y is zero or infinite, or x is not finite: IEEE's answers.
float fdiv_special(float x, float y) {
  if (isnan(x) || isnan(y)) return F_NAN;
  bool neg = sign_bit(x) != sign_bit(y);
  if (y == 0.0) return x == 0.0 ? F_NAN : (neg ? -F_INF : F_INF);
  if (isinf(y)) return isinf(x) ? F_NAN : (neg ? -0.0 : 0.0);
  return neg ? -F_INF : F_INF;  // x infinite, y finite nonzero
}

// Correctly rounded x / y.
float fdiv(float x, float y) {
  if (y == 0.0 || isinf(y) || isinf(x) || isnan(x) || isnan(y)) return fdiv_special(x, y);
#if LUMEN_F64
  // The quotient in double is within an ulp of double; rounding it to float
  // gives the correctly rounded float quotient (53 >= 2 * 24 + 2 bits).
  return float(double(x) / double(y));
#else
  precise float q = x / y;
  precise float r = fma(-q, y, x);
  precise float c = q + r / y;
  return c;
#endif
}

// Correctly rounded square root.
float fsqrt(float x) {
  if (x < 0.0 || isnan(x)) return F_NAN;
  if (x == 0.0 || isinf(x)) return x;
#if LUMEN_F64
  return float(sqrt(double(x)));
#else
  precise float s = sqrt(x);
  precise float r = fma(-s, s, x);
  precise float c = s + r * (0.5 / s);
  return c;
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

double ddiv(double x, double y) {
  if (y == 0.0lf || isinf(y) || isinf(x) || isnan(x) || isnan(y)) {
    if (isnan(x) || isnan(y)) return D_NAN;
    bool neg = sign_bit_d(x) != sign_bit_d(y);
    if (y == 0.0lf) return x == 0.0lf ? D_NAN : (neg ? -D_INF : D_INF);
    if (isinf(y)) return isinf(x) ? D_NAN : (neg ? -0.0lf : 0.0lf);
    return neg ? -D_INF : D_INF;
  }
  // One Newton correction on the hardware quotient.
  precise double q = x / y;
  precise double r = fma(-q, y, x);
  precise double c = q + r / y;
  return c;
}

double dsqrt(double x) {
  if (x < 0.0lf || isnan(x)) return D_NAN;
  if (x == 0.0lf || isinf(x)) return x;
  precise double s = sqrt(x);
  precise double r = fma(-s, s, x);
  precise double c = s + r * (0.5lf / s);
  return c;
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

// ---- transcendental functions of float ----

#if LUMEN_F64
float fexp(float x) { return float(exp_d(double(x))); }
float flog(float x) { return float(log_d(double(x))); }
float flog1p(float x) { return float(log1p_d(double(x))); }
float fexpm1(float x) { return float(expm1_d(double(x))); }
float fsin(float x) { return float(sin_d(double(x))); }
float fcos(float x) { return float(cos_d(double(x))); }
float fatan2(float y, float x) { return float(atan2_d(double(y), double(x))); }
float fpow(float x, float y) { return float(pow_d(double(x), double(y))); }
#else
float fexp(float x) { return exp(x); }
float flog(float x) {
  if (x < 0.0 || isnan(x)) return F_NAN;
  if (x == 0.0) return -F_INF;
  return log(x);
}
float flog1p(float x) {
  float u = 1.0 + x;
  if (u == 1.0) return x;
  if (isinf(x)) return x;
  return flog(u) * (x / (u - 1.0));
}
float fexpm1(float x) {
  if (x > 88.8) return F_INF;
  float u = exp(x);
  if (u == 1.0) return x;
  float um1 = u - 1.0;
  if (um1 == -1.0) return -1.0;
  if (abs(x) > 0.5) return um1;
  return um1 * (x / log(u));
}
float fsin(float x) { return sin(x); }
float fcos(float x) { return cos(x); }
float fatan2(float y, float x) {
  if (x == 0.0 && y == 0.0) return sign_bit(y) ? (sign_bit(x) ? -3.14159265 : -0.0) : (sign_bit(x) ? 3.14159265 : 0.0);
  return atan(y, x);
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
float ferf_series(float a) {
  if (a >= 4.0) return 1.0;
  float x2 = a * a, term = a, sum = a;
  for (int n = 1; n < 100; ++n) {
    term *= 2.0 * x2 / float(2 * n + 1);
    sum += term;
    if (term <= 1e-8 * sum) break;
  }
  return min(1.0, 1.1283791671 * exp(-x2) * sum);
}
#endif

float fsigmoid(float x) {
  if (x >= 0.0) return 1.0 / (1.0 + fexp(-x));
  float e = fexp(x);
  return e / (1.0 + e);
}

// Transcendental unary ops of float (op is one of the OP_* with no exact
// float formula).
float float_transcendental(uint op, float x) {
#if LUMEN_F64
  double d = double(x);
  switch (op) {
    case OP_EXP: return float(exp_d(d));
    case OP_EXPM1: return float(expm1_d(d));
    case OP_LOG: return float(log_d(d));
    case OP_LOG2: return float(log2_d(d));
    case OP_LOG10: return float(log10_d(d));
    case OP_LOG1P: return float(log1p_d(d));
    case OP_SIN: return float(sin_d(d));
    case OP_COS: return float(cos_d(d));
    case OP_TAN: return float(tan_d(d));
    case OP_ARCSIN: return float(asin_d(d));
    case OP_ARCCOS: return float(acos_d(d));
    case OP_ARCTAN: return float(atan_d(d));
    case OP_SINH: return float(sinh_d(d));
    case OP_COSH: return float(cosh_d(d));
    case OP_TANH: return float(tanh_d(d));
    case OP_ARCSINH: return float(asinh_d(d));
    case OP_ARCCOSH: return float(acosh_d(d));
    case OP_ARCTANH: return float(atanh_d(d));
    case OP_SIGMOID: return float(sigmoid_d(d));
    case OP_ERF: return float(erf_d(d));
    case OP_ERFINV: return float(erfinv_d(d));
  }
  return x;
#else
  switch (op) {
    case OP_EXP: return exp(x);
    case OP_EXPM1: return fexpm1(x);
    case OP_LOG: return flog(x);
    case OP_LOG2: return x < 0.0 ? F_NAN : (x == 0.0 ? -F_INF : log2(x));
    case OP_LOG10: return flog(x) * 0.4342944819;
    case OP_LOG1P: return flog1p(x);
    case OP_SIN: return sin(x);
    case OP_COS: return cos(x);
    case OP_TAN: return tan(x);
    case OP_ARCSIN: return asin(x);
    case OP_ARCCOS: return acos(x);
    case OP_ARCTAN: return atan(x);
    case OP_SINH: return sinh(x);
    case OP_COSH: return cosh(x);
    case OP_TANH: return abs(x) > 10.0 ? sign(x) : tanh(x);
    case OP_ARCSINH: return asinh(x);
    case OP_ARCCOSH: return acosh(x);
    case OP_ARCTANH: return atanh(x);
    case OP_SIGMOID: return fsigmoid(x);
    case OP_ERF: return x < 0.0 ? -ferf_series(-x) : ferf_series(x);
    case OP_ERFINV: {
      if (x <= -1.0) return x == -1.0 ? -F_INF : F_NAN;
      if (x >= 1.0) return x == 1.0 ? F_INF : F_NAN;
      float w = -log((1.0 - x) * (1.0 + x));
      float p;
      if (w < 5.0) {
        w -= 2.5;
        p = 2.81022636e-08;
        p = 3.43273939e-07 + p * w;
        p = -3.5233877e-06 + p * w;
        p = -4.39150654e-06 + p * w;
        p = 0.00021858087 + p * w;
        p = -0.00125372503 + p * w;
        p = -0.00417768164 + p * w;
        p = 0.246640727 + p * w;
        p = 1.50140941 + p * w;
      } else {
        w = sqrt(w) - 3.0;
        p = -0.000200214257;
        p = 0.000100950558 + p * w;
        p = 0.00134934322 + p * w;
        p = -0.00367342844 + p * w;
        p = 0.00573950773 + p * w;
        p = -0.0076224613 + p * w;
        p = 0.00943887047 + p * w;
        p = 1.00167406 + p * w;
        p = 2.83297682 + p * w;
      }
      return p * x;
    }
  }
  return x;
#endif
}

#if LUMEN_F64
double double_transcendental(uint op, double x) {
  switch (op) {
    case OP_EXP: return exp_d(x);
    case OP_EXPM1: return expm1_d(x);
    case OP_LOG: return log_d(x);
    case OP_LOG2: return log2_d(x);
    case OP_LOG10: return log10_d(x);
    case OP_LOG1P: return log1p_d(x);
    case OP_SIN: return sin_d(x);
    case OP_COS: return cos_d(x);
    case OP_TAN: return tan_d(x);
    case OP_ARCSIN: return asin_d(x);
    case OP_ARCCOS: return acos_d(x);
    case OP_ARCTAN: return atan_d(x);
    case OP_SINH: return sinh_d(x);
    case OP_COSH: return cosh_d(x);
    case OP_TANH: return tanh_d(x);
    case OP_ARCSINH: return asinh_d(x);
    case OP_ARCCOSH: return acosh_d(x);
    case OP_ARCTANH: return atanh_d(x);
    case OP_SIGMOID: return sigmoid_d(x);
    case OP_ERF: return erf_d(x);
    case OP_ERFINV: return erfinv_d(x);
  }
  return x;
}
#endif

#endif
