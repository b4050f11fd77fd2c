// GCC vector types for kernels that must vectorize whatever the compiler's
// cost model says: 16 bytes (the baseline x86-64 width; other targets split
// or merge them), loaded and stored with memcpy (no alignment needed).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace lumen::cpu {

template <typename T, int N>
struct simd {
  typedef T type __attribute__((vector_size(N * sizeof(T))));
};

template <typename T>
inline constexpr int simd_lanes = 16 / static_cast<int>(sizeof(T));

template <typename T>
using simd_t = typename simd<T, simd_lanes<T>>::type;

template <typename V, typename T>
V simd_load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}

template <typename V, typename T>
void simd_store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// Float to int32 conversion, for scalars or lane by lane for vectors.
template <typename I, typename F>
I to_int(F f) {
  if constexpr (std::is_arithmetic_v<F>) {
    return static_cast<I>(f);
  } else {
    return __builtin_convertvector(f, I);
  }
}

// exp(x) for float x <= 0 (or NaN), within a few ulp; below -87.3 (where
// float's normal range ends) it is 0. Branch-free, for scalars and float
// vectors alike: Cody-Waite reduction to r in [-ln2/2, ln2/2], a degree-6
// polynomial for e^r, and 2^k put into the exponent bits.
template <typename F, typename I>
F exp_nonpositive_impl(F x) {
  const F lo = F{} - 87.33f;
  F xc = x < lo ? lo : x;
  F t = xc * 1.44269504088896341f;
  F kf = (t + 12582912.0f) - 12582912.0f;  // round to nearest
  kf = kf == kf ? kf : F{};                // NaN: any k, the polynomial stays NaN
  F r = xc - kf * 0.693359375f + kf * 2.12194440e-4f;
  F p = F{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  I bits = (to_int<I>(kf) + 127) << 23;
  F scale;
  std::memcpy(&scale, &bits, sizeof(F));
  F y = p * scale;
  return x < lo ? F{} : y;
}

inline float exp_nonpositive(float x) { return exp_nonpositive_impl<float, int32_t>(x); }

template <typename V>
V exp_nonpositive(V x) {
  using I = typename simd<int32_t, sizeof(V) / 4>::type;
  return exp_nonpositive_impl<V, I>(x);
}

}  // namespace lumen::cpu
