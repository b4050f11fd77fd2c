// Vulkan kernel of GumbelSample. Filtered calls first find each row's
// threshold (shaders/sampling_threshold.comp): rows of one chunk in one
// dispatch, a workgroup per row; longer rows split across many workgroups per
// row, in a bound and a compact dispatch (top-k from a few candidates) and
// one per radix digit, the digits chosen on the GPU (no host reads between
// passes). Then the draw
// (shaders/sampling_draw.comp, one dispatch: one pass over each row in
// chunks, noise in registers, a partial argmax per chunk, combined by the
// row's last workgroup), which also checks the runtime parameters into the
// stream's error record (thrown as std::invalid_argument when the stream
// finishes).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <optional>

#include "backends/vulkan/env.h"
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
// float per chunk of each row, then the candidates path's words per row
// (2048 candidates, 2048 group maxima, a word per chunk).
constexpr int64_t kStateBytes = 128;
constexpr int64_t kHistogramBytes = 3 * 2048 * 3 * 4;
constexpr int64_t kCandidateWords = 2048 + 2048;
constexpr uint32_t kDigits = 3;

// sampling_threshold.comp's modes, and sampling_top_p.comp's.
enum ThresholdMode : uint32_t { Digit = 1, WholeRow = 2, Bound = 3 };
enum TopPMode : uint32_t { TopPMax = 1, TopPMass = 2, TopPList = 3 };
// sampling_top_p.comp's row bins take at most this many chunks of at most
// this many tokens (their 24-bit split never carries).
constexpr uint32_t kTopPMaxChunks = 256;
constexpr uint32_t kTopPMaxChunk = 16384;

// Vocabularies up to this size are drawn one row per invocation.
constexpr uint32_t kRowPerThreadVocab = 32;

// A/B switches (the same ids): LUMEN_SAMPLE_SKIP names what to leave out:
// "fast_paths" (split rows all take the radix search), "pairs" (the draw
// hashes every token itself), "wg_reach" (the draw's exact candidates from
// each subgroup's bound, not the workgroup's), "fast_reciprocal" (1 / T by
// a float64 division in every thread), "top_p" (top-p alone by the radix
// search, not sampling_top_p.comp), "vec_loads" (sampling_top_p.comp's
// loads of 4 bytes), "few_barriers" (the draw's argmax by
// a tree in shared memory, each row of a pair reduced and finished by
// itself), "lean_passes" (the threshold digit passes compiled with every
// path).
bool skipped(const char* what) {
  static const std::string skip = [] {
    const char* e = std::getenv("LUMEN_SAMPLE_SKIP");
    return std::string(e ? e : "");
  }();
  return skip.find(what) != std::string::npos;
}

// LUMEN_SAMPLE_DEFER=1: the draw's chunks leave their few candidates' exact
// z to the row's last workgroup (sampling_draw.comp's DEFER; needs the
// workgroup's bound).
bool defer_on() {
  static const bool on = env_is("LUMEN_SAMPLE_DEFER", "1") && !skipped("wg_reach");
  return on;
}
// sampling_draw.comp's SLOTS.
constexpr int64_t kDeferSlots = 7;

// Records a call's dispatches, each shader's specialization constants
// with sampling.glsl's: the logits' dtype (constant 10) and the fast
// reciprocal (15).
// LUMEN_SAMPLE_PASSES=n records only the first n of each call: timing of
// each pass's share only (the ids are then wrong).
class Recorder {
 public:
  explicit Recorder(KernelContext& k) : k_(k), left_(limit()) {}
  KernelContext& context() { return k_; }
  void operator()(const char* shader, Constants c, const SamplePush& push, uint64_t invocations,
                  const std::vector<const array*>& reads, const std::vector<const array*>& writes) {
    if (left_ == 0) return;
    if (left_ > 0) --left_;
    c.resize(std::max<size_t>(c.size(), 16), 0u);
    c[10] = push.dt;
    c[15] = !skipped("fast_reciprocal");
    k_.dispatch(shader, std::move(c), &push, sizeof(push), invocations, reads, writes);
  }

 private:
  static int limit() {
    static const int n = [] {
      const char* e = std::getenv("LUMEN_SAMPLE_PASSES");
      return e ? std::atoi(e) : -1;
    }();
    return n;
  }
  KernelContext& k_;
  int left_;
};

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
  static auto* syncs = new StreamArrays;
  return stream_words(k, s, *syncs, rows, 2, [&](uint32_t* header) {  // the record's address, in two words
    const uint64_t record = index_error_record(k.backend(), k.stream());
    std::memcpy(header, &record, sizeof(record));
  });
}

// Tokens per workgroup of the threshold passes: 4 per thread where longer
// chunks leave too few workgroups to fill the device (a few per SM on an
// H100); else 16, or 64 for calls without top-k. Their workgroups' fixed
// work (histograms, row counters) favours long chunks: on the H100 the
// threshold passes ran about one workgroup an SM at a time, and 16384
// tokens took top-p at 32 x 128256 from 0.361 to 0.285 ms, at 64 x 262144
// from 1.290 to 0.953; but chunks over 4096 leave top-k's candidates path
// (its bound pass holds 4096 tokens) to the radix passes (top-k 0.120 ->
// 0.203, 0.346 -> 0.617), hence 4096 where top-k may be on.
// LUMEN_SAMPLE_THRESHOLD_CHUNK = 4096, 8192 or 16384 forces the long ones.
uint32_t threshold_chunk(uint64_t rows, uint32_t V, bool no_top_k) {
  static const uint32_t forced = [] {
    const char* e = std::getenv("LUMEN_SAMPLE_THRESHOLD_CHUNK");
    uint32_t v = e ? static_cast<uint32_t>(std::atoi(e)) : 0u;
    return v == 4096 || v == 8192 || v == 16384 ? v : 0u;
  }();
  const uint32_t wg = KernelContext::kWorkgroupSize;
  const uint64_t wide = rows * ((V + 16 * wg - 1) / (16 * wg));
  if (wide < 512) return 4 * wg;
  if (forced) return forced;
  return no_top_k ? 64 * wg : 16 * wg;
}

// Tokens a thread of the draw (sampling_draw.comp's PER): 8, or 4 where
// that leaves few workgroups (H100, plain: B = 1 0.025 ms at 4, 0.027 at 8;
// B = 64 0.229 at 4, 0.218 at 8); LUMEN_SAMPLE_DRAW_PER=4, 8 or 16 forces
// one (A/B timing).
uint32_t draw_per(uint64_t rows, uint32_t V) {
  static const uint32_t forced = [] {
    const char* e = std::getenv("LUMEN_SAMPLE_DRAW_PER");
    uint32_t v = e ? static_cast<uint32_t>(std::atoi(e)) : 0u;
    return v == 4 || v == 8 || v == 16 ? v : 0u;
  }();
  if (forced) return forced;
  const uint32_t wg = KernelContext::kWorkgroupSize;
  return rows * ((V + 8 * wg - 1) / (8 * wg)) >= 1024 ? 8u : 4u;
}

// Bytes of sampling.glsl's filtering scratch for `rows` rows split in
// `chunks` (0: rows of one chunk, only their states).
int64_t threshold_scratch_bytes(int64_t rows, uint32_t chunks) {
  const int64_t split_bytes = kHistogramBytes + 4 * (2 * int64_t{chunks} + kCandidateWords);
  return rows * kStateBytes + (chunks == 0 ? 0 : rows * split_bytes);
}

// Tokens per workgroup of sampling_top_p.comp: 16384, halved down to 1024
// while that leaves under 256 workgroups, at least V / kTopPMaxChunks; 0
// where V needs chunks over kTopPMaxChunk or fits one (those rows take
// sampling_threshold.comp). (H100, top-p: chunks of 16384 against 8192 and
// 4096: 0.650 / 0.699 / 0.790 ms at 64 x 262144, 0.199 / 0.206 / 0.230 at
// 32 x 128256; B = 1 best at 1024.) LUMEN_SAMPLE_TOP_P_CHUNK=n (a power of
// two from 1024 to 16384) forces n (A/B timing).
uint32_t top_p_chunk(uint64_t rows, uint32_t V) {
  static const uint32_t forced = [] {
    const char* e = std::getenv("LUMEN_SAMPLE_TOP_P_CHUNK");
    uint32_t v = e ? static_cast<uint32_t>(std::atoi(e)) : 0u;
    return v >= 1024 && v <= kTopPMaxChunk && (v & (v - 1)) == 0 ? v : 0u;
  }();
  auto chunks = [&](uint32_t c) { return (V + c - 1) / c; };
  uint32_t c = forced ? forced : 16384;
  while (!forced && c > 1024 && rows * chunks(c) < 256) c /= 2;
  while (chunks(c) > kTopPMaxChunks && c < kTopPMaxChunk) c *= 2;
  if (chunks(c) > kTopPMaxChunks || chunks(c) < 2) return 0;
  return c;
}

// Records sampling_top_p.comp's three passes for `push`'s rows (top-k off
// in every row, push.chunk from top_p_chunk), then the whole-row search of
// the rows they flag; returns the scratch holding the row states.
array record_top_p(Recorder& record, SamplePush push, std::vector<const array*> reads, array& sync,
                   int64_t itemsize) {
  KernelContext& k = record.context();
  array scratch = scratch_bytes(k, threshold_scratch_bytes(push.rows, push.chunks));
  push.scratch = address_of(scratch);
  push.state_step = 1;
  const uint64_t wg = KernelContext::kWorkgroupSize;
  const uint64_t groups = uint64_t{push.rows} * push.chunks;
  // 16-byte loads where every row's logits are contiguous and aligned
  // (sampling.glsl's VEC_LOADS, constant 16)
  const bool vec = push.col_step == 1 && (push.row_step * itemsize) % 16 == 0 && push.x % 16 == 0 &&
                   !skipped("vec_loads");
  auto constants = [&](uint32_t mode) {
    Constants c{0, mode};
    c.resize(17, 0u);
    c[16] = vec;
    return c;
  };
  record("sampling_top_p", constants(TopPMax), push, groups * wg, reads, {&scratch});
  reads.push_back(&scratch);
  record("sampling_top_p", constants(TopPMass), push, groups * wg, reads, {&scratch, &sync});
  record("sampling_top_p", constants(TopPList), push, groups * wg, reads, {&scratch, &sync});
  // (sampling_threshold.comp's constant 5: only the flagged rows)
  record("sampling_threshold", {0, WholeRow, 0, 0, 0, 1}, push, uint64_t{push.rows} * wg, reads, {&scratch});
  return scratch;
}

// Records the threshold passes of `push` (its rows: the rows that need one;
// `candidates`: whether they may take the candidates path, which draws them
// into `out`); returns the scratch holding the row states.
array record_thresholds(Recorder& record, SamplePush push, std::vector<const array*> reads,
                        bool candidates, bool no_top_k, array& out, array& sync) {
  KernelContext& k = record.context();
  const bool whole_rows = push.chunks == 1;
  array scratch = scratch_bytes(k, threshold_scratch_bytes(push.rows, whole_rows ? 0 : push.chunks));
  push.scratch = address_of(scratch);
  push.state_step = 1;
  const uint64_t wg = KernelContext::kWorkgroupSize;
  if (whole_rows) {
    record("sampling_threshold", {0, WholeRow}, push, uint64_t{push.rows} * wg, reads, {&scratch});
    return scratch;
  }
  const uint64_t groups = uint64_t{push.rows} * push.chunks;
  // every row's path first (radix rows' start), then three passes in which
  // each row takes its path's next step
  // (H100: top-k at B = 1 took 0.098 ms by candidates, 0.065 by the radix
  // passes; at B = 32 and 64, 0.21 and 0.81 against 0.36 and 1.48)
  const bool top_k_candidates = push.rows >= 8 && !no_top_k;
  record("sampling_threshold", {0, Bound, 0, candidates, top_k_candidates}, push, groups * wg, reads,
         {&scratch, &sync});
  reads.push_back(&scratch);
  // the digit passes hold only the paths a row may take (fewer registers:
  // on the H100 they held 88 to 98 with all paths, two workgroups an SM);
  // LUMEN_SAMPLE_SKIP=lean_passes keeps all
  const bool lean = !skipped("lean_passes");
  const uint32_t may_candidates = !lean || (candidates && top_k_candidates);
  for (uint32_t d = 0; d < kDigits; ++d) {
    record("sampling_threshold", {0, Digit, d, may_candidates, may_candidates}, push, groups * wg, reads,
           {&scratch, &sync, &out});
  }
  return scratch;
}

void gumbel_sample_kernel(const Primitive& p, const std::vector<array>& inputs,
                          std::vector<array>& outputs) {
  const auto& gumbel = static_cast<const GumbelSample&>(p);
  const bool filtered = gumbel.filtered();
  KernelContext k(p);
  Recorder record(k);
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
  push.dt = dtype_id(x.dtype());
  // the threshold passes' chunks, then the draw's
  push.chunk = row_per_thread ? push.V : threshold_chunk(push.rows, push.V, gumbel.no_top_k());
  push.chunks = (push.V + push.chunk - 1) / push.chunk;
  const bool split_rows = push.chunks > 1;

  const uint64_t wg = KernelContext::kWorkgroupSize;
  std::vector<const array*> params{&x, &inputs[1], &inputs[2]};
  array scratch = out;
  // the row counters of the passes that split rows across workgroups
  array sync = sample_sync(k, p.stream(), push.rows);
  push.sync = address_of(sync);
  bool skip_done = false;
  if (filtered) {
    params.push_back(&inputs[3]);
    params.push_back(&inputs[4]);
    // rows that are one row broadcast (n samples of one distribution) share
    // one threshold
    const bool shared_row = x.strides(0) == 0 && push.t_step == 0 && push.k_step == 0 &&
                            push.p_step == 0;
    SamplePush first = push;
    if (shared_row) first.rows = 1;
    skip_done = !shared_row && split_rows && !skipped("fast_paths");
    // top-p alone: sampling_top_p.comp's lean passes (LUMEN_SAMPLE_SKIP=top_p:
    // the radix search, A/B)
    const uint32_t top_p_split = gumbel.no_top_k() && !row_per_thread && !skipped("top_p")
                                     ? top_p_chunk(first.rows, push.V) : 0;
    if (top_p_split != 0) {
      first.chunk = top_p_split;
      first.chunks = (push.V + top_p_split - 1) / top_p_split;
      scratch = record_top_p(record, first, params, sync, x.itemsize());
    } else {
      scratch = record_thresholds(record, first, params, skip_done, gumbel.no_top_k(), out, sync);
    }
    push.scratch = address_of(scratch);
    push.state_step = shared_row ? 0 : 1;
    params.push_back(&scratch);
  }
  const uint32_t per = draw_per(push.rows, push.V);
  if (!row_per_thread) {
    push.chunk = std::min(push.V, per * static_cast<uint32_t>(wg));
    push.chunks = (push.V + push.chunk - 1) / push.chunk;
  }
  // chunk results and row counters, for rows of several chunks
  std::vector<const array*> writes{&out};
  std::optional<array> partial;
  if (push.chunks > 1) {
    const int64_t record = 8 * (defer_on() ? 1 + kDeferSlots : 1);
    partial = scratch_bytes(k, static_cast<int64_t>(push.rows) * push.chunks * record);
    push.partial = address_of(*partial);
    writes.push_back(&*partial);
  }
  writes.push_back(&sync);
  // an even number of rows: one threefry hash serves a token of row r and
  // one of row r + rows / 2 (sampling_draw.comp's draw_chunk_pair)
  const bool paired = !row_per_thread && push.rows % 2 == 0 && !skipped("pairs");
  Constants draw{0,
                 filtered,
                 k.caps().subgroup_shuffle,
                 row_per_thread,
                 static_cast<uint32_t>(IndexOp::SampleTemperature),
                 static_cast<uint32_t>(IndexOp::SampleTopK),
                 static_cast<uint32_t>(IndexOp::SampleTopP),
                 skip_done,
                 row_per_thread ? 1u : per,
                 paired,
                 0u,  // the dtype's (Recorder)
                 !skipped("wg_reach"),
                 defer_on(),
                 !skipped("few_barriers")};
  record("sampling_draw", std::move(draw), push,
         row_per_thread ? push.rows : uint64_t{paired ? push.rows / 2 : push.rows} * push.chunks * wg, params,
         writes);
}

LUMEN_REGISTER_KERNEL(Device::gpu, GumbelSample, gumbel_sample_kernel);

}  // namespace
}  // namespace lumen::vulkan
