// Reading threefry keys from a (..., 2) uint32 array, shared by the random
// kernels and compile's fused kernel.
#pragma once

#include <cstdint>

#include "backends/cpu/random_threefry.h"
#include "lumen/array.h"

namespace lumen::cpu {

// Key i of a (..., 2) uint32 array read through its strides.
inline threefry::Key key_at(const array& keys, int64_t i) {
  auto loc = [&keys](int64_t e) {
    int64_t off = 0;
    for (int d = static_cast<int>(keys.ndim()) - 1; d >= 0; --d) {
      off += (e % keys.shape(d)) * keys.strides(d);
      e /= keys.shape(d);
    }
    return off;
  };
  const uint32_t* p = keys.data<uint32_t>();
  return {p[loc(2 * i)], p[loc(2 * i + 1)]};
}

}  // namespace lumen::cpu
