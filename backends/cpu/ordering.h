// Orderings shared by the reduction, scan and sort kernels: complex numbers
// compare by (real, imag) as MLX's do, and NaN is recognized in every type.
#pragma once

#include <cmath>
#include <type_traits>

#include "backends/cpu/dispatch.h"

namespace lumen::cpu {

// C is a compute type (no float16/bfloat16: those compare as float).
template <typename C>
bool is_nan_value(C v) {
  if constexpr (is_complex_v<C>) {
    return std::isnan(v.real()) || std::isnan(v.imag());
  } else if constexpr (std::is_floating_point_v<C>) {
    return v != v;
  } else {
    return false;
  }
}

template <typename C>
bool value_less(C a, C b) {
  if constexpr (is_complex_v<C>) {
    return a.real() < b.real() || (a.real() == b.real() && a.imag() < b.imag());
  } else {
    return a < b;
  }
}

// Strict weak order with every NaN after every number (NaNs tie).
template <typename C>
bool nan_last_less(C a, C b) {
  if constexpr (std::is_floating_point_v<C> || is_complex_v<C>) {
    if (is_nan_value(a)) return false;
    if (is_nan_value(b)) return true;
  }
  return value_less(a, b);
}

// max/min that propagate NaN (the first NaN seen stays).
template <typename C>
C nan_max(C acc, C x) {
  if constexpr (std::is_floating_point_v<C>) {
    return (x > acc || x != x) && acc == acc ? x : acc;
  } else if constexpr (is_complex_v<C>) {
    if (is_nan_value(acc)) return acc;
    return is_nan_value(x) || value_less(acc, x) ? x : acc;
  } else {
    return x > acc ? x : acc;
  }
}

template <typename C>
C nan_min(C acc, C x) {
  if constexpr (std::is_floating_point_v<C>) {
    return (x < acc || x != x) && acc == acc ? x : acc;
  } else if constexpr (is_complex_v<C>) {
    if (is_nan_value(acc)) return acc;
    return is_nan_value(x) || value_less(x, acc) ? x : acc;
  } else {
    return x < acc ? x : acc;
  }
}

}  // namespace lumen::cpu
