// The elementwise ops on element bits, mirroring the CPU kernels in
// backends/cpu/{unary,binary}.cpp case by case.
#ifndef LUMEN_OPS_GLSL
#define LUMEN_OPS_GLSL

#include "math.glsl"

// ---- integers ----

int64_t int_unary(uint op, int64_t x, bool is_unsigned) {
  switch (op) {
    case OP_ABS: return (!is_unsigned && x < 0) ? -x : x;
    case OP_NEGATIVE: return -x;
    case OP_SIGN:  // as a difference of comparisons: NVIDIA's compiler failed on the nested select (int8, strided)
      return int64_t(x > 0 || (is_unsigned && x != 0)) - int64_t(!is_unsigned && x < 0);
    case OP_SQUARE: return x * x;
    case OP_LOGICAL_NOT: return x == 0 ? 1l : 0l;
    case OP_BITWISE_INVERT: return ~x;
  }
  return x;  // floor, ceil, round, copy
}

int64_t bool_unary(uint op, int64_t x) {
  if (op == OP_LOGICAL_NOT || op == OP_BITWISE_INVERT) return x != 0 ? 0l : 1l;
  return x;
}

int64_t bool_binary(uint op, bool a, bool b) {
  switch (op) {
    case OP_ADD:
    case OP_LOGICAL_OR:
    case OP_BITWISE_OR:
    case OP_MAXIMUM: return int64_t(a || b);
    case OP_MULTIPLY:
    case OP_LOGICAL_AND:
    case OP_BITWISE_AND:
    case OP_MINIMUM: return int64_t(a && b);
    case OP_SUBTRACT:
    case OP_BITWISE_XOR: return int64_t(a != b);
    case OP_LEFT_SHIFT:
    case OP_RIGHT_SHIFT: return int64_t(b ? false : a);
    case OP_POWER: return int64_t(a || !b);
    case OP_DIVIDE: return int64_t(a && b);  // x / true = x; a zero divisor gives 0
    case OP_REMAINDER: return 0l;
  }
  return int64_t(a);
}

// Signed integers of `bits` bits, sign-extended; wrapping arithmetic is
// truncated to the width when stored, which gives the narrow type's result.
int64_t signed_binary(uint op, int64_t a, int64_t b, uint bits) {
  switch (op) {
    case OP_ADD: return a + b;
    case OP_SUBTRACT: return a - b;
    case OP_MULTIPLY: return a * b;
    // x / 0 = x % 0 = 0, and MIN / -1 wraps (the division itself would trap).
    case OP_DIVIDE: return b == 0 ? 0l : (b == -1 ? -a : a / b);
    case OP_REMAINDER: {
      if (b == 0 || b == -1) return 0l;
      int64_t r = a - (a / b) * b;
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
    case OP_POWER: {
      if (b < 0) return 0l;  // MLX's integer power
      int64_t r = 1, base = a;
      for (int64_t e = b; e > 0; e >>= 1) {
        if ((e & 1l) != 0) r *= base;
        base *= base;
      }
      return r;
    }
    case OP_MAXIMUM: return a > b ? a : b;
    case OP_MINIMUM: return a < b ? a : b;
    case OP_LOGICAL_AND: return int64_t(a != 0 && b != 0);
    case OP_LOGICAL_OR: return int64_t(a != 0 || b != 0);
    case OP_BITWISE_AND: return a & b;
    case OP_BITWISE_OR: return a | b;
    case OP_BITWISE_XOR: return a ^ b;
    case OP_LEFT_SHIFT: return (b < 0 || b >= int64_t(bits)) ? 0l : a << int(b);
    case OP_RIGHT_SHIFT: return (b < 0 || b >= int64_t(bits)) ? (a < 0 ? -1l : 0l) : a >> int(b);
  }
  return a;
}

uint64_t unsigned_binary(uint op, uint64_t a, uint64_t b, uint bits) {
  switch (op) {
    case OP_ADD: return a + b;
    case OP_SUBTRACT: return a - b;
    case OP_MULTIPLY: return a * b;
    case OP_DIVIDE: return b == 0ul ? 0ul : a / b;
    case OP_REMAINDER: return b == 0ul ? 0ul : a - (a / b) * b;
    case OP_POWER: {
      uint64_t r = 1ul, base = a;
      for (uint64_t e = b; e > 0ul; e >>= 1) {
        if ((e & 1ul) != 0ul) r *= base;
        base *= base;
      }
      return r;
    }
    case OP_MAXIMUM: return a > b ? a : b;
    case OP_MINIMUM: return a < b ? a : b;
    case OP_LOGICAL_AND: return uint64_t(a != 0ul && b != 0ul);
    case OP_LOGICAL_OR: return uint64_t(a != 0ul || b != 0ul);
    case OP_BITWISE_AND: return a & b;
    case OP_BITWISE_OR: return a | b;
    case OP_BITWISE_XOR: return a ^ b;
    case OP_LEFT_SHIFT: return b >= uint64_t(bits) ? 0ul : a << uint(b);
    case OP_RIGHT_SHIFT: return b >= uint64_t(bits) ? 0ul : a >> uint(b);
  }
  return a;
}

bool is_compare_op(uint op) { return (op >= OP_EQUAL && op <= OP_GREATER_EQUAL) || op == OP_NAN_EQUAL; }

// Comparison of already-ordered keys: -1, 0, 1 or 2 (unordered: NaN).
// NaNEqual's NaN == NaN is the caller's.
bool compare_result(uint op, int order) {
  if (order == 2) return op == OP_NOT_EQUAL;
  switch (op) {
    case OP_EQUAL:
    case OP_NAN_EQUAL: return order == 0;
    case OP_NOT_EQUAL: return order != 0;
    case OP_LESS: return order < 0;
    case OP_LESS_EQUAL: return order <= 0;
    case OP_GREATER: return order > 0;
  }
  return order >= 0;
}

int order_float(float a, float b) {
  if (isnan(a) || isnan(b)) return 2;
  return a < b ? -1 : (a > b ? 1 : 0);
}

// ---- float (float16, bfloat16 and float32 compute in float) ----

// 1, -1 or +0 (zeros and NaN), in integer arithmetic: compilers turn the
// float comparisons into their sign(), which gives -0 and NaN.
float sign_of(float x) {
  uint b = floatBitsToUint(x);
  uint mag = b & 0x7fffffffu;
  if (mag == 0u || mag > 0x7f800000u) return 0.0;
  return uintBitsToFloat((b & 0x80000000u) | 0x3f800000u);
}

// The exact unary ops (the transcendental ones are modules of their own).
float float_unary(uint op, float x) {
  switch (op) {
    case OP_ABS: return abs(x);
    case OP_CEIL: return ceil(x);
    case OP_FLOOR: return floor(x);
    case OP_ROUND: return roundEven(x);
    case OP_NEGATIVE: return -x;
    case OP_SIGN: return sign_of(x);
    case OP_SQRT: return fsqrt(x);
    case OP_RSQRT: return fdiv(1.0, fsqrt(x));
    case OP_SQUARE: {
      precise float y = x * x;
      return y;
    }
    case OP_LOGICAL_NOT: return x == 0.0 ? 1.0 : 0.0;
  }
  return x;  // copy
}

float float_binary(uint op, float a, float b) {
  switch (op) {
    case OP_ADD: {
      precise float r = a + b;
      return r;
    }
    case OP_SUBTRACT: {
      precise float r = a - b;
      return r;
    }
    case OP_MULTIPLY: {
      precise float r = a * b;
      return r;
    }
    case OP_DIVIDE: return fdiv(a, b);
    case OP_REMAINDER: {
      float r = fmod_exact(a, b);
      if (r != 0.0 && ((r < 0.0) != (b < 0.0))) {
        precise float s = r + b;
        r = s;
      }
      return r;
    }
    // NaN propagates, as the CPU's.
    case OP_MAXIMUM: return isnan(a) ? a : (a > b ? a : b);
    case OP_MINIMUM: return isnan(a) ? a : (a < b ? a : b);
    case OP_LOGICAL_AND: return (a != 0.0 && b != 0.0) ? 1.0 : 0.0;
    case OP_LOGICAL_OR: return (a != 0.0 || b != 0.0) ? 1.0 : 0.0;
  }
  return a;
}

// ---- double ----

#if LUMEN_F64
int order_double(double a, double b) {
  if (isnan(a) || isnan(b)) return 2;
  return a < b ? -1 : (a > b ? 1 : 0);
}

double sign_of_d(double x) {
  uint64_t b = doubleBitsToUint64(x);
  uint64_t mag = b & 0x7ffffffffffffffful;
  if (mag == 0ul || mag > 0x7ff0000000000000ul) return 0.0lf;
  return uint64BitsToDouble((b & 0x8000000000000000ul) | 0x3ff0000000000000ul);
}

double double_unary(uint op, double x) {
  switch (op) {
    case OP_ABS: return abs(x);
    case OP_CEIL: return ceil(x);
    case OP_FLOOR: return floor(x);
    case OP_ROUND: return roundEven(x);
    case OP_NEGATIVE: return -x;
    case OP_SIGN: return sign_of_d(x);
    case OP_SQRT: return dsqrt(x);
    case OP_RSQRT: return ddiv(1.0lf, dsqrt(x));
    case OP_SQUARE: {
      precise double y = x * x;
      return y;
    }
    case OP_LOGICAL_NOT: return x == 0.0lf ? 1.0lf : 0.0lf;
  }
  return x;
}

double double_binary(uint op, double a, double b) {
  switch (op) {
    case OP_ADD: {
      precise double r = a + b;
      return r;
    }
    case OP_SUBTRACT: {
      precise double r = a - b;
      return r;
    }
    case OP_MULTIPLY: {
      precise double r = a * b;
      return r;
    }
    case OP_DIVIDE: return ddiv(a, b);
    case OP_REMAINDER: {
      double r = fmod_exact_d(a, b);
      if (r != 0.0lf && ((r < 0.0lf) != (b < 0.0lf))) {
        precise double s = r + b;
        r = s;
      }
      return r;
    }
    case OP_MAXIMUM: return isnan(a) ? a : (a > b ? a : b);
    case OP_MINIMUM: return isnan(a) ? a : (a < b ? a : b);
    case OP_LOGICAL_AND: return (a != 0.0lf && b != 0.0lf) ? 1.0lf : 0.0lf;
    case OP_LOGICAL_OR: return (a != 0.0lf || b != 0.0lf) ? 1.0lf : 0.0lf;
  }
  return a;
}
#endif

// ---- complex64 ----

vec2 cmul(vec2 a, vec2 b) {
  precise float ac = a.x * b.x, bd = a.y * b.y, ad = a.x * b.y, bc = a.y * b.x;
  precise vec2 r = vec2(ac - bd, ad + bc);
  return r;
}

// Smith's algorithm.
vec2 cdiv(vec2 a, vec2 b) {
  if (abs(b.x) >= abs(b.y)) {
    float r = fdiv(b.y, b.x);
    float den = b.x + b.y * r;
    return vec2(fdiv(a.x + a.y * r, den), fdiv(a.y - a.x * r, den));
  }
  float r = fdiv(b.x, b.y);
  float den = b.x * r + b.y;
  return vec2(fdiv(a.x * r + a.y, den), fdiv(a.y * r - a.x, den));
}

// hypot(re, im), as C's: infinite beats NaN.
float cabs(vec2 z) {
  float a = abs(z.x), b = abs(z.y);
  if (isinf(a) || isinf(b)) return F_INF;
  if (isnan(a) || isnan(b)) return F_NAN;
  float m = a > b ? a : b, n = a > b ? b : a;
  if (m == 0.0) return 0.0;
  float t = fdiv(n, m);
  return m * fsqrt(1.0 + t * t);
}

vec2 csqrt(vec2 z) {
  if (z.x == 0.0 && z.y == 0.0) return vec2(0.0, z.y);
  float t = fsqrt(0.5 * (abs(z.x) + cabs(z)));
  if (z.x >= 0.0) return vec2(t, fdiv(z.y, 2.0 * t));
  return vec2(fdiv(abs(z.y), 2.0 * t), sign_bit(z.y) ? -t : t);
}

// The exact unary ops and the ones the CPU leaves as they are.
vec2 complex_unary(uint op, vec2 z) {
  switch (op) {
    case OP_ABS: return vec2(cabs(z), 0.0);
    case OP_NEGATIVE: return -z;
    case OP_SQUARE: return cmul(z, z);
    case OP_SQRT: return csqrt(z);
    case OP_RSQRT: return cdiv(vec2(1.0, 0.0), csqrt(z));
    case OP_CONJUGATE: return vec2(z.x, -z.y);
    case OP_ROUND: return vec2(roundEven(z.x), roundEven(z.y));
    case OP_SIGN: {
      if (z.x == 0.0 && z.y == 0.0) return z;
      float m = cabs(z);
      return vec2(fdiv(z.x, m), fdiv(z.y, m));
    }
    case OP_LOGICAL_NOT: return vec2((z.x == 0.0 && z.y == 0.0) ? 1.0 : 0.0, 0.0);
  }
  return z;
}

// complex64 order: lexicographic, real part first (MLX's).
bool complex_greater(vec2 a, vec2 b) { return a.x > b.x || (a.x == b.x && a.y > b.y); }
bool complex_greater_equal(vec2 a, vec2 b) { return a.x > b.x || (a.x == b.x && a.y >= b.y); }

bool complex_compare(uint op, vec2 a, vec2 b) {
  switch (op) {
    case OP_EQUAL: return a.x == b.x && a.y == b.y;
    case OP_NOT_EQUAL: return !(a.x == b.x && a.y == b.y);
    case OP_NAN_EQUAL: return (a.x == b.x && a.y == b.y) || (isnan(a.x) && isnan(b.x));
    case OP_LESS: return complex_greater(b, a);
    case OP_LESS_EQUAL: return complex_greater_equal(b, a);
    case OP_GREATER: return complex_greater(a, b);
  }
  return complex_greater_equal(a, b);
}

// NaN-propagating: a NaN real part in a wins.
vec2 complex_maximum(vec2 a, vec2 b) { return (isnan(a.x) || complex_greater(a, b)) ? a : b; }
vec2 complex_minimum(vec2 a, vec2 b) { return (isnan(a.x) || complex_greater(b, a)) ? a : b; }

vec2 complex_binary(uint op, vec2 a, vec2 b) {
  switch (op) {
    case OP_ADD: {
      precise vec2 r = a + b;
      return r;
    }
    case OP_SUBTRACT: {
      precise vec2 r = a - b;
      return r;
    }
    case OP_MULTIPLY: return cmul(a, b);
    case OP_DIVIDE: return cdiv(a, b);
    case OP_MAXIMUM: return complex_maximum(a, b);
    case OP_MINIMUM: return complex_minimum(a, b);
    case OP_LOGICAL_AND: return vec2((a != vec2(0.0) && b != vec2(0.0)) ? 1.0 : 0.0, 0.0);
    case OP_LOGICAL_OR: return vec2((a != vec2(0.0) || b != vec2(0.0)) ? 1.0 : 0.0, 0.0);
  }
  return a;
}

#ifdef MATH_OP
vec2 cexp(vec2 z) {
  if (isinf(z.x) && z.x < 0.0 && (isinf(z.y) || isnan(z.y))) return vec2(0.0, with_sign(0.0, sign_bit(z.y)));
  float e = fexp(z.x);
  if (z.y == 0.0) return vec2(e, z.y);
  return vec2(e * fcos(z.y), e * fsin(z.y));
}

vec2 clog(vec2 z) { return vec2(flog(cabs(z)), fatan2(z.y, z.x)); }

// log(1 + z), as the CPU's (backends/cpu/math.h).
vec2 clog1p(vec2 z) {
  float theta = fatan2(z.y, z.x + 1.0);
  if (cabs(z) < 0.5) {
    precise float r = z.x * (2.0 + z.x) + z.y * z.y;
    if (r == 0.0) return vec2(z.x, theta);
    return vec2(0.5 * flog1p(r), theta);
  }
  return vec2(flog(cabs(vec2(z.x + 1.0, z.y))), theta);
}

// The inverse functions from their logarithmic forms, in double where the
// device has it (the forms cancel in places; double keeps float exact).
#if LUMEN_F64
#define CREAL double
#define CVEC dvec2
#define C_LOG log_d
#define C_ATAN2 atan2_d
#define C_EXP exp_d
#define C_SIN sin_d
#define C_COS cos_d
#define C_SINH sinh_d
#define C_COSH cosh_d
#else
#define CREAL float
#define CVEC vec2
#define C_LOG flog
#define C_ATAN2 fatan2
#define C_EXP fexp
#define C_SIN fsin
#define C_COS fcos
#define C_SINH fsinh
#define C_COSH fcosh
#endif

// tanh(x + iy) = (sinh 2x + i sin 2y) / (cosh 2x + cos 2y), +-1 for large
// |x| (the denominator cancels near the poles: double keeps float exact).
vec2 ctanh(vec2 z) {
  CVEC w = CVEC(z);
  if (abs(w.x) > CREAL(15)) {
    CREAL im = CREAL(4) * C_SIN(w.y) * C_COS(w.y) * C_EXP(CREAL(-2) * abs(w.x));
    return vec2(sign_bit(z.x) ? -1.0 : 1.0, float(im));
  }
  CREAL den = C_COSH(CREAL(2) * w.x) + C_COS(CREAL(2) * w.y);
  return vec2(CVEC(C_SINH(CREAL(2) * w.x), C_SIN(CREAL(2) * w.y)) / den);
}

CVEC xc_mul(CVEC a, CVEC b) { return CVEC(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
CVEC xc_log(CVEC z) { return CVEC(C_LOG(sqrt(z.x * z.x + z.y * z.y)), C_ATAN2(z.y, z.x)); }
CVEC xc_sqrt(CVEC z) {
  CREAL m = sqrt(z.x * z.x + z.y * z.y);
  if (m == CREAL(0)) return CVEC(0, z.y);
  CREAL t = sqrt(CREAL(0.5) * (abs(z.x) + m));
  if (z.x >= CREAL(0)) return CVEC(t, z.y / (CREAL(2) * t));
  return CVEC(abs(z.y) / (CREAL(2) * t), z.y < CREAL(0) ? -t : t);
}
// asinh z = log(z + sqrt(z^2 + 1)), odd: computed where Re z >= 0.
CVEC xc_asinh(CVEC z) {
  bool flip = z.x < CREAL(0);
  if (flip) z = -z;
  CVEC r = xc_log(z + xc_sqrt(xc_mul(z, z) + CVEC(1, 0)));
  return flip ? -r : r;
}
// atanh z = (log(1 + z) - log(1 - z)) / 2
CVEC xc_atanh(CVEC z) { return CREAL(0.5) * (xc_log(CVEC(1, 0) + z) - xc_log(CVEC(1, 0) - z)); }
// acosh z = log(z + sqrt(z + 1) sqrt(z - 1))
CVEC xc_acosh(CVEC z) { return xc_log(z + xc_mul(xc_sqrt(z + CVEC(1, 0)), xc_sqrt(z - CVEC(1, 0)))); }

#include "math_op.glsl"
#endif

#endif
