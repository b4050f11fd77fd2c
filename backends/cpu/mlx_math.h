// float32 exp, erf and erfinv computed with the same operations, in the same
// order, as MLX's CPU backend (commit 846d176), so results match MLX's bits:
// MLX's random functions (normal, truncated_normal) pass through these, and
// its known answers are exact bytes on CPU. float16/bfloat16 compute through
// these in float32 and round once at the end, as MLX does; float64 keeps the C
// library (MLX's CPU polynomials are single precision).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "backends/cpu/math.h"

namespace lumen::cpu {

namespace mlx_detail {

// 2^y as 2^round(y) (exponent bits) times a degree-6 polynomial of the
// remainder, in [-0.5, 0.5]; the constants are Cephes' (via fastermath).
inline float exp(float x0) {
  if (std::isnan(x0)) return x0;
  if (x0 > 88.0f) return std::numeric_limits<float>::infinity();
  if (x0 < -88.0f) return 0.0f;
  float y = x0 * 1.442695f;
  // MLX adds the 0.5 in double (a float plus a double literal) before floor
  float whole = static_cast<float>(std::floor(static_cast<double>(y) + 0.5));
  float frac = y - whole;
  float p = 1.535336188319500e-4f;
  p = std::fma(p, frac, 1.339887440266574e-3f);
  p = std::fma(p, frac, 9.618437357674640e-3f);
  p = std::fma(p, frac, 5.550332471162809e-2f);
  p = std::fma(p, frac, 2.402264791363012e-1f);
  p = std::fma(p, frac, 6.931472028550421e-1f);
  p = std::fma(p, frac, 1.000000000000000f);
  // |x0| <= 88 keeps the biased exponent in [0, 254]
  int32_t bits = (static_cast<int32_t>(whole) + 127) << 23;
  return std::bit_cast<float>(bits) * p;
}

// Abramowitz-Stegun 7.1.26 as PyTorch's vectorized erf writes it. Note that
// erf(0) comes out as a tiny negative number, as in MLX.
inline float erf(float x) {
  float t = 1.0f / std::fma(0.3275911f, std::abs(x), 1.0f);
  float r = std::fma(1.061405429f, t, -1.453152027f);
  r = std::fma(r, t, 1.421413741f);
  r = std::fma(r, t, -0.284496736f);
  r = std::fma(r, t, 0.254829592f);
  float e = -exp(-x * x);
  float result = std::fma(e * t, r, 1.0f);
  return x > 0.0f ? result : -result;
}

// Giles' single-precision erfinv: one polynomial in log(1 - a^2) for each of
// two ranges (logf is the C library's, as MLX's std::log).
inline float erfinv(float a) {
  float t = std::log(std::fma(a, 0.0f - a, 1.0f));
  float p;
  if (std::abs(t) > 6.125f) {
    p = 3.03697567e-10f;
    p = std::fma(p, t, 2.93243101e-8f);
    p = std::fma(p, t, 1.22150334e-6f);
    p = std::fma(p, t, 2.84108955e-5f);
    p = std::fma(p, t, 3.93552968e-4f);
    p = std::fma(p, t, 3.02698812e-3f);
    p = std::fma(p, t, 4.83185798e-3f);
    p = std::fma(p, t, -2.64646143e-1f);
    p = std::fma(p, t, 8.40016484e-1f);
  } else {
    p = 5.43877832e-9f;
    p = std::fma(p, t, 1.43285448e-7f);
    p = std::fma(p, t, 1.22774793e-6f);
    p = std::fma(p, t, 1.12963626e-7f);
    p = std::fma(p, t, -5.61530760e-5f);
    p = std::fma(p, t, -1.47697632e-4f);
    p = std::fma(p, t, 2.31468678e-3f);
    p = std::fma(p, t, 1.15392581e-2f);
    p = std::fma(p, t, -2.32015476e-1f);
    p = std::fma(p, t, 8.86226892e-1f);
  }
  return a * p;
}

}  // namespace mlx_detail

// The Unary kernel's entry points: MLX's float32 algorithms for float (and so
// for float16/bfloat16, which compute in float), the C library (or math.h's
// erfinv) for double and complex.
template <typename C>
C mlx_exp(C x) {
  if constexpr (std::is_same_v<C, float>) {
    return mlx_detail::exp(x);
  } else {
    return std::exp(x);
  }
}
template <typename C>
C mlx_erf(C x) {
  if constexpr (std::is_same_v<C, float>) {
    return mlx_detail::erf(x);
  } else {
    return std::erf(x);
  }
}
template <typename C>
C mlx_erfinv(C x) {
  if constexpr (std::is_same_v<C, float>) {
    return mlx_detail::erfinv(x);
  } else {
    return erfinv(x);
  }
}

}  // namespace lumen::cpu
