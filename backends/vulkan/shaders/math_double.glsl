// Double-precision elementary functions (GLSL has none for double), each
// written for a few ulp of accuracy. float16/bfloat16/float32 transcendental
// ops compute through them too on devices with shaderFloat64, which keeps the
// GPU's float results within about one ulp of the CPU's libm. Locals are
// `precise`: compensated steps (reductions, 1 + x - 1) must not be
// reassociated or contracted by the driver's compiler.
#ifndef LUMEN_MATH_DOUBLE_GLSL
#define LUMEN_MATH_DOUBLE_GLSL

#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

#define D_INF uint64BitsToDouble(0x7ff0000000000000ul)
#define D_NAN uint64BitsToDouble(0x7ff8000000000000ul)
const double LN2_HI = 6.93147180369123816490e-01lf;  // 32 significant bits: k * LN2_HI is exact
const double LN2_LO = 1.90821492927058770002e-10lf;
const double INV_LN2 = 1.44269504088896338700e+00lf;
const double INV_LN10 = 4.34294481903251816668e-01lf;
const double LOG10_2_HI = 3.01029995663611771306e-01lf;
const double LOG10_2_LO = 3.69423907715893078616e-13lf;
const double PI_D = 3.14159265358979311600e+00lf;
const double PIO2_D = 1.57079632679489655800e+00lf;
const double PIO4_D = 7.85398163397448278999e-01lf;
const double PIO6_D = 5.23598775598298815658e-01lf;
const double SQRT3_D = 1.73205080756887719318e+00lf;
// pi/2 in three pieces of 33 bits, for Cody-Waite reduction.
const double PIO2_1 = 1.57079632673412561417e+00lf;
const double PIO2_2 = 6.07710050630396597660e-11lf;
const double PIO2_3 = 2.02226624871116645580e-21lf;

// x * 2^k for k in [-1100, 1100], in two exact steps (subnormal results too).
double scale2(double x, int k) {
  int h = k / 2;
  return ldexp(ldexp(x, h), k - h);
}

double exp_d(double x) {
  if (isnan(x)) return x;
  if (x > 709.782712893384lf) return D_INF;
  if (x < -745.1332191019412lf) return 0.0lf;
  precise double k = roundEven(x * INV_LN2);
  precise double r = (x - k * LN2_HI) - k * LN2_LO;  // |r| <= ln2 / 2
  // Taylor series of exp(r) to r^14 (truncation below 1e-17).
  precise double p = 1.1470745597729725e-11lf;
  p = fma(p, r, 1.6059043836821613e-10lf);
  p = fma(p, r, 2.08767569878681e-09lf);
  p = fma(p, r, 2.505210838544172e-08lf);
  p = fma(p, r, 2.755731922398589e-07lf);
  p = fma(p, r, 2.7557319223985893e-06lf);
  p = fma(p, r, 2.48015873015873e-05lf);
  p = fma(p, r, 1.984126984126984e-04lf);
  p = fma(p, r, 1.388888888888889e-03lf);
  p = fma(p, r, 8.333333333333333e-03lf);
  p = fma(p, r, 4.1666666666666664e-02lf);
  p = fma(p, r, 1.6666666666666666e-01lf);
  p = fma(p, r, 0.5lf);
  p = fma(p, r, 1.0lf);
  p = fma(p, r, 1.0lf);
  return scale2(p, int(k));
}

// log(1 + f) for 1 + f in [sqrt(1/2), sqrt(2)), as 2 atanh(f / (2 + f)),
// from f itself (no 1 + f - 1 that a compiler could fold).
double log1p_core(double f) {
  precise double s = f / (2.0lf + f);
  precise double z = s * s;
  // R = 2 (z/3 + z^2/5 + ... + z^11/23)
  precise double p = 2.0lf / 23.0lf;
  p = fma(p, z, 2.0lf / 21.0lf);
  p = fma(p, z, 2.0lf / 19.0lf);
  p = fma(p, z, 2.0lf / 17.0lf);
  p = fma(p, z, 2.0lf / 15.0lf);
  p = fma(p, z, 2.0lf / 13.0lf);
  p = fma(p, z, 2.0lf / 11.0lf);
  p = fma(p, z, 2.0lf / 9.0lf);
  p = fma(p, z, 2.0lf / 7.0lf);
  p = fma(p, z, 2.0lf / 5.0lf);
  p = fma(p, z, 2.0lf / 3.0lf);
  precise double R = z * p;
  precise double hfsq = 0.5lf * f * f;
  return f - (hfsq - s * (hfsq + R));
}

double log_mantissa(double m) { return log1p_core(m - 1.0lf); }

// Splits a positive finite x into 2^e * m with m in [sqrt(1/2), sqrt(2)).
double split_log(double x, out int e) {
  precise double m = frexp(x, e);
  if (m < 0.70710678118654752lf) {
    m *= 2.0lf;
    e -= 1;
  }
  return m;
}

double log_d(double x) {
  if (isnan(x) || x < 0.0lf) return D_NAN;
  if (x == 0.0lf) return -D_INF;
  if (isinf(x)) return x;
  int e;
  precise double m = split_log(x, e);
  precise double k = double(e);
  return k * LN2_HI + (log_mantissa(m) + k * LN2_LO);
}

double log2_d(double x) {
  if (isnan(x) || x < 0.0lf) return D_NAN;
  if (x == 0.0lf) return -D_INF;
  if (isinf(x)) return x;
  int e;
  precise double m = split_log(x, e);
  return double(e) + log_mantissa(m) * INV_LN2;
}

double log10_d(double x) {
  if (isnan(x) || x < 0.0lf) return D_NAN;
  if (x == 0.0lf) return -D_INF;
  if (isinf(x)) return x;
  int e;
  precise double m = split_log(x, e);
  precise double k = double(e);
  return k * LOG10_2_HI + (log_mantissa(m) * INV_LN10 + k * LOG10_2_LO);
}

double log1p_d(double x) {
  if (isnan(x) || x < -1.0lf) return D_NAN;
  if (x == -1.0lf) return -D_INF;
  if (isinf(x)) return x;
  // Near 0 straight from x; elsewhere 1 + x rounds by less than log's ulp.
  if (x >= -0.2928932188134524lf && x <= 0.4142135623730950lf) return log1p_core(x);
  return log_d(1.0lf + x);
}

double expm1_d(double x) {
  if (isnan(x)) return x;
  if (x > 709.782712893384lf) return D_INF;
  if (x < -40.0lf) return -1.0lf;
  if (abs(x) >= 0.5lf) return exp_d(x) - 1.0lf;
  // Taylor series to x^17 / 17! (truncation below 1e-19 relative).
  precise double p = 2.8114572543455206e-15lf;
  p = fma(p, x, 4.779477332387385e-14lf);
  p = fma(p, x, 7.647163731819816e-13lf);
  p = fma(p, x, 1.1470745597729725e-11lf);
  p = fma(p, x, 1.6059043836821613e-10lf);
  p = fma(p, x, 2.08767569878681e-09lf);
  p = fma(p, x, 2.505210838544172e-08lf);
  p = fma(p, x, 2.755731922398589e-07lf);
  p = fma(p, x, 2.7557319223985893e-06lf);
  p = fma(p, x, 2.48015873015873e-05lf);
  p = fma(p, x, 1.984126984126984e-04lf);
  p = fma(p, x, 1.388888888888889e-03lf);
  p = fma(p, x, 8.333333333333333e-03lf);
  p = fma(p, x, 4.1666666666666664e-02lf);
  p = fma(p, x, 1.6666666666666666e-01lf);
  p = fma(p, x, 0.5lf);
  return fma(x * x, p, x);
}

// Reduces x to r in [-pi/4, pi/4] with x = r + q * pi/2 (q modulo 4).
// Exact enough for |x| < 2^20; beyond that the error grows with |x|.
double reduce_pio2(double x, out int q) {
  precise double k = roundEven(x * 6.36619772367581382433e-01lf);
  precise double r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
  q = int(k - 4.0lf * floor(k * 0.25lf));
  return r;
}

double sin_kernel(double r) {
  precise double z = r * r;
  precise double p = -8.22063524662432971696e-18lf;  // -1/19!
  p = fma(p, z, 2.81145725434552076319e-15lf);
  p = fma(p, z, -7.64716373181981647590e-13lf);
  p = fma(p, z, 1.60590438368216145994e-10lf);
  p = fma(p, z, -2.50521083854417187751e-08lf);
  p = fma(p, z, 2.75573192239858906526e-06lf);
  p = fma(p, z, -1.98412698412698412526e-04lf);
  p = fma(p, z, 8.33333333333333321769e-03lf);
  p = fma(p, z, -1.66666666666666657415e-01lf);
  return fma(r * z, p, r);
}

double cos_kernel(double r) {
  precise double z = r * r;
  precise double p = 4.11031762331216485848e-19lf;  // 1/20!
  p = fma(p, z, -1.56192069685862264622e-16lf);
  p = fma(p, z, 4.77947733238738525744e-14lf);
  p = fma(p, z, -1.14707455977297247139e-11lf);
  p = fma(p, z, 2.08767569878680989792e-09lf);
  p = fma(p, z, -2.75573192239858906526e-07lf);
  p = fma(p, z, 2.48015873015873015873e-05lf);
  p = fma(p, z, -1.38888888888888888889e-03lf);
  p = fma(p, z, 4.16666666666666666667e-02lf);
  precise double hz = 0.5lf * z;
  precise double w = 1.0lf - hz;
  // 1 - z/2 loses the bits of z/2 that w dropped; add them back.
  return w + (((1.0lf - w) - hz) + z * z * p);
}

double sin_d(double x) {
  if (isinf(x) || isnan(x)) return D_NAN;
  int q;
  precise double r = reduce_pio2(x, q);
  precise double v = (q & 1) == 0 ? sin_kernel(r) : cos_kernel(r);
  return q >= 2 ? -v : v;
}

double cos_d(double x) {
  if (isinf(x) || isnan(x)) return D_NAN;
  int q;
  precise double r = reduce_pio2(x, q);
  precise double v = (q & 1) == 0 ? cos_kernel(r) : sin_kernel(r);
  return (q == 1 || q == 2) ? -v : v;
}

double tan_d(double x) {
  if (isinf(x) || isnan(x)) return D_NAN;
  int q;
  precise double r = reduce_pio2(x, q);
  precise double s = sin_kernel(r), c = cos_kernel(r);
  return (q & 1) == 0 ? s / c : -c / s;
}

// atan for 0 <= t <= 1.
double atan_unit(double t) {
  precise double base = 0.0lf;
  if (t > 2.67949192431122696e-01lf) {  // tan(pi/12): shift by pi/6
    t = (t * SQRT3_D - 1.0lf) / (t + SQRT3_D);
    base = PIO6_D;
  }
  precise double z = t * t;
  precise double p = -1.0lf / 29.0lf;
  p = fma(p, z, 1.0lf / 27.0lf);
  p = fma(p, z, -1.0lf / 25.0lf);
  p = fma(p, z, 1.0lf / 23.0lf);
  p = fma(p, z, -1.0lf / 21.0lf);
  p = fma(p, z, 1.0lf / 19.0lf);
  p = fma(p, z, -1.0lf / 17.0lf);
  p = fma(p, z, 1.0lf / 15.0lf);
  p = fma(p, z, -1.0lf / 13.0lf);
  p = fma(p, z, 1.0lf / 11.0lf);
  p = fma(p, z, -1.0lf / 9.0lf);
  p = fma(p, z, 1.0lf / 7.0lf);
  p = fma(p, z, -1.0lf / 5.0lf);
  p = fma(p, z, 1.0lf / 3.0lf);
  return base + (t - t * z * p);
}

double atan_d(double x) {
  if (isnan(x)) return x;
  precise double a = abs(x);
  precise double r = a > 1.0lf ? PIO2_D - atan_unit(1.0lf / a) : atan_unit(a);
  return x < 0.0lf ? -r : r;
}

double atan2_d(double y, double x) {
  if (isnan(x) || isnan(y)) return x + y;
  bool neg_y = (doubleBitsToUint64(y) >> 63) != 0ul;
  bool neg_x = (doubleBitsToUint64(x) >> 63) != 0ul;
  precise double r;
  if (y == 0.0lf) {
    r = neg_x ? PI_D : 0.0lf;
  } else if (x == 0.0lf) {
    r = PIO2_D;
  } else if (isinf(x)) {
    if (isinf(y)) r = neg_x ? 3.0lf * PIO4_D : PIO4_D;
    else r = neg_x ? PI_D : 0.0lf;
  } else if (isinf(y)) {
    r = PIO2_D;
  } else {
    precise double ay = abs(y), ax = abs(x);
    precise double t = ay > ax ? PIO2_D - atan_unit(ax / ay) : atan_unit(ay / ax);
    r = neg_x ? PI_D - t : t;
  }
  return neg_y ? -r : r;
}

double asin_d(double x) {
  if (isnan(x) || abs(x) > 1.0lf) return D_NAN;
  return atan2_d(x, sqrt((1.0lf - x) * (1.0lf + x)));
}

double acos_d(double x) {
  if (isnan(x) || abs(x) > 1.0lf) return D_NAN;
  return atan2_d(sqrt((1.0lf - x) * (1.0lf + x)), x);
}

double sinh_d(double x) {
  precise double a = abs(x);
  precise double r;
  if (a > 709.0lf) {
    precise double h = exp_d(0.5lf * a);
    r = 0.5lf * h * h;
  } else {
    precise double e = expm1_d(a);
    r = 0.5lf * (e + e / (e + 1.0lf));
  }
  return x < 0.0lf ? -r : r;
}

double cosh_d(double x) {
  precise double a = abs(x);
  if (a > 709.0lf) {
    precise double h = exp_d(0.5lf * a);
    return 0.5lf * h * h;
  }
  precise double e = exp_d(a);
  return 0.5lf * (e + 1.0lf / e);
}

double tanh_d(double x) {
  if (isnan(x)) return x;
  precise double a = abs(x);
  precise double r = 1.0lf;
  if (a <= 22.0lf) {
    precise double e = expm1_d(2.0lf * a);
    r = e / (e + 2.0lf);
  }
  return x < 0.0lf ? -r : r;
}

double asinh_d(double x) {
  if (isnan(x) || isinf(x)) return x;
  precise double a = abs(x);
  precise double r;
  if (a > 2.68435456e8lf) r = log_d(a) + LN2_HI + LN2_LO;
  else r = log1p_d(a + a * a / (1.0lf + sqrt(1.0lf + a * a)));
  return x < 0.0lf ? -r : r;
}

double acosh_d(double x) {
  if (isnan(x) || x < 1.0lf) return D_NAN;
  if (x > 2.68435456e8lf) return log_d(x) + LN2_HI + LN2_LO;
  precise double t = x - 1.0lf;
  return log1p_d(t + sqrt(2.0lf * t + t * t));
}

double atanh_d(double x) {
  if (isnan(x) || abs(x) > 1.0lf) return D_NAN;
  precise double a = abs(x);
  precise double r = 0.5lf * log1p_d(2.0lf * a / (1.0lf - a));
  return x < 0.0lf ? -r : r;
}

// erf from two everywhere-convergent expansions: the positive series
// exp(-x^2) * sum 2^n x^(2n+1) / (2n+1)!! for |x| < 3, and 1 - erfc(x) with
// erfc's continued fraction beyond.
double erf_d(double x) {
  if (isnan(x)) return x;
  precise double a = abs(x);
  precise double r;
  if (a >= 6.0lf) {
    r = 1.0lf;
  } else if (a < 3.0lf) {
    precise double x2 = a * a;
    precise double term = a, sum = a;
    for (int n = 1; n < 200; ++n) {
      term *= 2.0lf * x2 / double(2 * n + 1);
      sum += term;
      if (term <= 1e-17lf * sum) break;
    }
    r = 1.12837916709551257390lf * exp_d(-x2) * sum;  // 2 / sqrt(pi)
  } else {
    // erfc(a) = exp(-a^2) / sqrt(pi) * 1 / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...))))
    precise double f = a;
    for (int n = 60; n >= 1; --n) f = a + (0.5lf * double(n)) / f;
    r = 1.0lf - 0.56418958354775628695lf * exp_d(-a * a) / f;
  }
  return x < 0.0lf ? -r : r;
}

// Inverse error function: Giles' approximation refined by two Newton steps,
// the same computation as the CPU backend (backends/cpu/math.h).
double erfinv_d(double x) {
  if (x <= -1.0lf) return x == -1.0lf ? -D_INF : D_NAN;
  if (x >= 1.0lf) return x == 1.0lf ? D_INF : D_NAN;
  if (isnan(x)) return x;
  precise double w = -log_d((1.0lf - x) * (1.0lf + x));
  precise double p;
  if (w < 5.0lf) {
    w -= 2.5lf;
    p = 2.81022636e-08lf;
    p = 3.43273939e-07lf + p * w;
    p = -3.5233877e-06lf + p * w;
    p = -4.39150654e-06lf + p * w;
    p = 0.00021858087lf + p * w;
    p = -0.00125372503lf + p * w;
    p = -0.00417768164lf + p * w;
    p = 0.246640727lf + p * w;
    p = 1.50140941lf + p * w;
  } else {
    w = sqrt(w) - 3.0lf;
    p = -0.000200214257lf;
    p = 0.000100950558lf + p * w;
    p = 0.00134934322lf + p * w;
    p = -0.00367342844lf + p * w;
    p = 0.00573950773lf + p * w;
    p = -0.0076224613lf + p * w;
    p = 0.00943887047lf + p * w;
    p = 1.00167406lf + p * w;
    p = 2.83297682lf + p * w;
  }
  precise double y = p * x;
  for (int i = 0; i < 2; ++i) {
    precise double err = erf_d(y) - x;
    y -= err / (1.1283791670955126lf * exp_d(-y * y));
  }
  return y;
}

double sigmoid_d(double x) {
  if (x >= 0.0lf) return 1.0lf / (1.0lf + exp_d(-x));
  precise double e = exp_d(x);
  return e / (1.0lf + e);
}

bool is_odd_integer_d(double y) {
  return floor(y) == y && abs(y) < 9007199254740992.0lf && mod(y, 2.0lf) == 1.0lf;
}

// pow with C99's special cases; the value is exp(y log|x|).
double pow_d(double x, double y) {
  if (y == 0.0lf || x == 1.0lf) return 1.0lf;
  if (isnan(x) || isnan(y)) return D_NAN;
  bool y_int = floor(y) == y;
  bool y_odd = is_odd_integer_d(y);
  if (x == 0.0lf) {
    precise double z = y < 0.0lf ? D_INF : 0.0lf;
    bool neg_zero = (doubleBitsToUint64(x) >> 63) != 0ul;
    return (neg_zero && y_odd) ? -z : z;
  }
  if (isinf(y)) {
    precise double ax = abs(x);
    if (ax == 1.0lf) return 1.0lf;
    return (ax > 1.0lf) == (y > 0.0lf) ? D_INF : 0.0lf;
  }
  if (isinf(x)) {
    precise double z = y < 0.0lf ? 0.0lf : D_INF;
    return (x < 0.0lf && y_odd) ? -z : z;
  }
  if (x < 0.0lf && !y_int) return D_NAN;
  precise double r = exp_d(y * log_d(abs(x)));
  return (x < 0.0lf && y_odd) ? -r : r;
}

#endif
