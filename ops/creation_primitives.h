// Primitives of the creation ops.
#pragma once

#include <lumen/primitive.h>

namespace lumen {

// start, start + step, ... (the op computed the length). As MLX's CPU kernel,
// the first value is start converted to the output dtype, and each next one
// adds the step taken between the converted start and start + step.
class Arange : public UnaryPrimitive {
 public:
  Arange(Stream s, double start, double stop, double step)
      : UnaryPrimitive(s), start_(start), stop_(stop), step_(step) {}
  double start() const { return start_; }
  double stop() const { return stop_; }
  double step() const { return step_; }
  const char* name() const override { return "Arange"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  double start_;
  double stop_;
  double step_;
};

// A dense row-major copy of its (usually broadcast) input of the same shape
// and dtype.
class Full : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  const char* name() const override { return "Full"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()
};

}  // namespace lumen
