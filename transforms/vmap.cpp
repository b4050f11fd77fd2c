// vmap traces the function on unbatched placeholders, then rebuilds the part
// of the graph that depends on them with each primitive's vmap rule.
#include <fmt/format.h>

#include <unordered_map>

#include "core/detail/errors.h"
#include "lumen/primitive.h"
#include "lumen/shape.h"
#include "lumen/tracing.h"
#include "lumen/transforms.h"
#include "transforms/detail/graph_walk.h"
#include "transforms/detail/trace_util.h"
#include "transforms/detail/vmap_util.h"

namespace lumen {

namespace {

struct Batched {
  array value;
  int axis;      // -1: not batched after all
  int argument;  // the lowest mapped argument it depends on
};

// The size of the mapped axis, after checking the axes against the inputs.
int mapped_size(const std::vector<array>& inputs, const std::vector<int>& in_axes) {
  if (in_axes.size() != inputs.size()) {
    detail::throw_invalid("[vmap] {} in_axes given for a function of {} arguments", in_axes.size(),
                          inputs.size());
  }
  int size = -1, sized_by = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    int ax = in_axes[i];
    if (ax == -1) continue;
    int nd = static_cast<int>(inputs[i].ndim());
    if (ax < -1 || ax >= nd) {
      detail::throw_invalid("[vmap] in_axes[{}] = {} is out of range for argument {} of shape {}"
                            " (use -1 for an argument that is not mapped)",
                            i, ax, i, detail::shape_str(inputs[i].shape()));
    }
    int n = inputs[i].shape(ax);
    if (size >= 0 && n != size) {
      detail::throw_invalid(
          "[vmap] argument {} has size {} along in_axes[{}] = {} but argument {} has size {}", i,
          n, i, ax, sized_by, size);
    }
    size = n;
    sized_by = static_cast<int>(i);
  }
  if (size < 0) throw std::invalid_argument("[vmap] at least one in_axes must not be -1");
  return size;
}

}  // namespace

ArraysFn vmap(const ArraysFn& fun, const std::vector<int>& in_axes,
              const std::vector<int>& out_axes) {
  return [fun, in_axes, out_axes](const std::vector<array>& inputs) {
    detail::TracingGuard guard;
    bool outermost = detail::tracing_depth() == 1;
    auto axes = in_axes.empty() ? std::vector<int>(inputs.size(), 0) : in_axes;
    int size = mapped_size(inputs, axes);

    // Trace on placeholders shaped like one example of each mapped argument.
    std::vector<array> placeholders;
    std::unordered_map<std::uintptr_t, Batched> batched;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (axes[i] == -1) {
        placeholders.push_back(inputs[i]);
        continue;
      }
      auto shape = inputs[i].shape();
      shape.erase(shape.begin() + axes[i]);
      array ph(std::move(shape), inputs[i].dtype(), nullptr, {});
      ph.set_tracer(true);
      batched.emplace(ph.id(), Batched{inputs[i], axes[i], static_cast<int>(i)});
      placeholders.push_back(std::move(ph));
    }
    auto outputs = fun(placeholders);
    detail::check_outputs("vmap", outputs);
    auto oaxes = out_axes.empty() ? std::vector<int>(outputs.size(), 0) : out_axes;
    if (oaxes.size() != outputs.size()) {
      detail::throw_invalid("[vmap] {} out_axes given for a function of {} outputs", oaxes.size(),
                            outputs.size());
    }

    // Rebuild, in order, every node that depends on a placeholder.
    detail::IdSet seen;
    for (auto& ph : placeholders) seen.insert(ph.id());
    detail::walk_graph(
        outputs, seen, [](const array&) { return true; },
        [&](array& a) {
          if (outermost) a.set_tracer(false);
          if (!a.has_primitive()) return;
          std::vector<array> v_inputs;
          std::vector<int> v_axes;
          int arg = -1;
          for (auto& in : a.inputs()) {
            auto it = batched.find(in.id());
            if (it == batched.end()) {
              v_inputs.push_back(in);
              v_axes.push_back(-1);
              continue;
            }
            v_inputs.push_back(it->second.value);
            v_axes.push_back(it->second.axis);
            if (arg < 0 || it->second.argument < arg) arg = it->second.argument;
          }
          if (arg < 0) return;  // does not depend on a mapped argument
          auto& prim = a.primitive();
          auto [v_outs, v_out_axes] =
              detail::with_rule_context<std::pair<std::vector<array>, std::vector<int>>>(
                  "vmap", prim, arg, [&] { return prim.vmap(v_inputs, v_axes); });
          auto outs = a.outputs();
          if (v_outs.size() != outs.size() || v_out_axes.size() != outs.size()) {
            detail::throw_invalid("[vmap] the rule of primitive {} returned {} outputs, expected {}",
                                  prim.name(), v_outs.size(), outs.size());
          }
          for (size_t k = 0; k < outs.size(); ++k) {
            batched.insert_or_assign(outs[k].id(), Batched{v_outs[k], v_out_axes[k], arg});
          }
        });
    if (outermost) {
      for (auto& ph : placeholders) ph.set_tracer(false);
    }

    std::vector<array> results;
    for (size_t i = 0; i < outputs.size(); ++i) {
      int to = oaxes[i];
      auto it = batched.find(outputs[i].id());
      bool is_batched = it != batched.end() && it->second.axis >= 0;
      array out = it != batched.end() ? it->second.value : outputs[i];
      int from = is_batched ? it->second.axis : -1;
      if (to == -1) {
        if (is_batched) {
          detail::throw_invalid(
              "[vmap] output {} depends on mapped argument {} but out_axes[{}] is -1", i,
              it->second.argument, i);
        }
        results.push_back(out);
        continue;
      }
      int nd = static_cast<int>(out.ndim()) + (is_batched ? 0 : 1);
      if (to < -1 || to >= nd) {
        detail::throw_invalid("[vmap] out_axes[{}] = {} is out of range for output {} with {} "
                              "dimensions once mapped",
                              i, to, i, nd);
      }
      results.push_back(detail::move_batch_axis(out, from, to, size, detail::stream_of(out)));
    }
    return results;
  };
}

std::function<array(const array&)> vmap(const std::function<array(const array&)>& fun,
                                        int in_axis, int out_axis) {
  auto vf = vmap([fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0])}; },
                 {in_axis}, {out_axis});
  return [vf](const array& x) { return vf({x})[0]; };
}

std::function<array(const array&, const array&)> vmap(
    const std::function<array(const array&, const array&)>& fun, int in_axis_a, int in_axis_b,
    int out_axis) {
  auto vf = vmap(
      [fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0], xs[1])}; },
      {in_axis_a, in_axis_b}, {out_axis});
  return [vf](const array& a, const array& b) { return vf({a, b})[0]; };
}

}  // namespace lumen
