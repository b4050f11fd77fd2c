// Binary: every BinaryOp on two inputs of one dtype; comparisons write bool.
// Built per compute class, and per class and transcendental op (MATH_OP:
// power, arctan2, logaddexp); see modules.cmake.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"
#include "ops.glsl"

layout(constant_id = 8) const uint OP = OP_ADD;
layout(constant_id = 9) const uint DT_IN0 = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;
#define NUM_INPUTS 2

uint64_t element(uint64_t a, uint64_t b, uint64_t unused) {
#if CLASS == CLASS_INT
  if (is_compare_op(OP)) {
    int order;
    if (dtype_is_unsigned(DT_IN0)) {
      order = a < b ? -1 : (a > b ? 1 : 0);
    } else {
      int64_t sa = bits_to_int(DT_IN0, a), sb = bits_to_int(DT_IN0, b);
      order = sa < sb ? -1 : (sa > sb ? 1 : 0);
    }
    return compare_result(OP, order) ? 1ul : 0ul;
  }
  if (DT_IN0 == DT_BOOL) return uint64_t(bool_binary(OP, a != 0ul, b != 0ul));
  uint bits = dtype_bits(DT_IN0);
  if (dtype_is_unsigned(DT_IN0)) return int_to_bits(DT_IN0, int64_t(unsigned_binary(OP, a, b, bits)));
  return int_to_bits(DT_IN0, signed_binary(OP, bits_to_int(DT_IN0, a), bits_to_int(DT_IN0, b), bits));
#elif CLASS == CLASS_FLOAT
  float fa = bits_to_float(DT_IN0, a), fb = bits_to_float(DT_IN0, b);
#ifdef MATH_OP
  return float_to_bits(DT_IN0, float_math2(fa, fb));
#else
  if (OP == OP_NAN_EQUAL && isnan(fa) && isnan(fb)) return 1ul;
  if (is_compare_op(OP)) return compare_result(OP, order_float(fa, fb)) ? 1ul : 0ul;
  return float_to_bits(DT_IN0, float_binary(OP, fa, fb));
#endif
#elif CLASS == CLASS_DOUBLE
  double da = uint64BitsToDouble(a), db = uint64BitsToDouble(b);
#ifdef MATH_OP
  return doubleBitsToUint64(double_math2(da, db));
#else
  if (OP == OP_NAN_EQUAL && isnan(da) && isnan(db)) return 1ul;
  if (is_compare_op(OP)) return compare_result(OP, order_double(da, db)) ? 1ul : 0ul;
  return doubleBitsToUint64(double_binary(OP, da, db));
#endif
#else
  vec2 za = bits_to_complex(a), zb = bits_to_complex(b);
#ifdef MATH_OP
  return complex_to_bits(complex_math2(za, zb));
#else
  if (is_compare_op(OP)) return complex_compare(OP, za, zb) ? 1ul : 0ul;
  return complex_to_bits(complex_binary(OP, za, zb));
#endif
#endif
}

#include "elementwise_main.glsl"
