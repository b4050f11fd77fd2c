// Accumulators of the reduction and scan kernels, one compute class per
// module (CLASS, defined when the module is built):
//   CLASS_INT     integers and bool in int64_t: sums and products wrap, and
//                 truncating to the output's width gives the narrower
//                 type's wrapped result; all/any of every dtype also fold
//                 here, as 0/1;
//   CLASS_FLOAT   float16, bfloat16, float32 in float;
//   CLASS_DOUBLE  float64 in double;
//   CLASS_COMPLEX complex64 in vec2 (max/min order by real, then imaginary).
// The rules are the CPU's (backends/cpu/reduce_ops.h, ordering.h): max/min
// propagate NaN, and all/any test an element's bits (a float's sign bit
// left out, so -0.0 is false).
//
// A module that scans with logaddexp defines ACC_LOGADDEXP (it pulls in the
// exponential and logarithm; the others stay small).
#ifndef LUMEN_ACCUMULATE_GLSL
#define LUMEN_ACCUMULATE_GLSL

#include "dtype.glsl"
#include "reduce_ids.h"
#ifdef ACC_LOGADDEXP
#include "math.glsl"
#endif

#if CLASS == CLASS_INT
#define ACC_T int64_t
#elif CLASS == CLASS_FLOAT
#define ACC_T float
#elif CLASS == CLASS_DOUBLE
#define ACC_T double
#else
#define ACC_T vec2
#endif

// Bits that make an element true for all/any.
uint64_t truth_mask(uint dt) {
  if (dt == DT_F16 || dt == DT_BF16) return 0x7ffful;
  if (dt == DT_F32) return 0x7ffffffful;
  if (dt == DT_F64) return 0x7ffffffffffffffful;
  if (dt == DT_C64) return 0x7fffffff7ffffffful;
  return ~0ul;
}

bool dtype_is_signed_int(uint dt) { return dt == DT_I8 || dt == DT_I16 || dt == DT_I32 || dt == DT_I64; }

#if CLASS == CLASS_INT

// The smallest and largest values of an integer dtype, as accumulators.
int64_t int_lowest(uint dt) { return dtype_is_signed_int(dt) ? (-1l << (dtype_bits(dt) - 1u)) : 0l; }
int64_t int_highest(uint dt) {
  if (dtype_is_signed_int(dt)) return ~int_lowest(dt);
  return dtype_bits(dt) == 64u ? -1l : (1l << dtype_bits(dt)) - 1l;
}

// a < b in dt's order (uint64 compares unsigned; narrower types are
// sign- or zero-extended and compare as int64).
bool int_less(uint dt, int64_t a, int64_t b) {
  if (dt == DT_U64) return uint64_t(a) < uint64_t(b);
  return a < b;
}

ACC_T acc_identity(uint op, uint dt) {
  switch (op) {
    case RED_AND:
    case RED_PROD: return 1l;
    case RED_MIN: return int_highest(dt);
    case RED_MAX: return int_lowest(dt);
  }
  return 0l;
}

ACC_T acc_load(uint op, uint dt, uint64_t bits) {
  if (op == RED_AND || op == RED_OR) return (bits & truth_mask(dt)) != 0ul ? 1l : 0l;
  return bits_to_int(dt, bits);
}

ACC_T acc_combine(uint op, uint dt, ACC_T a, ACC_T b) {
  switch (op) {
    case RED_AND: return a & b;
    case RED_OR: return a | b;
    case RED_SUM: return a + b;
    case RED_PROD: return a * b;
    case RED_MIN: return int_less(dt, b, a) ? b : a;
    case RED_MAX: return int_less(dt, a, b) ? b : a;
  }
  return a;
}

uint64_t acc_store(uint dt, ACC_T a) { return int_to_bits(dt, a); }

#elif CLASS == CLASS_FLOAT || CLASS == CLASS_DOUBLE

ACC_T acc_identity(uint op, uint dt) {
  ACC_T inf = ACC_T(uintBitsToFloat(0x7f800000u));
  switch (op) {
    case RED_PROD: return ACC_T(1);
    case RED_MIN: return inf;
    case RED_MAX:
    case RED_LOGADDEXP: return -inf;
  }
  return ACC_T(0);
}

ACC_T acc_load(uint op, uint dt, uint64_t bits) {
#if CLASS == CLASS_FLOAT
  return bits_to_float(dt, bits);
#else
  return uint64BitsToDouble(bits);
#endif
}

#ifdef ACC_LOGADDEXP
// log(exp(a) + exp(b)) without overflow; -inf is the identity.
ACC_T log_add_exp(ACC_T a, ACC_T b) {
  if (isnan(a) || isnan(b)) return a + b;
  ACC_T hi = max(a, b), lo = min(a, b);
  if (isinf(lo) && lo < ACC_T(0)) return hi;
  if (isinf(hi) && hi > ACC_T(0)) return hi;
#if CLASS == CLASS_FLOAT
  return hi + flog1p(fexp(lo - hi));
#else
  return hi + log1p_d(exp_d(lo - hi));
#endif
}
#endif

ACC_T acc_combine(uint op, uint dt, ACC_T a, ACC_T b) {
  switch (op) {
    case RED_SUM: return a + b;
    case RED_PROD: return a * b;
    // The first NaN stays (CPU's nan_max/nan_min with a the running value).
    case RED_MIN: return (b < a || isnan(b)) && !isnan(a) ? b : a;
    case RED_MAX: return (b > a || isnan(b)) && !isnan(a) ? b : a;
#ifdef ACC_LOGADDEXP
    case RED_LOGADDEXP: return log_add_exp(a, b);
#endif
  }
  return a;
}

uint64_t acc_store(uint dt, ACC_T a) {
#if CLASS == CLASS_FLOAT
  return float_to_bits(dt, a);
#else
  return doubleBitsToUint64(a);
#endif
}

#else  // CLASS_COMPLEX

bool complex_is_nan(vec2 z) { return isnan(z.x) || isnan(z.y); }
bool complex_less(vec2 a, vec2 b) { return a.x < b.x || (a.x == b.x && a.y < b.y); }

ACC_T acc_identity(uint op, uint dt) {
  float inf = uintBitsToFloat(0x7f800000u);
  switch (op) {
    case RED_PROD: return vec2(1, 0);
    case RED_MIN: return vec2(inf, 0);
    case RED_MAX: return vec2(-inf, 0);
  }
  return vec2(0);
}

ACC_T acc_load(uint op, uint dt, uint64_t bits) { return bits_to_complex(bits); }

ACC_T acc_combine(uint op, uint dt, ACC_T a, ACC_T b) {
  switch (op) {
    case RED_SUM: return a + b;
    case RED_PROD: return vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
    case RED_MIN: return !complex_is_nan(a) && (complex_is_nan(b) || complex_less(b, a)) ? b : a;
    case RED_MAX: return !complex_is_nan(a) && (complex_is_nan(b) || complex_less(a, b)) ? b : a;
  }
  return a;
}

uint64_t acc_store(uint dt, ACC_T a) { return complex_to_bits(a); }

#endif

#endif
