// The Compiled primitive's parameters and rules (its kernels live in the
// backends).
#include <numeric>

#include "lumen/creation.h"
#include "lumen/elementwise_primitives.h"
#include "lumen/random_primitives.h"
#include "lumen/shape.h"
#include "lumen/shape_primitives.h"
#include "lumen/transforms.h"
#include "lumen/transforms_primitives.h"

namespace lumen {

Compiled::Compiled(Stream s, std::vector<Dtype> input_dtypes, std::vector<Step> steps,
                   std::vector<int> outputs)
    : Primitive(s),
      input_dtypes_(std::move(input_dtypes)),
      steps_(std::move(steps)),
      outputs_(std::move(outputs)),
      elementwise_inputs_(input_dtypes_.size(), false),
      name_("Compiled") {
  // MLX's naming: the fused primitives' names in order.
  for (auto& st : steps_) {
    name_ += st.primitive->name();
    if (is_generator(*st.primitive)) continue;
    for (int a : st.args) {
      if (a < static_cast<int>(input_dtypes_.size())) elementwise_inputs_[a] = true;
    }
  }
}

bool Compiled::can_fuse(const Primitive& p) {
  return dynamic_cast<const Unary*>(&p) || dynamic_cast<const Binary*>(&p) ||
         dynamic_cast<const Select*>(&p) || dynamic_cast<const AsType*>(&p) ||
         dynamic_cast<const Broadcast*>(&p) || is_generator(p);
}

bool Compiled::is_generator(const Primitive& p) {
  auto* bits = dynamic_cast<const RandomBits*>(&p);
  return bits && bits->width() == 4;
}

void Compiled::print(std::ostream& os) const {
  os << "Compiled{";
  for (size_t i = 0; i < steps_.size(); ++i) os << (i ? " " : "") << *steps_[i].primitive;
  os << "}";
}

bool Compiled::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Compiled*>(&other);
  if (!o || o->input_dtypes_ != input_dtypes_ || o->outputs_ != outputs_ ||
      o->steps_.size() != steps_.size()) {
    return false;
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    auto& a = steps_[i];
    auto& b = o->steps_[i];
    if (a.args != b.args || a.dtype != b.dtype || typeid(*a.primitive) != typeid(*b.primitive) ||
        !a.primitive->is_equivalent(*b.primitive)) {
      return false;
    }
  }
  return true;
}

std::vector<Shape> Compiled::output_shapes(const std::vector<array>& inputs) {
  Shape shape;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (elementwise_inputs_[i]) shape = broadcast_shapes(shape, inputs[i].shape(), "Compiled");
  }
  // Generators have the output's shape.
  for (auto& st : steps_) {
    if (is_generator(*st.primitive)) shape = static_cast<const RandomBits&>(*st.primitive).shape();
  }
  return std::vector<Shape>(outputs_.size(), shape);
}

std::vector<array> Compiled::unfused(const std::vector<array>& inputs) const {
  std::vector<array> values = inputs;
  for (auto& st : steps_) {
    std::vector<array> args;
    for (int a : st.args) args.push_back(values[a]);
    auto shape = st.primitive->output_shapes(args)[0];
    values.emplace_back(std::move(shape), st.dtype, st.primitive, std::move(args));
  }
  std::vector<array> outs;
  for (int o : outputs_) outs.push_back(values[o]);
  return outs;
}

std::vector<array> Compiled::vjp(const std::vector<array>& primals,
                                 const std::vector<array>& cotangents,
                                 const std::vector<int>& argnums, const std::vector<array>&) {
  auto fun = [this](const std::vector<array>& xs) { return unfused(xs); };
  return detail::vjp(fun, primals, cotangents, argnums).second;
}

std::vector<array> Compiled::jvp(const std::vector<array>& primals,
                                 const std::vector<array>& tangents,
                                 const std::vector<int>& argnums) {
  std::vector<array> all;
  for (size_t i = 0, j = 0; i < primals.size(); ++i) {
    bool given = j < argnums.size() && argnums[j] == static_cast<int>(i);
    all.push_back(given ? tangents[j++] : zeros_like(primals[i], stream()));
  }
  auto fun = [this](const std::vector<array>& xs) { return unfused(xs); };
  return lumen::jvp(fun, primals, all).second;
}

std::pair<std::vector<array>, std::vector<int>> Compiled::vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes) {
  std::vector<int> out_axes(outputs_.size(), 0);
  auto fun = [this](const std::vector<array>& xs) { return unfused(xs); };
  return {lumen::vmap(fun, axes, out_axes)(inputs), out_axes};
}

}  // namespace lumen
