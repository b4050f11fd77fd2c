// Copies between strided layouts. Elements are moved as bytes (1, 2, 4 or 8
// per element), so one kernel serves every dtype. Multithreaded, 64-bit
// offsets, dense runs go through memcpy and broadcast runs through fill.
#pragma once

#include <array>

#include "backends/cpu/strided.h"
#include "lumen/array.h"

namespace lumen::cpu {

// A copy of a `shape`-shaped block between two strided layouts, planned once
// (dims merged) and run many times at different base pointers, serially.
class CopyPlan {
 public:
  CopyPlan(const Shape& shape, const Strides& src_strides, const Strides& dst_strides,
           size_t itemsize);
  int64_t size() const { return size_; }
  // Copies elements [begin, end) of the block (row-major positions).
  void run(const char* src, char* dst, int64_t begin, int64_t end) const;
  void run(const char* src, char* dst) const { run(src, dst, 0, size_); }
  const StridedLayout<2>& layout() const { return layout_; }

 private:
  StridedLayout<2> layout_;  // strides[0]: destination, strides[1]: source
  int64_t size_;
  size_t itemsize_;
};

// Copies a `shape`-shaped block: element i goes from src + src_strides . i to
// dst + dst_strides . i (strides in elements of `itemsize` bytes), in parallel.
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

// Gives `out` (same shape and element size as `in`) memory holding in's
// values that it may overwrite: in's own buffer when nothing else holds it
// and it is dense, else a row-contiguous copy.
void copy_or_donate(const array& in, array& out);

}  // namespace lumen::cpu
