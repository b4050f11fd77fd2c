// The run loop (see elementwise.h) of each elementwise primitive for given
// dtypes, or null where the op does not take them. The op kernels use them,
// and so does compile's fused kernel, which chains several per block of
// elements: fused and unfused results are the same bits.
#pragma once

#include "backends/cpu/elementwise.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::cpu {

RunKernel unary_run_kernel(UnaryOp op, Dtype t);
RunKernel binary_run_kernel(BinaryOp op, Dtype t);
RunKernel select_run_kernel(Dtype t);
RunKernel astype_run_kernel(Dtype from, Dtype to);

}  // namespace lumen::cpu
