#include "backends/vulkan/kernels/reduce_common.h"

#include <limits>

#include "backends/vulkan/env.h"

namespace lumen::vulkan {

array scratch(KernelContext& k, int64_t n, Dtype dtype) {
  // Shapes hold int32 dims: past that, rows of 2^30.
  constexpr int64_t kRow = int64_t(1) << 30;
  Shape shape = n <= std::numeric_limits<int32_t>::max()
                    ? Shape{static_cast<int32_t>(n)}
                    : Shape{static_cast<int32_t>(ceil_div(n, kRow)), static_cast<int32_t>(kRow)};
  int64_t elements = 1;
  for (auto d : shape) elements *= d;
  auto bytes = static_cast<size_t>(elements) * dtype.size();
  return array(k.backend().memory().malloc_for_stream(bytes, k.stream().slot()), std::move(shape), dtype);
}

uint64_t upload_table(KernelContext& k, const std::vector<int64_t>& values) {
  if (values.empty()) return 0;
  return k.stream().upload(values.data(), values.size() * sizeof(int64_t));
}

const char* compute_class(Dtype d) {
  if (d == float16 || d == bfloat16 || d == float32) return "float";
  if (d == float64) return "double";
  if (d == complex64) return "complex";
  return "int";
}

bool subgroups_enabled(KernelContext& k) {
  if (env_is("LUMEN_VULKAN_SUBGROUPS", "0")) return false;
  return k.caps().subgroup_arithmetic;
}

std::string class_module(KernelContext& k, const char* kernel, Dtype d, bool has_subgroup_variant) {
  std::string cls = compute_class(d);
  std::string name = std::string(kernel) + "_" + cls;
  if (has_subgroup_variant && cls == "float" && subgroups_enabled(k)) name += "_subgroup";
  return name;
}

}  // namespace lumen::vulkan
