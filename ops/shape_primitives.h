// Shape and view primitives.
#pragma once

#include <lumen/primitive.h>

namespace lumen {

// A view with zero strides on the broadcast dimensions (no copy).
class Broadcast : public UnaryPrimitive {
 public:
  Broadcast(Stream s, Shape shape) : UnaryPrimitive(s), shape_(std::move(shape)) {}
  const Shape& shape() const { return shape_; }
  const char* name() const override { return "Broadcast"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;

 private:
  Shape shape_;
};

}  // namespace lumen
