// The tensor-core path of Matmul/AddMM: shaders/matmul_coopmat.comp through
// VK_NV_cooperative_matrix, float16 x float16 -> float32, at the fragment
// shape the device reports. float16 goes straight in. bfloat16 goes in as
// float16 times a power of two per row of A and column of B, chosen by two
// small passes (matmul_exponents.comp, matmul_scales.comp) so that every
// element converts exactly; output tiles touching a line with no such power
// are computed by the portable kernel instead (gated on the same table).
// LUMEN_VULKAN_NO_COOPMAT=1 turns the path off.
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "backends/vulkan/kernels/matmul.h"
#include "backends/vulkan/shaders/ids.h"
#include "core/detail/log.h"

namespace lumen::vulkan {

namespace {

struct FragmentShape {
  uint32_t m, n, k;
};

// Output tile of a workgroup (shaders/matmul_coopmat.comp).
constexpr uint32_t kTile = 128;
// k extent of one partial exponent range (SLICE_* in shaders/matmul.glsl).
constexpr uint32_t kSliceAlongK = 2048;
constexpr uint32_t kSliceAcrossLines = 16;
// Below this many multiply-adds the portable kernel is as quick.
constexpr double kMinWork = 1 << 21;

std::optional<FragmentShape> query_shape(const Capabilities& caps) {
  const char* off = std::getenv("LUMEN_VULKAN_NO_COOPMAT");
  if (off && std::strcmp(off, "1") == 0) return std::nullopt;
  if (!caps.cooperative_matrix_nv || !caps.vulkan_memory_model || !caps.float16 ||
      caps.subgroup_size != 32 || !vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) {
    return std::nullopt;
  }
  uint32_t n = 0;
  if (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(caps.physical, &n, nullptr) != VK_SUCCESS) {
    return std::nullopt;
  }
  std::vector<VkCooperativeMatrixPropertiesNV> props(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV});
  if (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(caps.physical, &n, props.data()) != VK_SUCCESS) {
    return std::nullopt;
  }
  auto offered = [&](FragmentShape s) {
    for (auto& p : props) {
      if (p.MSize == s.m && p.NSize == s.n && p.KSize == s.k && p.scope == VK_SCOPE_SUBGROUP_NV &&
          p.AType == VK_COMPONENT_TYPE_FLOAT16_NV && p.BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
          p.CType == VK_COMPONENT_TYPE_FLOAT32_NV && p.DType == VK_COMPONENT_TYPE_FLOAT32_NV) {
        return true;
      }
    }
    return false;
  };
  for (FragmentShape s : {FragmentShape{16, 16, 16}, FragmentShape{16, 8, 16}}) {
    if (offered(s)) {
      detail::logger()->debug("vulkan: cooperative matrices f16 x f16 -> f32 at {}x{}x{} on {}", s.m, s.n,
                              s.k, caps.name);
      return s;
    }
  }
  return std::nullopt;
}

// The fragment shape for a device, asked once.
std::optional<FragmentShape> fragment_shape(const Capabilities& caps) {
  static std::mutex mu;
  static std::map<VkPhysicalDevice, std::optional<FragmentShape>> known;
  std::lock_guard<std::mutex> lk(mu);
  auto it = known.find(caps.physical);
  if (it == known.end()) it = known.emplace(caps.physical, query_shape(caps)).first;
  return it->second;
}

// Which axis of an operand a tile load walks: the one with the smaller
// stride (A: k when true; B: n when true).
bool along_second(int64_t first_stride, int64_t second_stride, uint32_t first_extent) {
  return first_extent == 1 || std::llabs(second_stride) <= std::llabs(first_stride);
}

uint32_t ceil_div(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

// A scratch int32 array of n elements on the GPU (freed once the recorded
// work has run: the allocator waits for the stream's timeline).
array scratch_int32(KernelContext& k, int64_t n) {
  array a(Shape{static_cast<int32_t>(n)}, int32, nullptr, {});
  k.allocate(a);
  return a;
}

// Exponent ranges of A's rows (operand_b false) or B's columns into
// `partials`, per slice of k.
void record_exponents(KernelContext& k, const MatmulProblem& p, const MatmulPush& push, bool operand_b,
                      const array& partials) {
  const int64_t line_stride = operand_b ? p.b_cs : p.a_rs;
  const int64_t k_stride = operand_b ? p.b_rs : p.a_cs;
  const uint32_t per_matrix = operand_b ? p.N : p.M;
  const bool along_k = along_second(line_stride, k_stride, per_matrix);
  const uint64_t address = operand_b ? push.b : push.a;
  const auto& batch_strides = operand_b ? p.b_bs : p.a_bs;
  Constants constants(4, 0);
  constants[1] = operand_b;
  constants[2] = along_k;
  constants[3] = along_k ? k_stride == 1 && rows_aligned16(address, line_stride, batch_strides, 2)
                         : line_stride == 1 && rows_aligned16(address, k_stride, batch_strides, 2);
  const uint64_t slices = operand_b ? push.slices_b : push.slices_a;
  const uint64_t groups = along_k ? static_cast<uint64_t>(p.batch) * per_matrix * slices
                                  : static_cast<uint64_t>(p.batch) *
                                        ceil_div(per_matrix, KernelContext::kWorkgroupSize * 8) * slices;
  const array& operand = operand_b ? *p.b : *p.a;
  k.dispatch("matmul_exponents", std::move(constants), &push, sizeof(push),
             groups * KernelContext::kWorkgroupSize, {&operand}, {&partials});
}

uint32_t slices_for(int64_t line_stride, int64_t k_stride, uint32_t lines, uint32_t K) {
  return ceil_div(std::max<uint32_t>(K, 1), along_second(line_stride, k_stride, lines) ? kSliceAlongK
                                                                                      : kSliceAcrossLines);
}

}  // namespace

bool record_coopmat_matmul(KernelContext& k, const MatmulProblem& p) {
  const Dtype dt = p.out->dtype();
  if (dt != float16 && dt != bfloat16) return false;
  if (p.M < 32 || p.N < 32 || static_cast<double>(p.M) * p.N * p.K * p.batch < kMinWork) return false;
  auto shape = fragment_shape(k.caps());
  if (!shape) return false;
  const uint64_t tiles = static_cast<uint64_t>(p.batch) * ceil_div(p.M, kTile) * ceil_div(p.N, kTile);
  if (tiles > UINT32_MAX) return false;

  MatmulPush push = matmul_push(k, p);
  const bool scaled = dt == bfloat16;
  Constants constants(11, 0);
  constants[1] = dtype_id(dt);
  constants[2] = shape->m;
  constants[3] = shape->n;
  constants[4] = shape->k;
  const bool a_along_k = along_second(p.a_rs, p.a_cs, p.M);
  const bool b_along_n = along_second(p.b_rs, p.b_cs, p.K);
  constants[5] = a_along_k;
  constants[6] = b_along_n;
  constants[7] = a_along_k ? p.a_cs == 1 && rows_aligned16(push.a, p.a_rs, p.a_bs, 2)
                           : p.a_rs == 1 && rows_aligned16(push.a, p.a_cs, p.a_bs, 2);
  constants[8] = b_along_n ? p.b_cs == 1 && rows_aligned16(push.b, p.b_rs, p.b_bs, 2)
                           : p.b_rs == 1 && rows_aligned16(push.b, p.b_cs, p.b_bs, 2);
  constants[9] = p.c != nullptr;
  constants[10] = scaled;
  const uint64_t invocations = tiles * KernelContext::kWorkgroupSize;
  if (!scaled) {
    dispatch_matmul(k, "matmul_coopmat", std::move(constants), p, push, invocations);
    return true;
  }

  const uint64_t lines_a = static_cast<uint64_t>(p.batch) * p.M, lines_b = static_cast<uint64_t>(p.batch) * p.N;
  push.slices_a = slices_for(p.a_rs, p.a_cs, p.M, p.K);
  push.slices_b = slices_for(p.b_cs, p.b_rs, p.N, p.K);
  const uint64_t partial_count = 2 * (push.slices_a * lines_a + push.slices_b * lines_b);
  if (partial_count > INT32_MAX) return false;
  array scales = scratch_int32(k, static_cast<int64_t>(lines_a + lines_b));
  array partials = scratch_int32(k, static_cast<int64_t>(partial_count));
  push.scales = address_of(scales);
  push.partials = address_of(partials);
  push.gate_m = kTile;
  push.gate_n = kTile;
  record_exponents(k, p, push, false, partials);
  record_exponents(k, p, push, true, partials);
  k.dispatch("matmul_scales", Constants(1, 0), &push, sizeof(push), lines_a + lines_b, {&partials}, {&scales});
  dispatch_matmul(k, "matmul_coopmat", std::move(constants), p, push, invocations, &scales);
  record_tiled_matmul(k, p, push, true, &scales);
  return true;
}

}  // namespace lumen::vulkan
