// AsType on element bits: any dtype to any dtype, with the CPU backend's
// conversions (detail::convert_scalar): through float for float16/bfloat16
// (round to nearest even), float to integer truncated and saturated (NaN to
// 0), truncation between integers, nonzero for bool, the real part of
// complex64. Shared by astype.comp and compile's fused kernels.
#ifndef LUMEN_ASTYPE_GLSL
#define LUMEN_ASTYPE_GLSL

#include "dtype.glsl"

// The integer limits of dtype `to` and their bits.
uint int_digits(uint to) { return dtype_bits(to) - (dtype_is_unsigned(to) ? 0u : 1u); }
uint64_t int_max_bits(uint to) {
  uint d = int_digits(to);
  return d == 64u ? ~0ul : (1ul << d) - 1ul;
}
uint64_t int_min_bits(uint to) {
  return dtype_is_unsigned(to) ? 0ul : int_to_bits(to, -(1l << int_digits(to)));
}

uint64_t float_to_int_bits(uint to, float f) {
  if (isnan(f)) return 0ul;
  float upper = ldexp(1.0, int(int_digits(to)));  // 2^digits, exact
  float lower = dtype_is_unsigned(to) ? 0.0 : -upper;
  if (f <= lower) return int_min_bits(to);
  if (f >= upper) return int_max_bits(to);
  if (dtype_is_unsigned(to)) return int_to_bits(to, int64_t(uint64_t(f)));
  return int_to_bits(to, int64_t(f));
}

uint64_t astype_from_float(uint to, float f) {
  uint cls = dtype_class(to);
  if (to == DT_BOOL) return (f != 0.0 || isnan(f)) ? 1ul : 0ul;
  if (cls == CLASS_FLOAT) return float_to_bits(to, f);
#if LUMEN_F64
  if (cls == CLASS_DOUBLE) return doubleBitsToUint64(double(f));
#endif
  if (cls == CLASS_COMPLEX) return complex_to_bits(vec2(f, 0.0));
  return float_to_int_bits(to, f);
}

uint64_t astype_from_int(uint to, int64_t v, bool is_unsigned) {
  uint cls = dtype_class(to);
  if (cls == CLASS_INT) return int_to_bits(to, v);
#if LUMEN_F64
  if (cls == CLASS_DOUBLE) return doubleBitsToUint64(is_unsigned ? double(uint64_t(v)) : double(v));
#endif
  return astype_from_float(to, is_unsigned ? float(uint64_t(v)) : float(v));
}

uint64_t astype_bits(uint from, uint to, uint64_t x) {
  uint cls = dtype_class(from);
  if (cls == CLASS_INT) return astype_from_int(to, bits_to_int(from, x), dtype_is_unsigned(from));
  if (cls == CLASS_FLOAT) {
    float f = bits_to_float(from, x);
#if LUMEN_F64
    if (to == DT_F64) return doubleBitsToUint64(double(f));
#endif
    return astype_from_float(to, f);
  }
#if LUMEN_F64
  if (cls == CLASS_DOUBLE) {
    double d = uint64BitsToDouble(x);
    uint out_cls = dtype_class(to);
    if (to == DT_BOOL) return (d != 0.0lf || isnan(d)) ? 1ul : 0ul;
    if (out_cls == CLASS_INT) {
      if (isnan(d)) return 0ul;
      double upper = ldexp(1.0lf, int(int_digits(to)));
      double lower = dtype_is_unsigned(to) ? 0.0lf : -upper;
      if (d <= lower) return int_min_bits(to);
      if (d >= upper) return int_max_bits(to);
      if (dtype_is_unsigned(to)) return int_to_bits(to, int64_t(uint64_t(d)));
      return int_to_bits(to, int64_t(d));
    }
    if (out_cls == CLASS_DOUBLE) return x;
    return astype_from_float(to, float(d));  // float16/bfloat16 round twice, as on the CPU
  }
#endif
  // complex64: the real part (complex to complex keeps both).
  if (to == DT_C64) return x;
  return astype_from_float(to, bits_to_complex(x).x);
}

#endif
