// Function transforms (MLX's transforms.h): vector-Jacobian and
// Jacobian-vector products, gradients, vectorizing maps and custom rules.
// While any of them traces a function, detail::in_tracing() is true.
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <lumen/array.h>
#include <lumen/scheduler.h>

namespace lumen {

using ArraysFn = std::function<std::vector<array>(const std::vector<array>&)>;

// Outputs of `fun` at `primals` and the products of `cotangents` (one per
// output, outputs made with stop_gradient excepted) with its Jacobian.
std::pair<std::vector<array>, std::vector<array>> vjp(const ArraysFn& fun,
                                                      const std::vector<array>& primals,
                                                      const std::vector<array>& cotangents);
std::pair<array, array> vjp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& cotangent);

// Outputs of `fun` at `primals` and the products of its Jacobian with
// `tangents` (one per primal).
std::pair<std::vector<array>, std::vector<array>> jvp(const ArraysFn& fun,
                                                      const std::vector<array>& primals,
                                                      const std::vector<array>& tangents);
std::pair<array, array> jvp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& tangent);

// value_and_grad returns the outputs of `fun` and the gradients of its first
// output (a scalar) with respect to the arguments in `argnums`.
using ValueAndGradFn =
    std::function<std::pair<std::vector<array>, std::vector<array>>(const std::vector<array>&)>;
using SimpleValueAndGradFn =
    std::function<std::pair<array, std::vector<array>>(const std::vector<array>&)>;

ValueAndGradFn value_and_grad(const ArraysFn& fun, const std::vector<int>& argnums);

inline ValueAndGradFn value_and_grad(const ArraysFn& fun, int argnum = 0) {
  return value_and_grad(fun, std::vector<int>{argnum});
}

inline std::function<std::pair<array, array>(const array&)> value_and_grad(
    const std::function<array(const array&)>& fun) {
  return [fun](const array& x) { return vjp(fun, x, array(1.0f)); };
}

inline SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                           const std::vector<int>& argnums) {
  auto vg = value_and_grad(
      [fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs)}; }, argnums);
  return [vg](const std::vector<array>& xs) {
    auto [values, grads] = vg(xs);
    return std::make_pair(values[0], std::move(grads));
  };
}

inline SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                           int argnum = 0) {
  return value_and_grad(fun, std::vector<int>{argnum});
}

// Gradients of a scalar function with respect to the arguments in `argnums`.
inline std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, const std::vector<int>& argnums) {
  auto vg = value_and_grad(fun, argnums);
  return [vg](const std::vector<array>& xs) { return vg(xs).second; };
}

inline std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, int argnum = 0) {
  return grad(fun, std::vector<int>{argnum});
}

inline std::function<array(const array&)> grad(const std::function<array(const array&)>& fun) {
  auto vg = value_and_grad(fun);
  return [vg](const array& x) { return vg(x).second; };
}

// Vectorizes `fun` over axis in_axes[i] of argument i (-1: the argument is not
// batched); the batch axis of output j goes to out_axes[j] (-1: output j does
// not depend on the batch and is returned as is). Empty means all 0.
ArraysFn vmap(const ArraysFn& fun, const std::vector<int>& in_axes = {},
              const std::vector<int>& out_axes = {});
std::function<array(const array&)> vmap(const std::function<array(const array&)>& fun,
                                        int in_axis = 0, int out_axis = 0);
std::function<array(const array&, const array&)> vmap(
    const std::function<array(const array&, const array&)>& fun, int in_axis_a = 0,
    int in_axis_b = 0, int out_axis = 0);

// Custom rules: vjp(primals, cotangents, outputs) -> one cotangent per primal;
// jvp(primals, tangents, argnums) -> one tangent per output;
// vmap(inputs, axes) -> (outputs, out_axes). A rule not given is derived from
// `fun` itself.
using CustomVjpFn = std::function<std::vector<array>(
    const std::vector<array>&, const std::vector<array>&, const std::vector<array>&)>;
using CustomJvpFn = std::function<std::vector<array>(
    const std::vector<array>&, const std::vector<array>&, const std::vector<int>&)>;
using CustomVmapFn = std::function<std::pair<std::vector<array>, std::vector<int>>(
    const std::vector<array>&, const std::vector<int>&)>;

ArraysFn custom_function(ArraysFn fun, std::optional<CustomVjpFn> fun_vjp = std::nullopt,
                         std::optional<CustomJvpFn> fun_jvp = std::nullopt,
                         std::optional<CustomVmapFn> fun_vmap = std::nullopt);

ArraysFn custom_vjp(ArraysFn fun, CustomVjpFn fun_vjp);

// Gradients of the result recompute `fun`'s intermediates instead of keeping
// them alive from the forward pass.
ArraysFn checkpoint(ArraysFn fun);

// Arrays equal to `inputs` that are computed only after `dependencies`
// (MLX's ops.h has it; used by checkpoint).
std::vector<array> depends(const std::vector<array>& inputs,
                           const std::vector<array>& dependencies);

namespace detail {
// vjp with respect to the primals at `argnums` only (sorted, unique).
std::pair<std::vector<array>, std::vector<array>> vjp(const ArraysFn& fun,
                                                      const std::vector<array>& primals,
                                                      const std::vector<array>& cotangents,
                                                      const std::vector<int>& argnums);
}  // namespace detail

}  // namespace lumen
