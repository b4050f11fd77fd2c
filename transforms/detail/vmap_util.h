// Helpers of the vmap rules.
#pragma once

#include <vector>

#include "lumen/array.h"

namespace lumen::detail {

// Lines up the batch axes of elementwise operands (axes[i] = -1: not
// batched): pads ranks, moves every batch axis to one position, and
// broadcasts all operands to one shape. Returns the operands and that axis
// (-1 when none is batched, the operands then unchanged).
std::pair<std::vector<array>, int> vmap_align(const std::vector<array>& inputs,
                                              const std::vector<int>& axes, const Stream& s);

// `a` with its batch axis (-1: none, then one of `size` is broadcast in) moved
// to `to`.
array move_batch_axis(const array& a, int from, int to, int size, const Stream& s);

}  // namespace lumen::detail
