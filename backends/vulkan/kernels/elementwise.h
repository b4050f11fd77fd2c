// How the elementwise kernels split their work into shader modules, shared
// with compile's fused kernels (backends/vulkan/codegen/), which must use
// the same per-element code: a dtype computes in one class (shaders/
// dtype.glsl's CLASS_*), and the transcendental ops are built one per
// module (MATH_OP) on the classes that have them.
#pragma once

#include <cstdint>

#include "lumen/array.h"
#include "lumen/dtype.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::vulkan {

// Numbered as shaders/dtype.glsl's CLASS_INT, CLASS_FLOAT, CLASS_DOUBLE,
// CLASS_COMPLEX.
enum ClassId : uint32_t { CLASS_ID_INT = 0, CLASS_ID_FLOAT = 1, CLASS_ID_DOUBLE = 2, CLASS_ID_COMPLEX = 3 };

uint32_t class_id(Dtype d);
bool is_math_op(UnaryOp op, Dtype d);
bool is_math_op(BinaryOp op, Dtype d);

// Whether `a` is laid out row-major (dims of extent 1 aside), at any offset.
bool is_row_major(const array& a);

}  // namespace lumen::vulkan
