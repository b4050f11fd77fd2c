// What the reduction, scan and sort kernels share: scratch buffers for
// intermediate passes, tables of dims for the shaders, and the choice of a
// shader module by compute class.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/reduce_layout.h"
#include "backends/vulkan/kernels/launch.h"
#include "backends/vulkan/shaders/reduce_ids.h"

namespace lumen::vulkan {

static_assert(KernelContext::kWorkgroupSize == REDUCE_WG, "shaders size shared arrays by REDUCE_WG");

// A fresh buffer for n elements of `dtype` that only kernels read and write
// (intermediate passes); released when the returned array dies.
array scratch(KernelContext& k, int64_t n, Dtype dtype);

// The device address of a copy of `values` (int64 tables of dims).
uint64_t upload_table(KernelContext& k, const std::vector<int64_t>& values);

// The line fields of a push block over the lines of `in` along `axis`
// (scan.comp, sort.comp: the same names): addresses, line count and length,
// the axis's stride, the elements after it, and the table of the kept dims.
template <class Push>
void set_lines(Push& push, KernelContext& k, const array& in, const array& out, int axis,
               const cpu::ReduceLayout& l) {
  push.in_addr = address_of(in);
  push.out_addr = address_of(out);
  push.lines = static_cast<uint64_t>(l.n_out);
  push.n = static_cast<uint64_t>(in.shape(axis));
  push.in_stride = in.strides(axis);
  push.inner = 1;
  for (size_t d = axis + 1; d < in.ndim(); ++d) push.inner *= static_cast<uint64_t>(in.shape(d));
  std::vector<int64_t> table(l.kshape.begin(), l.kshape.end());
  table.insert(table.end(), l.kstride.begin(), l.kstride.end());
  push.table = upload_table(k, table);
  push.kd = static_cast<uint32_t>(l.kshape.size());
}

// How a dtype computes in the accumulating shaders: "int" (integers, bool),
// "float" (float16, bfloat16, float32), "double" or "complex".
const char* compute_class(Dtype d);

// Whether kernels may pick their subgroup variants: the device has subgroup
// arithmetic and LUMEN_VULKAN_SUBGROUPS is not 0 (which forces the
// shared-memory fallbacks, e.g. to test them).
bool subgroups_enabled(KernelContext& k);

// "<kernel>_<class>", plus "_subgroup" for the float class where the kernel
// has such a variant and subgroups are enabled.
std::string class_module(KernelContext& k, const char* kernel, Dtype d, bool has_subgroup_variant);

// Rounds up a / b.
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace lumen::vulkan
