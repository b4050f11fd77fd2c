// Random primitives. RandomBits is MLX's: threefry-2x32 bits for one or more
// keys. RandomUniform and RandomNormal are lumen's fused forms of MLX's
// uniform and normal chains: key to output dtype in registers, one write per
// element, bit-identical to the chains they replace. They have no vjp/jvp/vmap
// rules: the ops build them only outside tracing (detail::in_tracing()), and
// only where the stream's backend registered a kernel for them.
#pragma once

#include <cstdint>
#include <optional>

#include <lumen/primitive.h>

namespace lumen {

// Input: keys of shape (N1, ..., NK, 2), uint32, any strides. Output: shape()
// (N1, ..., NK, M1, ...) of uint8/uint16/uint32 for width 1/2/4; each key
// fills its (M1, ...) block with its own stream. A window makes the block hold
// elements [offset, offset + block size) of a longer per-key stream of
// `stream_size` elements: the chunked random path uses it so that pieces
// concatenate to exactly the bits of the whole request.
class RandomBits : public UnaryPrimitive {
 public:
  struct Window {
    int64_t stream_size;
    int64_t offset;
    bool operator==(const Window&) const = default;
  };
  RandomBits(Stream s, Shape shape, int width, std::optional<Window> window = std::nullopt)
      : UnaryPrimitive(s), shape_(std::move(shape)), width_(width), window_(window) {}
  const Shape& shape() const { return shape_; }
  int width() const { return width_; }
  const std::optional<Window>& window() const { return window_; }
  const char* name() const override { return "RandomBits"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  Shape shape_;
  int width_;
  std::optional<Window> window_;
};

// MLX's uniform(low, high, shape, dtype, key) for scalar bounds, fused:
// bits -> float32 / float32(2^32 - 1) -> min(upper) -> dtype -> * range -> + low,
// rounding to dtype after each of the last three steps as the chain does.
// Inputs: key (2,) uint32; low and range = high - low, each one element of
// the output dtype (float32, float16 or bfloat16).
class RandomUniform : public UnaryPrimitive {
 public:
  RandomUniform(Stream s, Shape shape, Dtype dtype)
      : UnaryPrimitive(s), shape_(std::move(shape)), dtype_(dtype) {}
  const Shape& shape() const { return shape_; }
  Dtype dtype() const { return dtype_; }
  const char* name() const override { return "RandomUniform"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  Shape shape_;
  Dtype dtype_;
};

// MLX's normal(shape, dtype, loc, scale, key) for scalar loc and scale, fused:
// uniform float32 on [nextafter(-1, 0), 1) -> erfinv -> dtype -> * scale
// [-> + loc], rounding to dtype after each step. Inputs: key (2,) uint32;
// scale (already sqrt(2) * scale in dtype, one element) and optionally loc
// (one element of dtype): a missing loc adds nothing, as in MLX.
class RandomNormal : public UnaryPrimitive {
 public:
  RandomNormal(Stream s, Shape shape, Dtype dtype)
      : UnaryPrimitive(s), shape_(std::move(shape)), dtype_(dtype) {}
  const Shape& shape() const { return shape_; }
  Dtype dtype() const { return dtype_; }
  const char* name() const override { return "RandomNormal"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  Shape shape_;
  Dtype dtype_;
};

}  // namespace lumen
