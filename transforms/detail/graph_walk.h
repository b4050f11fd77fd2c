// Iterative walks over the lazy graph (graphs of a million nodes must not
// overflow the stack), shared by the transforms.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "lumen/array.h"

namespace lumen::detail {

using IdSet = std::unordered_set<std::uintptr_t>;

// Marks an array and its siblings as seen.
inline void mark_seen(IdSet& seen, const array& a) {
  seen.insert(a.id());
  for (auto& s : a.siblings()) seen.insert(s.id());
}

// Calls visit(a) for every array reachable from `roots`, inputs before their
// users, each multi-output node once (through whichever output is reached
// first). Arrays already in `seen` are neither visited nor explored; when
// explore(a) is false, `a` is visited but its inputs are not walked.
template <typename Explore, typename Visit>
void walk_graph(const std::vector<array>& roots, IdSet& seen, Explore&& explore, Visit&& visit) {
  struct Frame {
    array a;
    size_t next;
    bool expand;
  };
  std::vector<Frame> stack;
  for (auto& root : roots) {
    if (seen.count(root.id())) continue;
    mark_seen(seen, root);
    stack.push_back(Frame{root, 0, explore(root)});
    while (!stack.empty()) {
      auto& top = stack.back();
      if (top.expand && top.next < top.a.inputs().size()) {
        array in = top.a.inputs()[top.next++];
        if (seen.count(in.id())) continue;
        mark_seen(seen, in);
        bool expand = explore(in);
        stack.push_back(Frame{std::move(in), 0, expand});
      } else {
        array a = std::move(top.a);
        stack.pop_back();
        visit(a);
      }
    }
  }
}

}  // namespace lumen::detail
