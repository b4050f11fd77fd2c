// AsType: any dtype to any dtype, with the CPU backend's conversions
// (detail::convert_scalar): through float for float16/bfloat16 (round to
// nearest even), float to integer truncated and saturated (NaN to 0),
// truncation between integers, nonzero for bool, the real part of complex64.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"
#include "dtype.glsl"

layout(constant_id = 9) const uint DT_IN0 = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;
#define NUM_INPUTS 1

// The integer limits of DT_OUT and their bits.
uint int_digits() { return dtype_bits(DT_OUT) - (dtype_is_unsigned(DT_OUT) ? 0u : 1u); }
uint64_t int_max_bits() {
  uint d = int_digits();
  return d == 64u ? ~0ul : (1ul << d) - 1ul;
}
uint64_t int_min_bits() { return dtype_is_unsigned(DT_OUT) ? 0ul : int_to_bits(DT_OUT, -(1l << int_digits())); }

uint64_t float_to_int_bits(float f) {
  if (isnan(f)) return 0ul;
  float upper = ldexp(1.0, int(int_digits()));  // 2^digits, exact
  float lower = dtype_is_unsigned(DT_OUT) ? 0.0 : -upper;
  if (f <= lower) return int_min_bits();
  if (f >= upper) return int_max_bits();
  if (dtype_is_unsigned(DT_OUT)) return int_to_bits(DT_OUT, int64_t(uint64_t(f)));
  return int_to_bits(DT_OUT, int64_t(f));
}

uint64_t from_float(float f) {
  uint cls = dtype_class(DT_OUT);
  if (DT_OUT == DT_BOOL) return (f != 0.0 || isnan(f)) ? 1ul : 0ul;
  if (cls == CLASS_FLOAT) return float_to_bits(DT_OUT, f);
#if LUMEN_F64
  if (cls == CLASS_DOUBLE) return doubleBitsToUint64(double(f));
#endif
  if (cls == CLASS_COMPLEX) return complex_to_bits(vec2(f, 0.0));
  return float_to_int_bits(f);
}

uint64_t from_int(int64_t v, bool is_unsigned) {
  uint cls = dtype_class(DT_OUT);
  if (cls == CLASS_INT) return int_to_bits(DT_OUT, v);
#if LUMEN_F64
  if (cls == CLASS_DOUBLE) return doubleBitsToUint64(is_unsigned ? double(uint64_t(v)) : double(v));
#endif
  return from_float(is_unsigned ? float(uint64_t(v)) : float(v));
}

uint64_t element(uint64_t x, uint64_t unused1, uint64_t unused2) {
  uint cls = dtype_class(DT_IN0);
  if (cls == CLASS_INT) return from_int(bits_to_int(DT_IN0, x), dtype_is_unsigned(DT_IN0));
  if (cls == CLASS_FLOAT) {
    float f = bits_to_float(DT_IN0, x);
#if LUMEN_F64
    if (DT_OUT == DT_F64) return doubleBitsToUint64(double(f));
#endif
    return from_float(f);
  }
#if LUMEN_F64
  if (cls == CLASS_DOUBLE) {
    double d = uint64BitsToDouble(x);
    uint out_cls = dtype_class(DT_OUT);
    if (DT_OUT == DT_BOOL) return (d != 0.0lf || isnan(d)) ? 1ul : 0ul;
    if (out_cls == CLASS_INT) {
      if (isnan(d)) return 0ul;
      double upper = ldexp(1.0lf, int(int_digits()));
      double lower = dtype_is_unsigned(DT_OUT) ? 0.0lf : -upper;
      if (d <= lower) return int_min_bits();
      if (d >= upper) return int_max_bits();
      if (dtype_is_unsigned(DT_OUT)) return int_to_bits(DT_OUT, int64_t(uint64_t(d)));
      return int_to_bits(DT_OUT, int64_t(d));
    }
    if (out_cls == CLASS_DOUBLE) return x;
    return from_float(float(d));  // float16/bfloat16 round twice, as on the CPU
  }
#endif
  // complex64: the real part (complex to complex keeps both).
  if (DT_OUT == DT_C64) return x;
  return from_float(bits_to_complex(x).x);
}

#include "elementwise_main.glsl"
