// The tensor-core prefill paths of ScaledDotProductAttention on devices with
// VK_NV_cooperative_matrix: float16 and bfloat16, head dims multiples of 16 up
// to 256. Where the 16 x 16 float32 fragment has NVIDIA's mma layout (read
// once per device by shaders/attention_layout.comp), shaders/attention_flash.comp
// (softmax on the fragments' elements); elsewhere shaders/attention_coopmat.comp
// (softmax through shared memory).
// Tile shapes: the first of a list that fits the shared memory; environment
// knobs pick others for measuring (see docs/attention.md).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <utility>

#include "backends/vulkan/debug.h"
#include "backends/vulkan/env.h"
#include "backends/vulkan/kernels/attention.h"
#include "backends/vulkan/kernels/matmul.h"
#include "core/detail/log.h"

namespace lumen::vulkan {

namespace {

constexpr uint32_t kUnit = 8;       // float16 per 16-byte unit
constexpr uint32_t kSubgroups = KernelContext::kWorkgroupSize / 32;
constexpr uint32_t kMaxHeadDim = 256;

// The shared bytes attention_coopmat.comp declares (its SMEM_UNITS).
uint64_t scratch_shared_bytes(uint32_t D, uint32_t Dv, uint32_t bk) {
  const uint64_t k_units = bk * (D / kUnit + 1), v_units = bk * (Dv / kUnit + 1);
  const uint64_t warp_units = 16 * (bk / 4) + 16 * (bk / kUnit + 1);
  const uint64_t loop = k_units + v_units + kSubgroups * warp_units;
  return 16 * std::max<uint64_t>(loop, 16 * (D / kUnit + 1));
}

// The shared bytes attention_flash.comp declares (its SMEM_UNITS).
uint64_t flash_shared_bytes(uint32_t D, uint32_t Dv, const CoopmatAttention& p) {
  const uint64_t stage = p.keys_per_tile * (D / kUnit + 1 + Dv / kUnit + 1);
  const uint64_t q_units = 16 * p.row_blocks * (D / kUnit + 1), probe_units = kSubgroups * 64;
  return 16 * std::max({p.stages * stage, q_units, probe_units});
}

// 16-byte loads of 8-feature units: unit feature stride, rows 16-byte aligned.
bool rows_aligned16(const array& a) {
  if (a.strides(3) != 1 || address_of(a) % 16 != 0) return false;
  for (int d = 0; d < 3; ++d) {
    if (a.shape(d) > 1 && (a.strides(d) * static_cast<int64_t>(a.itemsize())) % 16 != 0) return false;
  }
  return true;
}

// The fragment's column count when the device has 16 x n x 16 float16
// fragments and subgroup shuffles.
std::optional<uint32_t> fragment_columns(const Capabilities& caps) {
  if (!caps.subgroup_shuffle) return std::nullopt;
  const auto fragment = coopmat_fragment(caps);
  if (!fragment || (*fragment)[0] != 16 || (*fragment)[2] != 16) return std::nullopt;
  return (*fragment)[1];
}

// What shaders/attention_layout.comp writes: per invocation 8 fragment
// entries (row * 16 + column), then the fragment's length.
constexpr uint32_t kLayoutSlots = 32 * 8 + 1;

}  // namespace

// NVIDIA's mma layout: 8 elements per invocation, in rows lane / 4 and
// lane / 4 + 8, elements 2i and 2i + 1 neighbours in a row, the same element
// numbers in the second row for every invocation (the shader takes them as a
// constant).
std::optional<uint32_t> attention_fragment_second_row(const std::vector<uint32_t>& entries) {
  if (entries.size() != kLayoutSlots || entries[256] != 8) return std::nullopt;
  std::optional<uint32_t> second;
  for (uint32_t lane = 0; lane < 32; ++lane) {
    uint32_t bits = 0;
    for (uint32_t i = 0; i < 8; ++i) {
      const uint32_t e = entries[lane * 8 + i], row = e / 16;
      if (e >= 256 || (row != lane / 4 && row != lane / 4 + 8)) return std::nullopt;
      if (i % 2 == 0 ? e % 2 != 0 : e != entries[lane * 8 + i - 1] + 1) return std::nullopt;
      if (row >= 8) bits |= 1u << i;
    }
    if (second && *second != bits) return std::nullopt;
    second = bits;
  }
  return second;
}

namespace {

// attention_fragment_second_row of the device's layout, read once per device
// (a dispatch waited for: the first tensor-core prefill finishes the stream's
// earlier work).
std::optional<uint32_t> device_second_row(KernelContext& k) {
  static std::mutex mu;
  static std::map<VkPhysicalDevice, std::optional<uint32_t>> known;
  std::lock_guard<std::mutex> lk(mu);
  auto it = known.find(k.caps().physical);
  if (it != known.end()) return it->second;
  const std::optional<uint32_t> second =
      attention_fragment_second_row(read_probe_words(k, "attention_layout", kLayoutSlots));
  if (second) detail::logger()->debug("vulkan: attention fragment layout: second-row elements {:#x}", *second);
  else detail::logger()->debug("vulkan: attention fragment layout is not the mma one; softmax through shared memory");
  return known.emplace(k.caps().physical, second).first->second;
}

}  // namespace

std::optional<CoopmatAttention> coopmat_attention_plan(KernelContext& k, const AttentionInputs& in) {
  const Capabilities& caps = k.caps();
  const Dtype dt = in.q->dtype();
  if (dt != float16 && dt != bfloat16) return std::nullopt;
  const auto columns = fragment_columns(caps);
  if (!columns) return std::nullopt;
  const auto D = static_cast<uint32_t>(in.q->shape(3)), Dv = static_cast<uint32_t>(in.v->shape(3));
  if (D % 16 != 0 || Dv % 16 != 0 || D > kMaxHeadDim || Dv > kMaxHeadDim) return std::nullopt;
  // LUMEN_VULKAN_ATTENTION_SOFTMAX=scratch forces the shared-memory softmax.
  const bool scratch = env_is("LUMEN_VULKAN_ATTENTION_SOFTMAX", "scratch");
  const std::optional<uint32_t> second_row = scratch ? std::nullopt : mma_fragment_layout(k);
  if (second_row) {
    // LUMEN_VULKAN_ATTENTION_BK / _ROWS (per subgroup: 16 or 32) / _STAGES
    // (1 or 2) try another shape (all three set; one that does not fit is
    // ignored); _KV_HALF=0 converts bfloat16 K and V per tile instead of into
    // float16 copies first (H100: 1.5x slower at L4096 D128); _FOLD=1 folds
    // the scale into the exponent's fma (H100: 2.50 ms against 1.95 at L4096
    // D128, 5.26 against 3.39 at L8192 D64, so off).
    const uint32_t bk = env_number("LUMEN_VULKAN_ATTENTION_BK").value_or(0);
    const uint32_t rows = env_number("LUMEN_VULKAN_ATTENTION_ROWS").value_or(0);
    const uint32_t stages = env_number("LUMEN_VULKAN_ATTENTION_STAGES").value_or(0);
    const char* kv_env = std::getenv("LUMEN_VULKAN_ATTENTION_KV_HALF");
    const bool kv_half = dt == bfloat16 && (kv_env == nullptr || kv_env[0] != '0');
    const char* fold_env = std::getenv("LUMEN_VULKAN_ATTENTION_FOLD");
    const bool fold = fold_env != nullptr && fold_env[0] == '1';
    CoopmatAttention asked{true, 16, bk, rows / 16, stages, *second_row, kv_half, fold};
    if (bk % 16 == 0 && bk > 0 && bk <= 128 && (rows == 16 || rows == 32) && (stages == 1 || stages == 2) &&
        flash_shared_bytes(D, Dv, asked) <= caps.max_shared_memory) {
      return asked;
    }
    // Keys per tile, stages and 16-row blocks per subgroup, the first that
    // fits (H100, bf16, L 4096-8192): head dim 64 is 1.45x faster with 32 x 2
    // than with 64 x 1; head dims to 128 take 2 row blocks (each K/V fragment
    // read from shared memory feeds 2 products, each tile read from memory
    // serves 256 queries) with 16-key tiles to keep to 255 registers: 1.17x
    // at L4096 D128, 1.09x causal L8192; above 128 they spill, so larger
    // heads start at the list's second shape.
    struct Shape {
      uint32_t keys, stages, row_blocks;
    };
    constexpr std::array<Shape, 2> kSmallHeadShapes{{{32, 2, 1}, {64, 1, 1}}};
    constexpr std::array<Shape, 6> kShapes{{{16, 2, 2}, {64, 1, 1}, {32, 2, 1}, {32, 1, 1}, {16, 2, 1}, {16, 1, 1}}};
    const uint32_t head = std::max(D, Dv);
    const std::span<const Shape> shapes = head <= 64    ? std::span<const Shape>(kSmallHeadShapes)
                                          : head <= 128 ? std::span<const Shape>(kShapes)
                                                        : std::span<const Shape>(kShapes).subspan(1);
    for (const Shape& shape : shapes) {
      CoopmatAttention plan{true, 16, shape.keys, shape.row_blocks, shape.stages, *second_row, kv_half, fold};
      if (flash_shared_bytes(D, Dv, plan) <= caps.max_shared_memory) return plan;
    }
  }
  for (uint32_t bk : {32u, 16u}) {
    if (scratch_shared_bytes(D, Dv, bk) <= caps.max_shared_memory) {
      return CoopmatAttention{false, *columns, bk, 1, 1, 0, false, false};
    }
  }
  return std::nullopt;
}

void set_coopmat_attention_constants(const CoopmatAttention& plan, const AttentionInputs& in, Constants& c) {
  c.resize(plan.registers ? 19 : 12, 0);
  c[6] = plan.fragment_n;
  c[7] = static_cast<uint32_t>(in.q->shape(3));
  c[8] = static_cast<uint32_t>(in.v->shape(3));
  c[9] = plan.keys_per_tile;
  c[10] = rows_aligned16(*in.q) && rows_aligned16(*in.k) && rows_aligned16(*in.v);
  if (plan.registers) {
    c[11] = plan.row_blocks;
    c[12] = plan.stages;
    c[13] = plan.layout_hi;
    c[14] = plan.kv_half;
    c[15] = plan.fold;
    // With one stage, the next tile's K and V are held in registers through
    // the products only for head dims to 128 (H100, bf16 B1 H32 L4096, 255
    // registers either way at D256: D256 3.85 ms without, 4.29 with; D128
    // 2.02 without, 1.94 with); LUMEN_VULKAN_ATTENTION_PREFETCH=0 / 1 forces.
    const char* prefetch = std::getenv("LUMEN_VULKAN_ATTENTION_PREFETCH");
    c[16] = prefetch != nullptr ? prefetch[0] != '0' : std::max(c[7], c[8]) <= 128;
    // LUMEN_VULKAN_ATTENTION_PROBE: the shader's PROBE bits (measuring only:
    // wrong results).
    c[17] = env_number("LUMEN_VULKAN_ATTENTION_PROBE").value_or(0);
    // LUMEN_VULKAN_ATTENTION_LAZY_MAX=0: the row maxima over the quad every tile.
    c[18] = !env_is("LUMEN_VULKAN_ATTENTION_LAZY_MAX", "0");
    return;
  }
  // Output kept in fragments with a lazily moved reference max (the shader's
  // LAZY; H100, bf16 B1 H32: 1.6x at L4096 D128, 2.5x at D256);
  // LUMEN_VULKAN_ATTENTION_LAZY_RESCALE=0 keeps the output in registers.
  const char* lazy = std::getenv("LUMEN_VULKAN_ATTENTION_LAZY_RESCALE");
  c[11] = lazy == nullptr || lazy[0] != '0';
}

array kv_half_copy(KernelContext& k, const array& x) {
  array copy(x.shape(), float16, nullptr, {});
  k.allocate(copy);
  struct {
    uint64_t src, dst;
    int64_t stride[4];
    uint32_t B, H, L, D;
  } push{address_of(x), address_of(copy), {x.strides(0), x.strides(1), x.strides(2), x.strides(3)},
         static_cast<uint32_t>(x.shape(0)), static_cast<uint32_t>(x.shape(1)), static_cast<uint32_t>(x.shape(2)),
         static_cast<uint32_t>(x.shape(3))};
  Constants constants(2, 0);
  constants[1] = rows_aligned16(x);
  k.dispatch("attention_kv_half", std::move(constants), &push, sizeof(push), x.size() / kUnit, {&x}, {&copy});
  return copy;
}

std::optional<uint32_t> mma_fragment_layout(KernelContext& k) {
  const auto columns = fragment_columns(k.caps());
  if (!columns || *columns != 16) return std::nullopt;
  return device_second_row(k);
}

bool attention_uses_cooperative_matrix(const Stream& s) {
  if (s.device.type != Device::gpu) return false;
  return fragment_columns(backend_of(s.device).context().caps()).has_value();
}

}  // namespace lumen::vulkan
