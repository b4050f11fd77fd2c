// Machinery of the CPU gather/scatter kernels: element offsets of strided
// arrays and of index arrays, produced in batches, and typed element moves.
#pragma once

#include <vector>

#include "backends/cpu/strided.h"
#include "lumen/indexing_primitives.h"

namespace lumen::cpu {

// Positions handled per batch of offsets.
inline constexpr int64_t kOffsetBatch = 2048;

// Element offsets of a strided layout at consecutive row-major positions of
// a shape.
class OffsetWalker {
 public:
  OffsetWalker(const Shape& shape, const Strides& strides) : layout_(collapse<1>(shape, {&strides})) {}
  // out[j] = offset of position begin + j, for positions [begin, end).
  void fill(int64_t begin, int64_t end, int64_t* out) const;

 private:
  StridedLayout<1> layout_;
};

// Index arrays (one integer dtype) walked through `walk_strides` over
// `shape`, read as element offsets into a target:
//   out[j] = sum_k wrap(index_k at position begin + j, sizes[k]) * strides[k].
// wrap adds sizes[k] (the axis size) to a negative index; an index outside
// [0, sizes[k] - spans[k]] then throws std::out_of_range naming `op` (spans:
// the extent read or written from the index on, 1 for single elements).
class IndexOffsets {
 public:
  IndexOffsets(const std::vector<array>& indices, const std::vector<Strides>& walk_strides,
               const Shape& shape, std::vector<int64_t> sizes, std::vector<int64_t> strides,
               const char* op, std::vector<int64_t> spans = {});
  void fill(int64_t begin, int64_t end, int64_t* out) const;

 private:
  std::vector<const char*> data_;
  std::vector<StridedLayout<1>> layouts_;
  std::vector<int64_t> sizes_, strides_, limits_;
  Dtype dtype_ = int32;
  const char* op_;
};

// dst[dst_offs[j]] = src[src_offs[j]] for j < n, elements of `itemsize`
// bytes; a null dst_offs means dst[j].
void move_elements(size_t itemsize, char* dst, const int64_t* dst_offs, const char* src,
                   const int64_t* src_offs, int64_t n);

// dst[dst_offs[j]] = combine(dst[dst_offs[j]], src[src_offs[j]]) in order of
// j (None: assignment). float16/bfloat16 combine in float32.
void combine_elements(ScatterReduce mode, Dtype dtype, char* dst, const int64_t* dst_offs,
                      const char* src, const int64_t* src_offs, int64_t n);

// Element k of a 0-d or 1-d integer array (any strides), as int64.
int64_t read_index(const array& a, int64_t k);

}  // namespace lumen::cpu
