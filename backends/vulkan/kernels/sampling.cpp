// Vulkan kernel of GumbelSample in three dispatches: the filtering thresholds
// (shaders/sampling_threshold.comp, one workgroup per row, only for filtered
// calls), the draw (shaders/sampling_draw.comp: one pass over each row in
// chunks, noise in registers, a partial argmax per chunk) and the finish
// (shaders/sampling_finish.comp: the chunks' results combined per row).
// Runtime values are not checked on the GPU (see ops/sampling.h).
#include <algorithm>

#include "backends/vulkan/kernels/launch.h"
#include "core/detail/errors.h"
#include "lumen/sampling_primitives.h"

namespace lumen::vulkan {
namespace {

// Push constants of shaders/sampling.glsl.
struct SamplePush {
  uint64_t x, temperature, top_k, top_p, key, cut, partial, out;
  int64_t row_step, col_step;
  int32_t t_step, k_step, p_step, key_step;
  uint64_t rows;
  uint32_t V, chunk, chunks, dt, cut_step;
  uint32_t pad;
};
static_assert(sizeof(SamplePush) <= 128, "Vulkan guarantees 128 bytes of push constants");

// Vocabularies up to this size are drawn one row per invocation.
constexpr uint32_t kRowPerThreadVocab = 32;

// A scratch array of n 32-bit words on the GPU (freed once the recorded work
// has run).
// The stride of a small parameter view, which fits in 32 bits.
int32_t small_stride(const array& a) {
  int64_t st = a.ndim() == 0 ? 0 : a.strides(0);
  if (st != static_cast<int32_t>(st)) {
    detail::throw_invalid("[GumbelSample] parameter stride {} does not fit in 32 bits", st);
  }
  return static_cast<int32_t>(st);
}

array scratch_words(KernelContext& k, int64_t n) {
  array a(Shape{static_cast<int32_t>(n)}, uint32, nullptr, {});
  k.allocate(a);
  return a;
}

// Elements per draw workgroup: 16 per thread, or 4 where that leaves too few
// workgroups to fill the device (a few per SM on an H100).
uint32_t chunk_size(uint64_t rows, uint32_t V) {
  const uint32_t wg = KernelContext::kWorkgroupSize;
  const uint64_t wide = rows * ((V + 16 * wg - 1) / (16 * wg));
  return wide >= 512 ? 16 * wg : 4 * wg;
}

void gumbel_sample_kernel(const Primitive& p, const std::vector<array>& inputs,
                          std::vector<array>& outputs) {
  const bool filtered = static_cast<const GumbelSample&>(p).filtered();
  KernelContext k(p);
  const array& x = inputs[0];
  if (x.dtype() != float32 && x.dtype() != float16 && x.dtype() != bfloat16) {
    detail::throw_invalid("[GumbelSample] no GPU kernel for dtype {}", dtype_to_string(x.dtype()));
  }
  if (filtered && x.shape(1) >= (1 << 21)) {
    detail::throw_invalid("[GumbelSample] the GPU's top-p histograms take V < 2^21, got {}",
                          x.shape(1));
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
  push.rows = static_cast<uint64_t>(x.shape(0));
  push.V = static_cast<uint32_t>(x.shape(1));
  // tiny vocabularies (many samples of a few tokens): one row per invocation
  const bool row_per_thread = push.V <= kRowPerThreadVocab;
  push.chunk = row_per_thread ? push.V : chunk_size(push.rows, push.V);
  push.chunks = (push.V + push.chunk - 1) / push.chunk;
  push.dt = dtype_id(x.dtype());

  const uint64_t wg = KernelContext::kWorkgroupSize;
  std::vector<const array*> params{&x, &inputs[1], &inputs[2]};
  array cut = out;
  if (filtered) {
    // rows that are one row broadcast (n samples of one distribution) share
    // one threshold
    const bool shared_row = x.strides(0) == 0 && push.t_step == 0 && push.k_step == 0 &&
                            push.p_step == 0;
    SamplePush first = push;
    if (shared_row) first.rows = 1;
    push.cut_step = shared_row ? 0 : 1;
    cut = scratch_words(k, static_cast<int64_t>(first.rows));
    push.cut = first.cut = address_of(cut);
    params.push_back(&inputs[3]);
    params.push_back(&inputs[4]);
    k.dispatch("sampling_threshold", Constants(1, 0), &first, sizeof(first), first.rows * wg, params,
               {&cut});
    params.push_back(&cut);
  }
  array partial = scratch_words(k, static_cast<int64_t>(push.rows * push.chunks * 2));
  push.partial = address_of(partial);
  Constants draw(4, 0);
  draw[1] = filtered;
  draw[2] = k.caps().subgroup_shuffle;
  draw[3] = row_per_thread;
  k.dispatch("sampling_draw", std::move(draw), &push, sizeof(push),
             row_per_thread ? push.rows : push.rows * push.chunks * wg, params, {&partial});
  k.dispatch("sampling_finish", Constants(1, 0), &push, sizeof(push), push.rows, {&partial},
             {&out});
}

LUMEN_REGISTER_KERNEL(Device::gpu, GumbelSample, gumbel_sample_kernel);

}  // namespace
}  // namespace lumen::vulkan
