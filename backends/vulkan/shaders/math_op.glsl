// The functions of one transcendental op MATH_OP: float_math(x) and
// float_math2(a, b) on float, double_math/double_math2 on double,
// complex_math/complex_math2 on complex64. No include guard: ops.glsl
// includes it once for a module's MATH_OP, and compile's generated kernels
// (backends/vulkan/codegen/) include it once per op they use, with MATH_OP
// and the six names redefined, so one shader can hold several ops.
// Needs ops.glsl (included with MATH_OP defined: the helpers).

// The unary op MATH_OP on float (float16 and bfloat16 compute in float).
float float_math(float x) {
#if LUMEN_F64
  double d = double(x);
#if MATH_OP == OP_EXP
  return mlx_exp(x);
#elif MATH_OP == OP_EXPM1
  return float(expm1_d(d));
#elif MATH_OP == OP_LOG
  return float(log_d(d));
#elif MATH_OP == OP_LOG2
  return float(log2_d(d));
#elif MATH_OP == OP_LOG10
  return float(log10_d(d));
#elif MATH_OP == OP_LOG1P
  return float(log1p_d(d));
#elif MATH_OP == OP_SIN
  return float(sin_d(d));
#elif MATH_OP == OP_COS
  return float(cos_d(d));
#elif MATH_OP == OP_TAN
  return float(tan_d(d));
#elif MATH_OP == OP_ARCSIN
  return float(asin_d(d));
#elif MATH_OP == OP_ARCCOS
  return float(acos_d(d));
#elif MATH_OP == OP_ARCTAN
  return float(atan_d(d));
#elif MATH_OP == OP_SINH
  return float(sinh_d(d));
#elif MATH_OP == OP_COSH
  return float(cosh_d(d));
#elif MATH_OP == OP_TANH
  return float(tanh_d(d));
#elif MATH_OP == OP_ARCSINH
  return float(asinh_d(d));
#elif MATH_OP == OP_ARCCOSH
  return float(acosh_d(d));
#elif MATH_OP == OP_ARCTANH
  return float(atanh_d(d));
#elif MATH_OP == OP_SIGMOID
  return fsigmoid(x);
#elif MATH_OP == OP_ERF
  return mlx_erf(x);
#elif MATH_OP == OP_ERFINV
  return mlx_erfinv(x);
#else
  return x;
#endif
#else  // built-in float functions, which need not handle NaN
  if (isnan(x)) return x;
#if MATH_OP == OP_EXP
  return mlx_exp(x);
#elif MATH_OP == OP_EXPM1
  return fexpm1(x);
#elif MATH_OP == OP_LOG
  return flog(x);
#elif MATH_OP == OP_LOG2
  return x < 0.0 ? F_NAN : (x == 0.0 ? -F_INF : log2(x));
#elif MATH_OP == OP_LOG10
  return flog(x) * 0.4342944819;
#elif MATH_OP == OP_LOG1P
  return flog1p(x);
#elif MATH_OP == OP_SIN
  return sin(x);
#elif MATH_OP == OP_COS
  return cos(x);
#elif MATH_OP == OP_TAN
  return tan(x);
#elif MATH_OP == OP_ARCSIN
  return asin(x);
#elif MATH_OP == OP_ARCCOS
  return acos(x);
#elif MATH_OP == OP_ARCTAN
  return atan(x);
#elif MATH_OP == OP_SINH
  return sinh(x);
#elif MATH_OP == OP_COSH
  return cosh(x);
#elif MATH_OP == OP_TANH
  return abs(x) > 10.0 ? sign(x) : tanh(x);
#elif MATH_OP == OP_ARCSINH
  return asinh(x);
#elif MATH_OP == OP_ARCCOSH
  return acosh(x);
#elif MATH_OP == OP_ARCTANH
  return atanh(x);
#elif MATH_OP == OP_SIGMOID
  return fsigmoid(x);
#elif MATH_OP == OP_ERF
  return mlx_erf(x);
#elif MATH_OP == OP_ERFINV
  return mlx_erfinv(x);
#else
  return x;
#endif
#endif
}

// The binary op MATH_OP (power, arctan2, logaddexp) on float.
float float_math2(float a, float b) {
#if MATH_OP == OP_POWER
#if LUMEN_F64
  return float(pow_d(double(a), double(b)));
#else
  return fpow(a, b);
#endif
#elif MATH_OP == OP_ARCTAN2
  if (isnan(a) || isnan(b)) return F_NAN;
  return fatan2(a, b);
#elif MATH_OP == OP_LOGADDEXP
  // As the CPU: the larger plus log1p(exp(smaller - larger)), exact at infinities.
  float hi = isnan(a) ? a : (a > b ? a : b), lo = isnan(a) ? a : (a < b ? a : b);
  if (lo == -F_INF || hi == F_INF) return hi;
  precise float r = hi + flog1p(fexp(lo - hi));
  return r;
#else
  return a;
#endif
}

#if LUMEN_F64
double double_math(double x) {
#if MATH_OP == OP_EXP
  return exp_d(x);
#elif MATH_OP == OP_EXPM1
  return expm1_d(x);
#elif MATH_OP == OP_LOG
  return log_d(x);
#elif MATH_OP == OP_LOG2
  return log2_d(x);
#elif MATH_OP == OP_LOG10
  return log10_d(x);
#elif MATH_OP == OP_LOG1P
  return log1p_d(x);
#elif MATH_OP == OP_SIN
  return sin_d(x);
#elif MATH_OP == OP_COS
  return cos_d(x);
#elif MATH_OP == OP_TAN
  return tan_d(x);
#elif MATH_OP == OP_ARCSIN
  return asin_d(x);
#elif MATH_OP == OP_ARCCOS
  return acos_d(x);
#elif MATH_OP == OP_ARCTAN
  return atan_d(x);
#elif MATH_OP == OP_SINH
  return sinh_d(x);
#elif MATH_OP == OP_COSH
  return cosh_d(x);
#elif MATH_OP == OP_TANH
  return tanh_d(x);
#elif MATH_OP == OP_ARCSINH
  return asinh_d(x);
#elif MATH_OP == OP_ARCCOSH
  return acosh_d(x);
#elif MATH_OP == OP_ARCTANH
  return atanh_d(x);
#elif MATH_OP == OP_SIGMOID
  return sigmoid_d(x);
#elif MATH_OP == OP_ERF
  return erf_d(x);
#elif MATH_OP == OP_ERFINV
  return erfinv_d(x);
#else
  return x;
#endif
}

double double_math2(double a, double b) {
#if MATH_OP == OP_POWER
  return pow_d(a, b);
#elif MATH_OP == OP_ARCTAN2
  return atan2_d(a, b);
#elif MATH_OP == OP_LOGADDEXP
  double hi = isnan(a) ? a : (a > b ? a : b), lo = isnan(a) ? a : (a < b ? a : b);
  if (lo == -D_INF || hi == D_INF) return hi;
  return hi + log1p_d(exp_d(lo - hi));
#else
  return a;
#endif
}
#endif

// The unary op MATH_OP on complex64.
vec2 complex_math(vec2 z) {
  CVEC w = CVEC(z);
#if MATH_OP == OP_EXP
  return cexp(z);
#elif MATH_OP == OP_LOG
  return clog(z);
#elif MATH_OP == OP_LOG2
  vec2 l = clog(z);
  return vec2(fdiv(l.x, 0.693147182), fdiv(l.y, 0.693147182));
#elif MATH_OP == OP_LOG10
  vec2 l = clog(z);
  return vec2(fdiv(l.x, 2.30258512), fdiv(l.y, 2.30258512));
#elif MATH_OP == OP_LOG1P
  return clog1p(z);
#elif MATH_OP == OP_SIN
  return vec2(fsin(z.x) * fcosh(z.y), fcos(z.x) * fsinh(z.y));
#elif MATH_OP == OP_COS
  return vec2(fcos(z.x) * fcosh(z.y), -fsin(z.x) * fsinh(z.y));
#elif MATH_OP == OP_TAN
  vec2 t = ctanh(vec2(-z.y, z.x));  // tan z = -i tanh(iz)
  return vec2(t.y, -t.x);
#elif MATH_OP == OP_SINH
  return vec2(fsinh(z.x) * fcos(z.y), fcosh(z.x) * fsin(z.y));
#elif MATH_OP == OP_COSH
  return vec2(fcosh(z.x) * fcos(z.y), fsinh(z.x) * fsin(z.y));
#elif MATH_OP == OP_TANH
  return ctanh(z);
#elif MATH_OP == OP_ARCSINH
  return vec2(xc_asinh(w));
#elif MATH_OP == OP_ARCSIN
  CVEC r = xc_asinh(CVEC(-w.y, w.x));  // asin z = -i asinh(iz)
  return vec2(r.y, -r.x);
#elif MATH_OP == OP_ARCCOS
  CVEC r = xc_asinh(CVEC(-w.y, w.x));  // acos z = pi/2 - asin z
  return vec2(CVEC(CREAL(1.5707963267948966), 0) - CVEC(r.y, -r.x));
#elif MATH_OP == OP_ARCTANH
  return vec2(xc_atanh(w));
#elif MATH_OP == OP_ARCTAN
  CVEC r = xc_atanh(CVEC(-w.y, w.x));  // atan z = -i atanh(iz)
  return vec2(r.y, -r.x);
#elif MATH_OP == OP_ARCCOSH
  return vec2(xc_acosh(w));
#else
  return z;
#endif
}

vec2 complex_math2(vec2 a, vec2 b) {
#if MATH_OP == OP_POWER
  if (a.x == 0.0 && a.y == 0.0) return vec2(0.0);
  return cexp(cmul(b, clog(a)));
#elif MATH_OP == OP_LOGADDEXP
  // The larger (lexicographically) plus log1p of exp of the difference.
  vec2 hi = complex_maximum(a, b), lo = complex_minimum(a, b);
  if ((lo.x == -F_INF && lo.y == 0.0) || (hi.x == F_INF && hi.y == 0.0)) return hi;
  precise vec2 d = lo - hi;
  precise vec2 r = hi + clog1p(cexp(d));
  return r;
#else
  return a;
#endif
}
