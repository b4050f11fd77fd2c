// Primitive: an op's static parameters and its math rules (shapes, vjp, jvp,
// vmap, equivalence). It does not know how to run: backends register kernels.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <lumen/array.h>
#include <lumen/stream.h>

// Declarations of a primitive's rule overrides inside its class (the
// definitions live in the family's *_rules.cpp): vjp and jvp, vmap, or all three.
#define LUMEN_DECLARE_GRADS()                                                             \
  std::vector<::lumen::array> vjp(const std::vector<::lumen::array>& primals,              \
                                  const std::vector<::lumen::array>& cotangents,           \
                                  const std::vector<int>& argnums,                         \
                                  const std::vector<::lumen::array>& outputs) override;    \
  std::vector<::lumen::array> jvp(const std::vector<::lumen::array>& primals,              \
                                  const std::vector<::lumen::array>& tangents,             \
                                  const std::vector<int>& argnums) override;
#define LUMEN_DECLARE_VMAP()                                                              \
  std::pair<std::vector<::lumen::array>, std::vector<int>> vmap(                           \
      const std::vector<::lumen::array>& inputs, const std::vector<int>& axes) override;
#define LUMEN_DECLARE_RULES() \
  LUMEN_DECLARE_GRADS()       \
  LUMEN_DECLARE_VMAP()

namespace lumen {

class Primitive {
 public:
  explicit Primitive(Stream stream) : stream_(stream) {}
  virtual ~Primitive() = default;
  Primitive(const Primitive&) = delete;
  Primitive& operator=(const Primitive&) = delete;

  const Stream& stream() const { return stream_; }
  Device device() const { return stream_.device; }

  // The printable name; primitive_counts keys by it.
  virtual const char* name() const = 0;
  virtual void print(std::ostream& os) const { os << name(); }

  // Cotangents of the inputs at `argnums` given output cotangents.
  virtual std::vector<array> vjp(const std::vector<array>& primals,
                                 const std::vector<array>& cotangents,
                                 const std::vector<int>& argnums,
                                 const std::vector<array>& outputs);
  // Output tangents given tangents of the inputs at `argnums`.
  virtual std::vector<array> jvp(const std::vector<array>& primals,
                                 const std::vector<array>& tangents,
                                 const std::vector<int>& argnums);
  // Outputs and their batch axes given inputs batched along `axes` (-1: not batched).
  virtual std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes);

  // Same parameters and type (for common-subexpression elimination).
  virtual bool is_equivalent(const Primitive& other) const { (void)other; return false; }

  // Output shapes for given inputs (used by shapeless compile).
  virtual std::vector<Shape> output_shapes(const std::vector<array>& inputs);

  // Elementwise primitives can be fused by compile.
  virtual bool is_elementwise() const { return false; }

 private:
  Stream stream_;
};

// A primitive with one output whose parameters are all in its type.
class UnaryPrimitive : public Primitive {
 public:
  using Primitive::Primitive;
};

std::ostream& operator<<(std::ostream& os, const Primitive& p);

}  // namespace lumen
