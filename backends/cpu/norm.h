// Helpers shared by the row-wise CPU kernels (norms, rope) and the batched
// matmul: where the r-th row (or matrix) of a strided view starts, and the
// dispatch over real floating dtypes.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "lumen/array.h"

namespace lumen::cpu {

// Offsets, in elements, of the items of a row-major walk over `shape`
// through `strides` (the leading dims of some view; broadcast dims have
// stride 0).
class StridedWalk {
 public:
  StridedWalk(Shape shape, Strides strides) : shape_(std::move(shape)), strides_(std::move(strides)) {}
  // The leading ndim - trailing dims of x.
  StridedWalk(const array& x, size_t trailing)
      : shape_(x.shape().begin(), x.shape().end() - trailing),
        strides_(x.strides().begin(), x.strides().end() - trailing) {}

  int64_t offset(int64_t index) const {
    int64_t off = 0;
    for (int d = static_cast<int>(shape_.size()) - 1; d >= 0; --d) {
      off += (index % shape_[d]) * strides_[d];
      index /= shape_[d];
    }
    return off;
  }

 private:
  Shape shape_;
  Strides strides_;
};

// Calls f(T{}) for the real floating dtypes (what the norms and rope accept).
template <typename F>
void dispatch_floating(const char* op, Dtype d, F&& f) {
  switch (d) {
    case float16: return f(float16_t{});
    case bfloat16: return f(bfloat16_t{});
    case float32: return f(float{});
    case float64: return f(double{});
    default: detail::throw_invalid("[{}] no CPU kernel for dtype {}", op, dtype_to_string(d));
  }
}

}  // namespace lumen::cpu
