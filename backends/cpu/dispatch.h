// From a runtime dtype to its C++ type, and back at compile time.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/detail/errors.h"
#include "lumen/dtype.h"

namespace lumen::cpu {

// Calls f(T{}) with the C++ type of a dtype.
template <typename F>
decltype(auto) dispatch_dtype(Dtype d, F&& f) {
  switch (d) {
    case bool_: return f(bool{});
    case uint8: return f(uint8_t{});
    case uint16: return f(uint16_t{});
    case uint32: return f(uint32_t{});
    case uint64: return f(uint64_t{});
    case int8: return f(int8_t{});
    case int16: return f(int16_t{});
    case int32: return f(int32_t{});
    case int64: return f(int64_t{});
    case float16: return f(float16_t{});
    case float32: return f(float{});
    case float64: return f(double{});
    case bfloat16: return f(bfloat16_t{});
    case complex64: return f(complex64_t{});
  }
  detail::throw_invalid("[cpu] unknown dtype");
}

// The dtype of a C++ element type, usable in constant expressions.
template <typename T>
inline constexpr Dtype dtype_v = [] {
  if constexpr (std::is_same_v<T, bool>) return bool_;
  else if constexpr (std::is_same_v<T, uint8_t>) return uint8;
  else if constexpr (std::is_same_v<T, uint16_t>) return uint16;
  else if constexpr (std::is_same_v<T, uint32_t>) return uint32;
  else if constexpr (std::is_same_v<T, uint64_t>) return uint64;
  else if constexpr (std::is_same_v<T, int8_t>) return int8;
  else if constexpr (std::is_same_v<T, int16_t>) return int16;
  else if constexpr (std::is_same_v<T, int32_t>) return int32;
  else if constexpr (std::is_same_v<T, int64_t>) return int64;
  else if constexpr (std::is_same_v<T, float16_t>) return float16;
  else if constexpr (std::is_same_v<T, float>) return float32;
  else if constexpr (std::is_same_v<T, double>) return float64;
  else if constexpr (std::is_same_v<T, bfloat16_t>) return bfloat16;
  else return complex64;
}();

// float16/bfloat16 compute in float32; everything else in itself.
template <typename T>
using compute_t = std::conditional_t<is_half_v<T>, float, T>;

template <typename T>
inline constexpr bool is_complex_v = std::is_same_v<T, complex64_t>;

}  // namespace lumen::cpu
