// Vulkan kernel of Reduce (sum, prod, max, min, all, any over any axes).
//
// The input is collapsed into kept and reduced dims (the CPU's
// make_reduce_layout). A pass either gives each output a group of threads
// (rows: the reduced elements are the fast-moving ones; the whole workgroup
// for long rows, several rows to a workgroup for shorter ones) or a thread
// (columns: neighbouring outputs are neighbours in memory; and short
// reductions).
// When there are too few outputs to fill the device, or too many elements
// per output for one thread or workgroup to sum accurately, the reduced
// range is cut into segments: the pass writes one partial accumulator per
// segment (float32 for float16/bfloat16, int64/uint64 for integers) and the
// partials are reduced again, down to one per output.
#include <algorithm>
#include <bit>

#include "backends/cpu/reduce_layout.h"
#include "backends/vulkan/kernels/reduce_common.h"
#include "lumen/backend.h"
#include "lumen/reduction_primitives.h"

namespace lumen::vulkan {

namespace {

// Push constants of shaders/reduce.glsl.
struct ReducePush {
  uint64_t in_addr;
  uint64_t out_addr;
  uint64_t items;
  uint64_t n_red;
  uint64_t table;
  uint32_t seg_len;
  uint32_t segs;
  uint32_t kd;
  uint32_t rd;
  uint32_t lanes;
  uint32_t spread;
  uint32_t general;
  uint32_t contiguous;
};

// Workgroup passes: enough workgroups to fill a large GPU, each segment
// long enough to amortize the workgroup reduction and short enough that a
// thread folds at most about a thousand elements.
constexpr int64_t kTargetGroups = 2048;
constexpr int64_t kMinGroupSegment = 32 * REDUCE_WG;
constexpr int64_t kMaxGroupSegment = 1024 * REDUCE_WG;
// Thread passes, likewise.
constexpr int64_t kTargetThreads = 1 << 17;
constexpr int64_t kMinThreadSegment = 64;
constexpr int64_t kMaxThreadSegment = 512;
// Reductions this short get a thread per output whatever the layout.
constexpr int64_t kShortReduction = 32;
// Shorter segments get fewer threads each (several segments to a
// workgroup): about this many elements per thread, and at least a subgroup.
constexpr int64_t kElementsPerLane = 16;

uint32_t reduce_op_id(Reduce::ReduceType t) {
  switch (t) {
    case Reduce::And: return RED_AND;
    case Reduce::Or: return RED_OR;
    case Reduce::Sum: return RED_SUM;
    case Reduce::Prod: return RED_PROD;
    case Reduce::Min: return RED_MIN;
    case Reduce::Max: return RED_MAX;
  }
  return RED_SUM;
}

// The dtype of partial results: the accumulator's.
Dtype partial_dtype(uint32_t op, Dtype in) {
  if (op == RED_AND || op == RED_OR) return bool_;
  std::string cls = compute_class(in);
  if (cls == "float") return float32;
  if (cls == "double") return float64;
  if (cls == "complex") return complex64;
  return issubdtype(in, signedinteger) ? int64 : uint64;
}

struct Pass {
  uint32_t spread;
  int64_t segs;
  int64_t seg_len;
  uint32_t lanes = REDUCE_WG;  // SPREAD_GROUP: threads per segment
};

// Segments per output: at most `max_len` elements each; more of them (down
// to `min_len` elements) while the outputs alone leave the device idle.
Pass segment(uint32_t spread, int64_t n_out, int64_t n_red, int64_t target, int64_t min_len,
             int64_t max_len) {
  int64_t segs = ceil_div(n_red, max_len);
  if (n_out < target) segs = std::max(segs, std::min(ceil_div(target, n_out), ceil_div(n_red, min_len)));
  segs = std::max<int64_t>(segs, 1);
  int64_t len = std::max<int64_t>(ceil_div(n_red, segs), 1);
  return {spread, std::max<int64_t>(ceil_div(n_red, len), 1), len};
}

// Threads per segment of a SPREAD_GROUP pass: a power of two from the
// subgroup size up to the workgroup.
uint32_t group_lanes(KernelContext& k, int64_t seg_len) {
  uint32_t fewest = std::clamp<uint32_t>(std::bit_ceil(std::max<uint32_t>(k.caps().subgroup_size, 1)), 1, REDUCE_WG);
  auto wanted = static_cast<uint64_t>(ceil_div(seg_len, kElementsPerLane));
  return static_cast<uint32_t>(std::clamp<uint64_t>(std::bit_ceil(wanted), fewest, REDUCE_WG));
}

Pass plan(KernelContext& k, const cpu::ReduceLayout& l) {
  bool columns = l.kstride.back() == 1 && l.kshape.back() > 1 && l.rstride.back() != 1;
  if (columns || l.n_red <= kShortReduction) {
    return segment(SPREAD_THREAD, l.n_out, l.n_red, kTargetThreads, kMinThreadSegment, kMaxThreadSegment);
  }
  Pass pass = segment(SPREAD_GROUP, l.n_out, l.n_red, kTargetGroups, kMinGroupSegment, kMaxGroupSegment);
  pass.lanes = group_lanes(k, pass.seg_len);
  return pass;
}

// Reduces `src` (laid out as `l`) into `out` (row-contiguous, n_out elements),
// through passes of partial results where the plan cuts the reduction.
void reduce_into(KernelContext& k, uint32_t op, const array& src, const cpu::ReduceLayout& l, array& out) {
  Pass pass = plan(k, l);
  bool final_pass = pass.segs == 1;
  int64_t items = l.n_out * pass.segs;
  array partial = final_pass ? out : scratch(k, items, partial_dtype(op, src.dtype()));

  std::vector<int64_t> table;
  table.insert(table.end(), l.kshape.begin(), l.kshape.end());
  table.insert(table.end(), l.kstride.begin(), l.kstride.end());
  table.insert(table.end(), l.rshape.begin(), l.rshape.end());
  table.insert(table.end(), l.rstride.begin(), l.rstride.end());
  ReducePush push{};
  push.in_addr = address_of(src);
  push.out_addr = address_of(partial);
  push.items = static_cast<uint64_t>(items);
  push.n_red = static_cast<uint64_t>(l.n_red);
  push.table = upload_table(k, table);
  push.seg_len = static_cast<uint32_t>(pass.seg_len);
  push.segs = static_cast<uint32_t>(pass.segs);
  push.kd = static_cast<uint32_t>(l.kshape.size());
  push.rd = static_cast<uint32_t>(l.rshape.size());

  bool general = l.rshape.size() > 1;
  bool contiguous = pass.spread == SPREAD_GROUP && !general && l.rstride[0] == 1;
  push.lanes = pass.lanes;
  push.spread = pass.spread;
  push.general = general;
  push.contiguous = contiguous;
  Constants constants(11, 0);
  constants[8] = op;
  constants[9] = dtype_id(src.dtype());
  constants[10] = dtype_id(partial.dtype());
  // all/any fold 0/1 in the integer module whatever the dtype.
  bool logical = op == RED_AND || op == RED_OR;
  std::string module = logical ? "reduce_int" : class_module(k, "reduce", src.dtype(), true);
  const int64_t per_group = REDUCE_WG / pass.lanes;
  uint64_t threads = pass.spread == SPREAD_GROUP ? static_cast<uint64_t>(ceil_div(items, per_group)) * REDUCE_WG
                                                 : static_cast<uint64_t>(items);
  k.dispatch(module.c_str(), std::move(constants), &push, sizeof(push), threads, {&src}, {&partial});
  if (final_pass) return;

  // The partials, as a reduction of their own.
  cpu::ReduceLayout next;
  next.n_out = l.n_out;
  next.n_red = pass.segs;
  next.kshape = {l.n_out};
  next.rshape = {pass.segs};
  if (pass.spread == SPREAD_GROUP) {  // item o * segs + s
    next.kstride = {pass.segs};
    next.rstride = {1};
  } else {  // item s * n_out + o
    next.kstride = {1};
    next.rstride = {l.n_out};
  }
  reduce_into(k, op, partial, next, out);
}

void reduce_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const Reduce&>(p);
  KernelContext k(p);
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;
  reduce_into(k, reduce_op_id(prim.reduce_type()), inputs[0], cpu::make_reduce_layout(inputs[0], prim.axes()),
              out);
}

LUMEN_REGISTER_KERNEL(Device::gpu, Reduce, reduce_kernel);

}  // namespace
}  // namespace lumen::vulkan
