// Copies between strided layouts. Elements are moved as bytes (1, 2, 4 or 8
// per element), so one kernel serves every dtype. Multithreaded, 64-bit
// offsets, dense runs go through memcpy and broadcast runs through fill.
#pragma once

#include "lumen/array.h"

namespace lumen::cpu {

// Copies a `shape`-shaped block: element i goes from src + src_strides . i to
// dst + dst_strides . i (strides in elements of `itemsize` bytes).
void copy_strided(const void* src, const Strides& src_strides, void* dst, const Strides& dst_strides,
                  const Shape& shape, size_t itemsize);

// Gives `out` fresh row-contiguous memory holding the values of `in` (any
// strided view with as many elements of the same size) in row-major order:
// `out` may have another shape (a reshape).
void copy_to_row_contiguous(const array& in, array& out);

// Writes the values of `in` into `out`, whose memory exists already (any
// strided layout of in's shape and element size, e.g. a window of a bigger
// output).
void copy_into(const array& in, array& out);

}  // namespace lumen::cpu
