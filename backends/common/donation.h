// Buffer donation, shared by every backend's elementwise kernels: an output
// may take the buffer of an input that is about to die.
#pragma once

#include "lumen/array.h"

namespace lumen::backends {

// Whether an elementwise `out` may take `in`'s buffer: nobody else holds
// `in`, and it is a dense row-major array of the same element size and count.
inline bool can_donate(const array& in, const array& out) {
  return in.itemsize() == out.itemsize() && in.is_donatable() && in.flags().row_contiguous &&
         in.data_size() == in.size() && in.size() == out.size() && in.offset() == 0;
}

}  // namespace lumen::backends
