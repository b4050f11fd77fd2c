// Reading and writing the sub-1-bit layout (ops/quantized.h): b-bit indices
// packed from bit 0 of a row's first uint32 word upwards, rows' words and
// scales stored K-tiled, codebook patterns with bit i set for a +1 at element i.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lumen/dtype.h"
#include "lumen/quantized_primitives.h"

namespace lumen::cpu::binary {

// Index j of row `row` of the K-tiled indices (BinaryFormat::word_offset);
// one that straddles two words may straddle two tiles.
inline uint32_t read_index(const uint32_t* idx, const BinaryFormat& f, int64_t row, int64_t j) {
  const int64_t bit = j * f.index_bits;
  const int64_t word = bit >> 5;
  const int shift = static_cast<int>(bit & 31);
  uint64_t window = idx[f.word_offset(row, word)] >> shift;
  if (shift + f.index_bits > 32) window |= static_cast<uint64_t>(idx[f.word_offset(row, word + 1)]) << (32 - shift);
  return static_cast<uint32_t>(window & ((uint64_t(1) << f.index_bits) - 1));
}

inline void write_index(uint32_t* idx, const BinaryFormat& f, int64_t row, int64_t j, uint32_t value) {
  const int64_t bit = j * f.index_bits;
  const int64_t word = bit >> 5;
  const int shift = static_cast<int>(bit & 31);
  idx[f.word_offset(row, word)] |= value << shift;
  if (shift + f.index_bits > 32) idx[f.word_offset(row, word + 1)] |= value >> (32 - shift);
}

// The scale of group g of row `row` (K-tiled: BinaryFormat::scale_offset).
inline float scale_of(const float16_t* scales, const BinaryFormat& f, int64_t row, int64_t g) {
  return static_cast<float>(scales[f.scale_offset(row, g)]);
}

inline float sign_of(uint32_t pattern, int i) { return (pattern >> i) & 1u ? 1.0f : -1.0f; }

// The weights' group of each vector j, and where a vector that straddles two
// groups splits: elements [0, split) belong to group first, the rest to first + 1.
struct VectorGroups {
  std::vector<int64_t> first;
  std::vector<int> split;
  explicit VectorGroups(const BinaryFormat& f) {
    const int64_t vectors = f.vectors_per_row();
    first.resize(vectors);
    split.resize(vectors);
    for (int64_t j = 0; j < vectors; ++j) {
      const int64_t k = j * f.vector_size;
      first[j] = k / f.group_size;
      split[j] = static_cast<int>(std::min<int64_t>(f.vector_size, (first[j] + 1) * f.group_size - k));
    }
  }
};

// Rows of x (float32, float16 or bfloat16, row-contiguous) as float32.
std::vector<float> rows_as_float(const array& x);

// Writes float32 results into `out` (of x's dtype), rounding once.
void store_rows(const std::vector<float>& values, array& out);

}  // namespace lumen::cpu::binary
