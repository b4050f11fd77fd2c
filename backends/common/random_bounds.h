// Constants of MLX's uniform chain that the fused random kernels of every
// backend fold in, computed once here so that each gives its plain chain's
// bits.
#pragma once

#include <cmath>
#include <stdexcept>

#include "lumen/dtype.h"

namespace lumen::backends {

// The largest value below 1 of `dtype`, as float32: MLX's clip bound for
// uniform samples (float32, float16 and bfloat16).
inline float below_one(Dtype dtype) {
  switch (dtype.val()) {
    case Dtype::Val::float32: return std::nextafter(1.0f, 0.0f);
    case Dtype::Val::float16:
      return static_cast<float>(float16_t::from_bits(static_cast<uint16_t>(float16_t(1.0f).bits - 1)));
    case Dtype::Val::bfloat16:
      return static_cast<float>(bfloat16_t::from_bits(static_cast<uint16_t>(bfloat16_t(1.0f).bits - 1)));
    default: throw std::invalid_argument("[random] fused kernels take float32, float16 or bfloat16");
  }
}

// MLX's normal draws float32 uniforms on [nextafter(-1, 0), 1): the chain's
// low bound and its range high - low, rounded to float32 as the chain's
// Subtract does.
struct NormalUniform {
  float low;
  float range;
};

inline NormalUniform normal_uniform() {
  const float low = std::nextafter(-1.0f, 0.0f);
  return {low, 1.0f - low};
}

}  // namespace lumen::backends
