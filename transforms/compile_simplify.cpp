// Simplification of a traced Program: shared scalar constants, forwarded
// no-ops, common-subexpression elimination, dead-code removal.
#include <cstring>
#include <optional>
#include <map>
#include <typeindex>
#include <unordered_map>

#include "lumen/elementwise_primitives.h"
#include "transforms/detail/compile_program.h"

namespace lumen::detail {

namespace {

// Copy and StopGradient compute nothing once traced.
bool is_noop(const Primitive& p) {
  auto* u = dynamic_cast<const Unary*>(&p);
  return u && (u->op() == UnaryOp::Copy || u->op() == UnaryOp::StopGradient);
}

// A scalar constant whose value can be read now, as (dtype, bytes).
std::optional<std::pair<int, uint64_t>> scalar_key(const Node& n) {
  const array& c = n.constant;
  if (!c.is_valid() || c.ndim() != 0 || !c.is_available()) return std::nullopt;
  uint64_t bits = 0;
  std::memcpy(&bits, c.data<char>(), c.itemsize());
  return std::make_pair(static_cast<int>(c.dtype().val()), bits);
}

// Nodes are merged when they apply equivalent primitives to the same values.
struct CseKey {
  std::type_index type;
  std::vector<ValueRef> inputs;
  bool operator<(const CseKey& o) const {
    if (type != o.type) return type < o.type;
    if (inputs.size() != o.inputs.size()) return inputs.size() < o.inputs.size();
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].node != o.inputs[i].node) return inputs[i].node < o.inputs[i].node;
      if (inputs[i].index != o.inputs[i].index) return inputs[i].index < o.inputs[i].index;
    }
    return false;
  }
};

}  // namespace

void simplify_program(Program& p) {
  // replaced[i][k]: the value that stands for output k of node i.
  std::vector<std::vector<ValueRef>> replaced(p.nodes.size());
  auto resolve = [&](ValueRef v) { return replaced[v.node][v.index]; };

  std::map<std::pair<int, uint64_t>, int> scalars;
  std::map<CseKey, std::vector<int>> seen;
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    Node& n = p.nodes[i];
    int self = static_cast<int>(i);
    replaced[i].resize(n.dtypes.size());
    for (size_t k = 0; k < n.dtypes.size(); ++k) replaced[i][k] = {self, static_cast<int>(k)};
    for (auto& in : n.inputs) in = resolve(in);

    if (n.is_leaf()) {
      if (auto key = scalar_key(n)) {
        auto [it, fresh] = scalars.emplace(*key, self);
        if (!fresh) replaced[i][0] = {it->second, 0};
      }
      continue;
    }
    if (is_noop(*n.primitive)) {
      replaced[i][0] = n.inputs[0];
      continue;
    }
    auto& candidates = seen[CseKey{std::type_index(typeid(*n.primitive)), n.inputs}];
    bool merged = false;
    for (int j : candidates) {
      const Node& m = p.nodes[j];
      if (m.dtypes == n.dtypes && m.shapes == n.shapes && n.primitive->is_equivalent(*m.primitive)) {
        for (size_t k = 0; k < n.dtypes.size(); ++k) replaced[i][k] = {j, static_cast<int>(k)};
        merged = true;
        break;
      }
    }
    if (!merged) candidates.push_back(self);
  }
  for (auto& o : p.outputs) o = resolve(o);
  remove_dead_nodes(p);
}

}  // namespace lumen::detail
