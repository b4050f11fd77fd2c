// The general strided copy other kernels build on (reshape of a
// non-contiguous view, contiguous, concatenate, slice update, ...).
#pragma once

#include "backends/vulkan/kernels/launch.h"

namespace lumen::vulkan {

// Writes every element of `src` (any view) into the view `dst` (same shape
// and dtype; its own strides and offset say where each element goes).
void copy_strided(KernelContext& k, const array& src, const array& dst);

// Gives `out` a fresh row-contiguous buffer holding `src`'s elements.
void copy_contiguous(KernelContext& k, const array& src, array& out);

}  // namespace lumen::vulkan
