#include "lumen/graph.h"

#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "lumen/primitive.h"

namespace lumen {

namespace {

// Visits every array of the unevaluated graph of `outputs` in topological
// order (inputs first), each multi-output node once; iterative.
template <typename F>
void visit_graph(const std::vector<array>& outputs, F&& f) {
  std::unordered_set<std::uintptr_t> seen;
  struct Frame {
    array a;
    size_t next;
  };
  std::vector<Frame> stack;
  for (auto& out : outputs) {
    if (seen.count(out.id())) continue;
    seen.insert(out.id());
    stack.push_back({out, 0});
    while (!stack.empty()) {
      auto& top = stack.back();
      const auto& ins = top.a.inputs();
      if (top.next < ins.size()) {
        const array& in = ins[top.next++];
        if (!seen.count(in.id())) {
          seen.insert(in.id());
          stack.push_back({in, 0});
        }
      } else {
        array a = std::move(top.a);
        stack.pop_back();
        f(a);
      }
    }
  }
}

struct Namer {
  std::unordered_map<std::uintptr_t, std::string> names;
  int next = 0;
  const std::string& operator()(const array& a) {
    auto it = names.find(a.id());
    if (it != names.end()) return it->second;
    std::string n;
    int k = next++;
    do {
      n.insert(n.begin(), static_cast<char>('A' + k % 26));
      k = k / 26 - 1;
    } while (k >= 0);
    return names[a.id()] = n;
  }
};

std::string describe(const array& a) {
  return fmt::format("{} ({})", dtype_to_string(a.dtype()), fmt::join(a.shape(), ","));
}

}  // namespace

void print_graph(std::ostream& os, const std::vector<array>& outputs) {
  Namer name;
  std::unordered_set<std::uintptr_t> printed_prims;
  visit_graph(outputs, [&](const array& a) {
    if (!a.has_primitive()) {
      os << name(a) << " = " << (a.has_data() ? "data " : "input ") << describe(a) << "\n";
      return;
    }
    if (!printed_prims.insert(a.primitive_id()).second) return;
    std::ostringstream lhs;
    auto outs = a.outputs();
    for (size_t i = 0; i < outs.size(); ++i) lhs << (i ? ", " : "") << name(outs[i]);
    os << lhs.str() << " = ";
    a.primitive().print(os);
    os << "(";
    for (size_t i = 0; i < a.inputs().size(); ++i) os << (i ? ", " : "") << name(a.inputs()[i]);
    os << ") -> " << describe(a) << "\n";
  });
}

void export_to_dot(std::ostream& os, const std::vector<array>& outputs) {
  Namer name;
  std::unordered_set<std::uintptr_t> printed_prims;
  os << "digraph {\n";
  visit_graph(outputs, [&](const array& a) {
    if (!a.has_primitive()) {
      os << "  " << name(a) << " [label=\"" << name(a) << "\\n" << describe(a)
         << "\", shape=box];\n";
      return;
    }
    if (!printed_prims.insert(a.primitive_id()).second) return;
    std::ostringstream pname;
    a.primitive().print(pname);
    std::string node = fmt::format("p{}", a.primitive_id());
    os << "  " << node << " [label=\"" << pname.str() << "\", shape=ellipse];\n";
    for (auto& in : a.inputs()) os << "  " << name(in) << " -> " << node << ";\n";
    for (auto& o : a.outputs()) {
      os << "  " << name(o) << " [label=\"" << name(o) << "\\n" << describe(o)
         << "\", shape=box];\n";
      os << "  " << node << " -> " << name(o) << ";\n";
    }
  });
  os << "}\n";
}

std::map<std::string, int> primitive_counts(const std::vector<array>& outputs) {
  std::map<std::string, int> counts;
  std::unordered_set<std::uintptr_t> prims;
  visit_graph(outputs, [&](const array& a) {
    if (a.has_primitive() && prims.insert(a.primitive_id()).second) counts[a.primitive().name()]++;
  });
  return counts;
}

}  // namespace lumen
