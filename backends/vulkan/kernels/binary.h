// What the GPU kernels of the sub-1-bit weights share (shaders/binary_*.comp):
// the push constants of shaders/binary_format.glsl and the format constants.
#pragma once

#include <cstdint>

#include "backends/vulkan/kernels/launch.h"
#include "lumen/quantized_primitives.h"

namespace lumen::vulkan::binary {

// Push constants of shaders/binary_format.glsl.
struct Push {
  uint64_t x = 0;
  uint64_t indices = 0;
  uint64_t codebook = 0;
  uint64_t scales = 0;
  uint64_t out = 0;
  uint64_t partials = 0;
  uint64_t table = 0;
  uint32_t rows = 0;
  uint32_t cols = 0;
  uint32_t N = 0;
  uint32_t K = 0;
  uint32_t words = 0;
  uint32_t splits = 1;
  uint32_t split_len = 0;
  uint32_t chunks = 0;
  uint32_t x_stride = 0;
};

// The push constants of weights (indices, codebook, scales) in `f`'s layout.
Push weights_push(const BinaryFormat& f, const array& indices, const array& codebook, const array& scales);

// Specialization constants 8-10 (VECTOR, BITS, GROUP) of `f`, after `first`
// kernel-specific ones (index 0: the workgroup size, set by dispatch).
Constants format_constants(const BinaryFormat& f, Constants first);

// Records shaders/binary_dequantize.comp writing W [N, K] into `out`
// (allocated; float32, or float16 for the tensor-core route of BinaryMatmul).
void record_dequantize(KernelContext& k, const BinaryFormat& f, const array& indices, const array& codebook,
                       const array& scales, array& out);

}  // namespace lumen::vulkan::binary
