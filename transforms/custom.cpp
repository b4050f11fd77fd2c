// custom_function, custom_vjp, checkpoint and depends, with the rules of the
// primitives they build.
#include <algorithm>

#include "core/detail/errors.h"
#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/transforms.h"
#include "lumen/transforms_primitives.h"
#include "transforms/detail/trace_util.h"

namespace lumen {

namespace {

CustomVjpFn derived_vjp(const ArraysFn& fun) {
  return [fun](const std::vector<array>& primals, const std::vector<array>& cotangents,
               const std::vector<array>&) { return vjp(fun, primals, cotangents).second; };
}

CustomJvpFn derived_jvp(const ArraysFn& fun) {
  return [fun](const std::vector<array>& primals, const std::vector<array>& tangents,
               const std::vector<int>& argnums) {
    std::vector<array> all;
    for (size_t i = 0, j = 0; i < primals.size(); ++i) {
      bool given = j < argnums.size() && argnums[j] == static_cast<int>(i);
      all.push_back(given ? tangents[j++] : zeros_like(primals[i]));
    }
    return jvp(fun, primals, all).second;
  };
}

CustomVmapFn derived_vmap(const ArraysFn& fun, size_t num_outputs) {
  return [fun, num_outputs](const std::vector<array>& inputs, const std::vector<int>& axes) {
    std::vector<int> out_axes(num_outputs, 0);
    return std::make_pair(vmap(fun, axes, out_axes)(inputs), out_axes);
  };
}

}  // namespace

ArraysFn custom_function(ArraysFn fun, std::optional<CustomVjpFn> fun_vjp,
                         std::optional<CustomJvpFn> fun_jvp, std::optional<CustomVmapFn> fun_vmap) {
  if (!fun_vjp && !fun_jvp && !fun_vmap) return fun;
  return [fun, fun_vjp, fun_jvp, fun_vmap](const std::vector<array>& args) {
    auto outputs = fun(args);
    detail::check_outputs("custom_function", outputs);
    if (outputs.empty()) {
      throw std::invalid_argument("[custom_function] the function returned no outputs");
    }
    // The forward values enter as inputs, so the primitive only forwards them;
    // gradients reach the arguments through the custom rules alone.
    Stream s = detail::stream_of(outputs[0]);
    std::vector<array> inputs = args;
    std::vector<Shape> shapes;
    std::vector<Dtype> dtypes;
    for (auto& o : outputs) {
      inputs.push_back(stop_gradient(o, detail::stream_of(o)));
      shapes.push_back(o.shape());
      dtypes.push_back(o.dtype());
    }
    auto prim = std::make_shared<CustomTransforms>(
        s, static_cast<int>(outputs.size()), fun_vjp ? *fun_vjp : derived_vjp(fun),
        fun_jvp ? *fun_jvp : derived_jvp(fun),
        fun_vmap ? *fun_vmap : derived_vmap(fun, outputs.size()));
    return array::make_arrays(std::move(shapes), dtypes, prim, inputs);
  };
}

ArraysFn custom_vjp(ArraysFn fun, CustomVjpFn fun_vjp) {
  return custom_function(std::move(fun), std::move(fun_vjp), std::nullopt, std::nullopt);
}

ArraysFn checkpoint(ArraysFn fun) {
  auto recompute = [fun](const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<array>& outputs) {
    // Recompute from the primals only after the forward outputs exist, so the
    // intermediates are not alive at the same time as the forward pass's.
    return vjp(fun, depends(primals, outputs), cotangents).second;
  };
  return custom_vjp(fun, recompute);
}

std::vector<array> depends(const std::vector<array>& inputs,
                           const std::vector<array>& dependencies) {
  if (inputs.empty()) throw std::invalid_argument("[depends] at least one input is needed");
  std::vector<array> all = inputs;
  all.insert(all.end(), dependencies.begin(), dependencies.end());
  std::vector<Shape> shapes;
  std::vector<Dtype> dtypes;
  for (auto& in : inputs) {
    shapes.push_back(in.shape());
    dtypes.push_back(in.dtype());
  }
  return array::make_arrays(std::move(shapes), dtypes,
                            std::make_shared<Depends>(detail::stream_of(inputs[0]),
                                                                     static_cast<int>(inputs.size())),
                            all);
}

// ---- rules ----

std::vector<array> CustomTransforms::vjp(const std::vector<array>& primals,
                                         const std::vector<array>& cotangents,
                                         const std::vector<int>& argnums,
                                         const std::vector<array>& outputs) {
  size_t num_args = primals.size() - num_outputs_;
  std::vector<array> args(primals.begin(), primals.begin() + num_args);
  auto all = vjp_fun_(args, cotangents, outputs);
  if (all.size() != num_args) {
    detail::throw_invalid("[custom_vjp] the vjp function returned {} cotangents for {} arguments",
                          all.size(), num_args);
  }
  std::vector<array> vjps;
  for (int arg : argnums) {
    size_t a = static_cast<size_t>(arg);
    // The forward outputs enter through stop_gradient: nothing flows there.
    vjps.push_back(a < num_args ? all[a] : zeros_like(primals[a], stream()));
  }
  return vjps;
}

std::vector<array> CustomTransforms::jvp(const std::vector<array>& primals,
                                         const std::vector<array>& tangents,
                                         const std::vector<int>& argnums) {
  size_t num_args = primals.size() - num_outputs_;
  std::vector<array> args(primals.begin(), primals.begin() + num_args);
  std::vector<array> arg_tangents;
  std::vector<int> arg_nums;
  for (size_t i = 0; i < argnums.size(); ++i) {
    if (static_cast<size_t>(argnums[i]) >= num_args) continue;
    arg_tangents.push_back(tangents[i]);
    arg_nums.push_back(argnums[i]);
  }
  if (arg_nums.empty()) {
    std::vector<array> zeros;
    for (size_t i = num_args; i < primals.size(); ++i) zeros.push_back(zeros_like(primals[i]));
    return zeros;
  }
  return jvp_fun_(args, arg_tangents, arg_nums);
}

std::pair<std::vector<array>, std::vector<int>> CustomTransforms::vmap(
    const std::vector<array>& inputs, const std::vector<int>& axes) {
  size_t num_args = inputs.size() - num_outputs_;
  return vmap_fun_(std::vector<array>(inputs.begin(), inputs.begin() + num_args),
                   std::vector<int>(axes.begin(), axes.begin() + num_args));
}

std::vector<Shape> CustomTransforms::output_shapes(const std::vector<array>& inputs) {
  std::vector<Shape> shapes;
  for (size_t i = inputs.size() - num_outputs_; i < inputs.size(); ++i) {
    shapes.push_back(inputs[i].shape());
  }
  return shapes;
}

std::vector<array> Depends::vjp(const std::vector<array>& primals,
                                const std::vector<array>& cotangents,
                                const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> vjps;
  for (int arg : argnums) {
    size_t a = static_cast<size_t>(arg);
    vjps.push_back(a < cotangents.size() ? cotangents[a] : zeros_like(primals[a], stream()));
  }
  return vjps;
}

std::vector<array> Depends::jvp(const std::vector<array>& primals,
                                const std::vector<array>& tangents,
                                const std::vector<int>& argnums) {
  // One tangent per output: that of the input it forwards.
  std::vector<array> out;
  for (int i = 0; i < num_forwarded_; ++i) {
    auto it = std::find(argnums.begin(), argnums.end(), i);
    out.push_back(it != argnums.end() ? tangents[it - argnums.begin()]
                                      : zeros_like(primals[i], stream()));
  }
  return out;
}

std::pair<std::vector<array>, std::vector<int>> Depends::vmap(const std::vector<array>& inputs,
                                                              const std::vector<int>& axes) {
  std::vector<array> forwarded(inputs.begin(), inputs.begin() + num_forwarded_);
  std::vector<array> deps(inputs.begin() + num_forwarded_, inputs.end());
  return {depends(forwarded, deps), std::vector<int>(axes.begin(), axes.begin() + num_forwarded_)};
}

std::vector<Shape> Depends::output_shapes(const std::vector<array>& inputs) {
  std::vector<Shape> shapes;
  for (int i = 0; i < num_forwarded_; ++i) shapes.push_back(inputs[i].shape());
  return shapes;
}

}  // namespace lumen
