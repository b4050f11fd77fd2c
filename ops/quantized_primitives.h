// Primitives of the sub-1-bit weights (ops/quantized.h).
#pragma once

#include <cstdint>

#include <lumen/primitive.h>

namespace lumen {

// The layout parameters of one quantized [N, K] matrix.
//
// The packed arrays are stored K-tiled (docs/quantized.md): a row's index
// words (its indices bit-packed from bit 0 of word 0 up, padded to whole
// tiles) are cut into tiles of kTileWords words, and tile t of every row is
// stored side by side, row after row, before tile t + 1: indices
// [index_tiles, N, kTileWords]. Scales likewise in tiles of kScaleTile
// groups: [scale_tiles, N, kScaleTile]. A kernel reading one K-slice of many
// rows then reads one run of memory (stored row after row, each row's piece
// of the slice would be a run of its own); the shaders' binary_format.glsl
// holds the same constants.
struct BinaryFormat {
  static constexpr int64_t kTileWords = 12;  // 48 bytes: 512 weights of 6-bit indices of 8
  static constexpr int64_t kScaleTile = 4;   // 8 bytes: 512 weights of 128-element groups

  int32_t n;
  int32_t k;
  int group_size;
  int vector_size;
  int index_bits;

  int64_t vectors_per_row() const { return k / vector_size; }
  int64_t groups_per_row() const { return k / group_size; }
  // The words holding a row's indices (its tiles' padding not included).
  int64_t words_per_row() const { return (vectors_per_row() * index_bits + 31) / 32; }
  int64_t index_tiles() const { return (words_per_row() + kTileWords - 1) / kTileWords; }
  int64_t scale_tiles() const { return (groups_per_row() + kScaleTile - 1) / kScaleTile; }
  // Where word w of a row's indices, and the scale of its group g, are in
  // their arrays (in elements).
  int64_t word_offset(int64_t row, int64_t w) const {
    return (w / kTileWords * n + row) * kTileWords + w % kTileWords;
  }
  int64_t scale_offset(int64_t row, int64_t g) const {
    return (g / kScaleTile * n + row) * kScaleTile + g % kScaleTile;
  }
  int64_t codebook_size() const { return int64_t(1) << index_bits; }
  bool operator==(const BinaryFormat&) const = default;
};

// w [N, K] (real float) -> indices, codebook, scales.
class BinaryQuantize : public Primitive {
 public:
  BinaryQuantize(Stream s, BinaryFormat format) : Primitive(s), format_(format) {}
  const BinaryFormat& format() const { return format_; }
  const char* name() const override { return "BinaryQuantize"; }
  bool is_equivalent(const Primitive& other) const override;

 private:
  BinaryFormat format_;
};

// indices, codebook, scales -> float32 [N, K].
class BinaryDequantize : public UnaryPrimitive {
 public:
  BinaryDequantize(Stream s, BinaryFormat format) : UnaryPrimitive(s), format_(format) {}
  const BinaryFormat& format() const { return format_; }
  const char* name() const override { return "BinaryDequantize"; }
  bool is_equivalent(const Primitive& other) const override;

 private:
  BinaryFormat format_;
};

// x, indices, codebook, scales -> x @ W^T (transpose) or x @ W.
class BinaryMatmul : public UnaryPrimitive {
 public:
  BinaryMatmul(Stream s, BinaryFormat format, bool transpose)
      : UnaryPrimitive(s), format_(format), transpose_(transpose) {}
  const BinaryFormat& format() const { return format_; }
  bool transpose() const { return transpose_; }
  const char* name() const override { return "BinaryMatmul"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  BinaryFormat format_;
  bool transpose_;
};

}  // namespace lumen
