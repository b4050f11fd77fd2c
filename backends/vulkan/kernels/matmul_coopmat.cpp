// The tensor-core path of Matmul/AddMM: shaders/matmul_coopmat.comp through
// VK_NV_cooperative_matrix, float16 x float16 -> float32, at the fragment
// shape the device reports. float16 goes straight in. bfloat16 goes in as
// float16 times a power of two per row of A and column of B, chosen by two
// small passes (matmul_exponents.comp, matmul_scales.comp) so that every
// element converts exactly, and a third (matmul_convert.comp) writes the
// scaled float16 copies the tensor-core kernel reads; output tiles touching
// a line with no such power are computed by the portable kernel instead
// (gated on the same table).
// LUMEN_VULKAN_NO_COOPMAT=1 turns the path off.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "backends/vulkan/env.h"
#include "backends/vulkan/kernels/matmul.h"
#include "backends/vulkan/shaders/ids.h"
#include "core/detail/log.h"

namespace lumen::vulkan {

namespace {

struct FragmentShape {
  uint32_t m, n, k;
};

// k extent of one partial exponent range (SLICE_* in shaders/matmul.glsl).
constexpr uint32_t kSliceAlongK = 2048;
constexpr uint32_t kSliceAcrossLines = 16;
// Below this many multiply-adds the portable kernel is as quick.
constexpr double kMinWork = 1 << 21;

// Whether the device offers f16 x f16 -> f32 subgroup fragments of shape s
// (with the features the tensor-core kernels need).
bool offered(const Capabilities& caps, FragmentShape s) {
  if (!caps.cooperative_matrix_nv || !caps.vulkan_memory_model || !caps.float16 ||
      caps.subgroup_size != 32 || !vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) {
    return false;
  }
  uint32_t n = 0;
  if (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(caps.physical, &n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkCooperativeMatrixPropertiesNV> props(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV});
  if (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(caps.physical, &n, props.data()) != VK_SUCCESS) return false;
  for (auto& p : props) {
    if (p.MSize == s.m && p.NSize == s.n && p.KSize == s.k && p.scope == VK_SCOPE_SUBGROUP_NV &&
        p.AType == VK_COMPONENT_TYPE_FLOAT16_NV && p.BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
        p.CType == VK_COMPONENT_TYPE_FLOAT32_NV && p.DType == VK_COMPONENT_TYPE_FLOAT32_NV) {
      return true;
    }
  }
  return false;
}

std::optional<FragmentShape> query_shape(const Capabilities& caps) {
  if (env_is("LUMEN_VULKAN_NO_COOPMAT", "1")) return std::nullopt;
  // LUMEN_VULKAN_COOPMAT_SHAPE=16x8 prefers 16 x 8 x 16 (for measuring).
  const bool narrow = env_is("LUMEN_VULKAN_COOPMAT_SHAPE", "16x8");
  for (FragmentShape s : {FragmentShape{16, narrow ? 8u : 16u, 16}, FragmentShape{16, narrow ? 16u : 8u, 16}}) {
    if (offered(caps, s)) {
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

// A workgroup's tile (shaders/matmul_coopmat.comp): its 8 subgroups laid out
// warps_m x (8 / warps_m), each fm x fn fragments; bk-deep slices of A and B
// in `stages` shared buffers, global loads `prefetch` slices ahead (2 needs
// 2 stages).
struct TileShape {
  uint32_t warps_m, fm, fn, bk, stages, prefetch;
};

constexpr uint32_t kSubgroups = KernelContext::kWorkgroupSize / 32;

uint32_t tile_m(const TileShape& t, const FragmentShape& f) { return t.warps_m * t.fm * f.m; }
uint32_t tile_n(const TileShape& t, const FragmentShape& f) { return kSubgroups / t.warps_m * t.fn * f.n; }

// The shared memory the shader declares for a tile shape (its SMEM_UNITS,
// a_scale, b_scale and tile_exact), or 0 when the shape does not divide into
// whole 16-byte chunks per invocation.
uint64_t shared_bytes(const TileShape& t, const FragmentShape& f) {
  const uint64_t bm = tile_m(t, f), bn = tile_n(t, f), unit = 8, wg = KernelContext::kWorkgroupSize;
  if (t.warps_m == 0 || kSubgroups % t.warps_m != 0 || t.bk % f.k != 0 || t.stages < 1 || t.stages > 2 ||
      t.prefetch < 1 || t.prefetch > t.stages) {
    return 0;
  }
  if ((bm * t.bk / unit) % wg != 0 || (bn * t.bk / unit) % wg != 0) return 0;
  // Both layouts of each operand take the same space but for the padding.
  const uint64_t a_units = std::max(bm * ((t.bk + unit) / unit), t.bk * ((bm + unit) / unit));
  const uint64_t b_units = std::max(bn * ((t.bk + unit) / unit), t.bk * ((bn + unit) / unit));
  const uint64_t units = std::max<uint64_t>(t.stages * (a_units + b_units), kSubgroups * f.m * f.n / 4);
  return 16 * units + 4 * (bm + bn) + 4;
}

// The tile shape: LUMEN_VULKAN_COOPMAT_TILE="warps_m,fm,fn,bk,stages,prefetch"
// when it fits the device, else the measured default.
TileShape tile_shape(const Capabilities& caps, const FragmentShape& f) {
  // 128 x 128 tiles of 64 x 32 per subgroup, 64-deep single-buffered slices:
  // the quickest on the H100 of the shapes tried (64 x 64 subgroup tiles,
  // 128 x 256 and 256 x 128 workgroup tiles, double buffering and loads two
  // slices ahead all measured 0.84-0.97 ms at 4096^3 against its 0.74).
  TileShape t{2, 4, 2, 64, 1, 1};
  if (const char* env = std::getenv("LUMEN_VULKAN_COOPMAT_TILE")) {
    TileShape e{};
    if (std::sscanf(env, "%u,%u,%u,%u,%u,%u", &e.warps_m, &e.fm, &e.fn, &e.bk, &e.stages, &e.prefetch) == 6) {
      const uint64_t bytes = shared_bytes(e, f);
      if (bytes != 0 && bytes <= caps.max_shared_memory) return e;
    }
    detail::logger()->warn("vulkan: LUMEN_VULKAN_COOPMAT_TILE={} does not fit; using the default", env);
  }
  return t;
}

// A scratch int32 array of n elements on the GPU (freed once the recorded
// work has run: the allocator waits for the stream's timeline).
array scratch_int32(KernelContext& k, int64_t n) {
  array a(Shape{static_cast<int32_t>(n)}, int32, nullptr, {});
  k.allocate(a);
  return a;
}

// Contiguous row-major strides of the collapsed batch dims, times `matrix`.
std::vector<int64_t> packed_batch_strides(const std::vector<int64_t>& batch_shape, int64_t matrix) {
  std::vector<int64_t> strides(batch_shape.size());
  int64_t step = matrix;
  for (size_t d = batch_shape.size(); d-- > 0;) {
    strides[d] = step;
    step *= batch_shape[d];
  }
  return strides;
}

// The scaled float16 copy of A (operand_b false) or B that
// shaders/matmul_convert.comp writes: [batch][rows][cols] with cols the
// operand's contiguous axis (`along`: k for A, n for B). Sets `p`'s strides
// of that operand to the copy's.
array record_convert(KernelContext& k, MatmulProblem& p, const MatmulPush& push, bool operand_b, bool along,
                     const array& scales) {
  const uint32_t lines = operand_b ? p.N : p.M;
  const uint32_t rows = along == operand_b ? p.K : lines, cols = along == operand_b ? lines : p.K;
  array copy(Shape{static_cast<int32_t>(p.batch), static_cast<int32_t>(rows), static_cast<int32_t>(cols)}, float16,
             nullptr, {});
  k.allocate(copy);
  const int64_t src_row = operand_b ? (along ? p.b_rs : p.b_cs) : (along ? p.a_rs : p.a_cs);
  const int64_t src_col = operand_b ? (along ? p.b_cs : p.b_rs) : (along ? p.a_cs : p.a_rs);
  Constants constants(4, 0);
  constants[1] = operand_b;
  constants[2] = along;
  constants[3] = src_col == 1 && cols % 8 == 0 &&
                 rows_aligned16(operand_b ? push.b : push.a, src_row, operand_b ? p.b_bs : p.a_bs, 2);
  MatmulPush convert = push;
  convert.out = address_of(copy);
  const uint64_t chunks = static_cast<uint64_t>(p.batch) * rows * ceil_div(cols, 8);
  k.dispatch("matmul_convert", std::move(constants), &convert, sizeof(convert), chunks,
             {operand_b ? p.b : p.a, &scales}, {&copy});
  // The copy's strides as the operand (A (i, k) at i * a_rs + k * a_cs, B
  // (k, j) at k * b_rs + j * b_cs); the caller points p at the copy.
  (operand_b ? p.b_rs : p.a_rs) = along ? cols : 1;
  (operand_b ? p.b_cs : p.a_cs) = along ? 1 : cols;
  (operand_b ? p.b_bs : p.a_bs) = packed_batch_strides(p.batch_shape, static_cast<int64_t>(rows) * cols);
  return copy;
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

bool coopmat_offers(const Capabilities& caps, uint32_t m, uint32_t n, uint32_t k) {
  if (env_is("LUMEN_VULKAN_NO_COOPMAT", "1")) return false;
  static std::mutex mu;
  static std::map<std::tuple<VkPhysicalDevice, uint32_t, uint32_t, uint32_t>, bool> known;
  std::lock_guard<std::mutex> lk(mu);
  const auto key = std::make_tuple(caps.physical, m, n, k);
  auto it = known.find(key);
  if (it == known.end()) it = known.emplace(key, offered(caps, FragmentShape{m, n, k})).first;
  return it->second;
}

std::optional<std::array<uint32_t, 3>> coopmat_fragment(const Capabilities& caps) {
  auto f = fragment_shape(caps);
  if (!f) return std::nullopt;
  return std::array<uint32_t, 3>{f->m, f->n, f->k};
}

// Specialization constants of shaders/matmul_coopmat.comp for `p` (whose
// operands are float16, or bfloat16 scaled copies when `scaled`).
Constants coopmat_constants(const MatmulProblem& p, const MatmulPush& push, const FragmentShape& shape,
                            const TileShape& tile, bool a_along_k, bool b_along_n, bool scaled) {
  Constants constants(19, 0);
  constants[1] = dtype_id(p.out->dtype());
  constants[2] = shape.m;
  constants[3] = shape.n;
  constants[4] = shape.k;
  constants[5] = a_along_k;
  constants[6] = b_along_n;
  const bool vec_a = a_along_k ? p.a_cs == 1 && rows_aligned16(push.a, p.a_rs, p.a_bs, 2)
                               : p.a_rs == 1 && rows_aligned16(push.a, p.a_cs, p.a_bs, 2);
  const bool vec_b = b_along_n ? p.b_cs == 1 && rows_aligned16(push.b, p.b_rs, p.b_bs, 2)
                               : p.b_rs == 1 && rows_aligned16(push.b, p.b_cs, p.b_bs, 2);
  constants[7] = vec_a;
  constants[8] = vec_b;
  constants[9] = p.c != nullptr;
  constants[10] = scaled;
  constants[11] = tile.warps_m;
  constants[12] = tile.fm;
  constants[13] = tile.fn;
  constants[14] = tile.bk;
  constants[15] = tile.stages;
  const bool full = vec_a && vec_b && p.M % tile_m(tile, shape) == 0 && p.N % tile_n(tile, shape) == 0 &&
                    p.K % tile.bk == 0;
  constants[16] = full;
  constants[17] = full && p.c == nullptr && push.out % 16 == 0;
  constants[18] = tile.prefetch;
  return constants;
}

bool coopmat_matmul_available(const Capabilities& caps) { return fragment_shape(caps).has_value(); }

bool record_coopmat_matmul(KernelContext& k, const MatmulProblem& p) {
  const Dtype dt = p.out->dtype();
  if (dt != float16 && dt != bfloat16) return false;
  // Small M too (a few rows of activations against a weight matrix): the
  // padded tile still beats the CUDA-core kernel by far (H100, 16 x 8192 @
  // 8192 x 28672 fp16: 0.40 ms against 3.0 ms). M = 1 is the GEMV's.
  if (p.M < 2 || p.N < 32 || static_cast<double>(p.M) * p.N * p.K * p.batch < kMinWork) return false;
  auto shape = fragment_shape(k.caps());
  if (!shape) return false;
  const TileShape tile = tile_shape(k.caps(), *shape);
  const uint64_t smem = shared_bytes(tile, *shape);
  if (smem == 0 || smem > k.caps().max_shared_memory) return false;
  const uint32_t bm = tile_m(tile, *shape), bn = tile_n(tile, *shape);
  const uint64_t tiles = static_cast<uint64_t>(p.batch) * ceil_div(p.M, bm) * ceil_div(p.N, bn);
  if (tiles > UINT32_MAX) return false;

  MatmulPush push = matmul_push(k, p);
  const bool scaled = dt == bfloat16;
  const bool a_along_k = along_second(p.a_rs, p.a_cs, p.M);
  const bool b_along_n = along_second(p.b_rs, p.b_cs, p.K);
  const uint64_t invocations = tiles * KernelContext::kWorkgroupSize;
  if (!scaled) {
    dispatch_matmul(k, "matmul_coopmat", coopmat_constants(p, push, *shape, tile, a_along_k, b_along_n, false), p,
                    push, invocations);
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
  push.gate_m = bm;
  push.gate_n = bn;
  record_exponents(k, p, push, false, partials);
  record_exponents(k, p, push, true, partials);
  k.dispatch("matmul_scales", Constants(1, 0), &push, sizeof(push), lines_a + lines_b, {&partials}, {&scales});
  MatmulProblem copies = p;
  array a16 = record_convert(k, copies, push, false, a_along_k, scales);
  array b16 = record_convert(k, copies, push, true, b_along_n, scales);
  copies.a = &a16;
  copies.b = &b16;
  MatmulPush copies_push = matmul_push(k, copies);
  copies_push.scales = push.scales;
  dispatch_matmul(k, "matmul_coopmat", coopmat_constants(copies, copies_push, *shape, tile, a_along_k, b_along_n, true),
                  copies, copies_push, invocations, &scales);
  record_tiled_matmul(k, p, push, true, &scales);
  return true;
}

}  // namespace lumen::vulkan
