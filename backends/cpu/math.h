// Scalar math the C++ library lacks, shared by the CPU kernels.
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <type_traits>

namespace lumen::cpu {

// 1 / (1 + e^-x) in MLX's form: with y = 1 / (1 + e^|x|), y for x < 0 and
// 1 - y otherwise; e^|x| may overflow to inf, which gives the right limits.
template <typename T>
T sigmoid(T x) {
  T y = T(1) / (T(1) + std::exp(std::abs(x)));
  return x < T(0) ? y : T(1) - y;
}

// Inverse error function on (-1, 1); +-inf at +-1, NaN outside.
// Giles' single-precision approximation ("Approximating the erfinv
// function", 2010), refined by two Newton steps in double precision.
// The random engineer replaces the float version with MLX's exact algorithm
// (random::normal must give MLX's bytes on CPU); keep it self-contained.
inline double erfinv(double a) {
  if (std::isnan(a)) return a;
  if (a <= -1.0) return a == -1.0 ? -INFINITY : NAN;
  if (a >= 1.0) return a == 1.0 ? INFINITY : NAN;
  double x = a;
  double w = -std::log((1.0 - x) * (1.0 + x));
  double p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  double y = p * x;
  constexpr double two_over_sqrt_pi = 2.0 * std::numbers::inv_sqrtpi;
  for (int i = 0; i < 2; ++i) {
    double err = std::erf(y) - x;
    y -= err / (two_over_sqrt_pi * std::exp(-y * y));
  }
  return y;
}
inline float erfinv(float a) { return static_cast<float>(erfinv(static_cast<double>(a))); }

// log(1 + z) accurate near z = 0 (MLX's formulation).
inline std::complex<float> log1p(std::complex<float> z) {
  float x = z.real(), y = z.imag();
  float theta = std::atan2(y, x + 1.0f);
  if (std::abs(z) < 0.5f) {
    float r = x * (2.0f + x) + y * y;
    if (r == 0.0f) return {x, theta};  // underflow
    return {0.5f * std::log1p(r), theta};
  }
  return {std::log(std::hypot(x + 1.0f, y)), theta};
}

inline std::complex<float> log2(std::complex<float> z) {
  auto l = std::log(z);
  constexpr float ln2 = std::numbers::ln2_v<float>;
  return {l.real() / ln2, l.imag() / ln2};
}

}  // namespace lumen::cpu

namespace lumen::cpu {

// Integer arithmetic that wraps instead of overflowing (signed overflow is
// undefined in C++; types narrower than int would promote to signed int).
template <typename T>
using wide_unsigned_t =
    std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <typename T>
T wrapping_add(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
}
template <typename T>
T wrapping_sub(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
}
template <typename T>
T wrapping_mul(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}
template <typename T>
T wrapping_neg(T a) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(U(0) - static_cast<U>(a));
}

// E4M3 float8 (1 sign, 4 exponent bits with bias 7, 3 mantissa bits, no
// infinities), with MLX's conventions: values at or past 464 (the midpoint
// above 448) and NaN saturate to +-448; decoding has no NaN.
inline uint8_t float_to_fp8(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  uint8_t sign = static_cast<uint8_t>((b >> 24) & 0x80u);
  float a = std::fabs(f);
  if (!(a < 464.0f)) return sign | 0x7e;
  if (a < 0.015625f) {  // below 2^-6: subnormal steps of 2^-9, half to even
    return sign | static_cast<uint8_t>(std::nearbyint(a * 512.0f));
  }
  uint32_t abits = b & 0x7fffffffu;
  abits += 0x7ffffu + ((abits >> 20) & 1u);  // round the mantissa to 3 bits, half to even
  uint32_t exp = (abits >> 23) - 127 + 7;
  return sign | static_cast<uint8_t>((exp << 3) | ((abits >> 20) & 7u));
}

inline float fp8_to_float(uint8_t x) {
  int exp = (x >> 3) & 15, mant = x & 7;
  float v = exp == 0 ? std::ldexp(static_cast<float>(mant), -9)
                     : std::ldexp(1.0f + static_cast<float>(mant) / 8.0f, exp - 7);
  return (x & 0x80) ? -v : v;
}

}  // namespace lumen::cpu
