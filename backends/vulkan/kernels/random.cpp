// Vulkan kernels of RandomBits (shaders/random_bits.comp) and of the fused
// RandomUniform and RandomNormal (shaders/random_fused.comp). The host side
// works out MLX's layout of the threefry words (the CPU's WordWindow) and the
// chain's constants (backends/common/random_bounds.h); the shaders hash and
// write.
#include <algorithm>

#include "backends/common/random_bounds.h"
#include "backends/cpu/random_threefry.h"
#include "backends/cpu/strided.h"
#include "backends/vulkan/kernels/launch.h"
#include "lumen/random_primitives.h"

namespace lumen::vulkan {

namespace {

// Push constants of shaders/random_bits.comp.
struct BitsPush {
  uint64_t out;
  uint64_t keys;
  uint64_t table;
  int64_t key_step;
  uint64_t num_keys;
  uint64_t nbytes;
  uint64_t byte0;
  uint64_t w1;
  uint64_t a0, na, b0, nb;
  uint64_t words;
  uint32_t ndim;
  uint32_t middle;
};
static_assert(sizeof(BitsPush) <= 128);

// Items (pairs or the middle word) one invocation of random_bits.comp hashes.
constexpr uint64_t kBitsItems = 4;
// Counter pairs one invocation of random_fused.comp hashes.
constexpr uint64_t kFusedPairs = 8;
// Workgroups of a fused launch at most; the shader strides over the rest.
// Fewer, longer-lived workgroups (the normal kernel's table is loaded once
// per workgroup): H100 at 16384^2, 8192 of them against 65536 were 2% faster.
constexpr uint64_t kFusedMaxWorkgroups = 8192;

void random_bits_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  auto& prim = static_cast<const RandomBits&>(p);
  const array& keys = inputs[0];
  array& out = outputs[0];
  k.allocate(out);
  const auto num_keys = static_cast<int64_t>(keys.size() / 2);
  if (out.size() == 0 || num_keys == 0) return;

  // This block's bytes within each key's stream (as the CPU kernel).
  const int64_t per_key = static_cast<int64_t>(out.size()) / num_keys;
  const int64_t width = prim.width();
  const auto& window = prim.window();
  const cpu::threefry::BlockBytes block_bytes(per_key, width, window ? window->offset : 0,
                                              window ? window->stream_size : per_key);
  const int64_t byte0 = block_bytes.byte0, nbytes = block_bytes.nbytes;
  const auto& win = block_bytes.words;
  const auto runs = win.runs();

  BitsPush push{};
  push.out = address_of(out);
  push.keys = address_of(keys);
  // keys (..., 2): rows of two words, any strides
  const Shape lead(keys.shape().begin(), keys.shape().end() - 1);
  const Strides lead_strides(keys.strides().begin(), keys.strides().end() - 1);
  auto layout = cpu::collapse<1>(lead, {&lead_strides});
  std::vector<int64_t> table = layout.shape;
  table.insert(table.end(), layout.strides[0].begin(), layout.strides[0].end());
  push.table = k.stream().upload(table.data(), table.size() * sizeof(int64_t));
  push.ndim = static_cast<uint32_t>(layout.shape.size());
  push.key_step = keys.strides().back();
  push.num_keys = static_cast<uint64_t>(num_keys);
  push.nbytes = static_cast<uint64_t>(nbytes);
  push.byte0 = static_cast<uint64_t>(byte0);
  push.w1 = block_bytes.end_word();
  push.a0 = runs.a0;
  push.na = runs.na;
  push.b0 = runs.b0;
  push.nb = runs.nb;
  push.words = block_bytes.stream_words;
  push.middle = runs.middle ? 1 : 0;
  const uint64_t chunks = (win.items() + kBitsItems - 1) / kBitsItems;
  k.dispatch("random_bits", {}, &push, sizeof(push), push.num_keys * chunks, {&keys}, {&out});
}

// Push constants of shaders/random_fused.comp.
struct FusedPush {
  uint64_t out;
  uint64_t key;
  int64_t key_step;
  uint64_t p0;
  uint64_t p1;
  uint64_t n;
  float upper;
  float low32;
  float range32;
  uint32_t one;
};

void check_float_dtype(Dtype dt) {
  if (dt != float32 && dt != float16 && dt != bfloat16) {
    throw std::invalid_argument("[random] fused kernels take float32, float16 or bfloat16");
  }
}

// out = the fused chain of `shader` over the words of inputs[0]'s key; p0 and
// p1 (null: none) are its scalar parameters.
void run_fused(const Primitive& p, const std::string& shader, const std::vector<array>& inputs, array& out,
               const array* p0, const array* p1, float upper) {
  KernelContext k(p);
  check_float_dtype(out.dtype());
  k.allocate(out);
  if (out.size() == 0) return;
  const array& key = inputs[0];
  FusedPush push{};
  push.out = address_of(out);
  push.key = address_of(key);
  push.key_step = key.strides(0);
  push.p0 = address_of(*p0);
  push.p1 = p1 ? address_of(*p1) : 0;
  push.n = out.size();
  push.upper = upper;
  push.one = 1;
  const backends::NormalUniform bounds = backends::normal_uniform();
  push.low32 = bounds.low;
  push.range32 = bounds.range;
  const uint64_t half = push.n / 2;
  const uint64_t invocations = std::min((half + kFusedPairs - 1) / kFusedPairs + push.n % 2,
                                         kFusedMaxWorkgroups * KernelContext::kWorkgroupSize);
  std::vector<const array*> reads{&key, p0};
  if (p1) reads.push_back(p1);
  Constants constants{0, dtype_id(out.dtype()), p1 != nullptr ? 1u : 0u};
  k.dispatch(shader, std::move(constants), &push, sizeof(push), invocations, reads, {&out});
}

void random_uniform_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  // inputs: key, low, range
  run_fused(p, "random_uniform", inputs, outputs[0], &inputs[1], &inputs[2],
            backends::below_one(outputs[0].dtype()));
}

void random_normal_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  // inputs: key, sqrt(2) * scale[, loc]
  run_fused(p, "random_normal", inputs, outputs[0], &inputs[1], inputs.size() > 2 ? &inputs[2] : nullptr,
            backends::below_one(float32));
}

LUMEN_REGISTER_KERNEL(Device::gpu, RandomBits, random_bits_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, RandomUniform, random_uniform_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, RandomNormal, random_normal_kernel);

}  // namespace
}  // namespace lumen::vulkan
