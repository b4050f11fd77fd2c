// Scalar functions of the unary ops: UnaryFn<Op>{}(x) for x of a compute
// type (bool, an integer, float, double or complex64; float16/bfloat16 go
// through float with Lift). Each op handles exactly the dtypes its
// DtypeSet names. Shared by the CPU kernels and anything that evaluates ops
// elementwise on the host (compile's CPU fallback).
#pragma once

#include <cmath>
#include <complex>
#include <type_traits>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/math.h"
#include "backends/cpu/mlx_math.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::cpu {

// Applies F to values of storage type T: halves compute in float and round
// back (to nearest even); other types compute in themselves.
template <typename F, typename T>
struct Lift {
  template <typename... A>
  auto operator()(A... a) const {
    if constexpr (is_half_v<T>) {
      auto r = F{}(static_cast<float>(a)...);
      if constexpr (std::is_same_v<decltype(r), float>) {
        return T(r);
      } else {
        return r;
      }
    } else {
      return F{}(a...);
    }
  }
};

template <typename>
inline constexpr bool always_false_v = false;

// The value of unary op `Op` at x.
template <UnaryOp Op, typename T>
auto unary_op(T x) {
  using enum UnaryOp;
  constexpr bool is_bool = std::is_same_v<T, bool>;
  constexpr bool is_int = std::is_integral_v<T> && !is_bool;
  constexpr bool is_float = std::is_floating_point_v<T>;
  constexpr bool is_cplx = is_complex_v<T>;
  if constexpr (Op == Abs) {
    if constexpr (is_cplx) return T(std::abs(x), 0.0f);
    else if constexpr (is_bool || std::is_unsigned_v<T>) return x;
    else if constexpr (is_int) return x < 0 ? wrapping_neg(x) : x;
    else return std::abs(x);
  } else if constexpr (Op == Ceil || Op == Floor || Op == Round) {
    // integers are already whole; Round is half to even (the default
    // rounding mode), on both parts of a complex
    if constexpr (is_cplx) return T(std::rint(x.real()), std::rint(x.imag()));
    else if constexpr (!is_float) return x;
    else if constexpr (Op == Ceil) return std::ceil(x);
    else if constexpr (Op == Floor) return std::floor(x);
    else return std::rint(x);
  } else if constexpr (Op == Negative) {
    if constexpr (is_int) return wrapping_neg(x);
    else return T(-x);
  } else if constexpr (Op == Sign) {
    // as MLX: 0 for NaN, x / |x| for a nonzero complex
    if constexpr (is_bool) return x;
    else if constexpr (is_cplx) return x == T(0) ? x : T(x / std::abs(x));
    else if constexpr (std::is_unsigned_v<T>) return T(x != 0);
    else return x < T(0) ? T(-1) : (x > T(0) ? T(1) : T(0));
  } else if constexpr (Op == Sqrt) {
    return std::sqrt(x);
  } else if constexpr (Op == Rsqrt) {
    return T(T(1) / std::sqrt(x));
  } else if constexpr (Op == Square) {
    if constexpr (is_bool) return x;
    else if constexpr (is_int) return wrapping_mul(x, x);
    else return T(x * x);
  } else if constexpr (Op == Exp) {
    return mlx_exp(x);  // MLX's float32 bits (random's known answers)
  } else if constexpr (Op == Expm1) {
    return std::expm1(x);
  } else if constexpr (Op == Log) {
    return std::log(x);
  } else if constexpr (Op == Log2) {
    if constexpr (is_cplx) return cpu::log2(x);
    else return std::log2(x);
  } else if constexpr (Op == Log10) {
    return std::log10(x);
  } else if constexpr (Op == Log1p) {
    if constexpr (is_cplx) return cpu::log1p(x);
    else return std::log1p(x);
  } else if constexpr (Op == Sin) {
    return std::sin(x);
  } else if constexpr (Op == Cos) {
    return std::cos(x);
  } else if constexpr (Op == Tan) {
    return std::tan(x);
  } else if constexpr (Op == ArcSin) {
    return std::asin(x);
  } else if constexpr (Op == ArcCos) {
    return std::acos(x);
  } else if constexpr (Op == ArcTan) {
    return std::atan(x);
  } else if constexpr (Op == Sinh) {
    return std::sinh(x);
  } else if constexpr (Op == Cosh) {
    return std::cosh(x);
  } else if constexpr (Op == Tanh) {
    return std::tanh(x);
  } else if constexpr (Op == ArcSinh) {
    return std::asinh(x);
  } else if constexpr (Op == ArcCosh) {
    return std::acosh(x);
  } else if constexpr (Op == ArcTanh) {
    return std::atanh(x);
  } else if constexpr (Op == Sigmoid) {
    return cpu::sigmoid(x);
  } else if constexpr (Op == Erf) {
    return mlx_erf(x);
  } else if constexpr (Op == ErfInv) {
    return mlx_erfinv(x);
  } else if constexpr (Op == LogicalNot) {
    return !x;
  } else if constexpr (Op == BitwiseInvert) {
    return static_cast<T>(~x);
  } else if constexpr (Op == Real) {
    return x.real();  // complex64 -> float32
  } else if constexpr (Op == Imag) {
    return x.imag();
  } else if constexpr (Op == Conjugate) {
    return std::conj(x);
  } else if constexpr (Op == Copy || Op == StopGradient) {
    return x;
  } else {
    static_assert(always_false_v<T>, "unary op without a CPU definition");
  }
}

template <UnaryOp Op>
struct UnaryFn {
  template <typename T>
  auto operator()(T x) const {
    return unary_op<Op>(x);
  }
};

}  // namespace lumen::cpu
