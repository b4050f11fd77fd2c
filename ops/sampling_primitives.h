// The fused sampling primitive. GumbelSample has no vjp/jvp/vmap rules: the
// sample op builds it only outside tracing (detail::in_tracing()) and where
// the stream's backend registered a kernel for it.
#pragma once

#include <lumen/primitive.h>

namespace lumen {

// Inputs: logits [B, V] (float32, float16 or bfloat16, any strides);
// temperature [B] float32; key (2,) uint32; and, when `filtered`, top_k [B]
// int32 and top_p [B] float32 (views with stride 0 allowed). Output: [B]
// int32, exactly the ids of sample's plain composition for the same key. The
// kernels check the runtime values (temperature >= 0, top_k >= 0,
// 0 < top_p <= 1) and throw std::invalid_argument from eval.
// `no_top_k`: every row's top_k was known to be 0 (off) when the op was
// built, a hint for kernels (the GPU's threshold chunks); the ids do not
// depend on it.
class GumbelSample : public UnaryPrimitive {
 public:
  GumbelSample(Stream s, bool filtered, bool no_top_k)
      : UnaryPrimitive(s), filtered_(filtered), no_top_k_(no_top_k) {}
  bool filtered() const { return filtered_; }
  bool no_top_k() const { return no_top_k_; }
  const char* name() const override { return "GumbelSample"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

 private:
  bool filtered_;
  bool no_top_k_;
};

}  // namespace lumen
