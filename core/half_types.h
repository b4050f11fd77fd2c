// float16 and bfloat16 storage types. Arithmetic goes through float32; every
// conversion from float rounds to nearest even, the same on CPU and GPU.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <type_traits>

namespace lumen {

namespace detail {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// c ? a : b without a branch. The conversions compute every case and pick
// one, so loops over them vectorize (with a ?: GCC keeps the float
// arithmetic of one case behind a branch, as it may raise FP exceptions).
inline uint32_t pick_bits(bool c, uint32_t a, uint32_t b) {
  uint32_t m = 0u - static_cast<uint32_t>(c);
  return (a & m) | (b & ~m);
}

// IEEE binary16 from binary32, round to nearest even. A NaN stays a quiet
// NaN with its sign and the top bits of its payload (as F16C hardware does).
inline uint16_t float_to_half_bits(float f) {
  uint32_t x = float_bits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  // normal: rebias the exponent by -112 and round half to even at bit 13
  uint32_t normal = (abs + 0xc8000fffu + ((abs >> 13) & 1u)) >> 13;
  // below 2^-14 the result is subnormal or zero: adding 0.5 puts the half
  // subnormal ulp (2^-24) at float's last mantissa bit, so the FPU's own
  // round-to-nearest-even does the rounding
  uint32_t subnormal = float_bits(bits_float(abs) + 0.5f) - 0x3f000000u;
  uint32_t nan = 0x7e00u | ((abs >> 13) & 0x3ffu);
  uint32_t r = pick_bits(abs < 0x38800000u, subnormal, normal);
  r = pick_bits(abs >= 0x477ff000u, 0x7c00u, r);  // >= 65520 rounds to infinity (65504 is the largest half)
  r = pick_bits(abs > 0x7f800000u, nan, r);
  return static_cast<uint16_t>(sign | r);
}

inline float half_bits_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t body = static_cast<uint32_t>(h & 0x7fffu) << 13;  // exponent and mantissa in place
  uint32_t normal = body + (112u << 23);                     // rebias the exponent by +112
  uint32_t inf_nan = body | 0x7f800000u;
  // subnormal: mantissa * 2^-24, exact in float
  uint32_t subnormal = float_bits(static_cast<float>(h & 0x3ffu) * 5.9604644775390625e-08f);
  uint32_t r = pick_bits(exp == 0, subnormal, pick_bits(exp == 0x1f, inf_nan, normal));
  return bits_float(sign | r);
}

// bfloat16 is the top half of a float32: round the low half away to nearest
// even. A NaN stays a quiet NaN with its sign.
inline uint16_t float_to_bfloat_bits(float f) {
  uint32_t x = float_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

inline float bfloat_bits_to_float(uint16_t b) {
  return bits_float(static_cast<uint32_t>(b) << 16);
}

}  // namespace detail

// Both types convert implicitly from any arithmetic type (through float, as
// MLX's do) and to float, so mixed expressions compute in float32.
struct float16_t {
  uint16_t bits = 0;
  float16_t() = default;
  float16_t(float f) : bits(detail::float_to_half_bits(f)) {}  // NOLINT: implicit like MLX
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  float16_t(T v) : float16_t(static_cast<float>(v)) {}  // NOLINT
  operator float() const { return detail::half_bits_to_float(bits); }
  static float16_t from_bits(uint16_t b) {
    float16_t h;
    h.bits = b;
    return h;
  }
};

struct bfloat16_t {
  uint16_t bits = 0;
  bfloat16_t() = default;
  bfloat16_t(float f) : bits(detail::float_to_bfloat_bits(f)) {}  // NOLINT
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  bfloat16_t(T v) : bfloat16_t(static_cast<float>(v)) {}  // NOLINT
  operator float() const { return detail::bfloat_bits_to_float(bits); }
  static bfloat16_t from_bits(uint16_t b) {
    bfloat16_t h;
    h.bits = b;
    return h;
  }
};

inline std::ostream& operator<<(std::ostream& os, float16_t v) { return os << static_cast<float>(v); }
inline std::ostream& operator<<(std::ostream& os, bfloat16_t v) { return os << static_cast<float>(v); }

}  // namespace lumen

// numeric_limits as for the built-in floating types (MLX's nan_to_num and
// finfo use max() and lowest()).
namespace std {

template <>
class numeric_limits<lumen::float16_t> {
  using H = lumen::float16_t;

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = true;
  static constexpr bool has_quiet_NaN = true;
  static constexpr bool is_iec559 = true;
  static constexpr float_round_style round_style = round_to_nearest;
  static constexpr int digits = 11;
  static constexpr int max_exponent = 16;
  static constexpr int min_exponent = -13;
  static H min() noexcept { return H::from_bits(0x0400); }
  static H max() noexcept { return H::from_bits(0x7bff); }
  static H lowest() noexcept { return H::from_bits(0xfbff); }
  static H epsilon() noexcept { return H::from_bits(0x1400); }
  static H denorm_min() noexcept { return H::from_bits(0x0001); }
  static H infinity() noexcept { return H::from_bits(0x7c00); }
  static H quiet_NaN() noexcept { return H::from_bits(0x7e00); }
};

template <>
class numeric_limits<lumen::bfloat16_t> {
  using B = lumen::bfloat16_t;

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = true;
  static constexpr bool has_quiet_NaN = true;
  static constexpr bool is_iec559 = false;
  static constexpr float_round_style round_style = round_to_nearest;
  static constexpr int digits = 8;
  static constexpr int max_exponent = 128;
  static constexpr int min_exponent = -125;
  static B min() noexcept { return B::from_bits(0x0080); }
  static B max() noexcept { return B::from_bits(0x7f7f); }
  static B lowest() noexcept { return B::from_bits(0xff7f); }
  static B epsilon() noexcept { return B::from_bits(0x3c00); }
  static B denorm_min() noexcept { return B::from_bits(0x0001); }
  static B infinity() noexcept { return B::from_bits(0x7f80); }
  static B quiet_NaN() noexcept { return B::from_bits(0x7fc0); }
};

}  // namespace std
