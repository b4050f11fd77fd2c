// Unary: every UnaryOp on every dtype the ops allow. Built once per compute
// class (CLASS: integers and bool, float, double, complex) for the exact ops
// and the ones the CPU passes through, and once per class and transcendental
// op (MATH_OP) for the others; see modules.cmake.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"
#include "ops.glsl"

layout(constant_id = 8) const uint OP = OP_COPY;
layout(constant_id = 9) const uint DT_IN0 = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;
#define NUM_INPUTS 1

uint64_t element(uint64_t x, uint64_t unused1, uint64_t unused2) {
#if CLASS == CLASS_INT
  if (DT_IN0 == DT_BOOL) return int_to_bits(DT_BOOL, bool_unary(OP, int64_t(x)));
  return int_to_bits(DT_IN0, int_unary(OP, bits_to_int(DT_IN0, x), dtype_is_unsigned(DT_IN0)));
#elif CLASS == CLASS_FLOAT
#ifdef MATH_OP
  return float_to_bits(DT_IN0, float_math(bits_to_float(DT_IN0, x)));
#else
  return float_to_bits(DT_IN0, float_unary(OP, bits_to_float(DT_IN0, x)));
#endif
#elif CLASS == CLASS_DOUBLE
#ifdef MATH_OP
  return doubleBitsToUint64(double_math(uint64BitsToDouble(x)));
#else
  return doubleBitsToUint64(double_unary(OP, uint64BitsToDouble(x)));
#endif
#else
  vec2 z = bits_to_complex(x);
#ifdef MATH_OP
  return complex_to_bits(complex_math(z));
#else
  // Real and Imag write float32.
  if (OP == OP_REAL) return float_to_bits(DT_F32, z.x);
  if (OP == OP_IMAG) return float_to_bits(DT_F32, z.y);
  return complex_to_bits(complex_unary(OP, z));
#endif
#endif
}

#include "elementwise_main.glsl"
