// Sub-1-bit weights: signs with a per-group scale, whose sign vectors are
// replaced by indices into a per-matrix codebook of sign patterns
// (docs/quantized.md has the format).
#pragma once

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen {

// A [N, K] matrix quantized along K: every run of `vector_size` signs is an
// `index_bits`-bit index into `codebook`; every `group_size` elements of a row
// share one float16 scale. vector_size 1 with index_bits 1 is the plain
// 1-bit format (the index is the sign bit). Both per-row arrays are K-tiled:
// tile t of every row side by side, then tile t + 1 (BinaryFormat in
// ops/quantized_primitives.h), so that a kernel reading a K-slice of many
// rows reads one run of memory.
struct BinaryWeights {
  // uint32 [tiles, N, 12]: each row's indices bit-packed from bit 0 of its
  // first word up (padded to whole tiles), cut into tiles of 12 words
  array indices;
  array codebook;  // uint32 [2^index_bits]: bit i set = element i of the pattern is +1
  // float16 [tiles, N, 4]: row n's scales of groups 4t to 4t + 3 (padded)
  array scales;
  Shape shape;     // {N, K}
  int group_size;
  int vector_size;
  int index_bits;

  // b / v: the index bits alone (0.75 for v = 8, b = 6).
  double index_bits_per_weight() const;
  // Everything stored (indices and scales with their padding, codebook) per weight.
  double total_bits_per_weight() const;
};

BinaryWeights binary_quantize(const array& w, int group_size = 128, int vector_size = 8,
                              int index_bits = 6, StreamOrDevice s = {});

// The float32 [N, K] matrix the weights stand for: scale times sign.
array binary_dequantize(const BinaryWeights& w, StreamOrDevice s = {});

// x @ W^T (transpose, x: [..., K]) or x @ W (x: [..., N]); result dtype = x's.
array binary_matmul(const array& x, const BinaryWeights& w, bool transpose = true,
                    StreamOrDevice s = {});

}  // namespace lumen
