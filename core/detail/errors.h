// Helpers for error messages that name the op and the offending values.
#pragma once

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

#include "lumen/array.h"

namespace lumen::detail {

inline std::string shape_str(const Shape& s) { return fmt::format("({})", fmt::join(s, ", ")); }
inline std::string dtype_str(const Dtype& d) { return dtype_to_string(d); }

template <typename... Args>
[[noreturn]] void throw_invalid(fmt::format_string<Args...> f, Args&&... args) {
  throw std::invalid_argument(fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void throw_range(fmt::format_string<Args...> f, Args&&... args) {
  throw std::out_of_range(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace lumen::detail
