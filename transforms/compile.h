// compile (MLX's compile.h): trace a function once per input signature,
// simplify its graph, fuse chains of elementwise primitives into single
// kernels, cache the result, and on later calls only evaluate.
#pragma once

#include <functional>
#include <type_traits>
#include <vector>

#include <lumen/array.h>

namespace lumen {

enum class CompileMode { disabled, no_simplify, no_fuse, enabled };

// `shapeless`: one trace serves every input shape of the same ranks and
// dtypes (the graph's primitives must infer their output shapes).
std::function<std::vector<array>(const std::vector<array>&)> compile(
    std::function<std::vector<array>(const std::vector<array>&)> fun, bool shapeless = false);

std::function<std::vector<array>(const std::vector<array>&)> compile(
    std::vector<array> (*fun)(const std::vector<array>&), bool shapeless = false);

// Capture-less lambdas compile as function pointers (one cache per function).
template <typename F,
          typename = std::enable_if_t<std::is_convertible_v<F, decltype(+std::declval<F>())>>>
std::function<std::vector<array>(const std::vector<array>&)> compile(F&& f,
                                                                     bool shapeless = false) {
  return compile(+f, shapeless);
}

// Turn compilation off (or back on) for every compiled function, for
// debugging; the environment variable LUMEN_DISABLE_COMPILE starts it off.
void disable_compile();
void enable_compile();
void set_compile_mode(CompileMode mode);

}  // namespace lumen
