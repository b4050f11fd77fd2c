// vjp walks the traced graph backwards from the outputs, jvp forwards from
// the primals; both only visit nodes that depend on a differentiated primal.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <unordered_map>

#include "core/detail/errors.h"
#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/primitive.h"
#include "lumen/tracing.h"
#include "lumen/transforms.h"
#include "transforms/detail/graph_walk.h"
#include "transforms/detail/trace_util.h"

namespace lumen {

namespace {

// The nodes of a traced graph that depend on an active primal, inputs before
// users, and for each such node (and each active primal) the lowest argument
// index it depends on, for error messages.
struct Tape {
  std::vector<array> nodes;
  std::unordered_map<std::uintptr_t, int> argument;

  int argument_of(const array& a) const {
    auto it = argument.find(a.id());
    return it == argument.end() ? -1 : it->second;
  }
};

// Walks the graph from `outputs` down to the tracers (never past them).
// `reset` clears the tracer marks once the outermost trace is done with them.
Tape record_tape(const std::vector<array>& outputs, std::vector<array>& tracers,
                 const std::vector<int>& active, bool reset) {
  Tape tape;
  detail::IdSet seen;
  for (auto& t : tracers) seen.insert(t.id());
  for (int i : active) tape.argument.emplace(tracers[i].id(), i);
  detail::walk_graph(
      outputs, seen, [](const array&) { return true; },
      [&](array& a) {
        if (reset) {
          a.set_tracer(false);
          for (auto s : a.siblings()) s.set_tracer(false);
        }
        if (!a.has_primitive() || detail::is_stop_gradient(a.primitive())) return;
        int arg = -1;
        for (auto& in : a.inputs()) {
          int k = tape.argument_of(in);
          if (k >= 0 && (arg < 0 || k < arg)) arg = k;
        }
        if (arg < 0) return;
        tape.nodes.push_back(a);
        for (auto& o : a.outputs()) tape.argument[o.id()] = arg;
      });
  if (reset) {
    for (auto& t : tracers) t.set_tracer(false);
  }
  return tape;
}

// Sum of contributions per array id.
class Accumulator {
 public:
  void add(const array& target, const array& value, const Stream& s) {
    auto [it, fresh] = sums_.try_emplace(target.id(), value);
    if (!fresh) it->second = lumen::add(it->second, value, s);
  }
  bool has(const array& a) const { return sums_.count(a.id()) > 0; }
  std::optional<array> take(const array& a) {
    auto it = sums_.find(a.id());
    if (it == sums_.end()) return std::nullopt;
    array v = std::move(it->second);
    sums_.erase(it);
    return v;
  }

 private:
  std::unordered_map<std::uintptr_t, array> sums_;
};

void check_rule_result(const char* transform, const Primitive& p, const std::vector<array>& got,
                       size_t want) {
  if (got.size() != want) {
    detail::throw_invalid("[{}] the rule of primitive {} returned {} arrays, expected {}",
                          transform, p.name(), got.size(), want);
  }
}

}  // namespace

namespace detail {

std::pair<std::vector<array>, std::vector<array>> vjp(const ArraysFn& fun,
                                                      const std::vector<array>& primals,
                                                      const std::vector<array>& cotangents,
                                                      const std::vector<int>& argnums) {
  TracingGuard guard;
  bool outermost = tracing_depth() == 1;
  std::vector<array> tracers;
  for (auto& p : primals) tracers.push_back(make_tracer(p));
  auto outputs = fun(tracers);
  check_outputs("vjp", outputs);

  // Outputs made with stop_gradient take no cotangent.
  std::vector<std::pair<size_t, size_t>> out_cot;
  size_t k = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto& out = outputs[i];
    if (out.has_primitive() && is_stop_gradient(out.primitive())) continue;
    if (k >= cotangents.size()) {
      throw_invalid("[vjp] the function has more outputs to differentiate than the {} cotangents "
                    "given (outputs made with stop_gradient take none)",
                    cotangents.size());
    }
    if (out.shape() != cotangents[k].shape()) {
      throw_invalid("[vjp] output {} has shape {} but its cotangent has shape {}{}", i,
                    shape_str(out.shape()), shape_str(cotangents[k].shape()),
                    outputs.size() == 1 && out.size() == 1
                        ? "; with grad the function must return a scalar"
                        : "");
    }
    out_cot.emplace_back(i, k++);
  }

  Tape tape = record_tape(outputs, tracers, argnums, outermost);

  Accumulator cots;
  for (auto [i, c] : out_cot) {
    auto& o = outputs[i];
    cots.add(o, astype(cotangents[c], o.dtype(), stream_of(o)), stream_of(o));
  }
  for (auto it = tape.nodes.rbegin(); it != tape.nodes.rend(); ++it) {
    const array& a = *it;
    auto outs = a.outputs();
    if (std::none_of(outs.begin(), outs.end(), [&](const array& o) { return cots.has(o); })) {
      continue;
    }
    auto& prim = a.primitive();
    auto s = prim.stream();
    std::vector<array> out_cots;
    for (auto& o : outs) {
      auto c = cots.take(o);
      out_cots.push_back(c ? *c : zeros_like(o, s));
    }
    std::vector<int> args;
    for (size_t i = 0; i < a.inputs().size(); ++i) {
      if (tape.argument_of(a.inputs()[i]) >= 0) args.push_back(static_cast<int>(i));
    }
    auto vjps = with_rule_context<std::vector<array>>("vjp", prim, tape.argument_of(a), [&] {
      return prim.vjp(a.inputs(), out_cots, args, outs);
    });
    check_rule_result("vjp", prim, vjps, args.size());
    for (size_t i = 0; i < args.size(); ++i) cots.add(a.inputs()[args[i]], vjps[i], s);
  }

  std::vector<array> grads;
  for (int arg : argnums) {
    auto c = cots.take(tracers[arg]);
    grads.push_back(c ? *c : zeros_like(primals[arg], stream_of(primals[arg])));
  }
  return {outputs, grads};
}

}  // namespace detail

std::pair<std::vector<array>, std::vector<array>> vjp(const ArraysFn& fun,
                                                      const std::vector<array>& primals,
                                                      const std::vector<array>& cotangents) {
  std::vector<int> argnums(primals.size());
  std::iota(argnums.begin(), argnums.end(), 0);
  return detail::vjp(fun, primals, cotangents, argnums);
}

std::pair<array, array> vjp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& cotangent) {
  auto [outs, grads] = vjp(
      [&fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0])}; }, {primal},
      {cotangent});
  return {outs[0], grads[0]};
}

std::pair<std::vector<array>, std::vector<array>> jvp(const ArraysFn& fun,
                                                      const std::vector<array>& primals,
                                                      const std::vector<array>& tangents) {
  detail::TracingGuard guard;
  bool outermost = detail::tracing_depth() == 1;
  if (primals.size() != tangents.size()) {
    detail::throw_invalid("[jvp] {} primals but {} tangents given", primals.size(),
                          tangents.size());
  }
  for (size_t i = 0; i < primals.size(); ++i) {
    if (primals[i].shape() != tangents[i].shape()) {
      detail::throw_invalid("[jvp] argument {} has shape {} but its tangent has shape {}", i,
                            detail::shape_str(primals[i].shape()),
                            detail::shape_str(tangents[i].shape()));
    }
  }
  std::vector<array> tracers;
  for (auto& p : primals) tracers.push_back(detail::make_tracer(p));
  auto outputs = fun(tracers);
  detail::check_outputs("jvp", outputs);

  std::vector<int> all(primals.size());
  std::iota(all.begin(), all.end(), 0);
  Tape tape = record_tape(outputs, tracers, all, outermost);

  std::unordered_map<std::uintptr_t, array> tans;
  for (size_t i = 0; i < tracers.size(); ++i) tans.emplace(tracers[i].id(), tangents[i]);
  for (const array& a : tape.nodes) {
    std::vector<int> args;
    std::vector<array> in_tans;
    for (size_t i = 0; i < a.inputs().size(); ++i) {
      auto it = tans.find(a.inputs()[i].id());
      if (it == tans.end()) continue;
      args.push_back(static_cast<int>(i));
      in_tans.push_back(it->second);
    }
    if (args.empty()) continue;  // only zero tangents reach it
    auto& prim = a.primitive();
    auto outs = a.outputs();
    auto jvps = detail::with_rule_context<std::vector<array>>(
        "jvp", prim, tape.argument_of(a), [&] { return prim.jvp(a.inputs(), in_tans, args); });
    if (jvps.size() > outs.size()) check_rule_result("jvp", prim, jvps, outs.size());
    for (size_t i = 0; i < jvps.size(); ++i) tans.emplace(outs[i].id(), jvps[i]);
  }

  std::vector<array> out_tans;
  for (auto& o : outputs) {
    auto it = tans.find(o.id());
    out_tans.push_back(it != tans.end() ? it->second : zeros_like(o, detail::stream_of(o)));
  }
  return {outputs, out_tans};
}

std::pair<array, array> jvp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& tangent) {
  auto [outs, tans] = jvp(
      [&fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0])}; }, {primal},
      {tangent});
  return {outs[0], tans[0]};
}

ValueAndGradFn value_and_grad(const ArraysFn& fun, const std::vector<int>& argnums) {
  if (argnums.empty()) throw std::invalid_argument("[grad] at least one argnum must be given");
  return [fun, argnums](const std::vector<array>& inputs) {
    int n = static_cast<int>(inputs.size());
    std::set<int> args;
    for (int a : argnums) {
      int k = a < 0 ? a + n : a;
      if (k < 0 || k >= n) {
        detail::throw_range("[grad] argnum {} is out of range for a function of {} arguments", a,
                            n);
      }
      if (!args.insert(k).second) detail::throw_invalid("[grad] argnum {} is given twice", a);
    }
    auto scalar_fun = [&fun](const std::vector<array>& xs) {
      auto outs = fun(xs);
      detail::check_outputs("grad", outs);
      if (outs.empty()) throw std::invalid_argument("[grad] the function returned no outputs");
      if (outs[0].ndim() != 0) {
        detail::throw_invalid("[grad] the function must return a scalar, but output 0 has shape {}",
                              detail::shape_str(outs[0].shape()));
      }
      // Only the first output is differentiated; the rest ride along.
      for (size_t i = 1; i < outs.size(); ++i) {
        outs[i] = stop_gradient(outs[i], detail::stream_of(outs[i]));
      }
      return outs;
    };
    return detail::vjp(scalar_fun, inputs, {array(1.0f)},
                       std::vector<int>(args.begin(), args.end()));
  };
}

}  // namespace lumen
