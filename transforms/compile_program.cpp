// Recording a traced function as a Program, pruning it, and running it on
// real inputs.
#include <unordered_map>

#include "core/detail/errors.h"
#include "lumen/tracing.h"
#include "transforms/detail/compile_program.h"
#include "transforms/detail/graph_walk.h"
#include "transforms/detail/trace_util.h"

namespace lumen::detail {

namespace {

// Arrays whose values exist or are being computed are used as they are.
bool is_leaf(const array& a) {
  return !a.has_primitive() || a.status() != array::Status::unscheduled;
}

}  // namespace

Program trace_program(const std::function<std::vector<array>(const std::vector<array>&)>& fun,
                      const std::vector<array>& inputs) {
  std::vector<array> placeholders;
  std::vector<array> outputs;
  {
    TracingGuard guard;
    for (auto& in : inputs) {
      array ph(in.shape(), in.dtype(), nullptr, {});
      ph.set_tracer(true);
      placeholders.push_back(std::move(ph));
    }
    outputs = fun(placeholders);
  }
  check_outputs("compile", outputs);

  std::unordered_map<std::uintptr_t, int> placeholder_index;
  for (size_t i = 0; i < placeholders.size(); ++i) placeholder_index[placeholders[i].id()] = i;
  IdSet real_inputs;
  for (auto& in : inputs) real_inputs.insert(in.id());

  Program p;
  std::unordered_map<std::uintptr_t, ValueRef> value_of;
  IdSet seen;
  walk_graph(
      outputs, seen, [](const array& a) { return !is_leaf(a); },
      [&](array& a) {
        if (real_inputs.count(a.id())) {
          throw_invalid(
              "[compile] the function reaches one of the arrays it is called with directly (a "
              "captured array passed again as an argument); use the argument it receives instead");
        }
        Node n;
        int idx = static_cast<int>(p.nodes.size());
        if (is_leaf(a)) {
          auto it = placeholder_index.find(a.id());
          if (it != placeholder_index.end()) n.input_index = it->second;
          else n.constant = a;
          n.shapes = {a.shape()};
          n.dtypes = {a.dtype()};
          value_of[a.id()] = {idx, 0};
        } else {
          n.primitive = a.primitive_ptr();
          for (auto& in : a.inputs()) n.inputs.push_back(value_of.at(in.id()));
          auto outs = a.outputs();
          for (size_t k = 0; k < outs.size(); ++k) {
            n.shapes.push_back(outs[k].shape());
            n.dtypes.push_back(outs[k].dtype());
            value_of[outs[k].id()] = {idx, static_cast<int>(k)};
          }
        }
        p.nodes.push_back(std::move(n));
      });
  for (auto& o : outputs) p.outputs.push_back(value_of.at(o.id()));
  return p;
}

void remove_dead_nodes(Program& p) {
  int n = static_cast<int>(p.nodes.size());
  std::vector<bool> live(n, false);
  for (auto& o : p.outputs) live[o.node] = true;
  // Inputs come before their users: one backward sweep marks everything.
  for (int i = n - 1; i >= 0; --i) {
    if (!live[i]) continue;
    for (auto& in : p.nodes[i].inputs) live[in.node] = true;
  }
  std::vector<int> new_index(n, -1);
  std::vector<Node> kept;
  for (int i = 0; i < n; ++i) {
    if (!live[i]) continue;
    new_index[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(p.nodes[i]));
  }
  for (auto& node : kept) {
    for (auto& in : node.inputs) in.node = new_index[in.node];
  }
  for (auto& o : p.outputs) o.node = new_index[o.node];
  p.nodes = std::move(kept);
}

std::vector<array> run_program(const Program& p, const std::vector<array>& inputs,
                               bool shapeless) {
  std::vector<std::vector<array>> values(p.nodes.size());
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& node = p.nodes[i];
    if (node.is_leaf()) {
      values[i] = {node.input_index >= 0 ? inputs[node.input_index] : node.constant};
      continue;
    }
    std::vector<array> ins;
    for (auto& in : node.inputs) ins.push_back(values[in.node][in.index]);
    auto shapes = shapeless ? node.primitive->output_shapes(ins) : node.shapes;
    if (shapes.size() == 1) {
      values[i] = {array(std::move(shapes[0]), node.dtypes[0], node.primitive, std::move(ins))};
    } else {
      values[i] = array::make_arrays(std::move(shapes), node.dtypes, node.primitive, ins);
    }
  }
  std::vector<array> outputs;
  for (auto& o : p.outputs) outputs.push_back(values[o.node][o.index]);
  return outputs;
}

}  // namespace lumen::detail
