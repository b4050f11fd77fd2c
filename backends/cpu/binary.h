// Scalar functions of the binary ops: binary_op<Op>(a, b) for a, b of one
// compute type (bool, an integer, float, double or complex64; halves go
// through float with Lift). Each op handles exactly the dtypes its DtypeSet
// names; see LUMEN_BINARY_OPS for the integer conventions.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <type_traits>
#include <utility>

#include "backends/cpu/unary.h"

namespace lumen::cpu {

// complex64 order is lexicographic (real part first), as MLX's.
inline bool complex_greater(complex64_t a, complex64_t b) {
  return a.real() > b.real() || (a.real() == b.real() && a.imag() > b.imag());
}
inline bool complex_greater_equal(complex64_t a, complex64_t b) {
  return a.real() > b.real() || (a.real() == b.real() && a.imag() >= b.imag());
}

// NaN-propagating maximum / minimum (MLX's: a NaN first argument wins, and a
// NaN second one loses every comparison).
template <typename T>
T maximum_of(T a, T b) {
  if constexpr (is_complex_v<T>) {
    if (std::isnan(a.real())) return a;
    return complex_greater(a, b) ? a : b;
  } else {
    if constexpr (!std::is_integral_v<T>) {
      if (std::isnan(a)) return a;
    }
    return a > b ? a : b;
  }
}
template <typename T>
T minimum_of(T a, T b) {
  if constexpr (is_complex_v<T>) {
    if (std::isnan(a.real())) return a;
    return complex_greater(b, a) ? a : b;
  } else {
    if constexpr (!std::is_integral_v<T>) {
      if (std::isnan(a)) return a;
    }
    return a < b ? a : b;
  }
}

// Integer quotient truncated toward zero; 0 for a zero divisor, and
// MIN / -1 wraps.
template <typename T>
T int_divide(T a, T b) {
  if (b == 0) return T(0);
  if constexpr (std::is_signed_v<T>) {
    if (b == T(-1)) return wrapping_neg(a);
  }
  return static_cast<T>(a / b);
}

// Integer remainder with the divisor's sign; 0 for a zero divisor.
template <typename T>
T int_remainder(T a, T b) {
  if (b == 0) return T(0);
  if constexpr (std::is_signed_v<T>) {
    if (b == T(-1)) return T(0);
    T r = static_cast<T>(a % b);
    if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
    return r;
  } else {
    return static_cast<T>(a % b);
  }
}

// Floating remainder with the divisor's sign (MLX: the IEEE remainder moved
// into the divisor's sign).
template <typename T>
T float_remainder(T a, T b) {
  T r = std::remainder(a, b);
  if (r != T(0) && ((r < T(0)) != (b < T(0)))) r += b;
  return r;
}

// The floored quotient and the remainder of divmod.
template <typename T>
std::pair<T, T> divmod_of(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return {a && b, false};  // x / true = x, x % true = 0; a zero divisor gives 0
  } else if constexpr (std::is_integral_v<T>) {
    T q = int_divide(a, b), r = int_remainder(a, b);
    if constexpr (std::is_signed_v<T>) {
      // int_remainder already moved r into b's sign: step q down to match
      if (b != 0 && b != T(-1) && r != 0 && static_cast<T>(a % b) != r) q = static_cast<T>(q - 1);
    }
    return {q, r};
  } else {
    T r = std::fmod(a, b);
    if (r != T(0) && ((r < T(0)) != (b < T(0)))) r += b;
    return {std::floor(a / b), r};
  }
}

// MLX's integer power: a negative exponent of a signed type gives 0.
template <typename T>
T int_power(T base, T exp) {
  if constexpr (std::is_signed_v<T>) {
    if (exp < 0) return T(0);
  }
  T r = 1;
  while (exp) {
    if (exp & 1) r = wrapping_mul(r, base);
    exp = static_cast<T>(exp >> 1);
    base = wrapping_mul(base, base);
  }
  return r;
}

template <typename T>
T shift_left(T a, T b) {
  if (b < 0 || b >= T(std::numeric_limits<T>::digits + std::is_signed_v<T>)) return T(0);
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) << b);
}
template <typename T>
T shift_right(T a, T b) {
  if (b < 0 || b >= T(std::numeric_limits<T>::digits + std::is_signed_v<T>)) {
    if constexpr (std::is_signed_v<T>) return a < 0 ? T(-1) : T(0);
    else return T(0);
  }
  return static_cast<T>(a >> b);
}

// MLX's log(e^a + e^b): the larger plus log1p of the smaller's exponent,
// exact at infinities.
template <typename T>
T logaddexp_of(T a, T b) {
  T hi = maximum_of(a, b), lo = minimum_of(a, b);
  constexpr auto inf = std::numeric_limits<float>::infinity();
  if (lo == T(-inf) || hi == T(inf)) return hi;
  if constexpr (is_complex_v<T>) {
    return hi + cpu::log1p(std::exp(lo - hi));
  } else {
    return hi + std::log1p(std::exp(lo - hi));
  }
}

// The value of binary op `Op` at (a, b).
template <BinaryOp Op, typename T>
auto binary_op(T a, T b) {
  using enum BinaryOp;
  constexpr bool is_bool = std::is_same_v<T, bool>;
  constexpr bool is_int = std::is_integral_v<T> && !is_bool;
  constexpr bool is_cplx = is_complex_v<T>;
  if constexpr (Op == Add) {
    if constexpr (is_bool) return a || b;
    else if constexpr (is_int) return wrapping_add(a, b);
    else return T(a + b);
  } else if constexpr (Op == Subtract) {
    if constexpr (is_bool) return a != b;
    else if constexpr (is_int) return wrapping_sub(a, b);
    else return T(a - b);
  } else if constexpr (Op == Multiply) {
    if constexpr (is_bool) return a && b;
    else if constexpr (is_int) return wrapping_mul(a, b);
    else return T(a * b);
  } else if constexpr (Op == Divide) {
    if constexpr (is_bool) return a && b;  // x / true = x; a zero divisor gives 0
    else if constexpr (is_int) return int_divide(a, b);
    else return T(a / b);
  } else if constexpr (Op == Remainder) {
    if constexpr (is_bool) return false;
    else if constexpr (is_int) return int_remainder(a, b);
    else return float_remainder(a, b);
  } else if constexpr (Op == Power) {
    if constexpr (is_bool) return a || !b;
    else if constexpr (is_int) return int_power(a, b);
    else return T(std::pow(a, b));
  } else if constexpr (Op == Maximum) {
    if constexpr (is_bool) return a || b;
    else return maximum_of(a, b);
  } else if constexpr (Op == Minimum) {
    if constexpr (is_bool) return a && b;
    else return minimum_of(a, b);
  } else if constexpr (Op == Equal) {
    return a == b;
  } else if constexpr (Op == NaNEqual) {
    // as MLX, a complex counts as NaN by its real part
    if constexpr (is_cplx) return a == b || (std::isnan(a.real()) && std::isnan(b.real()));
    else return a == b || (std::isnan(a) && std::isnan(b));
  } else if constexpr (Op == NotEqual) {
    return a != b;
  } else if constexpr (Op == Less) {
    if constexpr (is_cplx) return complex_greater(b, a);
    else return a < b;
  } else if constexpr (Op == LessEqual) {
    if constexpr (is_cplx) return complex_greater_equal(b, a);
    else return a <= b;
  } else if constexpr (Op == Greater) {
    if constexpr (is_cplx) return complex_greater(a, b);
    else return a > b;
  } else if constexpr (Op == GreaterEqual) {
    if constexpr (is_cplx) return complex_greater_equal(a, b);
    else return a >= b;
  } else if constexpr (Op == LogicalAnd) {
    return a && b;
  } else if constexpr (Op == LogicalOr) {
    return a || b;
  } else if constexpr (Op == BitwiseAnd) {
    return static_cast<T>(a & b);
  } else if constexpr (Op == BitwiseOr) {
    return static_cast<T>(a | b);
  } else if constexpr (Op == BitwiseXor) {
    return static_cast<T>(a ^ b);
  } else if constexpr (Op == LeftShift) {
    return shift_left(a, b);
  } else if constexpr (Op == RightShift) {
    return shift_right(a, b);
  } else if constexpr (Op == ArcTan2) {
    return std::atan2(a, b);
  } else if constexpr (Op == LogAddExp) {
    return logaddexp_of(a, b);
  } else {
    static_assert(always_false_v<T>, "binary op without a CPU definition");
  }
}

template <BinaryOp Op>
struct BinaryFn {
  template <typename T>
  auto operator()(T a, T b) const {
    return binary_op<Op>(a, b);
  }
};

}  // namespace lumen::cpu
