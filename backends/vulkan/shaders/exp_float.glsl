// exp(x) in float32 within about one ulp, from float arithmetic alone (the
// hardware's exp is only bounded by 3 + 2|x| ulp): softmax spends one per
// element and needs both accuracy and speed.
#ifndef LUMEN_EXP_FLOAT_GLSL
#define LUMEN_EXP_FLOAT_GLSL

float exp_float(float x) {
  if (isnan(x)) return x;
  if (x > 88.72283935546875) return uintBitsToFloat(0x7f800000u);
  if (x < -103.972084045410) return 0.0;
  // x = n ln2 + r, |r| <= ln2 / 2; ln2 split so that n * LN2_HI is exact.
  const float LN2_HI = 0.693145751953125;
  const float LN2_LO = 1.428606765330187e-06;
  float n = round(x * 1.44269504088896341);
  float r = fma(-n, LN2_LO, fma(-n, LN2_HI, x));
  // e^r by its Taylor series to r^7 (error below 1e-9 on the interval).
  float p = 1.0 / 5040.0;
  p = fma(p, r, 1.0 / 720.0);
  p = fma(p, r, 1.0 / 120.0);
  p = fma(p, r, 1.0 / 24.0);
  p = fma(p, r, 1.0 / 6.0);
  p = fma(p, r, 0.5);
  p = fma(p, r, 1.0);
  p = fma(p, r, 1.0);
  // 2^n in two factors: n reaches -150 (below the smallest normal).
  int e = int(n);
  int e1 = e / 2;
  return p * uintBitsToFloat(uint(e1 + 127) << 23) * uintBitsToFloat(uint(e - e1 + 127) << 23);
}

#endif
