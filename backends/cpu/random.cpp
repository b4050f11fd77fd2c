// CPU kernels of RandomBits and of the fused RandomUniform and RandomNormal.
#include <cmath>
#include <cstring>

#include "backends/common/random_bounds.h"
#include "backends/cpu/mlx_math.h"
#include "backends/cpu/random_keys.h"
#include "backends/cpu/random_threefry.h"
#include "lumen/backend.h"
#include "lumen/random_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

using threefry::Key;
using threefry::WordWindow;

// Pairs per task; one pair is about a hundred integer operations.
constexpr int64_t kGrain = 1 << 12;

// Little-endian bytes of word `v` at byte `pos` of dst[0, n), cut at both ends.
inline void store_word(uint8_t* dst, int64_t pos, uint32_t v, int64_t n) {
  if (pos >= 0 && pos + 4 <= n) {
    uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
    std::memcpy(dst + pos, b, 4);
    return;
  }
  for (int b = 0; b < 4; ++b) {
    int64_t q = pos + b;
    if (q >= 0 && q < n) dst[q] = static_cast<uint8_t>(v >> (8 * b));
  }
}

void random_bits_kernel(const Primitive& p, const std::vector<array>& inputs,
                        std::vector<array>& outputs) {
  auto& prim = static_cast<const RandomBits&>(p);
  const array& keys = inputs[0];
  array& out = outputs[0];
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  const int64_t num_keys = static_cast<int64_t>(keys.size() / 2);
  if (out.size() == 0 || num_keys == 0) return;

  const int64_t per_key = static_cast<int64_t>(out.size()) / num_keys;
  const int64_t width = prim.width();
  const auto& window = prim.window();
  const threefry::BlockBytes block_bytes(per_key, width, window ? window->offset : 0,
                                         window ? window->stream_size : per_key);
  const int64_t byte0 = block_bytes.byte0, nbytes = block_bytes.nbytes;
  const WordWindow& win = block_bytes.words;
  const int64_t items = static_cast<int64_t>(win.items());

  std::vector<Key> key_list(num_keys);
  for (int64_t i = 0; i < num_keys; ++i) key_list[i] = key_at(keys, i);
  uint8_t* dst = out.data<uint8_t>();

  detail::parallel_for(num_keys * items, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t pos = begin; pos < end;) {
      int64_t k = pos / items;
      int64_t item = pos - k * items;
      int64_t stop = std::min(end - k * items, items);
      uint8_t* block = dst + k * nbytes;
      win.run(key_list[k], static_cast<uint64_t>(item), static_cast<uint64_t>(stop),
              [&](uint64_t word, uint32_t v) {
                store_word(block, static_cast<int64_t>(word) * 4 - byte0, v, nbytes);
              });
      pos = k * items + stop;
    }
  });
}

// The float32 start of MLX's uniform chain: bits / float32(2^32 - 1), kept
// below 1 (the largest value under 1 of the output dtype).
inline float unit_float(uint32_t bits, float upper) {
  float v = static_cast<float>(bits) / static_cast<float>(UINT32_MAX);
  return v < upper ? v : upper;
}

// One element of the output dtype per word of the key's stream (width 4).
template <typename T, typename F>
void fill_words(const array& key_arr, array& out, F f) {
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  const uint64_t n = out.size();
  if (n == 0) return;
  const Key key = key_at(key_arr, 0);
  const WordWindow win(n, 0, n);
  T* dst = out.data<T>();
  detail::parallel_for(static_cast<int64_t>(win.items()), kGrain, [&](int64_t b, int64_t e) {
    win.run(key, static_cast<uint64_t>(b), static_cast<uint64_t>(e),
            [&](uint64_t k, uint32_t v) { dst[k] = f(v); });
  });
}

// The one element of a scalar parameter, as float.
template <typename T>
float scalar_param(const array& a) {
  return static_cast<float>(a.data<T>()[0]);
}

template <typename F>
void dispatch_float(Dtype d, F&& f) {
  switch (d) {
    case float32: f(float{}); break;
    case float16: f(float16_t{}); break;
    case bfloat16: f(bfloat16_t{}); break;
    default:
      throw std::invalid_argument("[random] fused kernels take float32, float16 or bfloat16");
  }
}

void random_uniform_kernel(const Primitive& p, const std::vector<array>& inputs,
                           std::vector<array>& outputs) {
  const Dtype dtype = static_cast<const RandomUniform&>(p).dtype();
  dispatch_float(dtype, [&](auto t) {
    using T = decltype(t);
    const float lo = scalar_param<T>(inputs[1]);
    const float range = scalar_param<T>(inputs[2]);
    const float upper = backends::below_one(dtype);
    fill_words<T>(inputs[0], outputs[0], [=](uint32_t bits) {
      // astype(dtype), then range * x and + low, each rounded to T
      T x = T(unit_float(bits, upper));
      T scaled = T(range * static_cast<float>(x));
      return T(static_cast<float>(scaled) + lo);
    });
  });
}

void random_normal_kernel(const Primitive& p, const std::vector<array>& inputs,
                          std::vector<array>& outputs) {
  dispatch_float(static_cast<const RandomNormal&>(p).dtype(), [&](auto t) {
    using T = decltype(t);
    const float scale = scalar_param<T>(inputs[1]);
    const bool has_loc = inputs.size() > 2;
    const float loc = has_loc ? scalar_param<T>(inputs[2]) : 0.0f;
    // uniform float32 on [nextafter(-1, 0), 1), bounds combined in float32
    const backends::NormalUniform bounds = backends::normal_uniform();
    const float lo = bounds.low, range = bounds.range;
    const float upper = backends::below_one(float32);
    fill_words<T>(inputs[0], outputs[0], [=](uint32_t bits) {
      float u = range * unit_float(bits, upper);
      u = u + lo;
      T x = T(mlx_detail::erfinv(u));
      T y = T(scale * static_cast<float>(x));
      return has_loc ? T(loc + static_cast<float>(y)) : y;
    });
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, RandomBits, random_bits_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, RandomUniform, random_uniform_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, RandomNormal, random_normal_kernel);

}  // namespace
}  // namespace lumen::cpu
