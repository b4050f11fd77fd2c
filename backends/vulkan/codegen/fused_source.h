// compile's fused kernels on the GPU: the GLSL compute shader of a Compiled
// primitive. Every step is the per-element code of its unfused kernel
// (shaders/element_ops.glsl, astype.glsl, threefry.glsl), applied to element
// bits held in registers, so fused results equal unfused ones bit for bit.
#pragma once

#include <string>
#include <vector>

#include "lumen/transforms_primitives.h"

namespace lumen::vulkan::codegen {

struct FusedSource {
  std::string glsl;  // includes embedded headers by name (glsl_compiler.h expands them)
  // Per input: its slot among the inputs read element by element (their
  // modes are specialization constants 2 + slot), or -1 when only
  // generators read it.
  std::vector<int> slots;
  // Per generator (RandomBits step) in step order: the input holding its keys.
  std::vector<int> generator_keys;
};

// The shader of `c` for a device with (f64) or without shaderFloat64. The
// parameter table's layout is shaders/fused.glsl's.
FusedSource fused_source(const Compiled& c, bool f64);

}  // namespace lumen::vulkan::codegen
