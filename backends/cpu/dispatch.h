// Calls f(T{}) with the C++ type of a dtype.
#pragma once

#include <cstdint>

#include "core/detail/errors.h"
#include "lumen/dtype.h"

namespace lumen::cpu {

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

// float16/bfloat16 compute in float32; everything else in itself.
template <typename T>
using compute_t = std::conditional_t<is_half_v<T>, float, T>;

template <typename T>
inline constexpr bool is_complex_v = std::is_same_v<T, complex64_t>;

}  // namespace lumen::cpu
