// Descriptor-only kernels and buffer donation, shared by every backend: a
// view re-describes its input's buffer (shape, strides, offset) wherever
// that buffer lives.
#pragma once

#include "lumen/array.h"

namespace lumen::backends {

// Broadcast: stride 0 along the broadcast dimensions.
inline void broadcast_view(const array& in, array& out) {
  Strides strides(out.ndim(), 0);
  int diff = static_cast<int>(out.ndim() - in.ndim());
  for (int i = static_cast<int>(in.ndim()) - 1; i >= 0; --i) {
    strides[i + diff] = in.shape(i) == 1 ? 0 : in.strides(i);
  }
  auto flags = in.flags();
  if (out.size() > in.size()) {
    flags.row_contiguous = false;
    flags.col_contiguous = false;
    flags.contiguous = false;
  }
  out.copy_shared_buffer(in, strides, flags, in.data_size());
}

// Whether an elementwise `out` may take `in`'s buffer: nobody else holds
// `in`, and it is a dense row-major array of the same element size and count.
inline bool can_donate(const array& in, const array& out) {
  return in.itemsize() == out.itemsize() && in.is_donatable() && in.flags().row_contiguous &&
         in.data_size() == in.size() && in.size() == out.size() && in.offset() == 0;
}

}  // namespace lumen::backends
