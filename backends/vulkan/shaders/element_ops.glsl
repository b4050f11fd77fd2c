// Unary and Binary on element bits, for one compute class CLASS (and one
// transcendental op MATH_OP when defined): UNARY_ELEMENT(op, dt, x) and
// BINARY_ELEMENT(op, dt, a, b), where dt is the input dtype. No include
// guard: unary.comp and binary.comp include it once; compile's generated
// kernels (backends/vulkan/codegen/) include it once per class and op they
// use, with the two names (and math_op.glsl's) redefined.
// Needs ops.glsl.
#ifndef UNARY_ELEMENT
#define UNARY_ELEMENT unary_element
#endif
#ifndef BINARY_ELEMENT
#define BINARY_ELEMENT binary_element
#endif

uint64_t UNARY_ELEMENT(uint op, uint dt, uint64_t x) {
#if CLASS == CLASS_INT
  if (dt == DT_BOOL) return int_to_bits(DT_BOOL, bool_unary(op, int64_t(x)));
  return int_to_bits(dt, int_unary(op, bits_to_int(dt, x), dtype_is_unsigned(dt)));
#elif CLASS == CLASS_FLOAT
#ifdef MATH_OP
  return float_to_bits(dt, float_math(bits_to_float(dt, x)));
#else
  return float_to_bits(dt, float_unary(op, bits_to_float(dt, x)));
#endif
#elif CLASS == CLASS_DOUBLE
#ifdef MATH_OP
  return doubleBitsToUint64(double_math(uint64BitsToDouble(x)));
#else
  return doubleBitsToUint64(double_unary(op, uint64BitsToDouble(x)));
#endif
#else
  vec2 z = bits_to_complex(x);
#ifdef MATH_OP
  return complex_to_bits(complex_math(z));
#else
  // Real and Imag write float32.
  if (op == OP_REAL) return float_to_bits(DT_F32, z.x);
  if (op == OP_IMAG) return float_to_bits(DT_F32, z.y);
  return complex_to_bits(complex_unary(op, z));
#endif
#endif
}

// Comparisons write bool; the rest write dt.
uint64_t BINARY_ELEMENT(uint op, uint dt, uint64_t a, uint64_t b) {
#if CLASS == CLASS_INT
  if (is_compare_op(op)) {
    int order;
    if (dtype_is_unsigned(dt)) {
      order = a < b ? -1 : (a > b ? 1 : 0);
    } else {
      int64_t sa = bits_to_int(dt, a), sb = bits_to_int(dt, b);
      order = sa < sb ? -1 : (sa > sb ? 1 : 0);
    }
    return compare_result(op, order) ? 1ul : 0ul;
  }
  if (dt == DT_BOOL) return uint64_t(bool_binary(op, a != 0ul, b != 0ul));
  uint bits = dtype_bits(dt);
  if (dtype_is_unsigned(dt)) return int_to_bits(dt, int64_t(unsigned_binary(op, a, b, bits)));
  return int_to_bits(dt, signed_binary(op, bits_to_int(dt, a), bits_to_int(dt, b), bits));
#elif CLASS == CLASS_FLOAT
  float fa = bits_to_float(dt, a), fb = bits_to_float(dt, b);
#ifdef MATH_OP
  return float_to_bits(dt, float_math2(fa, fb));
#else
  if (op == OP_NAN_EQUAL && isnan(fa) && isnan(fb)) return 1ul;
  if (is_compare_op(op)) return compare_result(op, order_float(fa, fb)) ? 1ul : 0ul;
  return float_to_bits(dt, float_binary(op, fa, fb));
#endif
#elif CLASS == CLASS_DOUBLE
  double da = uint64BitsToDouble(a), db = uint64BitsToDouble(b);
#ifdef MATH_OP
  return doubleBitsToUint64(double_math2(da, db));
#else
  if (op == OP_NAN_EQUAL && isnan(da) && isnan(db)) return 1ul;
  if (is_compare_op(op)) return compare_result(op, order_double(da, db)) ? 1ul : 0ul;
  return doubleBitsToUint64(double_binary(op, da, db));
#endif
#else
  vec2 za = bits_to_complex(a), zb = bits_to_complex(b);
#ifdef MATH_OP
  return complex_to_bits(complex_math2(za, zb));
#else
  if (is_compare_op(op)) return complex_compare(op, za, zb) ? 1ul : 0ul;
  return complex_to_bits(complex_binary(op, za, zb));
#endif
#endif
}
