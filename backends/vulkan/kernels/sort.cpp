// Vulkan kernels of Sort, ArgSort, Partition and ArgPartition (shaders/
// sort.comp). Lines up to SORT_BLOCK_ELEMENTS are sorted in shared memory,
// several to a workgroup; longer lines are sorted in chunks that merge
// passes join, doubling the sorted runs each time, through two scratch
// buffers of (key, index) pairs. Partitions get the full sort: it meets
// their contract (and ArgPartition's ties ordered by index).
#include <bit>
#include <utility>

#include "backends/cpu/reduce_layout.h"
#include "backends/vulkan/kernels/reduce_common.h"
#include "lumen/backend.h"
#include "lumen/sort_primitives.h"

namespace lumen::vulkan {

namespace {

// Push constants of shaders/sort.comp.
struct SortPush {
  uint64_t in_addr;
  uint64_t out_addr;
  uint64_t keys_in;
  uint64_t index_in;
  uint64_t keys_out;
  uint64_t index_out;
  uint64_t lines;
  uint64_t n;
  int64_t in_stride;
  uint64_t inner;
  uint64_t table;
  uint32_t kd;
  uint32_t tile;
  uint32_t width;
  uint32_t pass;
  uint32_t write;
  uint32_t pad;
};
static_assert(sizeof(SortPush) <= 128, "push constants");

// (key, index) pairs of every line, line l at l * n.
struct Pairs {
  array keys;
  array index;
};

Pairs make_pairs(KernelContext& k, int64_t count) {
  return {scratch(k, count, uint64), scratch(k, count, uint32)};
}

void sort_lines(const Primitive& p, int axis, bool indices, const array& in, array& out) {
  KernelContext k(p);
  k.allocate(out);
  if (out.size() == 0) return;
  auto l = cpu::make_reduce_layout(in, {axis});
  const int64_t n = in.shape(axis);
  SortPush push{};
  set_lines(push, k, in, out, axis, l);

  const uint32_t final_write = indices ? SORT_WRITE_INDICES : SORT_WRITE_VALUES;
  auto pass = [&](uint32_t kind, uint32_t write, uint64_t threads, std::initializer_list<const array*> reads,
                  std::initializer_list<const array*> writes) {
    push.pass = kind;
    push.write = write;
    Constants constants(10, 0);
    constants[9] = dtype_id(in.dtype());
    k.dispatch("sort", std::move(constants), &push, sizeof(push), threads, reads, writes);
  };

  constexpr int64_t block = SORT_BLOCK_ELEMENTS;
  if (n <= block) {
    push.tile = std::bit_ceil(static_cast<uint32_t>(n));
    int64_t tiles = ceil_div(l.n_out, block / push.tile);
    pass(SORT_BLOCK, final_write, static_cast<uint64_t>(tiles) * REDUCE_WG, {&in}, {&out});
    return;
  }
  // Long lines: sorted chunks, then merges until one run spans the line.
  const int64_t count = l.n_out * n;
  Pairs a = make_pairs(k, count), b = make_pairs(k, count);
  push.tile = block;
  push.keys_out = address_of(a.keys);
  push.index_out = address_of(a.index);
  pass(SORT_BLOCK, SORT_WRITE_PAIRS, static_cast<uint64_t>(l.n_out * ceil_div(n, block)) * REDUCE_WG, {&in},
       {&a.keys, &a.index});
  for (int64_t width = block; width < n; width *= 2) {
    bool last = 2 * width >= n;
    push.width = static_cast<uint32_t>(width);
    push.keys_in = address_of(a.keys);
    push.index_in = address_of(a.index);
    push.keys_out = address_of(b.keys);
    push.index_out = address_of(b.index);
    if (last) {
      pass(SORT_MERGE, final_write, static_cast<uint64_t>(count), {&in, &a.keys, &a.index}, {&out});
    } else {
      pass(SORT_MERGE, SORT_WRITE_PAIRS, static_cast<uint64_t>(count), {&a.keys, &a.index}, {&b.keys, &b.index});
      std::swap(a, b);
    }
  }
}

void sort_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  sort_lines(p, static_cast<const Sort&>(p).axis(), false, inputs[0], outputs[0]);
}

void argsort_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  sort_lines(p, static_cast<const ArgSort&>(p).axis(), true, inputs[0], outputs[0]);
}

void partition_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  sort_lines(p, static_cast<const Partition&>(p).axis(), false, inputs[0], outputs[0]);
}

void argpartition_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  sort_lines(p, static_cast<const ArgPartition&>(p).axis(), true, inputs[0], outputs[0]);
}

LUMEN_REGISTER_KERNEL(Device::gpu, Sort, sort_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, ArgSort, argsort_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Partition, partition_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, ArgPartition, argpartition_kernel);

}  // namespace
}  // namespace lumen::vulkan
