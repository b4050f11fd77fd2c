// Vulkan kernel of GumbelSample. Filtered calls first find each row's
// threshold (shaders/sampling_threshold.comp): rows of one chunk in one
// dispatch, a workgroup per row; longer rows split across many workgroups per
// row, in a prepare dispatch and one per radix digit, the digits chosen on
// the GPU (no host reads between passes). Then the draw
// (shaders/sampling_draw.comp, one dispatch: one pass over each row in
// chunks, noise in registers, a partial argmax per chunk, combined by the
// row's last workgroup), which also checks the runtime parameters into the
// stream's error record (thrown as std::invalid_argument when the stream
// finishes).
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "backends/vulkan/kernels/index_errors.h"
#include "backends/vulkan/kernels/launch.h"
#include "core/detail/errors.h"
#include "lumen/sampling_primitives.h"

namespace lumen::vulkan {
namespace {

// Push constants of shaders/sampling.glsl.
struct SamplePush {
  uint64_t x, temperature, top_k, top_p, key, scratch, partial, out, sync;
  int64_t row_step, col_step;
  int32_t t_step, k_step, p_step, key_step;
  uint32_t rows, V, chunk, chunks, dt, state_step;
};
static_assert(sizeof(SamplePush) <= 128, "Vulkan guarantees 128 bytes of push constants");

// Sizes of shaders/sampling.glsl's filtering scratch: a RowState per row,
// then three digits' histograms of 2048 bins of three words per row, then a
// float per chunk of each row.
constexpr int64_t kStateBytes = 128;
constexpr int64_t kHistogramBytes = 3 * 2048 * 3 * 4;
constexpr uint32_t kDigits = 3;

// sampling_threshold.comp's modes.
enum ThresholdMode : uint32_t { Prepare = 0, Digit = 1, WholeRow = 2 };

// Vocabularies up to this size are drawn one row per invocation.
constexpr uint32_t kRowPerThreadVocab = 32;

// The stride of a small parameter view, which fits in 32 bits.
int32_t small_stride(const array& a) {
  int64_t st = a.ndim() == 0 ? 0 : a.strides(0);
  if (st != static_cast<int32_t>(st)) {
    detail::throw_invalid("[GumbelSample] parameter stride {} does not fit in 32 bits", st);
  }
  return static_cast<int32_t>(st);
}

// A scratch array of n bytes (rounded up to words) on the GPU, freed once
// the recorded work has run.
array scratch_bytes(KernelContext& k, int64_t n) {
  array a(Shape{static_cast<int32_t>((n + 3) / 4)}, uint32, nullptr, {});
  k.allocate(a);
  return a;
}

// The stream's SampleSync (shaders/sampling_draw.comp): the error record's
// address, then a counter per row, which every draw leaves at zero. Kept per
// stream for the life of the process (as the error records), grown when a
// call has more rows; the draw lists it as written, so draws on a stream are
// ordered.
array sample_sync(KernelContext& k, const Stream& s, uint32_t rows) {
  static std::mutex mu;
  static auto* syncs = new std::map<const CommandStream*, array>;
  std::lock_guard<std::mutex> lk(mu);
  auto it = syncs->find(&k.stream());
  const int64_t header = 2;  // the record's address, in two words
  if (it != syncs->end() && static_cast<int64_t>(it->second.size()) >= header + rows) return it->second;
  int64_t words = header + std::max<int64_t>(
      rows, it == syncs->end() ? 1024 : 2 * (static_cast<int64_t>(it->second.size()) - header));
  array host(Shape{static_cast<int32_t>(words)}, uint32, nullptr, {});
  host.set_data(allocator::allocator(Device::cpu).malloc(host.nbytes()));
  std::memset(host.data<uint32_t>(), 0, host.nbytes());
  const uint64_t record = index_error_record(k.backend(), k.stream());
  std::memcpy(host.data<uint32_t>(), &record, sizeof(record));
  array sync = k.backend().import(host, s);
  (*syncs)[&k.stream()] = sync;
  return sync;
}

// Elements per workgroup: 16 per thread (the most sampling_draw.comp holds in
// registers, MAX_PER), or 4 where that leaves too few workgroups to fill the
// device (a few per SM on an H100).
uint32_t chunk_size(uint64_t rows, uint32_t V) {
  const uint32_t wg = KernelContext::kWorkgroupSize;
  const uint64_t wide = rows * ((V + 16 * wg - 1) / (16 * wg));
  return wide >= 512 ? 16 * wg : 4 * wg;
}

// Records the threshold passes of `push` (its rows: the rows that need one);
// returns the scratch holding the row states.
array record_thresholds(KernelContext& k, SamplePush push, std::vector<const array*> reads) {
  const int64_t rows = static_cast<int64_t>(push.rows);
  const bool whole_rows = push.chunks == 1;
  const int64_t bytes = rows * kStateBytes +
                        (whole_rows ? 0 : rows * (kHistogramBytes + 4 * int64_t{push.chunks}));
  array scratch = scratch_bytes(k, bytes);
  push.scratch = address_of(scratch);
  push.state_step = 1;
  const uint64_t wg = KernelContext::kWorkgroupSize;
  if (whole_rows) {
    k.dispatch("sampling_threshold", Constants{0, WholeRow}, &push, sizeof(push),
               uint64_t{push.rows} * wg, reads, {&scratch});
    return scratch;
  }
  const uint64_t groups = uint64_t{push.rows} * push.chunks;
  k.dispatch("sampling_threshold", Constants{0, Prepare}, &push, sizeof(push), groups * wg, reads,
             {&scratch});
  reads.push_back(&scratch);
  for (uint32_t d = 0; d < kDigits; ++d) {
    k.dispatch("sampling_threshold", Constants{0, Digit, d}, &push, sizeof(push), groups * wg, reads,
               {&scratch});
  }
  return scratch;
}

void gumbel_sample_kernel(const Primitive& p, const std::vector<array>& inputs,
                          std::vector<array>& outputs) {
  const bool filtered = static_cast<const GumbelSample&>(p).filtered();
  KernelContext k(p);
  const array& x = inputs[0];
  if (x.dtype() != float32 && x.dtype() != float16 && x.dtype() != bfloat16) {
    detail::throw_invalid("[GumbelSample] no GPU kernel for dtype {}", dtype_to_string(x.dtype()));
  }
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;

  SamplePush push{};
  push.x = address_of(x);
  push.temperature = address_of(inputs[1]);
  push.key = address_of(inputs[2]);
  push.top_k = filtered ? address_of(inputs[3]) : push.temperature;
  push.top_p = filtered ? address_of(inputs[4]) : push.temperature;
  push.out = address_of(out);
  push.row_step = x.strides(0);
  push.col_step = x.strides(1);
  push.t_step = small_stride(inputs[1]);
  push.key_step = small_stride(inputs[2]);
  push.k_step = filtered ? small_stride(inputs[3]) : 0;
  push.p_step = filtered ? small_stride(inputs[4]) : 0;
  push.rows = static_cast<uint32_t>(x.shape(0));
  push.V = static_cast<uint32_t>(x.shape(1));
  // tiny vocabularies (many samples of a few tokens): one row per invocation
  const bool row_per_thread = push.V <= kRowPerThreadVocab;
  push.chunk = row_per_thread ? push.V : chunk_size(push.rows, push.V);
  push.chunks = (push.V + push.chunk - 1) / push.chunk;
  push.dt = dtype_id(x.dtype());

  const uint64_t wg = KernelContext::kWorkgroupSize;
  std::vector<const array*> params{&x, &inputs[1], &inputs[2]};
  array scratch = out;
  if (filtered) {
    params.push_back(&inputs[3]);
    params.push_back(&inputs[4]);
    // rows that are one row broadcast (n samples of one distribution) share
    // one threshold
    const bool shared_row = x.strides(0) == 0 && push.t_step == 0 && push.k_step == 0 &&
                            push.p_step == 0;
    SamplePush first = push;
    if (shared_row) first.rows = 1;
    scratch = record_thresholds(k, first, params);
    push.scratch = address_of(scratch);
    push.state_step = shared_row ? 0 : 1;
    params.push_back(&scratch);
  }
  // chunk results and row counters, for rows of several chunks
  std::vector<const array*> writes{&out};
  std::optional<array> partial;
  if (push.chunks > 1) {
    partial = scratch_bytes(k, static_cast<int64_t>(push.rows) * push.chunks * 8);
    push.partial = address_of(*partial);
    writes.push_back(&*partial);
  }
  array sync = sample_sync(k, p.stream(), push.chunks > 1 ? push.rows : 0);
  push.sync = address_of(sync);
  writes.push_back(&sync);
  Constants draw{0,
                 filtered,
                 k.caps().subgroup_shuffle,
                 row_per_thread,
                 static_cast<uint32_t>(IndexOp::SampleTemperature),
                 static_cast<uint32_t>(IndexOp::SampleTopK),
                 static_cast<uint32_t>(IndexOp::SampleTopP)};
  k.dispatch("sampling_draw", std::move(draw), &push, sizeof(push),
             row_per_thread ? push.rows : uint64_t{push.rows} * push.chunks * wg, params,
             writes);
}

LUMEN_REGISTER_KERNEL(Device::gpu, GumbelSample, gumbel_sample_kernel);

}  // namespace
}  // namespace lumen::vulkan
