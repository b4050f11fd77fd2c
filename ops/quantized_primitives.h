// Primitives of the sub-1-bit weights (ops/quantized.h).
#pragma once

#include <cstdint>

#include <lumen/primitive.h>

namespace lumen {

// The layout parameters of one quantized [N, K] matrix.
struct BinaryFormat {
  int32_t n;
  int32_t k;
  int group_size;
  int vector_size;
  int index_bits;

  int64_t vectors_per_row() const { return k / vector_size; }
  int64_t words_per_row() const { return (vectors_per_row() * index_bits + 31) / 32; }
  int64_t groups_per_row() const { return k / group_size; }
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
