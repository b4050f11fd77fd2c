// Primitives made by the transforms themselves: custom rules around a
// function (custom_function, custom_vjp, checkpoint), ordering (depends) and
// compile's fused elementwise kernels.
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
  LUMEN_DECLARE_RULES()
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
  LUMEN_DECLARE_RULES()
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  int num_forwarded_;
};

// A chain of elementwise primitives fused by compile into one kernel.
// Values are numbered inputs first, then one per step. Every value is
// computed at the output shape (inputs are read broadcast to it, all outputs
// have it), so Broadcast steps only relabel their input.
class Compiled : public Primitive {
 public:
  struct Step {
    std::shared_ptr<Primitive> primitive;  // one that can_fuse accepts
    std::vector<int> args;                 // value numbers
    Dtype dtype;
  };

  Compiled(Stream s, std::vector<Dtype> input_dtypes, std::vector<Step> steps,
           std::vector<int> outputs);

  // Unary, Binary, Select, AsType, Broadcast, and the generators.
  static bool can_fuse(const Primitive& p);
  // Steps computed from their position alone, reading their inputs whole
  // (RandomBits of 32-bit words, at the output's shape): the random chains
  // fuse without their bits ever being stored.
  static bool is_generator(const Primitive& p);
  // The most arrays one Compiled reads (kernels may size tables by it).
  static constexpr int max_inputs = 24;

  const std::vector<Dtype>& input_dtypes() const { return input_dtypes_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<int>& outputs() const { return outputs_; }  // value numbers
  // Whether input i is read element by element (else only by generators).
  bool reads_elementwise(int i) const { return elementwise_inputs_[i]; }

  const char* name() const override { return name_.c_str(); }
  void print(std::ostream& os) const override;
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  // The rules apply the fused primitives' own rules, one step at a time.
  LUMEN_DECLARE_RULES()

  // The unfused graph of the steps on `inputs`.
  std::vector<array> unfused(const std::vector<array>& inputs) const;

  // What the kernel of this primitive's device derives from the steps alone
  // (a generated shader), made on first use and kept here: calls of a
  // compiled function reuse its Compiled primitives, so they only evaluate.
  // (Kernels run one at a time: the scheduler's order.)
  std::shared_ptr<void>& kernel_cache() const { return kernel_cache_; }

 private:
  mutable std::shared_ptr<void> kernel_cache_;
  std::vector<Dtype> input_dtypes_;
  std::vector<Step> steps_;
  std::vector<int> outputs_;
  std::vector<bool> elementwise_inputs_;
  std::string name_;
};

}  // namespace lumen
