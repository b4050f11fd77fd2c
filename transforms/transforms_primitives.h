// Primitives made by the transforms themselves: custom rules around a
// function (custom_function, custom_vjp, checkpoint) and ordering (depends).
#pragma once

#include <lumen/primitive.h>
#include <lumen/transforms.h>

namespace lumen {

// Outputs are the function's outputs, which are also its last `num_outputs`
// inputs (the first inputs are the function's arguments); its rules are the
// user's.
class CustomTransforms : public Primitive {
 public:
  CustomTransforms(Stream s, int num_outputs, CustomVjpFn vjp, CustomJvpFn jvp, CustomVmapFn vmap)
      : Primitive(s),
        num_outputs_(num_outputs),
        vjp_fun_(std::move(vjp)),
        jvp_fun_(std::move(jvp)),
        vmap_fun_(std::move(vmap)) {}
  const char* name() const override { return "CustomTransforms"; }
  int num_outputs() const { return num_outputs_; }
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;
  std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,
                                                       const std::vector<int>& axes) override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  int num_outputs_;
  CustomVjpFn vjp_fun_;
  CustomJvpFn jvp_fun_;
  CustomVmapFn vmap_fun_;
};

// Outputs are views of the first inputs, available only once the remaining
// inputs (the dependencies) are computed.
class Depends : public Primitive {
 public:
  Depends(Stream s, int num_forwarded) : Primitive(s), num_forwarded_(num_forwarded) {}
  const char* name() const override { return "Depends"; }
  int num_forwarded() const { return num_forwarded_; }
  bool is_equivalent(const Primitive& other) const override {
    auto* o = dynamic_cast<const Depends*>(&other);
    return o && o->num_forwarded_ == num_forwarded_;
  }
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;
  std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,
                                                       const std::vector<int>& axes) override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  int num_forwarded_;
};

}  // namespace lumen
