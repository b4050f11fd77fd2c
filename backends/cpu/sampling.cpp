// CPU kernel of GumbelSample: per row, the scaled logits, the filtering
// threshold (a radix select on the values' order keys, no sort), then one pass
// that draws the gumbel noise in registers and keeps the running argmax. Every
// float32 step is the plain composition's (sample_plain in ops/sampling.cpp)
// in the same order, with the same scalar functions as the CPU kernels it
// uses, so the ids are identical.
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/mlx_math.h"
#include "backends/cpu/random_keys.h"
#include "backends/cpu/random_threefry.h"
#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/sampling_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The word of element i of a key's threefry stream of n words (RandomBits'
// layout, see random_threefry.h).
inline uint32_t stream_word(threefry::Key key, uint64_t i, uint64_t n) {
  const uint64_t half = n / 2, second = n - half;
  if (i < half) return threefry::hash(key, uint32_t(i), uint32_t(i + second)).first;
  if (i == half && n % 2 == 1) return threefry::hash(key, uint32_t(half), 0).first;
  const uint64_t j = i - second;
  return threefry::hash(key, uint32_t(j), uint32_t(j + second)).second;
}

// random::gumbel's float32 value for one word: uniform on [0, 1) as MLX's
// chain computes it (bits / float32(2^32 - 1), kept below 1; the chain's
// "* 1 + 0" is exact and left out), then -log(-log(u)) with the C library's
// logf, as the Log kernel.
inline float gumbel_noise(uint32_t bits) {
  float u = static_cast<float>(bits) / static_cast<float>(UINT32_MAX);
  const float upper = std::nextafter(1.0f, 0.0f);
  u = u < upper ? u : upper;
  return -std::log(-std::log(u));
}

// argmax's rule (reduce_arg.cpp): ties keep the lowest index, the first NaN
// wins.
struct Best {
  float value;
  int64_t index = -1;
  void offer(float v, int64_t i) {
    if (index < 0 || (!std::isnan(value) && (std::isnan(v) || value < v))) {
      value = v;
      index = i;
    }
  }
};

// An unsigned key that orders floats as their values (-0 as +0).
inline uint32_t order_key(float v) {
  uint32_t b = std::bit_cast<uint32_t>(v + 0.0f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}
inline float key_value(uint32_t k) {
  return std::bit_cast<float>((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// The smallest value v of s[0, n) whose weight above it, sum of weight(i)
// over s_i > v, is < limit: four passes of 8-bit histograms over the order
// keys. Sorting s descending with exclusive cumulative weights c, this is the
// value at the last position with c < limit (the plain composition's pick).
template <typename Weight>
float select_threshold(const float* s, int64_t n, Weight weight, double limit) {
  uint32_t prefix = 0;
  uint64_t above = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    uint64_t mass[256] = {}, count[256] = {};
    const uint32_t fixed = shift == 24 ? 0u : ~0u << (shift + 8);
    for (int64_t i = 0; i < n; ++i) {
      uint32_t k = order_key(s[i]);
      if ((k & fixed) != prefix) continue;
      uint32_t bin = (k >> shift) & 255u;
      mass[bin] += weight(i);
      count[bin] += 1;
    }
    int chosen = -1;
    uint64_t chosen_above = above, acc = above;
    for (int b = 255; b >= 0; --b) {
      if (count[b] == 0) continue;
      if (chosen >= 0 && !(static_cast<double>(acc) < limit)) break;
      chosen = b;  // the top nonempty bin stands in when no bin qualifies (NaN rows)
      chosen_above = acc;
      acc += mass[b];
    }
    prefix |= static_cast<uint32_t>(chosen) << shift;
    above = chosen_above;
  }
  return key_value(prefix);
}

struct RowParams {
  float temperature;
  int32_t top_k = 0;
  float top_p = 1.0f;
};

// The filtering threshold of one row of scaled logits: the larger of the
// top-k and top-p thresholds; -inf when both are off.
float row_threshold(const float* s, int64_t n, const RowParams& r) {
  float t = kMinusInf;
  if (r.top_k > 0 && r.top_k < n) {
    t = select_threshold(s, n, [](int64_t) { return uint64_t{1}; }, r.top_k);
  }
  if (r.top_p < 1.0f) {
    float m = s[0];
    for (int64_t i = 1; i < n; ++i) m = std::isnan(m) || m >= s[i] ? m : s[i];
    // fixed-point masses floor(exp(s - max) * 2^32), as the plain astype(int64)
    auto weight = [&](int64_t i) {
      float e = mlx_exp(s[i] - m) * 4294967296.0f;
      return e >= 0.0f && e <= 4294967296.0f ? static_cast<uint64_t>(e) : uint64_t{0};
    };
    uint64_t total = 0;
    for (int64_t i = 0; i < n; ++i) total += weight(i);
    double limit = static_cast<double>(total) * static_cast<double>(r.top_p);
    t = std::max(t, select_threshold(s, n, weight, limit));
  }
  return t;
}

template <typename In>
void sample_rows(const array& logits, const std::vector<RowParams>& params, bool filtered,
                 threefry::Key key, int32_t* out) {
  const int64_t rows = logits.shape(0), n = logits.shape(1);
  const int64_t rs = logits.strides(0), cs = logits.strides(1);
  const In* base = logits.data<In>();
  const uint64_t words = static_cast<uint64_t>(rows * n);
  detail::parallel_for(rows, 1, [&](int64_t r0, int64_t r1) {
    std::vector<float> scaled;
    for (int64_t r = r0; r < r1; ++r) {
      const In* x = base + r * rs;
      const RowParams& p = params[r];
      Best best{0.0f};
      if (p.temperature == 0.0f) {
        for (int64_t i = 0; i < n; ++i) best.offer(static_cast<float>(x[i * cs]), i);
        out[r] = static_cast<int32_t>(best.index);
        continue;
      }
      float cut = kMinusInf;
      if (filtered) {
        scaled.resize(n);
        for (int64_t i = 0; i < n; ++i) scaled[i] = static_cast<float>(x[i * cs]) / p.temperature;
        cut = row_threshold(scaled.data(), n, p);
      }
      const uint64_t first = static_cast<uint64_t>(r * n);
      for (int64_t i = 0; i < n; ++i) {
        float s = static_cast<float>(x[i * cs]) / p.temperature;
        float z = s + gumbel_noise(stream_word(key, first + i, words));
        best.offer(s < cut ? kMinusInf : z, i);
      }
      out[r] = static_cast<int32_t>(best.index);
    }
  });
}

// Element i of a [rows] parameter view.
template <typename T>
T row_value(const array& a, int64_t i) {
  return a.data<T>()[i * a.strides(0)];
}

std::vector<RowParams> read_params(const std::vector<array>& in, bool filtered) {
  const int64_t rows = in[0].shape(0);
  std::vector<RowParams> params(rows);
  for (int64_t r = 0; r < rows; ++r) {
    auto& p = params[r];
    p.temperature = row_value<float>(in[1], r);
    if (!(p.temperature >= 0.0f)) {
      detail::throw_invalid("[sample] temperature must be >= 0, got {} (row {}).", p.temperature, r);
    }
    if (!filtered) continue;
    p.top_k = row_value<int32_t>(in[3], r);
    p.top_p = row_value<float>(in[4], r);
    if (p.top_k < 0) detail::throw_invalid("[sample] top_k must be >= 0, got {} (row {}).", p.top_k, r);
    if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
      detail::throw_invalid("[sample] top_p must be in (0, 1], got {} (row {}).", p.top_p, r);
    }
  }
  return params;
}

void gumbel_sample_kernel(const Primitive& prim, const std::vector<array>& inputs,
                          std::vector<array>& outputs) {
  const bool filtered = static_cast<const GumbelSample&>(prim).filtered();
  auto params = read_params(inputs, filtered);
  array& out = outputs[0];
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  if (out.size() == 0) return;
  const auto key = key_at(inputs[2], 0);
  int32_t* dst = out.data<int32_t>();
  switch (inputs[0].dtype()) {
    case float32: sample_rows<float>(inputs[0], params, filtered, key, dst); break;
    case float16: sample_rows<float16_t>(inputs[0], params, filtered, key, dst); break;
    case bfloat16: sample_rows<bfloat16_t>(inputs[0], params, filtered, key, dst); break;
    default:
      detail::throw_invalid("[sample] logits must be float32, float16 or bfloat16, got {}.",
                            dtype_to_string(inputs[0].dtype()));
  }
}

LUMEN_REGISTER_KERNEL(Device::cpu, GumbelSample, gumbel_sample_kernel);

}  // namespace
}  // namespace lumen::cpu
