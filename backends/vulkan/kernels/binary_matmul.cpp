// GPU kernel of BinaryMatmul (docs/quantized.md):
//   - x @ W^T with one row of float16 or bfloat16 x and 64-codeword tables
//     (6-bit indices): shaders/binary_gemv_half.comp, the rotated kernel's
//     design below with a float16 table and no rotation, its slices added by
//     its own last workgroups;
//   - x @ W^T with up to 16 rows of x (2 at a time), 6-bit indices or 1-bit
//     signs (read 4 at a time): shaders/binary_gemv_rotated.comp, a
//     codeword . x table per slice of the contraction built in shared memory,
//     an invocation per weight row;
//   - other formats with up to 4 rows: the table GEMV
//     (shaders/binary_table.comp + binary_gemv_table.comp);
//   - x @ W^T with at most 8 rows of x: shaders/binary_gemv.comp, slices of
//     the packed rows with x's matching elements in shared memory;
//   - everything else: shaders/binary_gemm.comp, tiles with W decoded into
//     shared memory, the contraction split when the tiles are too few.
// Split work ends with shaders/binary_finish.comp adding the float32 partial
// sums in a fixed order.
//   - float16 x with 3 to 63 rows on devices with tensor cores
//     (VK_NV_cooperative_matrix): shaders/binary_gemm_coopmat.comp, W's
//     tiles decoded into shared memory as float16 and multiplied there;
//   - float16 x with 64 rows or more on such devices: W dequantized to a
//     float16 scratch matrix (exact), then the float16 matmul kernels
//     (kernels/matmul*.cpp), whose larger tiles use the tensor cores better
//     (LUMEN_VULKAN_BINARY_COOP_WIDE=1: the fused kernel instead).
//     LUMEN_VULKAN_BINARY_DENSE=1 takes this route on any device (tests run
//     it on lavapipe, where the float16 product is the portable kernel).
#include <algorithm>
#include <bit>
#include <cstdlib>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "backends/vulkan/env.h"
#include "backends/vulkan/kernels/binary.h"
#include "backends/vulkan/kernels/matmul.h"
#include "core/detail/log.h"
#include "lumen/backend.h"

namespace lumen::vulkan {

namespace {

constexpr uint32_t kMaxGemvRows = 8;
// Workgroups worth having in flight (the H100 has 132 SMs): split-K aims at
// about kTargetWorkgroups, the GEMV at kGemvWorkgroups (each of its
// workgroups first copies its slice of x, so not many more).
constexpr uint64_t kTargetWorkgroups = 264;
constexpr uint64_t kGemvWorkgroups = 528;
// The GEMV keeps the codebook in shared memory up to this many entries.
constexpr uint32_t kSharedCodebookEntries = 1024;
// Shared memory the GEMV plans with at most (H100: 48 KiB without opt-in).
constexpr uint32_t kGemvSharedBytes = 48 * 1024;

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// A float32 scratch array of n elements on the GPU (freed once the recorded
// work has run: the allocator waits for the stream's timeline).
array scratch_float32(KernelContext& k, uint64_t n) {
  if (n > INT32_MAX) throw std::runtime_error(fmt::format("[binary_matmul] {} partial sums exceed one GPU array", n));
  array a(Shape{static_cast<int32_t>(n)}, float32, nullptr, {});
  k.allocate(a);
  return a;
}

// Where a product split into push.splits slices writes their partial sums
// (push.rows x push.cols floats each): a scratch array, or `out` itself for
// one slice. Sets push.partials.
array split_partials(KernelContext& k, binary::Push& push, const array& out) {
  array partials = push.splits > 1
                       ? scratch_float32(k, static_cast<uint64_t>(push.splits) * push.rows * push.cols)
                       : out;
  push.partials = address_of(partials);
  return partials;
}

void record_finish(KernelContext& k, const BinaryFormat& f, const binary::Push& push, const array& partials,
                   array& out) {
  k.dispatch("binary_finish", binary::format_constants(f, {0, dtype_id(out.dtype())}), &push, sizeof(push),
             static_cast<uint64_t>(push.rows) * push.cols, {&partials}, {&out});
}

// The GEMV's plan: the format its kernel walks (`fold` consecutive indices
// of the weights' format read as one, for the table), chunks per slice,
// slices, x's shared stride, the codebook's and the codeword . x table's
// shared sizes (1: none).
struct GemvPlan {
  BinaryFormat unit{};
  uint32_t fold = 1, chunks = 0, slices = 0, x_stride = 0, codebook_words = 1, lut_floats = 1;
};

// The table pays off where an index costs fewer table reads (one per row of
// x) than sign-and-adds (VECTOR per row) and is rebuilt rarely enough.
constexpr uint32_t kMaxLutRows = 4;
constexpr int64_t kMaxLutCodewords = 256;

bool lut_suits(const BinaryFormat& f, uint32_t rows) {
  return rows <= kMaxLutRows && f.vector_size >= 4 && f.codebook_size() <= kMaxLutCodewords &&
         f.group_size % f.vector_size == 0;
}

// Indices the table reads as one (their bits lie side by side): up to 4
// bits, e.g. 4 plain 1-bit signs make one 16-entry table over 4 elements.
uint32_t lut_fold(const BinaryFormat& f) {
  uint32_t fold = 1;
  while (2 * fold * f.index_bits <= 4 && 2 * fold * f.vector_size <= 16 && f.vectors_per_row() % (2 * fold) == 0) {
    fold *= 2;
  }
  return fold;
}

// The plan with the table (`lut`) or without; false when it does not suit or
// not even one chunk of every row of x fits in shared memory.
bool plan_gemv(const Capabilities& caps, const BinaryFormat& f, uint32_t rows, bool lut, GemvPlan& plan) {
  plan.fold = lut ? lut_fold(f) : 1;
  BinaryFormat u = f;
  u.vector_size *= static_cast<int>(plan.fold);
  u.index_bits *= static_cast<int>(plan.fold);
  if (lut && !lut_suits(u, rows)) return false;
  plan.unit = u;
  const uint32_t wg = KernelContext::kWorkgroupSize;
  const uint64_t row_chunks = ceil_div(static_cast<uint64_t>(u.words_per_row()), 4);
  plan.codebook_words = f.codebook_size() <= kSharedCodebookEntries ? static_cast<uint32_t>(f.codebook_size()) : 1;
  const uint64_t shared = std::min(caps.max_shared_memory, kGemvSharedBytes);
  const uint64_t fixed = 4ull * (rows * wg + plan.codebook_words) + 64;
  if (shared <= fixed) return false;
  const uint64_t floats = (shared - fixed) / 4;
  const uint64_t pitch = static_cast<uint64_t>(u.codebook_size()) + 1;  // LUT_PITCH
  // Elements of x a slice of c chunks may need per row, and the shared floats it takes.
  auto stride = [&](uint64_t c) { return ceil_div(c * 128, u.index_bits) * u.vector_size; };
  auto needs = [&](uint64_t c) { return rows * (stride(c) + (lut ? stride(c) / u.vector_size * pitch : 0)); };
  uint64_t c = std::min<uint64_t>(row_chunks, wg);
  while (c > 0 && needs(c) > floats) --c;
  if (c == 0) return false;
  plan.chunks = static_cast<uint32_t>(c);
  plan.slices = static_cast<uint32_t>(ceil_div(row_chunks, c));
  plan.x_stride = static_cast<uint32_t>(stride(c));
  plan.lut_floats = lut ? static_cast<uint32_t>(rows * (stride(c) / u.vector_size) * pitch) : 1;
  return true;
}

// The push constants of x @ W^T (inputs: x, indices, codebook, scales) over
// `rows` rows of x into `out`, the weights in `f`'s layout.
binary::Push product_push(const BinaryFormat& f, const std::vector<array>& inputs, uint32_t rows, const array& out,
                          bool transpose = true) {
  binary::Push push = binary::weights_push(f, inputs[1], inputs[2], inputs[3]);
  push.x = address_of(inputs[0]);
  push.out = address_of(out);
  push.rows = rows;
  push.cols = transpose ? push.N : push.K;
  return push;
}

void record_gemv(KernelContext& k, const std::vector<array>& inputs, uint32_t rows, const GemvPlan& plan,
                 array& out) {
  const BinaryFormat& f = plan.unit;
  binary::Push push = product_push(f, inputs, rows, out);
  push.splits = plan.slices;
  push.chunks = plan.chunks;
  push.x_stride = plan.x_stride;
  array partials = split_partials(k, push, out);
  Constants constants(8, 0);
  constants[1] = dtype_id(out.dtype());
  constants[2] = f.words_per_row() % 4 == 0 && push.indices % 16 == 0;
  constants[3] = rows;
  constants[4] = rows * plan.x_stride;
  constants[5] = plan.codebook_words;
  constants[6] = plan.lut_floats;
  constants[7] = plan.fold;
  // Each workgroup loads its slice of x once, then walks blocks of rows.
  const uint64_t rows_per_block = KernelContext::kWorkgroupSize / plan.chunks;
  const uint64_t blocks = ceil_div(static_cast<uint64_t>(f.n), rows_per_block);
  const uint64_t per_slice = std::clamp<uint64_t>(ceil_div(kGemvWorkgroups, plan.slices), 1, blocks);
  const uint64_t groups = std::min<uint64_t>(per_slice, k.caps().max_workgroup_count[0] / plan.slices) * plan.slices;
  k.dispatch("binary_gemv", binary::format_constants(f, constants), &push, sizeof(push),
             groups * KernelContext::kWorkgroupSize, {&inputs[0], &inputs[1], &inputs[2], &inputs[3]},
             {plan.slices > 1 ? &partials : &out});
  if (plan.slices > 1) record_finish(k, f, push, partials, out);
}

// The table GEMV's plan (shaders/binary_gemv_table.comp): the format its
// kernel walks (`fold` indices of the weights read as one), the unit's words,
// invocations per weight row and units per invocation, the slices of the
// contraction and the workgroups aimed at.
struct TableGemvPlan {
  BinaryFormat unit{};
  uint32_t fold = 1, unit_words = 1, row_lanes = 1, lane_units = 1, slices = 1, workgroups = 1;
  uint32_t slice_entries = 0;  // table floats of a slice per row of x
  bool stagger = false;        // shaders/binary_table.glsl's STAGGER
  uint32_t depth = 1;          // shaders/binary_gemv_table.comp's DEPTH
  bool finish = false;         // and its FINISH
};

// Tuning knobs of the table GEMVs (read at each call, so that tests can walk
// them; the defaults are the H100's best): LUMEN_VULKAN_BINARY_GEMV=table
// takes binary_gemv_table.comp instead of binary_gemv_rotated.comp, =chunk
// binary_gemv.comp, =rotated the rotated kernel for one row of float16 or
// bfloat16 x too (not binary_gemv_half.comp), =half binary_gemv_half.comp for
// every format it takes (not only 64-codeword tables); LUMEN_VULKAN_BINARY_CHUNK
// the half-table kernel's units loaded at once, LUMEN_VULKAN_BINARY_HALF_FINISH=0
// its slices added by binary_finish.comp, =1 by its last workgroups in slice
// order (by default: through float atomics where the device has them),
// LUMEN_VULKAN_BINARY_HALF_PROBE its measurement switches (wrong results);
// LUMEN_VULKAN_BINARY_TABLE_BITS caps a folded index's bits
// (4 or 8), LUMEN_VULKAN_BINARY_GEMV_GROUPS sets the workgroups aimed at and
// LUMEN_VULKAN_BINARY_DEPTH the steps of rows whose loads are in flight
// (both kernels); LUMEN_VULKAN_BINARY_UNITS the rotated kernel's units per
// slice, LUMEN_VULKAN_BINARY_SPLIT its invocations per weight row (1, 2, 4,
// 8: a subgroup's loads cover longer runs of each row) and
// LUMEN_VULKAN_BINARY_COMPACT=1 its table without repeated entries; for binary_gemv_table.comp LUMEN_VULKAN_BINARY_ROW_LANES and
// LUMEN_VULKAN_BINARY_LANE_UNITS set the invocations per weight row and the
// units each reads, LUMEN_VULKAN_BINARY_STAGGER=0 turns the staggered table
// layout off, LUMEN_VULKAN_BINARY_FINISH=1 has the GEMV's last workgroups
// add the slices' partial sums (no binary_finish.comp).
struct TableGemvKnobs {
  bool chunked = false, rotated = true, stagger = true, finish = false, compact = false;
  bool half = true;                        // one row of float16/bfloat16 x: the float16 table ...
  bool half_forced = false;                // ... for 64 codewords by default, any format it takes when forced
  uint32_t chunk = 0;                      // float16 table: units loaded at once (0: its default)
  uint32_t half_probe = 0;                 // MEASUREMENT: binary_gemv_half.comp's PROBE
  bool half_finish = true;                 // binary_gemv_half.comp adds the slices itself (FINISH) ...
  bool half_atomic = true;                 // ... by float atomics where the device has them
  int table_bits = 4;
  uint32_t row_lanes = 4, lane_units = 0;  // lane_units 0: enough for a scale group
  uint32_t workgroups = 0;                 // 0: the kernel's own default
  uint32_t units = 0;                      // 0: the most that fit
  uint32_t depth = 0;                      // 0: the kernel's own default
  uint32_t split = 1;                      // rotated kernel: invocations per weight row
  bool whole = false;                      // rotated kernel: whole rows per workgroup
  bool keep_table = false;                 // MEASUREMENT: whole rows, the table built once
  bool nibble = false;                     // rotated kernel: the table from half sums
  uint32_t step_rows = 0;                  // rotated kernel, whole rows: rows per workgroup (0: all)
};

TableGemvKnobs table_knobs() {
  TableGemvKnobs k;
  k.chunked = env_is("LUMEN_VULKAN_BINARY_GEMV", "chunk");
  k.rotated = !k.chunked && !env_is("LUMEN_VULKAN_BINARY_GEMV", "table");
  k.half = k.rotated && !env_is("LUMEN_VULKAN_BINARY_GEMV", "rotated");
  k.half_forced = env_is("LUMEN_VULKAN_BINARY_GEMV", "half");
  k.half_probe = env_number("LUMEN_VULKAN_BINARY_HALF_PROBE").value_or(0) & 15u;
  const uint32_t half_finish = env_number("LUMEN_VULKAN_BINARY_HALF_FINISH").value_or(2);
  k.half_finish = half_finish != 0;
  k.half_atomic = half_finish == 2;
  k.chunk = std::min<uint32_t>(env_number("LUMEN_VULKAN_BINARY_CHUNK").value_or(0), 16);
  k.stagger = env_number("LUMEN_VULKAN_BINARY_STAGGER").value_or(1) != 0;
  k.finish = env_number("LUMEN_VULKAN_BINARY_FINISH").value_or(0) != 0;
  k.compact = env_number("LUMEN_VULKAN_BINARY_COMPACT").value_or(0) != 0;
  k.table_bits = static_cast<int>(std::clamp<uint32_t>(env_number("LUMEN_VULKAN_BINARY_TABLE_BITS").value_or(4), 1, 8));
  k.depth = std::min<uint32_t>(env_number("LUMEN_VULKAN_BINARY_DEPTH").value_or(0), 16);
  k.row_lanes = std::clamp<uint32_t>(env_number("LUMEN_VULKAN_BINARY_ROW_LANES").value_or(k.row_lanes), 1, 32);
  k.lane_units = std::min<uint32_t>(env_number("LUMEN_VULKAN_BINARY_LANE_UNITS").value_or(k.lane_units), 8);
  k.workgroups = env_number("LUMEN_VULKAN_BINARY_GEMV_GROUPS").value_or(0);
  k.units = std::min<uint32_t>(env_number("LUMEN_VULKAN_BINARY_UNITS").value_or(0), 32);
  k.split = std::bit_floor(std::clamp<uint32_t>(env_number("LUMEN_VULKAN_BINARY_SPLIT").value_or(1), 1, 8));
  k.whole = env_number("LUMEN_VULKAN_BINARY_WHOLE").value_or(0) != 0;
  k.keep_table = env_number("LUMEN_VULKAN_BINARY_PROBE_KEEP_TABLE").value_or(0) != 0;
  k.nibble = env_number("LUMEN_VULKAN_BINARY_NIBBLE").value_or(0) != 0;
  k.step_rows = env_number("LUMEN_VULKAN_BINARY_STEP_ROWS").value_or(0);
  return k;
}

// Indices the table GEMVs read as one: while the table stays within
// `table_bits` bits and the folded vectors within a scale group and a
// 32-bit pattern (1-bit signs 4 at a time by default).
int table_fold(const BinaryFormat& f, int table_bits) {
  int fold = 1;
  while (2 * fold * f.index_bits <= table_bits && 2 * fold * f.vector_size <= 32 &&
         f.vectors_per_row() % (2 * fold) == 0 && f.group_size % (2 * fold * f.vector_size) == 0) {
    fold *= 2;
  }
  return fold;
}

BinaryFormat folded(const BinaryFormat& f, int fold) {
  BinaryFormat u = f;
  u.vector_size *= fold;
  u.index_bits *= fold;
  return u;
}

// Workgroups per slice of a GEMV walking `steps` steps of rows per slice:
// about `target` workgroups in all, each walking the same number of steps.
uint64_t workgroups_per_slice(KernelContext& k, uint64_t steps, uint32_t slices, uint64_t target) {
  uint64_t per_slice = std::clamp<uint64_t>(ceil_div(target, slices), 1, steps);
  per_slice = ceil_div(steps, ceil_div(steps, per_slice));
  return std::min<uint64_t>(per_slice, k.caps().max_workgroup_count[0] / slices);
}

// The rotated table GEMV's plan (shaders/binary_gemv_rotated.comp): the
// folded format, units of 16 vectors per invocation, slices, and the widest
// loads the alignment allows.
struct RotatedGemvPlan {
  BinaryFormat unit{};
  uint32_t fold = 1, units = 2, slices = 1, load_words = 1, scale_load = 1, split = 1;
  bool compact = false;  // the shader's COMPACT table
};

constexpr uint32_t kMaxRotatedRows = 2;  // per pass; more rows go 2 at a time
constexpr uint32_t kMaxRotatedChunkedRows = 16;
constexpr uint32_t kRotatedWorkgroups = 264;
// Steps whose loads are in flight (the H100: 1 ahead did best, 29.5 us per
// product against 30.2 for 2, 31.3 for 3, 33.0 for 4, finish pass included).
constexpr uint32_t kRotatedDepth = 1;

// False where the rotated GEMV does not apply: more than 2 rows of x, a
// folded index of an odd number of bits or more than 6, folded vectors not
// a multiple of 4 elements, units of 16 vectors across scale groups or not
// dividing a row, or no table fitting.
bool plan_rotated_gemv(const Capabilities& caps, const BinaryFormat& f, uint32_t rows, const array& indices,
                       const array& scales, const TableGemvKnobs& knobs, RotatedGemvPlan& plan) {
  if (!knobs.rotated || rows > kMaxRotatedRows) return false;
  const int fold = table_fold(f, knobs.table_bits);
  const BinaryFormat u = folded(f, fold);
  const int64_t unit_elements = 16ll * u.vector_size;
  if (u.index_bits % 2 != 0 || u.index_bits > 6 || u.vector_size % 4 != 0 || u.group_size % unit_elements != 0 ||
      u.vectors_per_row() % 16 != 0) {
    return false;
  }
  const uint64_t row_units = static_cast<uint64_t>(u.vectors_per_row() / 16);
  const uint64_t units_per_group = static_cast<uint64_t>(u.group_size / unit_elements);
  const uint64_t region = 32ull << u.index_bits;  // binary_gemv_rotated.comp's REGION
  const uint64_t pair = knobs.compact ? region : 2 * region + 32;  // and PAIR
  const uint64_t shared = std::min(caps.max_shared_memory, kGemvSharedBytes);
  // Shared floats: the table and x's slice (or its half sums), per row of x.
  const uint64_t split = knobs.split;
  const bool halves = knobs.nibble && u.vector_size == 8;
  auto fits = [&](uint64_t units) {
    const uint64_t staged = halves ? units * 16 * 2 * 17 : units * static_cast<uint64_t>(unit_elements);
    // (and the one-element stand-in the shader declares for the array it does not use)
    const uint64_t floats = rows * (units / 2 * pair + staged) + (halves ? 4 : 1);
    const uint64_t lane_units = units / split;
    return units % (2 * split) == 0 && units % units_per_group == 0 &&
           (lane_units % units_per_group == 0 || units_per_group % lane_units == 0) && row_units % units == 0 &&
           4 * floats <= shared;
  };
  uint32_t units = 0;
  for (uint32_t c : {32u, 16u, 8u, 4u, 2u}) {
    if (knobs.units == 0 && c > 8) continue;  // more only when asked for
    if ((knobs.units == 0 || knobs.units == c) && fits(c)) {
      units = c;
      break;
    }
  }
  if (units == 0) return false;
  plan.unit = u;
  plan.fold = static_cast<uint32_t>(fold);
  plan.units = units;
  plan.compact = knobs.compact;
  plan.split = knobs.split;
  plan.slices = static_cast<uint32_t>(row_units / units);
  const uint64_t lane_units = units / split;
  const uint64_t lane_words = lane_units * static_cast<uint64_t>(u.index_bits) / 2;
  const uint64_t words = static_cast<uint64_t>(u.words_per_row());
  plan.load_words = 1;
  for (uint32_t w : {4u, 2u}) {
    if (lane_words % w == 0 && words % w == 0 && address_of(indices) % (4 * w) == 0) {
      plan.load_words = w;
      break;
    }
  }
  const uint64_t lane_groups = ceil_div(lane_units, units_per_group);
  plan.scale_load = 1;
  for (uint32_t w : {4u, 2u}) {
    if (lane_groups % w == 0 && u.groups_per_row() % w == 0 && address_of(scales) % (2 * w) == 0) {
      plan.scale_load = w;
      break;
    }
  }
  return true;
}

// Rows [first, first + count) of a row-contiguous [rows, cols] array, as a
// view of its buffer (its own range for the command stream's dependencies).
array row_view(const array& a, uint32_t first, uint32_t count, int64_t cols) {
  const Shape shape{static_cast<int32_t>(count), static_cast<int32_t>(cols)};
  array v(shape, a.dtype(), nullptr, {});
  v.copy_shared_buffer(a, {cols, 1}, detail::row_major_flags(shape), static_cast<size_t>(count) * cols,
                       static_cast<int64_t>(first) * cols * static_cast<int64_t>(a.itemsize()));
  return v;
}

// x @ W^T through binary_gemv_rotated.comp, 2 rows of x at a time (each
// chunk reads the weights again, mostly from the L2 while the chunks run side
// by side): every chunk's GEMV first, then their finish passes (one barrier).
// The caller has planned 2 rows (1 then fits too).
void record_rotated_gemv(KernelContext& k, const BinaryFormat& weights, const std::vector<array>& inputs,
                         uint32_t rows, const TableGemvKnobs& knobs, array& out) {
  struct Chunk {
    binary::Push push;
    BinaryFormat f;
    array out, partials;
  };
  std::vector<Chunk> chunks;
  for (uint32_t r0 = 0; r0 < rows; r0 += kMaxRotatedRows) {
    const uint32_t count = std::min(kMaxRotatedRows, rows - r0);
    RotatedGemvPlan plan;
    if (!plan_rotated_gemv(k.caps(), weights, count, inputs[1], inputs[3], knobs, plan)) {
      throw std::logic_error("[binary_matmul] the rotated GEMV took 2 rows of x but not 1");
    }
    const BinaryFormat& f = plan.unit;
    const bool whole = count == rows;
    array x = whole ? inputs[0] : row_view(inputs[0], r0, count, f.k);
    array y = whole ? out : row_view(out, r0, count, f.n);
    binary::Push push = product_push(f, {x, inputs[1], inputs[2], inputs[3]}, count, y);
    push.splits = plan.slices;
    const uint64_t wg = KernelContext::kWorkgroupSize;
    // Whole rows: LUMEN_VULKAN_BINARY_STEP_ROWS rows per workgroup (whole
    // subgroups of rows, at most one per invocation).
    const uint64_t full = wg / plan.split, lane_rows = 32 / plan.split;
    const uint32_t step_rows =
        knobs.whole && knobs.step_rows
            ? static_cast<uint32_t>(std::clamp<uint64_t>(knobs.step_rows / lane_rows * lane_rows, lane_rows, full))
            : 0;
    const uint64_t steps = ceil_div(static_cast<uint64_t>(f.n), step_rows ? step_rows : full);
    // Whole rows: a workgroup per step of rows (fewer when asked for), every
    // slice of them, no partial sums.
    const uint64_t groups =
        knobs.whole ? std::min<uint64_t>(knobs.workgroups ? std::min<uint64_t>(knobs.workgroups, steps) : steps,
                                         k.caps().max_workgroup_count[0])
                    : workgroups_per_slice(k, steps, plan.slices,
                                           knobs.workgroups ? knobs.workgroups : kRotatedWorkgroups) *
                          plan.slices;
    const bool split = plan.slices > 1 && !knobs.whole;
    array partials = split ? split_partials(k, push, y) : y;
    Constants constants(8, 0);
    constants[1] = dtype_id(out.dtype());
    constants[2] = count;
    constants[3] = plan.units;
    constants[4] = plan.fold;
    constants[5] = knobs.depth ? knobs.depth : kRotatedDepth;
    constants[6] = plan.load_words;
    constants[7] = plan.scale_load;
    constants = binary::format_constants(f, constants);
    constants.push_back(plan.compact);  // constant 11, after the format's
    constants.push_back(plan.split);    // 12
    constants.push_back(knobs.whole);   // 13
    constants.push_back(knobs.whole && knobs.keep_table);  // 14
    constants.push_back(knobs.nibble);  // 15
    constants.push_back(step_rows);     // 16
    k.dispatch("binary_gemv_rotated", constants, &push, sizeof(push), groups * wg,
               {&x, &inputs[1], &inputs[2], &inputs[3]}, {split ? &partials : &y});
    if (split) chunks.push_back({push, f, y, partials});
  }
  for (Chunk& c : chunks) record_finish(k, c.f, c.push, c.partials, c.out);
}

// The float16-table GEMV's plan (shaders/binary_gemv_half.comp): the folded
// format, units of 16 vectors per slice and per load chunk, slices, and the
// widest loads the alignment allows.
struct HalfGemvPlan {
  BinaryFormat unit{};
  uint32_t fold = 1, units = 0, chunk = 0, slices = 1, load_words = 1, scale_load = 1;
};

// H100, 0.75 bpw, 1 x 8192 @ 28672 x 8192, ms per product of 8 (single).
// Session 9, weights stored row after row: slices of 4 units (16 slices)
// with 1 chunk ahead 0.0244 (0.0262); 2 ahead 0.0254, 3: 0.0271; 2, 8 and 16
// units a slice 0.0284-0.0328, 0.0281, 0.0369 (more workgroups per slice,
// each building its table for fewer rows: the builds add up); 132 and 396
// workgroups 0.0333 and 0.0272; the rotated kernel 0.0284 (0.0302); the
// slices added by the GEMV's last workgroups rather than binary_finish.comp
// 0.0238-0.0239 (0.0257-0.0258) against 0.0245-0.0249 (0.0261-0.0263).
// Session 10, K-tiled weights: 0.0202-0.0206 (0.0224); 8 units 0.0227, 2
// ahead 0.0215, 330 / 396 / 528 workgroups 0.0212 / 0.0199-0.0201 / 0.0224;
// the slices' sums by float atomics 0.0189-0.0196 (0.0207-0.0212), with
// 330 / 396 / 528 workgroups 0.0203 / 0.0195 / 0.0210.
constexpr uint32_t kHalfWorkgroups = 264;
constexpr uint32_t kHalfDepth = 1;
constexpr uint32_t kHalfUnits = 4;
constexpr uint32_t kHalfChunk = 4;
constexpr uint32_t kHalfFinishSlices = 32;  // FINISH holds a step's partial sums of every slice in registers

// False where binary_gemv_half.comp does not apply: not one row of float16
// or bfloat16 x, a device without float16 arithmetic or subgroup
// reductions, or a format the rotated kernel's rules exclude (after folding:
// an odd number of index bits or more than 6, vectors not a multiple of 4
// elements, units across scale groups or not dividing a row); and unless
// forced, tables of fewer than 64 codewords (H100: folded 1-bit signs, 16
// entries, 0.0337 ms per product against the rotated kernel's 0.0305, whose
// reads of small tables cost less).
bool plan_half_gemv(const Capabilities& caps, const BinaryFormat& f, uint32_t rows, const std::vector<array>& inputs,
                    const TableGemvKnobs& knobs, HalfGemvPlan& plan) {
  const Dtype dt = inputs[0].dtype();
  if (!knobs.half || rows != 1 || (dt != float16 && dt != bfloat16) || !caps.float16 || !caps.subgroup_arithmetic) {
    return false;
  }
  const int fold = table_fold(f, knobs.table_bits);
  const BinaryFormat u = folded(f, fold);
  const int64_t unit_elements = 16ll * u.vector_size;
  const uint64_t wg = KernelContext::kWorkgroupSize;
  if (u.index_bits % 2 != 0 || u.index_bits > 6 || (u.index_bits != 6 && !knobs.half_forced) ||
      u.vector_size % 4 != 0 || u.group_size % unit_elements != 0 || u.vectors_per_row() % 16 != 0 ||
      wg % (1u << u.index_bits) != 0) {
    return false;
  }
  const uint64_t row_units = static_cast<uint64_t>(u.vectors_per_row() / 16);
  const uint64_t per_group = static_cast<uint64_t>(u.group_size / unit_elements);
  const uint64_t shared = std::min(caps.max_shared_memory, kGemvSharedBytes);
  // Shared bytes of `units` units: the float16 table, x's slice as float32, the max and the flag.
  auto bytes = [&](uint64_t units) {
    return units * 16 * (2ull << u.index_bits) + units * static_cast<uint64_t>(unit_elements) * 4 + 8;
  };
  // The largest slice up to the units asked for (a divisor of the row's
  // units that fits), loaded the most units at a time up to the chunk asked
  // for (inside a scale group or whole groups).
  const uint64_t want_units = knobs.units ? knobs.units : kHalfUnits;
  const uint64_t want_chunk = knobs.chunk ? knobs.chunk : kHalfChunk;
  for (uint64_t c = std::min(want_units, row_units); c > 0 && plan.units == 0; --c) {
    if (row_units % c != 0 || bytes(c) > shared) continue;
    for (uint64_t chunk = std::min(want_chunk, c); chunk > 0; --chunk) {
      if (c % chunk == 0 && (chunk % per_group == 0 || per_group % chunk == 0)) {
        plan.units = static_cast<uint32_t>(c);
        plan.chunk = static_cast<uint32_t>(chunk);
        break;
      }
    }
  }
  if (plan.units == 0) return false;
  plan.unit = u;
  plan.fold = static_cast<uint32_t>(fold);
  plan.slices = static_cast<uint32_t>(row_units / plan.units);
  const uint64_t chunk_words = plan.chunk * static_cast<uint64_t>(u.index_bits) / 2;
  for (uint32_t w : {4u, 2u}) {
    if (chunk_words % w == 0 && u.words_per_row() % w == 0 && address_of(inputs[1]) % (4 * w) == 0) {
      plan.load_words = w;
      break;
    }
  }
  const uint64_t chunk_groups = ceil_div(plan.chunk, per_group);
  for (uint32_t w : {4u, 2u}) {
    if (chunk_groups % w == 0 && u.groups_per_row() % w == 0 && address_of(inputs[3]) % (2 * w) == 0) {
      plan.scale_load = w;
      break;
    }
  }
  return true;
}

// The stream's floats, one per weight row, that binary_gemv_half_atomic adds
// slices' sums into (zero before and after each GEMV).
array stream_row_sums(KernelContext& k, const Stream& stream, uint64_t n) {
  static auto* sums = new StreamArrays;
  return stream_words(k, stream, *sums, n);
}

// x @ W^T for one row of x through binary_gemv_half.comp, then (more than
// one slice, without FINISH) binary_finish.comp.
void record_half_gemv(KernelContext& k, const Stream& stream, const std::vector<array>& inputs,
                      const HalfGemvPlan& plan, const TableGemvKnobs& knobs, array& out) {
  const BinaryFormat& f = plan.unit;
  binary::Push push = product_push(f, inputs, 1, out);
  push.splits = plan.slices;
  const uint64_t wg = KernelContext::kWorkgroupSize;
  const uint64_t steps = ceil_div(static_cast<uint64_t>(f.n), wg);
  const uint64_t groups =
      workgroups_per_slice(k, steps, plan.slices, knobs.workgroups ? knobs.workgroups : kHalfWorkgroups) *
      plan.slices;
  // The slices added by the GEMV's last workgroup of each run of steps (a
  // stream counter per run) from their partial sums, or from one float per
  // row that they add into by atomics (the stream's, left at zero), or by
  // binary_finish.comp.
  const bool finish = knobs.half_finish && plan.slices > 1 && plan.slices <= kHalfFinishSlices;
  const bool atomic = finish && knobs.half_atomic && k.caps().float32_atomic_add;
  std::optional<array> counters;
  if (finish) {
    counters = stream_counters(k, stream, groups / plan.slices);
    push.table = address_of(*counters);
  }
  array partials = atomic ? stream_row_sums(k, stream, f.n) : split_partials(k, push, out);
  if (atomic) push.partials = address_of(partials);
  Constants constants(8, 0);
  constants[1] = dtype_id(out.dtype());
  constants[2] = plan.units;
  constants[3] = plan.fold;
  constants[4] = plan.chunk;
  constants[5] = knobs.depth ? knobs.depth : kHalfDepth;
  constants[6] = plan.load_words;
  constants[7] = plan.scale_load;
  constants = binary::format_constants(f, constants);
  constants.push_back(knobs.half_probe & 7u);       // 11: PROBE (8 is the host's)
  constants.push_back(finish);                      // 12: FINISH
  constants.push_back(finish ? plan.slices : 1u);   // 13: SPLITS
  std::vector<const array*> writes{plan.slices > 1 ? &partials : &out};
  if (finish) writes = {&partials, &out, &*counters};
  k.dispatch(atomic ? "binary_gemv_half_atomic" : "binary_gemv_half", constants, &push, sizeof(push), groups * wg,
             {&inputs[0], &inputs[1], &inputs[2], &inputs[3]}, writes);
  if (plan.slices > 1 && !finish && (knobs.half_probe & 8u) == 0) record_finish(k, f, push, partials, out);
}

uint32_t gcd32(uint32_t a, uint32_t b) { return b == 0 ? a : gcd32(b, a % b); }

// False where the table GEMV does not apply: more than 4 rows of x, more
// than 256 codewords, vectors across scale groups, no subgroup shuffles, or
// not even the shortest slice's table fitting shared memory.
bool plan_table_gemv(const Capabilities& caps, const BinaryFormat& f, uint32_t rows, const TableGemvKnobs& knobs,
                     TableGemvPlan& plan) {
  if (knobs.chunked || rows > kMaxLutRows || !caps.subgroup_shuffle) return false;
  if (f.codebook_size() > kMaxLutCodewords || f.group_size % f.vector_size != 0) return false;
  const int fold = table_fold(f, knobs.table_bits);
  const BinaryFormat u = folded(f, fold);
  const auto bits = static_cast<uint32_t>(u.index_bits);
  const uint32_t unit_words = bits / gcd32(bits, 32), unit_vectors = 32 / gcd32(bits, 32);
  const uint64_t group_vectors = static_cast<uint64_t>(u.group_size / u.vector_size);
  const uint64_t codes = uint64_t(1) << bits;
  const uint32_t subgroup = caps.min_subgroup_size ? caps.min_subgroup_size : caps.subgroup_size;
  const uint64_t shared = std::min(caps.max_shared_memory, kGemvSharedBytes);
  const uint64_t vectors = static_cast<uint64_t>(u.vectors_per_row());
  auto slice_of = [&](uint32_t lanes, uint32_t units) { return uint64_t(lanes) * units * unit_vectors; };
  auto fits = [&](uint32_t lanes, uint32_t units) {
    const uint64_t lane_vectors = uint64_t(units) * unit_vectors;
    const bool groups_align = lane_vectors % group_vectors == 0 || group_vectors % lane_vectors == 0;
    return groups_align && 4 * rows * slice_of(lanes, units) * codes <= shared;
  };
  uint32_t lanes = std::min({knobs.row_lanes, subgroup, KernelContext::kWorkgroupSize});
  lanes = std::bit_floor(std::max<uint32_t>(lanes, 1));
  // By default a lane reads a whole scale group (one scale, and the row's
  // per-step work spread over fewer lanes), e.g. 4 words of 1-bit signs.
  uint32_t units = knobs.lane_units ? knobs.lane_units
                                    : static_cast<uint32_t>(std::clamp<uint64_t>(group_vectors / unit_vectors, 1, 8));
  // No longer slices than the row, then shorter until the table fits.
  while (lanes > 1 && uint64_t(lanes / 2) * units * unit_vectors >= vectors) lanes /= 2;
  while (units > 1 && uint64_t(lanes) * (units - 1) * unit_vectors >= vectors) --units;
  while (!fits(lanes, units) && (lanes > 1 || units > 1)) {
    if (lanes > 1) {
      lanes /= 2;
    } else {
      --units;
    }
  }
  if (!fits(lanes, units)) return false;
  plan.unit = u;
  plan.fold = static_cast<uint32_t>(fold);
  plan.unit_words = unit_words;
  plan.row_lanes = lanes;
  plan.lane_units = units;
  plan.slice_entries = static_cast<uint32_t>(slice_of(lanes, units) * codes);
  plan.slices = static_cast<uint32_t>(ceil_div(vectors, slice_of(lanes, units)));
  plan.workgroups = knobs.workgroups ? knobs.workgroups : static_cast<uint32_t>(kGemvWorkgroups);
  plan.depth = knobs.depth ? knobs.depth : 2;
  plan.finish = knobs.finish;
  // Stagger where a lane's run under one scale (its period) is 1 to 4 whole
  // words and deals out evenly over the lane's banks (at most 8 of them).
  const uint64_t lane_vectors = uint64_t(units) * unit_vectors;
  const uint64_t period = lane_vectors % group_vectors == 0 ? group_vectors : lane_vectors;
  const uint32_t lane_banks = 32 / lanes;
  plan.stagger = knobs.stagger && lane_banks <= 8 && period * bits % 32 == 0 && period * bits <= 128 &&
                 period % lane_banks == 0;
  return true;
}

void record_table_gemv(KernelContext& k, const std::vector<array>& inputs, uint32_t rows, const TableGemvPlan& plan,
                       array& out) {
  const BinaryFormat& f = plan.unit;
  binary::Push push = product_push(f, inputs, rows, out);
  push.splits = plan.slices;
  const uint64_t steps = ceil_div(static_cast<uint64_t>(f.n), KernelContext::kWorkgroupSize / plan.row_lanes);
  const uint64_t per_slice = workgroups_per_slice(k, steps, plan.slices, plan.workgroups);
  const bool split = plan.slices > 1, fused_finish = split && plan.finish;
  array partials = split_partials(k, push, out);
  // The table, then (fused finish) a counter per run of steps.
  const uint64_t entries = static_cast<uint64_t>(plan.slices) * rows * plan.slice_entries;
  push.chunks = fused_finish ? static_cast<uint32_t>(per_slice) : 0;
  array table = scratch_float32(k, entries + push.chunks);
  push.table = address_of(table);
  Constants constants(8, 0);
  constants[1] = dtype_id(out.dtype());
  constants[2] = rows;
  constants[3] = plan.row_lanes;
  constants[4] = plan.lane_units;
  constants[5] = plan.unit_words;
  constants[6] = plan.fold;
  constants[7] = static_cast<uint32_t>(uint64_t(1) << (f.index_bits / static_cast<int>(plan.fold)));
  constants = binary::format_constants(f, constants);
  constants.push_back(plan.stagger);  // constant 11, after the format's
  constants.push_back(plan.depth);    // 12
  constants.push_back(fused_finish);  // 13
  k.dispatch("binary_table", constants, &push, sizeof(push), entries, {&inputs[0], &inputs[2]}, {&table});
  std::vector<const array*> writes{split ? &partials : &out};
  if (fused_finish) writes.insert(writes.end(), {&table, &out});  // the counters after the table
  k.dispatch("binary_gemv_table", constants, &push, sizeof(push),
             per_slice * plan.slices * KernelContext::kWorkgroupSize, {&table, &inputs[1], &inputs[3]}, writes);
  if (split && !fused_finish) record_finish(k, f, push, partials, out);
}

void record_gemm(KernelContext& k, const BinaryFormat& f, const std::vector<array>& inputs, bool transpose,
                 uint32_t rows, array& out) {
  binary::Push push = product_push(f, inputs, rows, out, transpose);
  const uint32_t contraction = transpose ? push.K : push.N;
  // Tile and slice shapes of shaders/binary_gemm.comp: one row of 256
  // invocations for up to 16 rows of x, else 16 x 16.
  const bool narrow = rows <= 16;
  const uint32_t bm = narrow ? 16 : 64, bn = narrow ? 256 : 64, depth = narrow ? 16 : 32;
  const uint32_t bk = transpose ? std::max<uint32_t>(1, depth / f.vector_size) * f.vector_size : depth;
  const uint64_t tiles = ceil_div(rows, bm) * ceil_div(push.cols, bn);
  // Split the contraction when the tiles are too few, keeping 8 slices or
  // more per piece.
  const uint64_t most = std::max<uint64_t>(1, contraction / (8ull * bk));
  uint64_t splits = std::clamp<uint64_t>(ceil_div(kTargetWorkgroups, tiles), 1, most);
  push.split_len = static_cast<uint32_t>(ceil_div(ceil_div(contraction, splits), bk) * bk);
  splits = ceil_div(contraction, push.split_len);
  push.splits = static_cast<uint32_t>(splits);
  if (tiles * splits > UINT32_MAX) {
    throw std::runtime_error(fmt::format("[binary_matmul] {} tiles exceed the GPU kernel's index", tiles * splits));
  }
  array partials = split_partials(k, push, out);
  Constants constants(4, 0);
  constants[1] = dtype_id(out.dtype());
  constants[2] = transpose;
  constants[3] = narrow ? 1 : 16;
  k.dispatch("binary_gemm", binary::format_constants(f, constants), &push, sizeof(push),
             tiles * splits * KernelContext::kWorkgroupSize, {&inputs[0], &inputs[1], &inputs[2], &inputs[3]},
             {splits > 1 ? &partials : &out});
  if (splits > 1) record_finish(k, f, push, partials, out);
}

// The fused tensor-core GEMM (shaders/binary_gemm_coopmat.comp): float16 x
// with kMinCoopRows (LUMEN_VULKAN_BINARY_COOP_ROWS; 0 turns the route off)
// to kMinDenseRows - 1 rows (LUMEN_VULKAN_BINARY_COOP_WIDE=1: any number
// above), devices with VK_NV_cooperative_matrix, formats whose runs of 8
// weights are at most 8 index bits, and slices of 64 elements (128 for up to
// 16 rows where they divide the groups and K) inside one scale group.
constexpr uint32_t kMinCoopRows = 3;
constexpr uint32_t kCoopSlice = 64;
// Slices of 128 whose loads are in flight (LUMEN_VULKAN_BINARY_COOP_DEPTH).
constexpr uint32_t kCoopDepth = 2;
// Stream-K's workgroups (LUMEN_VULKAN_BINARY_COOP_STREAM): two per SM on
// the H100 (M = 16: 0.162-0.167 / 0.170-0.172 ms against 0.174-0.178 /
// 0.191-0.193 for a workgroup per tile, 224 of them; 396 and 528 no better).
constexpr uint32_t kCoopStreamWorkgroups = 264;
// Rows of float16 x from which the tensor-core route pays for writing W.
constexpr uint64_t kMinDenseRows = 64;

// LUMEN_VULKAN_BINARY_COOP_PORTABLE=1: the same kernel built with float32
// multiply-adds in place of cooperative matrices (binary_gemm_decoded), on
// any device: the tests check the decoder on devices without them.
bool coop_portable() { return env_is("LUMEN_VULKAN_BINARY_COOP_PORTABLE", "1"); }

// A tile of binary_gemm_coopmat.comp: subgroups along M (of 8), fragments
// per subgroup along M, slice depth, slices per chunk of x (0: x staged per
// slice); BN is 128 weight rows.
struct CoopTile {
  uint32_t warps_m, fm, bk, xchunk = 0, ksplit = 1, stages = 1;
  // Weight rows: 128, or with 4 or 8 groups of subgroups 64 or 32 (8 /
  // ksplit subgroups of 32 rows each).
  uint32_t bn() const { return ksplit > 1 ? 8 / ksplit * 32 : 128; }
};

// Knobs of the fused GEMM (read per call): LUMEN_VULKAN_BINARY_COOP_XCHUNK
// (slices of x staged at once, subgroups decoding their own rows of W; 0:
// off), _COOP_BK (64: the shallower slice), _COOP_SIGN_TABLE=1 (decoding by
// a table of sign bits), _COOP_PROBE (MEASUREMENT, wrong results: bit 0 no
// products, bit 1 no decoding, bit 2 no barriers per slice), _COOP_KSPLIT=2
// 4 or 8 (tensor-core build, 16-row tile: subgroups in that many groups,
// each a part of every slice's contraction, 32 weight rows a subgroup: 128-,
// 64- or 32-row tiles), _COOP_ROW_LANES=0 (decoding invocations
// part-fastest, as before: 2-way bank conflicts on the H100, 5% slower),
// _COOP_STREAM=G (stream-K over G workgroups; 0: off; kCoopStreamWorkgroups
// by default), _COOP_STAGES=2 (16-row tile, slices of 64: double-buffered
// tiles, one barrier per slice), _COOP_ACC2=0 (tensor-core build: one chain
// of accumulators, not two; on the H100 two took M = 16 1-bit from 0.171 to
// 0.160 ms, 0.75 bpw unchanged at 0.163).
struct CoopKnobs {
  uint32_t xchunk = 0, bk = 0, probe = 0, ksplit = 1, stream = 0, stages = 1;
  bool sign_table = false, row_lanes = false, acc2 = false;
};

CoopKnobs coop_knobs() {
  CoopKnobs k;
  k.xchunk = std::min<uint32_t>(env_number("LUMEN_VULKAN_BINARY_COOP_XCHUNK").value_or(0), 16);
  k.bk = env_number("LUMEN_VULKAN_BINARY_COOP_BK").value_or(0);
  k.probe = env_number("LUMEN_VULKAN_BINARY_COOP_PROBE").value_or(0) & 7u;
  k.sign_table = env_number("LUMEN_VULKAN_BINARY_COOP_SIGN_TABLE").value_or(0) != 0;
  const uint32_t ksplit = env_number("LUMEN_VULKAN_BINARY_COOP_KSPLIT").value_or(1);
  k.ksplit = ksplit == 2 || ksplit == 4 || ksplit == 8 ? ksplit : 1;
  k.row_lanes = env_number("LUMEN_VULKAN_BINARY_COOP_ROW_LANES").value_or(1) != 0;
  k.stream = env_number("LUMEN_VULKAN_BINARY_COOP_STREAM").value_or(kCoopStreamWorkgroups);
  k.stages = env_number("LUMEN_VULKAN_BINARY_COOP_STAGES").value_or(1) == 2 ? 2 : 1;
  k.acc2 = env_number("LUMEN_VULKAN_BINARY_COOP_ACC2").value_or(1) != 0;
  return k;
}

// Its shared memory: x's and W's tiles as float16 with rows padded by 16
// bytes (the shader's smem), the codebook and the sign table.
uint64_t coop_shared_bytes(const CoopTile& t, uint32_t frag_m, const BinaryFormat& f, bool sign_table) {
  const uint64_t bm = uint64_t(t.warps_m) * t.fm * frag_m, pitch = t.bk / 8 + 1;
  const uint64_t x_pitch = (t.xchunk ? t.xchunk : 1) * t.bk / 8 + 1;
  // The epilogue's fragments: a subgroup's each, or the groups' sums (32 rows a subgroup).
  const uint64_t epilogue = std::max<uint64_t>(8, (t.ksplit - 1) * (t.bn() / 32) * bm / 16 * 2) * 64;
  return 16 * std::max(t.stages * (bm * x_pitch + t.bn() * pitch), epilogue) +
         4 * static_cast<uint64_t>(f.codebook_size()) +
         (sign_table ? 4096 : 16);
}

// Up to 16 rows: 16 x 128 tiles (a subgroup per 16 weight rows), slices of
// 128 where they divide the groups and K; more: 128 x 128 tiles of 2 x 4
// subgroups, slices of 64 (both tiles in 48 KiB). Smaller where shared
// memory is (32 KiB on lavapipe). XCHUNK (knobs) for the 16-row tile when
// the fragments are 16 x 16 x 16, a multiple of the loads in flight.
// False when none fits.
bool coop_tile(const Capabilities& caps, const BinaryFormat& f, uint32_t rows, const std::array<uint32_t, 3>& frag,
               const CoopKnobs& knobs, uint32_t depth, CoopTile& tile) {
  const bool deep = f.group_size % 128 == 0 && f.k % 128 == 0 && knobs.bk != 64;
  const bool square = frag == std::array<uint32_t, 3>{16, 16, 16};
  const uint32_t xchunk = knobs.xchunk && square ? std::max(knobs.xchunk / depth, 1u) * depth : 0;
  const uint32_t ksplit = square && !coop_portable() ? knobs.ksplit : 1;
  std::vector<CoopTile> choices;
  if (rows <= 16) {
    // (A group's part of a slice holds at least one fragment's 16 elements.)
    const uint32_t shallow = std::min(ksplit, 64u / 16);
    if (knobs.stages == 2 && !xchunk) choices.push_back({1, 1, 64, 0, shallow, 2});
    if (deep) choices.push_back({1, 1, 128, xchunk, ksplit});
    choices.push_back({1, 1, 64, xchunk, shallow});
    if (xchunk) {
      if (deep) choices.push_back({1, 1, 128, 0, ksplit});
      choices.push_back({1, 1, 64, 0, shallow});
    }
  } else {
    choices.push_back({2, 4, 64});
    choices.push_back({2, 2, 64});
  }
  for (const CoopTile& t : choices) {
    if (coop_shared_bytes(t, frag[0], f, knobs.sign_table) <= caps.max_shared_memory) {
      tile = t;
      return true;
    }
  }
  return false;
}

std::array<uint32_t, 3> coop_fragment_shape(const Capabilities& caps) {
  return coop_portable() ? std::array<uint32_t, 3>{16, 16, 16} : *coopmat_fragment(caps);
}

// Slices whose loads are in flight (LUMEN_VULKAN_BINARY_COOP_DEPTH).
uint32_t coop_depth() {
  const char* depth = std::getenv("LUMEN_VULKAN_BINARY_COOP_DEPTH");
  return depth && *depth ? std::clamp<uint32_t>(static_cast<uint32_t>(std::atoi(depth)), 1, 8) : kCoopDepth;
}

bool coop_gemm_suits(const Capabilities& caps, const BinaryFormat& f, const array& x, uint64_t rows) {
  const char* env = std::getenv("LUMEN_VULKAN_BINARY_COOP_ROWS");
  const uint64_t min_rows = env && *env ? std::strtoull(env, nullptr, 10) : kMinCoopRows;
  const bool any = env_is("LUMEN_VULKAN_BINARY_COOP_WIDE", "1");
  if (min_rows == 0 || rows < min_rows || (rows >= kMinDenseRows && !any) || x.dtype() != float16 ||
      !(coop_portable() || coopmat_fragment(caps))) {
    return false;
  }
  const int v = f.vector_size, run_bits = 8 / std::max(v, 1) * f.index_bits;
  CoopTile tile;
  return (v == 1 || v == 2 || v == 4 || v == 8) && run_bits <= 8 && f.group_size % kCoopSlice == 0 &&
         f.k % kCoopSlice == 0 && address_of(x) % 16 == 0 &&
         coop_tile(caps, f, static_cast<uint32_t>(std::min<uint64_t>(rows, UINT32_MAX)), coop_fragment_shape(caps),
                   coop_knobs(), coop_depth(), tile);
}

// MEASUREMENT (LUMEN_VULKAN_BINARY_LAYOUT=1): logs, once per process, which
// (k, n) each invocation's elements of a column-major 16 x 16 float16 B
// fragment hold (shaders/binary_layout_probe.comp; a dispatch waited for).
void log_fragment_layout(KernelContext& k) {
  static bool done = false;
  if (done || !env_is("LUMEN_VULKAN_BINARY_LAYOUT", "1")) return;
  done = true;
  constexpr uint32_t kSlots = 32 * 8 + 1;
  const std::vector<uint32_t> e = read_probe_words(k, "binary_layout_probe", kSlots);
  std::string line = fmt::format("length {}:", e[256]);
  for (uint32_t lane = 0; lane < 32; ++lane) {
    line += fmt::format(" [{}]", lane);
    for (uint32_t i = 0; i < 8; ++i) {
      if (e[lane * 8 + i] != 0xffffffffu) line += fmt::format(" {}.{}", e[lane * 8 + i] / 16, e[lane * 8 + i] % 16);
    }
  }
  detail::logger()->info("vulkan: B fragment layout (k.n per element) {}", line);
}

void record_coop_gemm(KernelContext& k, const BinaryFormat& f, const std::vector<array>& inputs, uint32_t rows,
                      array& out) {
  if (!coop_portable()) log_fragment_layout(k);
  const std::array<uint32_t, 3> frag = coop_fragment_shape(k.caps());
  const CoopKnobs knobs = coop_knobs();
  const uint32_t depth = coop_depth();
  CoopTile tile;
  if (!coop_tile(k.caps(), f, rows, frag, knobs, depth, tile)) {
    throw std::logic_error("[binary_matmul] no fused GEMM tile fits");
  }
  binary::Push push = product_push(f, inputs, rows, out);
  const uint32_t bm = tile.warps_m * tile.fm * frag[0];
  const uint32_t fn = tile.bn() / (KernelContext::kWorkgroupSize / 32 / tile.warps_m / tile.ksplit * frag[1]);
  const uint64_t tiles = ceil_div(rows, bm) * ceil_div(static_cast<uint64_t>(f.n), tile.bn());
  // Split-K only when asked for (LUMEN_VULKAN_BINARY_COOP_SPLITS pieces, their
  // float32 sums added by binary_finish.comp in order): on the H100 it did
  // not pay at M = 16 (224 tiles; 3 pieces 7% slower, 6 pieces 5%).
  const uint64_t slices = ceil_div(static_cast<uint64_t>(f.k), tile.bk);
  // Stream-K (knobs.stream workgroups, at most one per slice): workgroup w
  // takes the tiles' slices [w * units / G, (w + 1) * units / G); a tile's
  // pieces go to slots 0, 1, ... of the partial sums (as many as the most
  // workgroups any tile has), added by binary_finish.comp in order.
  const uint64_t units = tiles * slices;
  const uint64_t stream = std::min<uint64_t>(knobs.stream, units);
  uint64_t groups = tiles;
  if (stream) {
    groups = stream;
    push.split_len = static_cast<uint32_t>(slices);
    push.chunks = static_cast<uint32_t>(stream);
    // The workgroup whose run holds slice u: ceil((u + 1) G / units) - 1.
    auto owner = [&](uint64_t u) { return ceil_div((u + 1) * stream, units) - 1; };
    uint64_t most = 1;
    for (uint64_t t = 0; t < tiles; ++t) most = std::max(most, owner((t + 1) * slices - 1) - owner(t * slices) + 1);
    push.splits = static_cast<uint32_t>(most);
  } else {
    const char* env = std::getenv("LUMEN_VULKAN_BINARY_COOP_SPLITS");
    const uint64_t splits =
        std::min<uint64_t>(env && *env ? std::max<uint64_t>(std::strtoull(env, nullptr, 10), 1) : 1, slices);
    push.split_len = static_cast<uint32_t>(ceil_div(slices, splits) * tile.bk);
    push.splits = static_cast<uint32_t>(ceil_div(static_cast<uint64_t>(f.k), push.split_len));
    groups = tiles * push.splits;
  }
  array partials = split_partials(k, push, out);
  Constants constants{0, dtype_id(out.dtype()), frag[0], frag[1], frag[2], tile.warps_m, tile.fm, fn};
  constants = binary::format_constants(f, constants);
  constants.push_back(static_cast<uint32_t>(f.codebook_size()));  // 11: CODES
  constants.push_back(tile.stages == 2 ? 2 : depth);  // 12: DEPTH (the buffers' 2 with STAGES)
  constants.push_back(tile.bk);                   // 13: BK
  constants.push_back(tile.xchunk);               // 14: XCHUNK
  constants.push_back(knobs.probe);               // 15: PROBE
  constants.push_back(knobs.sign_table);          // 16: SIGN_TABLE
  constants.push_back(tile.ksplit);               // 17: KSPLIT
  constants.push_back(knobs.row_lanes);           // 18: ROW_LANES
  constants.push_back(stream != 0);               // 19: STREAM
  constants.push_back(tile.stages);               // 20: STAGES
  constants.push_back(knobs.acc2);                // 21: ACC2
  k.dispatch(coop_portable() ? "binary_gemm_decoded" : "binary_gemm_coopmat", constants, &push, sizeof(push),
             groups * KernelContext::kWorkgroupSize, {&inputs[0], &inputs[1], &inputs[2], &inputs[3]},
             {push.splits > 1 ? &partials : &out});
  if (stream && push.splits > 1) {
    k.dispatch("binary_finish", binary::format_constants(f, {0, dtype_id(out.dtype()), bm, tile.bn()}), &push,
               sizeof(push), static_cast<uint64_t>(push.rows) * push.cols, {&partials}, {&out});
  } else if (push.splits > 1) {
    record_finish(k, f, push, partials, out);
  }
}

bool dense_forced(const array& x) {
  return env_is("LUMEN_VULKAN_BINARY_DENSE", "1") && x.dtype() == float16;
}

bool dense_route(const Capabilities& caps, const array& x, uint64_t rows) {
  return dense_forced(x) || (x.dtype() == float16 && rows >= kMinDenseRows && coopmat_matmul_available(caps));
}

// out = x @ W^T (or x @ W) through a float16 copy of W.
void record_dense(KernelContext& k, const BinaryFormat& f, const std::vector<array>& inputs, bool transpose,
                  uint32_t rows, array& out) {
  array w16(Shape{f.n, f.k}, float16, nullptr, {});
  k.allocate(w16);
  binary::record_dequantize(k, f, inputs[1], inputs[2], inputs[3], w16);
  MatmulProblem p;
  p.a = &inputs[0];
  p.b = &w16;
  p.out = &out;
  p.M = rows;
  p.N = static_cast<uint32_t>(transpose ? f.n : f.k);
  p.K = static_cast<uint32_t>(transpose ? f.k : f.n);
  p.batch = 1;
  p.a_rs = p.K;
  p.a_cs = 1;
  // B (k, j) is W[j, k] for x @ W^T, else W[k, j].
  p.b_rs = transpose ? 1 : f.k;
  p.b_cs = transpose ? f.k : 1;
  if (!record_coopmat_matmul(k, p)) record_tiled_matmul(k, p, matmul_push(k, p), false);
}

void binary_matmul_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const BinaryMatmul&>(p);
  const BinaryFormat& f = prim.format();
  KernelContext k(p);
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;
  const uint64_t rows = inputs[0].size() / (prim.transpose() ? f.k : f.n);
  if (rows > INT32_MAX) {
    throw std::runtime_error(fmt::format("[binary_matmul] the GPU kernels take at most 2^31 - 1 rows of x; got {}", rows));
  }
  const auto r = static_cast<uint32_t>(rows);
  const TableGemvKnobs knobs = table_knobs();
  RotatedGemvPlan rotated_plan;
  HalfGemvPlan half_plan;
  TableGemvPlan table_plan;
  GemvPlan plan;
  const bool decoding = prim.transpose() && rows <= kMaxGemvRows;
  const bool gemv = decoding && (plan_gemv(k.caps(), f, r, true, plan) || plan_gemv(k.caps(), f, r, false, plan));
  const bool rotated = prim.transpose() && rows <= kMaxRotatedChunkedRows &&
                       plan_rotated_gemv(k.caps(), f, std::min(r, kMaxRotatedRows), inputs[1], inputs[3], knobs,
                                         rotated_plan);
  if (prim.transpose() && !dense_forced(inputs[0]) && coop_gemm_suits(k.caps(), f, inputs[0], rows)) {
    record_coop_gemm(k, f, inputs, r, out);
  } else if (dense_route(k.caps(), inputs[0], rows)) {
    record_dense(k, f, inputs, prim.transpose(), r, out);
  } else if (prim.transpose() && plan_half_gemv(k.caps(), f, r, inputs, knobs, half_plan)) {
    record_half_gemv(k, p.stream(), inputs, half_plan, knobs, out);
  } else if (rotated) {
    record_rotated_gemv(k, f, inputs, r, knobs, out);
  } else if (decoding && plan_table_gemv(k.caps(), f, r, knobs, table_plan)) {
    record_table_gemv(k, inputs, r, table_plan, out);
  } else if (gemv) {
    record_gemv(k, inputs, r, plan, out);
  } else {
    record_gemm(k, f, inputs, prim.transpose(), r, out);
  }
}

LUMEN_REGISTER_KERNEL(Device::gpu, BinaryMatmul, binary_matmul_kernel);

}  // namespace

}  // namespace lumen::vulkan
