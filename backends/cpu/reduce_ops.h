// The combining rules of the Reduce and Scan kernels. Each op has an
// accumulator type Acc (float32 for float16/bfloat16, the output's type for
// integers, which wrap), init() (the identity), step(acc, x) (fold in one
// input element), merge(acc, acc) (combine partial results) and
// finish(acc) (to the output type). Ops that the reduce kernel can run on
// GCC vector types also name VElem (the vector element, of Acc's size) and
// vstep(a, x) on vectors of VElem (the same rule as step, lane by lane).
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/ordering.h"

namespace lumen::cpu {

// Integer arithmetic that wraps instead of overflowing (signed overflow is
// undefined in C++; MLX's results wrap).
template <typename T>
T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}

template <typename T>
T wrap_mul(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return a && b;
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

// Accumulator of sums and products (MLX's output dtypes: small integers and
// bool widen to 32 bits).
template <typename In>
using sum_acc_t = std::conditional_t<
    std::is_same_v<In, bool>, int32_t,
    std::conditional_t<std::is_integral_v<In> && sizeof(In) < 4,
                       std::conditional_t<std::is_signed_v<In>, int32_t, uint32_t>, compute_t<In>>>;

// Integer vector arithmetic is done unsigned, where wrapping is defined.
template <typename T, bool = std::is_integral_v<T> && !std::is_same_v<T, bool>>
struct wrapping {
  using type = T;
};
template <typename T>
struct wrapping<T, true> {
  using type = std::make_unsigned_t<T>;
};
template <typename T>
using wrapping_t = typename wrapping<T>::type;

template <typename In, typename Out, typename AccT = sum_acc_t<In>>
struct SumOp {
  using Acc = AccT;
  using VElem = wrapping_t<Acc>;
  template <typename V>
  V vstep(V a, V x) const { return a + x; }
  Acc init() const { return Acc(0); }
  Acc step(Acc a, In x) const { return wrap_add(a, static_cast<Acc>(x)); }
  Acc merge(Acc a, Acc b) const { return wrap_add(a, b); }
  Out finish(Acc a) const { return static_cast<Out>(a); }
};

template <typename In, typename Out, typename AccT = sum_acc_t<In>>
struct ProdOp {
  using Acc = AccT;
  using VElem = wrapping_t<Acc>;
  template <typename V>
  V vstep(V a, V x) const { return a * x; }
  Acc init() const { return Acc(1); }
  Acc step(Acc a, In x) const { return wrap_mul(a, static_cast<Acc>(x)); }
  Acc merge(Acc a, Acc b) const { return wrap_mul(a, b); }
  Out finish(Acc a) const { return static_cast<Out>(a); }
};

template <typename C>
C lowest_value() {
  if constexpr (is_complex_v<C>) {
    return C(-std::numeric_limits<float>::infinity(), 0.0f);
  } else if constexpr (std::is_floating_point_v<C>) {
    return -std::numeric_limits<C>::infinity();
  } else {
    return std::numeric_limits<C>::lowest();
  }
}

template <typename C>
C highest_value() {
  if constexpr (is_complex_v<C>) {
    return C(std::numeric_limits<float>::infinity(), 0.0f);
  } else if constexpr (std::is_floating_point_v<C>) {
    return std::numeric_limits<C>::infinity();
  } else {
    return std::numeric_limits<C>::max();
  }
}

template <typename In>
struct MaxOp {
  using Acc = compute_t<In>;
  using VElem = Acc;
  template <typename V>
  V vstep(V a, V x) const {
    if constexpr (std::is_floating_point_v<Acc>) {
      return ((x > a) | (x != x)) & (a == a) ? x : a;  // NaN sticks
    } else {
      return x > a ? x : a;
    }
  }
  Acc init() const { return lowest_value<Acc>(); }
  Acc step(Acc a, In x) const { return nan_max(a, static_cast<Acc>(x)); }
  Acc merge(Acc a, Acc b) const { return nan_max(a, b); }
  In finish(Acc a) const { return static_cast<In>(a); }
};

template <typename In>
struct MinOp {
  using Acc = compute_t<In>;
  using VElem = Acc;
  template <typename V>
  V vstep(V a, V x) const {
    if constexpr (std::is_floating_point_v<Acc>) {
      return ((x < a) | (x != x)) & (a == a) ? x : a;
    } else {
      return x < a ? x : a;
    }
  }
  Acc init() const { return highest_value<Acc>(); }
  Acc step(Acc a, In x) const { return nan_min(a, static_cast<Acc>(x)); }
  Acc merge(Acc a, Acc b) const { return nan_min(a, b); }
  In finish(Acc a) const { return static_cast<In>(a); }
};

// all/any read elements as unsigned bit patterns: an element is true when a
// bit of `mask` is set (floats leave their sign bit out, so -0.0 is false).
// The accumulator is non-zero while the answer is true.
template <typename U>
struct AndOp {
  using Acc = U;
  using VElem = U;
  U mask;
  Acc init() const { return static_cast<U>(~U{0}); }
  Acc step(Acc a, U x) const { return (x & mask) != 0 ? a : U{0}; }
  template <typename V>
  V vstep(V a, V x) const { return a & (V)((x & mask) != 0); }
  Acc merge(Acc a, Acc b) const { return a & b; }
  bool finish(Acc a) const { return a != 0; }
};

template <typename U>
struct OrOp {
  using Acc = U;
  using VElem = U;
  U mask;
  Acc init() const { return U{0}; }
  Acc step(Acc a, U x) const { return static_cast<U>(a | (x & mask)); }
  template <typename V>
  V vstep(V a, V x) const { return a | (x & mask); }
  Acc merge(Acc a, Acc b) const { return static_cast<U>(a | b); }
  bool finish(Acc a) const { return a != 0; }
};

// log(exp(a) + exp(b)) without overflow; -inf is the identity.
template <typename C>
C log_add_exp(C a, C b) {
  if (a != a || b != b) return a + b;
  C hi = a > b ? a : b, lo = a > b ? b : a;
  if (lo == -std::numeric_limits<C>::infinity() || hi == std::numeric_limits<C>::infinity()) {
    return hi;
  }
  return hi + std::log1p(std::exp(lo - hi));
}

// Carries a double: a float32 running log-sum-exp drifts by an ulp per step.
template <typename In>
struct LogAddExpOp {
  using Acc = double;
  Acc init() const { return -std::numeric_limits<Acc>::infinity(); }
  Acc step(Acc a, In x) const { return log_add_exp(a, static_cast<Acc>(x)); }
  Acc merge(Acc a, Acc b) const { return log_add_exp(a, b); }
  In finish(Acc a) const { return static_cast<In>(a); }
};

}  // namespace lumen::cpu
