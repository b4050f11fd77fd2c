// MLX's random functions (mlx/random.cpp, commit 846d176), composed from the
// same primitives in the same order so that every family gives MLX's numbers.
// Outside transforms, uniform and normal requests with scalar parameters take
// the fused primitives instead, which give the same bits.
#include "lumen/random.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <typeindex>

#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/elementwise.h"
#include "lumen/random_primitives.h"
#include "lumen/shape.h"
#include "lumen/tracing.h"

namespace lumen::random {

namespace {

void check_key(const array& key) {
  if (key.dtype() != uint32) {
    detail::throw_invalid("[bits] Expected key type uint32 but received {}.",
                          dtype_to_string(key.dtype()));
  }
  if (key.shape() != Shape{2}) {
    detail::throw_invalid("[bits] Expected key shape (2) but received {}.",
                          detail::shape_str(key.shape()));
  }
}

// The key to use: the given one or the next of this thread's sequence.
array key_or_next(const std::optional<array>& key) {
  return key ? *key : KeySequence::default_().next();
}

Dtype bits_dtype(int width) {
  switch (width) {
    case 4: return uint32;
    case 2: return uint16;
    case 1: return uint8;
    default: detail::throw_invalid("[bits] Bit width must be in {{1, 2, 4}} but got {}.", width);
  }
}

// A fused primitive replaces a plain chain outside transforms, for dtypes its
// kernels take, where the stream's backend has a kernel for it.
template <typename P>
bool fused_available(const Stream& s, Dtype dtype) {
  return !detail::in_tracing() && (dtype == float32 || dtype == float16 || dtype == bfloat16) &&
         backend::find_kernel(s.device.type, std::type_index(typeid(P))) != nullptr;
}

// A parameter that broadcasts to `shape` without changing it, with one value.
bool is_scalar_param(const array& a, const Shape& shape) {
  return a.size() == 1 && a.ndim() <= shape.size();
}

// The float32 value just below 1 in `dtype` (MLX's clip bound for uniform).
float upper_bound(Dtype dtype) {
  switch (dtype) {
    case float32: return std::nextafter(1.0f, 0.0f);
    case float16: return static_cast<float>(float16_t::from_bits(float16_t(1.0f).bits - 1));
    case bfloat16: return static_cast<float>(bfloat16_t::from_bits(bfloat16_t(1.0f).bits - 1));
    default: detail::throw_invalid("[uniform] Unsupported type.");
  }
}

// MLX's uniform chain from float32 bits onward.
array uniform_chain(const array& bits, const array& lo, const array& range, Dtype dtype,
                    const Stream& s) {
  auto upper = array(upper_bound(dtype), float32);
  auto maxval = array(std::numeric_limits<uint32_t>::max(), float32);
  auto out = divide(bits, maxval, s);
  out = astype(minimum(out, upper, s), dtype, s);
  return add(multiply(range, out, s), lo, s);
}

}  // namespace

KeySequence::KeySequence(uint64_t seed) : key_(key(seed)) {}

void KeySequence::seed(uint64_t seed) { key_ = key(seed); }

array KeySequence::next() {
  auto out = split(key_);
  key_ = out.first;
  return out.second;
}

KeySequence& KeySequence::default_() {
  static const uint64_t time_seed = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  static thread_local KeySequence ks(time_seed);
  return ks;
}

array key(uint64_t seed) {
  auto k1 = static_cast<uint32_t>(seed >> 32);
  auto k2 = static_cast<uint32_t>(seed);
  return array({k1, k2});
}

void seed(uint64_t seed) { KeySequence::default_().seed(seed); }

array bits(const Shape& shape, int width, const std::optional<array>& key_, StreamOrDevice s) {
  for (auto d : shape) {
    if (d < 0) detail::throw_invalid("[bits] Negative dimensions not allowed.");
  }
  auto key = key_or_next(key_);
  check_key(key);
  auto dtype = bits_dtype(width);
  return array(shape, dtype, std::make_shared<RandomBits>(to_stream(s), shape, width), {key});
}

array split(const array& key, int num, StreamOrDevice s) { return bits({num, 2}, 4, key, s); }

std::pair<array, array> split(const array& key, StreamOrDevice s) {
  // The two rows of split(key, 2), each read straight from its half of the
  // 4-word stream (a window of RandomBits): the same bits as MLX's
  // bits((2, 2)) -> split -> reshape.
  check_key(key);
  auto stream = to_stream(s);
  auto row = [&](int64_t first) {
    return array({2}, uint32,
                 std::make_shared<RandomBits>(stream, Shape{2}, 4, RandomBits::Window{4, first}),
                 {key});
  };
  return {row(0), row(2)};
}

array uniform(const array& low, const array& high, const Shape& shape, Dtype dtype,
              const std::optional<array>& key, StreamOrDevice s) {
  if (!issubdtype(dtype, floating)) {
    detail::throw_invalid(
        "[uniform] Can only generate uniform numbers with real floating point type.");
  }
  auto stream = to_stream(s);
  auto lo = astype(low, dtype, stream);
  auto hi = astype(high, dtype, stream);
  auto range = subtract(hi, lo, stream);
  auto out_shape = broadcast_shapes(shape, range.shape());
  if (out_shape != shape) {
    detail::throw_invalid("[uniform] Cannot generate random values of shape {} from broadcasted shape {}.",
                          detail::shape_str(shape), detail::shape_str(out_shape));
  }
  upper_bound(dtype);  // rejects float64 before a key is drawn, as MLX

  if (fused_available<RandomUniform>(stream, dtype) && is_scalar_param(range, shape)) {
    auto k = key_or_next(key);
    check_key(k);
    return array(shape, dtype, std::make_shared<RandomUniform>(stream, shape, dtype),
                 {k, lo, range});
  }
  return uniform_chain(bits(shape, size_of(float32), key, stream), lo, range, dtype, stream);
}

array uniform(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  return uniform(array(0.0, dtype), array(1.0, dtype), shape, dtype, key, to_stream(s));
}

array normal(const Shape& shape, Dtype dtype, const std::optional<array>& loc,
             const std::optional<array>& scale, const std::optional<array>& key,
             StreamOrDevice s) {
  if (dtype == complex64) {
    detail::throw_invalid("[normal] complex64 is not supported yet.");
  } else if (!issubdtype(dtype, floating)) {
    detail::throw_invalid("[normal] Only floating point and complex64 types are supported.");
  }
  auto stream = to_stream(s);
  auto applied_scale = array(std::sqrt(2.0), dtype);
  if (scale) applied_scale = multiply(applied_scale, astype(*scale, dtype, stream), stream);

  bool scalar_params = is_scalar_param(applied_scale, shape) && (!loc || is_scalar_param(*loc, shape));
  if (fused_available<RandomNormal>(stream, dtype) && scalar_params) {
    auto k = key_or_next(key);
    check_key(k);
    std::vector<array> inputs{k, applied_scale};
    if (loc) inputs.push_back(astype(*loc, dtype, stream));
    return array(shape, dtype, std::make_shared<RandomNormal>(stream, shape, dtype),
                 std::move(inputs));
  }

  auto low = array(std::nextafter(-1.0f, 0.0f), float32);
  auto high = array(1.0f, float32);
  auto samples = uniform(low, high, shape, float32, key, stream);
  samples = astype(erfinv(samples, stream), dtype, stream);
  samples = multiply(applied_scale, samples, stream);
  if (loc) samples = add(astype(*loc, dtype, stream), samples, stream);
  return samples;
}

array randint(const array& low, const array& high, const Shape& shape, Dtype dtype,
              const std::optional<array>& key, StreamOrDevice s) {
  if (issubdtype(dtype, inexact)) {
    detail::throw_invalid("[randint] randint only accepts integer dtypes and bool.");
  }
  auto u = uniform(low, high, shape, float32, key, s);
  // floor first: astype truncates towards zero
  auto out = astype(floor(u, s), dtype, s);
  // bounds not representable in float32 can widen the range: clamp to [low, high - 1]
  auto hi = astype(subtract(high, array(1, high.dtype()), s), dtype, s);
  return maximum(minimum(out, hi, s), astype(low, dtype, s), s);
}

array bernoulli(const array& p, const Shape& shape, const std::optional<array>& key,
                StreamOrDevice s) {
  if (!issubdtype(p.dtype(), floating)) {
    detail::throw_invalid("[bernoulli] bernoulli probability `p` must be a float type.");
  }
  // p scaled onto [0, the float after UINT32_MAX]: p >= 1 is always true, p <= 0 never
  auto upper = array(std::nextafter(static_cast<float>(std::numeric_limits<uint32_t>::max()),
                                    std::numeric_limits<float>::max()),
                     float32);
  auto res = less(bits(shape, key, s), multiply(p, upper, s), s);
  if (res.shape() != shape) {
    detail::throw_invalid("[bernoulli] shape of `p` is incompatible with argument `shape`.");
  }
  return res;
}

array bernoulli(const array& p, const std::optional<array>& key, StreamOrDevice s) {
  return bernoulli(p, p.shape(), key, s);
}

array bernoulli(const std::optional<array>& key, StreamOrDevice s) {
  return bernoulli(array(0.5f), key, s);
}

array truncated_normal(const array& lower, const array& upper, const Shape& shape, Dtype dtype,
                       const std::optional<array>& key, StreamOrDevice s) {
  // JAX's method: uniform between the bounds' CDF values, through erfinv
  if (!issubdtype(dtype, floating)) {
    detail::throw_invalid("[trunc_normal] trunc_normal only accepts floating point dtypes.");
  }
  auto sqrt2 = array(std::sqrt(2.0), dtype);
  auto lower_t = astype(lower, dtype, s);
  auto upper_t = astype(upper, dtype, s);
  auto a = erf(divide(lower_t, sqrt2, s), s);
  auto b = erf(divide(upper_t, sqrt2, s), s);
  auto u = uniform(a, b, shape, dtype, key, s);
  auto out = multiply(sqrt2, erfinv(u, s), s);
  return maximum(minimum(upper_t, out, s), lower_t, s);
}

array truncated_normal(const array& lower, const array& upper, Dtype dtype,
                       const std::optional<array>& key, StreamOrDevice s) {
  auto shape = broadcast_shapes(lower.shape(), upper.shape(), "truncated_normal");
  return truncated_normal(lower, upper, shape, dtype, key, s);
}

array gumbel(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  // -log(-log(u))
  return negative(log(negative(log(uniform(shape, dtype, key, s), s), s), s), s);
}

array laplace(const Shape& shape, Dtype dtype, const float loc, const float scale,
              const std::optional<array>& key, StreamOrDevice s) {
  if (!issubdtype(dtype, floating)) {
    detail::throw_invalid("[laplace] Only real floating point types are supported.");
  }
  auto stream = to_stream(s);
  auto low = array(std::nextafter(-1.0f, 0.0f), float32);
  auto high = array(1.0f, float32);
  auto samples = uniform(low, high, shape, float32, key, stream);
  // inverse CDF: sign(u) * log1p(-|u|)
  samples = multiply(sign(samples, stream),
                     log1p(multiply(array(-1.0f, dtype), abs(samples, stream), stream), stream),
                     stream);
  samples = astype(samples, dtype, stream);
  if (scale != 1.0) samples = multiply(array(scale, dtype), samples, stream);
  if (loc != 0.0) samples = add(array(loc, dtype), samples, stream);
  return samples;
}

// ---- primitive parameters ----

}  // namespace lumen::random

namespace lumen {

bool RandomBits::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const RandomBits*>(&other);
  return o && o->shape_ == shape_ && o->width_ == width_ && o->window_ == window_;
}
std::vector<Shape> RandomBits::output_shapes(const std::vector<array>&) { return {shape_}; }

bool RandomUniform::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const RandomUniform*>(&other);
  return o && o->shape_ == shape_ && o->dtype_ == dtype_;
}
std::vector<Shape> RandomUniform::output_shapes(const std::vector<array>&) { return {shape_}; }

bool RandomNormal::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const RandomNormal*>(&other);
  return o && o->shape_ == shape_ && o->dtype_ == dtype_;
}
std::vector<Shape> RandomNormal::output_shapes(const std::vector<array>&) { return {shape_}; }

}  // namespace lumen

