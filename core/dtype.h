// Element types and MLX's (JAX's) promotion rules.
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <type_traits>

#include <lumen/half_types.h>

namespace lumen {

using complex64_t = std::complex<float>;

struct Dtype {
  // Same order as MLX, so serialized enums agree.
  enum class Val {
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64,
    float16, float32, float64, bfloat16, complex64,
  };
  enum class Kind { b, u, i, f, c, V };
  enum class Category {
    complexfloating, floating, inexact, signedinteger, unsignedinteger, integer, number, generic
  };

  constexpr explicit Dtype(Val val, uint8_t size) : val_(val), size_(size) {}
  constexpr operator Val() const { return val_; }
  constexpr Val val() const { return val_; }
  constexpr uint8_t size() const { return size_; }

 private:
  Val val_;
  uint8_t size_;
};

inline constexpr Dtype bool_{Dtype::Val::bool_, 1};
inline constexpr Dtype uint8{Dtype::Val::uint8, 1};
inline constexpr Dtype uint16{Dtype::Val::uint16, 2};
inline constexpr Dtype uint32{Dtype::Val::uint32, 4};
inline constexpr Dtype uint64{Dtype::Val::uint64, 8};
inline constexpr Dtype int8{Dtype::Val::int8, 1};
inline constexpr Dtype int16{Dtype::Val::int16, 2};
inline constexpr Dtype int32{Dtype::Val::int32, 4};
inline constexpr Dtype int64{Dtype::Val::int64, 8};
inline constexpr Dtype float16{Dtype::Val::float16, 2};
inline constexpr Dtype float32{Dtype::Val::float32, 4};
inline constexpr Dtype float64{Dtype::Val::float64, 8};
inline constexpr Dtype bfloat16{Dtype::Val::bfloat16, 2};
inline constexpr Dtype complex64{Dtype::Val::complex64, 8};

inline constexpr Dtype::Category complexfloating = Dtype::Category::complexfloating;
inline constexpr Dtype::Category floating = Dtype::Category::floating;
inline constexpr Dtype::Category inexact = Dtype::Category::inexact;
inline constexpr Dtype::Category signedinteger = Dtype::Category::signedinteger;
inline constexpr Dtype::Category unsignedinteger = Dtype::Category::unsignedinteger;
inline constexpr Dtype::Category integer = Dtype::Category::integer;
inline constexpr Dtype::Category number = Dtype::Category::number;
inline constexpr Dtype::Category generic = Dtype::Category::generic;

inline constexpr int num_dtypes = 14;

bool issubdtype(const Dtype& a, const Dtype& b);
bool issubdtype(const Dtype::Category& a, const Dtype& b);
bool issubdtype(const Dtype& a, const Dtype::Category& b);
bool issubdtype(const Dtype::Category& a, const Dtype::Category& b);

Dtype promote_types(const Dtype& t1, const Dtype& t2);
inline uint8_t size_of(const Dtype& t) { return t.size(); }
Dtype::Kind kindof(const Dtype& t);

// All dtypes in enum order (for tests and dispatch tables).
Dtype dtype_from_index(int i);

std::string dtype_to_string(const Dtype& d);
std::ostream& operator<<(std::ostream& os, const Dtype& d);
inline bool operator==(const Dtype& a, const Dtype& b) { return a.val() == b.val(); }
inline bool operator!=(const Dtype& a, const Dtype& b) { return a.val() != b.val(); }

template <typename T>
struct TypeToDtype {
  operator Dtype();
};

template <typename T>
inline constexpr bool is_half_v = std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;

namespace detail {

// Float to integer: truncate toward zero, saturate at the type's limits and
// map NaN to 0 (the AArch64 conversion MLX gets on Apple silicon; the C++
// cast is undefined there).
template <typename I, typename F>
I float_to_int(F x) {
  if (std::isnan(x)) return I(0);
  constexpr int bits = std::numeric_limits<I>::digits;  // 31 for int32, 32 for uint32
  constexpr F upper = F(uint64_t(1) << (bits - 1)) * F(2);  // 2^bits, exact in F
  constexpr F lower = std::is_signed_v<I> ? -upper : F(0);
  if (x <= lower) return std::numeric_limits<I>::min();
  if (x >= upper) return std::numeric_limits<I>::max();
  return static_cast<I>(x);
}

// The value conversion of astype and of array constructors: C++ semantics
// except that float to int is float_to_int, halves go through float32 with
// round to nearest even, complex to real keeps the real part (as MLX).
template <typename To, typename From>
To convert_scalar(const From& v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<From, complex64_t>) {
    return convert_scalar<To>(v.real());
  } else if constexpr (is_half_v<From>) {
    return convert_scalar<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, complex64_t>) {
    return complex64_t(convert_scalar<float>(v), 0.0f);
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (is_half_v<To>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return float_to_int<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace detail

}  // namespace lumen
