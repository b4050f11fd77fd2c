// Evaluation: eval blocks until the outputs exist; async_eval schedules them
// and returns at once. Graphs are ordered iteratively, intermediates are freed
// after their last consumer ran.
#pragma once

#include <utility>
#include <vector>

#include <lumen/array.h>

namespace lumen {

void eval(std::vector<array> outputs);
void async_eval(std::vector<array> outputs);

template <typename... Arrays, typename = std::enable_if_t<(std::is_same_v<std::decay_t<Arrays>, array> && ...)>>
void eval(Arrays&&... outputs) {
  eval(std::vector<array>{std::forward<Arrays>(outputs)...});
}

template <typename... Arrays, typename = std::enable_if_t<(std::is_same_v<std::decay_t<Arrays>, array> && ...)>>
void async_eval(Arrays&&... outputs) {
  async_eval(std::vector<array>{std::forward<Arrays>(outputs)...});
}

}  // namespace lumen
