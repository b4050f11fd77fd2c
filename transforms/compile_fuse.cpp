// Fusion: grow groups of elementwise nodes backwards from a root and replace
// each group by one Compiled node, so the chain runs as one kernel without
// intermediate arrays.
#include <algorithm>
#include <map>
#include <queue>
#include <set>
#include <typeindex>

#include "lumen/backend.h"
#include "lumen/shape_primitives.h"
#include "lumen/transforms_primitives.h"
#include "transforms/detail/compile_program.h"

namespace lumen::detail {

namespace {

// Limits on one fused kernel: how far back from the root it reaches and how
// many arrays it reads.
constexpr int max_fuse_depth = 16;
constexpr size_t max_fuse_inputs = Compiled::max_inputs;

using ValueKey = std::pair<int, int>;  // (node, output)

bool is_broadcast(const Node& n) { return dynamic_cast<const Broadcast*>(n.primitive.get()); }

class Fuser {
 public:
  explicit Fuser(Program& p) : p_(p), users_(p.nodes.size()), claimed_(p.nodes.size(), false) {
    for (size_t i = 0; i < p.nodes.size(); ++i) {
      for (auto& in : p.nodes[i].inputs) users_[in.node].push_back(static_cast<int>(i));
    }
    for (auto& o : p.outputs) outputs_of_[o.node].push_back(&o);
  }

  void run() {
    for (int r = static_cast<int>(p_.nodes.size()) - 1; r >= 0; --r) {
      if (fusable(r) && !is_broadcast(p_.nodes[r])) fuse_from(r);
    }
  }

 private:
  bool fusable(int i) const {
    const Node& n = p_.nodes[i];
    if (n.is_leaf() || claimed_[i] || n.dtypes.size() != 1) return false;
    if (!Compiled::can_fuse(*n.primitive)) return false;
    auto type = n.primitive->device().type;
    return backend::find_kernel(type, std::type_index(typeid(Compiled))) != nullptr;
  }

  void fuse_from(int root) {
    const Node& r = p_.nodes[root];
    std::set<int> members{root};
    std::set<int> copies;  // broadcasts used outside the group too: fused as copies
    std::set<ValueKey> reads;
    for (auto& in : r.inputs) reads.insert({in.node, in.index});
    std::map<int, int> depth;
    std::priority_queue<int> todo;  // highest index first: users are decided before inputs
    auto enqueue = [&](int from) {
      for (auto& in : p_.nodes[from].inputs) {
        int d = depth[from] + 1;
        auto [it, fresh] = depth.try_emplace(in.node, d);
        if (fresh) todo.push(in.node);
        else it->second = std::min(it->second, d);
      }
    };
    depth[root] = 0;
    enqueue(root);
    while (!todo.empty()) {
      int c = todo.top();
      todo.pop();
      if (!fusable(c) || depth[c] > max_fuse_depth) continue;
      const Node& n = p_.nodes[c];
      if (n.primitive->stream() != r.primitive->stream()) continue;
      bool generator = Compiled::is_generator(*n.primitive);
      if (generator && n.shapes[0] != r.shapes[0]) continue;
      bool feeds_generator = std::any_of(users_[c].begin(), users_[c].end(), [&](int u) {
        return members.count(u) && Compiled::is_generator(*p_.nodes[u].primitive);
      });
      if (feeds_generator) continue;
      bool used_outside = std::any_of(users_[c].begin(), users_[c].end(),
                                      [&](int u) { return !members.count(u); });
      bool is_output = outputs_of_.count(c) > 0;
      bool copy = is_broadcast(n) && (used_outside || is_output);
      if (!copy && (used_outside || (is_output && n.shapes[0] != r.shapes[0]))) continue;
      auto next_reads = reads;
      next_reads.erase({c, 0});
      for (auto& in : n.inputs) {
        if (!members.count(in.node)) next_reads.insert({in.node, in.index});
      }
      if (next_reads.size() > max_fuse_inputs) continue;
      reads = std::move(next_reads);
      members.insert(c);
      if (copy) copies.insert(c);
      if (!generator) enqueue(c);  // a generator reads its inputs whole, from outside
    }
    int computing = 0;
    for (int m : members) computing += !is_broadcast(p_.nodes[m]);
    if (computing < 2) return;  // nothing to gain
    replace(root, members, copies);
  }

  // Builds the Compiled node in place of the root; members other than the
  // root and the copies become dead (outputs among them are rerouted).
  void replace(int root, const std::set<int>& members, const std::set<int>& copies) {
    // Values: the arrays read from outside first, then one per member.
    std::map<ValueKey, int> value_number;
    std::vector<ValueRef> inputs;
    std::vector<Dtype> input_dtypes;
    for (int m : members) {
      for (auto& in : p_.nodes[m].inputs) {
        ValueKey key{in.node, in.index};
        if (members.count(in.node) || value_number.count(key)) continue;
        value_number[key] = static_cast<int>(inputs.size());
        inputs.push_back(in);
        input_dtypes.push_back(p_.nodes[in.node].dtypes[in.index]);
      }
    }
    std::vector<Compiled::Step> steps;
    for (int m : members) {  // ascending index: topological order
      const Node& n = p_.nodes[m];
      Compiled::Step st{n.primitive, {}, n.dtypes[0]};
      for (auto& in : n.inputs) st.args.push_back(value_number.at({in.node, in.index}));
      value_number[{m, 0}] = static_cast<int>(inputs.size() + steps.size());
      steps.push_back(std::move(st));
    }

    // Outputs: the root, then members that are program outputs.
    std::vector<int> out_values{value_number.at({root, 0})};
    std::vector<int> exported;
    for (int m : members) {
      if (m != root && !copies.count(m) && outputs_of_.count(m)) {
        exported.push_back(m);
        out_values.push_back(value_number.at({m, 0}));
      }
    }
    Node& r = p_.nodes[root];
    std::vector<Dtype> dtypes{r.dtypes[0]};
    for (int m : exported) dtypes.push_back(p_.nodes[m].dtypes[0]);
    r.primitive = std::make_shared<Compiled>(r.primitive->stream(), std::move(input_dtypes),
                                             std::move(steps), std::move(out_values));
    r.inputs = std::move(inputs);
    r.shapes = std::vector<Shape>(dtypes.size(), r.shapes[0]);
    r.dtypes = std::move(dtypes);
    for (size_t k = 0; k < exported.size(); ++k) {
      for (ValueRef* o : outputs_of_[exported[k]]) *o = {root, static_cast<int>(k + 1)};
    }
    for (int m : members) {
      if (!copies.count(m)) claimed_[m] = true;
    }
  }

  Program& p_;
  std::vector<std::vector<int>> users_;
  std::vector<bool> claimed_;
  std::map<int, std::vector<ValueRef*>> outputs_of_;
};

}  // namespace

void fuse_program(Program& p) {
  Fuser(p).run();
  remove_dead_nodes(p);
}

}  // namespace lumen::detail
