// Graph introspection for users' graph-level tests: print a graph, export DOT,
// count primitives by name, all over the unevaluated graph of some outputs.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <lumen/array.h>

namespace lumen {

void print_graph(std::ostream& os, const std::vector<array>& outputs);
void export_to_dot(std::ostream& os, const std::vector<array>& outputs);
std::map<std::string, int> primitive_counts(const std::vector<array>& outputs);

template <typename... Arrays, typename = std::enable_if_t<(std::is_same_v<std::decay_t<Arrays>, array> && ...)>>
void print_graph(std::ostream& os, Arrays&&... outputs) {
  print_graph(os, std::vector<array>{std::forward<Arrays>(outputs)...});
}
template <typename... Arrays, typename = std::enable_if_t<(std::is_same_v<std::decay_t<Arrays>, array> && ...)>>
void export_to_dot(std::ostream& os, Arrays&&... outputs) {
  export_to_dot(os, std::vector<array>{std::forward<Arrays>(outputs)...});
}

}  // namespace lumen
