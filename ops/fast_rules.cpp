// Rules of the fast primitives: through the plain composition each keeps as
// its fallback (as MLX's fast::Custom), except RoPE's vjp, which is the
// inverse rotation on the primitive itself.
#include "lumen/creation.h"
#include "lumen/fast_primitives.h"
#include "lumen/transforms.h"

namespace lumen::fast {

namespace {

ArraysFn as_function(const Fallback& f) {
  return [f](const std::vector<array>& xs) { return f(xs); };
}

}  // namespace

std::vector<array> Custom::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  return lumen::detail::vjp(as_function(fallback_), primals, cotangents, argnums).second;
}

std::vector<array> Custom::jvp(const std::vector<array>& primals,
                               const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  std::vector<array> all;
  for (size_t i = 0, j = 0; i < primals.size(); ++i) {
    bool given = j < argnums.size() && argnums[j] == static_cast<int>(i);
    all.push_back(given ? tangents[j++] : zeros_like(primals[i], stream()));
  }
  return lumen::jvp(as_function(fallback_), primals, all).second;
}

std::pair<std::vector<array>, std::vector<int>> Custom::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  auto outs = lumen::vmap(as_function(fallback_), axes)(inputs);
  return {outs, std::vector<int>(outs.size(), 0)};
}

std::vector<array> RoPE::vjp(const std::vector<array>& primals,
                             const std::vector<array>& cotangents,
                             const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> vjps;
  for (int arg : argnums) {
    if (arg == 0) {
      // A rotation's transpose is the opposite rotation.
      std::vector<array> inputs = primals;
      inputs[0] = cotangents[0];
      vjps.push_back(rope_primitive(inputs, dims_, traditional_, base_, scale_, !forward_, stream()));
    } else {
      vjps.push_back(zeros_like(primals[arg], stream()));  // offset, frequencies
    }
  }
  return vjps;
}

}  // namespace lumen::fast
