// MLX's random functions (mlx/random.cpp, commit 846d176), composed from the
// same primitives in the same order so that every family gives MLX's numbers.
// Outside transforms, uniform and normal requests with scalar parameters take
// the fused primitives instead, which give the same bits.
#include "lumen/random.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <typeindex>

#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/random_primitives.h"
#include "lumen/reduction.h"
#include "lumen/scan.h"
#include "lumen/shape.h"
#include "lumen/sort.h"
#include "lumen/tracing.h"
#include "ops/detail/random_chunks.h"

namespace lumen::random {

namespace {

void check_key(const array& key) {
  if (key.dtype() != uint32) {
    lumen::detail::throw_invalid("[bits] Expected key type uint32 but received {}.",
                                 dtype_to_string(key.dtype()));
  }
  if (key.shape() != Shape{2}) {
    lumen::detail::throw_invalid("[bits] Expected key shape (2) but received {}.",
                                 lumen::detail::shape_str(key.shape()));
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
    default:
      lumen::detail::throw_invalid("[bits] Bit width must be in {{1, 2, 4}} but got {}.", width);
  }
}

// A fused primitive replaces a plain chain outside transforms, for dtypes its
// kernels take, where the stream's backend has a kernel for it.
template <typename P>
bool fused_available(const Stream& s, Dtype dtype) {
  return !lumen::detail::in_tracing() &&
         (dtype == float32 || dtype == float16 || dtype == bfloat16) &&
         backend::find_kernel(s.device.type, std::type_index(typeid(P))) != nullptr;
}

// The float32 value just below 1 in `dtype` (MLX's clip bound for uniform).
float upper_bound(Dtype dtype) {
  switch (dtype) {
    case float32: return std::nextafter(1.0f, 0.0f);
    case float16: return static_cast<float>(float16_t::from_bits(float16_t(1.0f).bits - 1));
    case bfloat16: return static_cast<float>(bfloat16_t::from_bits(bfloat16_t(1.0f).bits - 1));
    default: lumen::detail::throw_invalid("[uniform] Unsupported type.");
  }
}

// Where a chain's random bits come from: the whole request, or rows
// [row0, row1) of it (a window of the same threefry stream, so the pieces of
// a chunked request hold exactly the whole request's values).
class BitSource {
 public:
  BitSource(array key, Shape shape, Stream s)
      : key_(std::move(key)), full_(shape), shape_(std::move(shape)), stream_(s) {}

  BitSource rows(int row0, int row1) const {
    BitSource piece = *this;
    piece.shape_[0] = row1 - row0;
    piece.row0_ = row0;
    piece.is_piece_ = true;
    return piece;
  }
  bool is_whole() const { return !is_piece_; }
  const Shape& shape() const { return shape_; }
  const Stream& stream() const { return stream_; }
  const array& key() const { return key_; }

  array bits(int width) const {
    std::optional<RandomBits::Window> window;
    if (is_piece_) {
      int64_t size = lumen::detail::checked_size(full_, "random");
      window = RandomBits::Window{size, row0_ * (size / full_[0])};
    }
    return array(shape_, bits_dtype(width),
                 std::make_shared<RandomBits>(stream_, shape_, width, window), {key_});
  }

  // A parameter that broadcasts against the whole request, cut to this part.
  array part(const array& p) const {
    if (!is_piece_ || p.ndim() != full_.size() || p.shape(0) == 1) return p;
    Shape start(p.ndim(), 0);
    Shape stop = p.shape();
    start[0] = row0_;
    stop[0] = row0_ + shape_[0];
    return slice(p, std::move(start), std::move(stop), stream_);
  }

 private:
  array key_;
  Shape full_, shape_;
  Stream stream_;
  int64_t row0_ = 0;
  bool is_piece_ = false;
};

// MLX's uniform chain: bits -> float32 / (2^32 - 1) -> min(upper) -> dtype
// -> * (high - low) -> + low. The bounds are this part's (src.part).
array uniform_chain(const BitSource& src, const array& low, const array& high, Dtype dtype) {
  auto& s = src.stream();
  auto lo = astype(low, dtype, s);
  auto hi = astype(high, dtype, s);
  auto range = subtract(hi, lo, s);
  auto upper = array(upper_bound(dtype), float32);
  auto maxval = array(std::numeric_limits<uint32_t>::max(), float32);
  auto out = divide(src.bits(size_of(float32)), maxval, s);
  out = astype(minimum(out, upper, s), dtype, s);
  return add(multiply(range, out, s), lo, s);
}

// Uniform samples for a chain: the fused primitive for a whole request with
// scalar bounds where available, else the plain chain. The bounds are this
// part's.
array uniform_part(const BitSource& src, const array& low, const array& high, Dtype dtype) {
  auto& s = src.stream();
  if (src.is_whole() && fused_available<RandomUniform>(s, dtype) && low.size() == 1 &&
      high.size() == 1 && std::max(low.ndim(), high.ndim()) <= src.shape().size()) {
    auto lo = astype(low, dtype, s);
    auto range = subtract(astype(high, dtype, s), lo, s);
    return array(src.shape(), dtype, std::make_shared<RandomUniform>(s, src.shape(), dtype),
                 {src.key(), lo, range});
  }
  return uniform_chain(src, low, high, dtype);
}

// MLX's normal chain: uniform float32 on [nextafter(-1, 0), 1), erfinv, cast,
// * sqrt(2) * scale, + loc.
array normal_chain(const BitSource& src, Dtype dtype, const std::optional<array>& loc,
                   const std::optional<array>& scale) {
  auto& s = src.stream();
  auto low = array(std::nextafter(-1.0f, 0.0f), float32);
  auto high = array(1.0f, float32);
  auto samples = uniform_part(src, low, high, float32);
  auto applied_scale = array(std::sqrt(2.0), dtype);
  if (scale) applied_scale = multiply(applied_scale, astype(src.part(*scale), dtype, s), s);
  samples = astype(erfinv(samples, s), dtype, s);
  samples = multiply(applied_scale, samples, s);
  if (loc) samples = add(astype(src.part(*loc), dtype, s), samples, s);
  return samples;
}

// MLX's (JAX's) truncated normal: uniform between the bounds' CDF values,
// through erfinv, clipped into the bounds.
array truncated_normal_chain(const BitSource& src, const array& lower, const array& upper,
                             Dtype dtype) {
  auto& s = src.stream();
  auto sqrt2 = array(std::sqrt(2.0), dtype);
  auto lower_t = astype(src.part(lower), dtype, s);
  auto upper_t = astype(src.part(upper), dtype, s);
  auto a = erf(divide(lower_t, sqrt2, s), s);
  auto b = erf(divide(upper_t, sqrt2, s), s);
  auto u = uniform_part(src, a, b, dtype);
  auto out = multiply(sqrt2, erfinv(u, s), s);
  return maximum(minimum(upper_t, out, s), lower_t, s);
}

// MLX's laplace: the inverse CDF sign(u) * log1p(-|u|) of a uniform on
// [nextafter(-1, 0), 1), in float32, then cast, scale and shift.
array laplace_chain(const BitSource& src, Dtype dtype, float loc, float scale) {
  auto& s = src.stream();
  auto low = array(std::nextafter(-1.0f, 0.0f), float32);
  auto high = array(1.0f, float32);
  auto samples = uniform_part(src, low, high, float32);
  samples =
      multiply(sign(samples, s), log1p(multiply(array(-1.0f, dtype), abs(samples, s), s), s), s);
  samples = astype(samples, dtype, s);
  if (scale != 1.0) samples = multiply(array(scale, dtype), samples, s);
  if (loc != 0.0) samples = add(array(loc, dtype), samples, s);
  return samples;
}

// A request in K pieces along axis 0 (detail::chunk_count), each written into
// the output by slice_update (which donates the output from piece to piece),
// or in one piece.
template <typename Chain>
array generate(const BitSource& src, Dtype dtype, Chain&& chain) {
  int k = lumen::detail::in_tracing() ? 1 : detail::chunk_count(src.shape(), dtype);
  if (k <= 1) return chain(src);
  const Shape& shape = src.shape();
  auto& s = src.stream();
  const int64_t rows = shape[0];
  array out = zeros(shape, dtype, s);
  for (int i = 0; i < k; ++i) {
    int row0 = static_cast<int>(rows * i / k), row1 = static_cast<int>(rows * (i + 1) / k);
    Shape start(shape.size(), 0);
    Shape stop = shape;
    start[0] = row0;
    stop[0] = row1;
    out = slice_update(out, chain(src.rows(row0, row1)), std::move(start), std::move(stop), s);
  }
  return out;
}

}  // namespace

namespace detail {

namespace {
std::mutex policy_mutex;
ChunkPolicy policy;
}  // namespace

ChunkPolicy chunk_policy() {
  std::lock_guard<std::mutex> lk(policy_mutex);
  return policy;
}

ChunkPolicy set_chunk_policy(ChunkPolicy p) {
  std::lock_guard<std::mutex> lk(policy_mutex);
  std::swap(policy, p);
  return p;
}

int chunk_count(const Shape& shape, Dtype dtype) {
  if ((dtype != float16 && dtype != bfloat16) || shape.empty() || shape[0] < 4) return 1;
  auto p = chunk_policy();
  int64_t bytes = lumen::detail::checked_size(shape, "random") * int64_t(size_of(float32));
  if (bytes < p.threshold_bytes) return 1;
  int64_t k = std::clamp<int64_t>((bytes + p.piece_bytes - 1) / p.piece_bytes, 4, 256);
  return static_cast<int>(std::min<int64_t>(k, shape[0]));
}

}  // namespace detail

KeySequence::KeySequence(uint64_t seed) : key_(key(seed)) {}

void KeySequence::seed(uint64_t seed) { key_ = key(seed); }

array KeySequence::next() {
  auto out = split(key_);
  key_ = out.first;
  return out.second;
}

KeySequence& KeySequence::default_() {
  static const uint64_t time_seed =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
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
    if (d < 0) lumen::detail::throw_invalid("[bits] Negative dimensions not allowed.");
  }
  auto key = key_or_next(key_);
  check_key(key);
  auto dtype = bits_dtype(width);
  return array(shape, dtype, std::make_shared<RandomBits>(to_stream(s), shape, width), {key});
}

array split(const array& key, int num, StreamOrDevice s) { return bits({num, 2}, 4, key, s); }

std::pair<array, array> split(const array& key, StreamOrDevice s) {
  auto stream = to_stream(s);
  auto out = lumen::split(random::split(key, 2, stream), 2, stream);
  return {reshape(out[0], {2}, stream), reshape(out[1], {2}, stream)};
}

array uniform(const array& low, const array& high, const Shape& shape, Dtype dtype,
              const std::optional<array>& key, StreamOrDevice s) {
  if (!issubdtype(dtype, floating)) {
    lumen::detail::throw_invalid(
        "[uniform] Can only generate uniform numbers with real floating point type.");
  }
  auto out_shape =
      broadcast_shapes(shape, broadcast_shapes(low.shape(), high.shape(), "uniform"), "uniform");
  if (out_shape != shape) {
    lumen::detail::throw_invalid(
        "[uniform] Cannot generate random values of shape {} from broadcasted shape {}.",
        lumen::detail::shape_str(shape), lumen::detail::shape_str(out_shape));
  }
  upper_bound(dtype);  // rejects float64 before a key is drawn, as MLX
  auto k = key_or_next(key);
  check_key(k);
  auto stream = to_stream(s);
  BitSource src(k, shape, stream);
  if (low.size() == 1 && high.size() == 1 && fused_available<RandomUniform>(stream, dtype)) {
    return uniform_part(src, low, high, dtype);
  }
  return generate(src, dtype, [&](const BitSource& part) {
    return uniform_chain(part, part.part(low), part.part(high), dtype);
  });
}

array uniform(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  return uniform(array(0.0, dtype), array(1.0, dtype), shape, dtype, key, to_stream(s));
}

namespace {

// MLX's complex normal: erfinv of uniforms on [nextafter(-1, 0), 1) in
// float32 pairs read as complex64, scaled and shifted.
array complex_normal(Shape shape, const std::optional<array>& loc,
                     const std::optional<array>& scale, const std::optional<array>& key,
                     const Stream& s) {
  auto low = array(std::nextafter(-1.0f, 0.0f), float32);
  auto high = array(1.0f, float32);
  shape.push_back(2);
  auto samples = erfinv(uniform(low, high, shape, float32, key, s), s);
  samples = squeeze(view(samples, complex64, s), -1, s);
  if (scale) samples = multiply(*scale, samples, s);
  if (loc) samples = add(*loc, samples, s);
  return samples;
}

}  // namespace

array normal(const Shape& shape, Dtype dtype, const std::optional<array>& loc,
             const std::optional<array>& scale, const std::optional<array>& key, StreamOrDevice s) {
  auto stream = to_stream(s);
  if (dtype == complex64) {
    return complex_normal(shape, loc, scale, key, stream);
  } else if (!issubdtype(dtype, floating)) {
    lumen::detail::throw_invalid("[normal] Only floating point and complex64 types are supported.");
  }
  // the output shape: loc and scale may broadcast it larger, as in MLX
  Shape out_shape = shape;
  if (scale) out_shape = broadcast_shapes(out_shape, scale->shape(), "normal");
  if (loc) out_shape = broadcast_shapes(out_shape, loc->shape(), "normal");
  auto k = key_or_next(key);
  check_key(k);
  BitSource src(k, shape, stream);

  bool scalar_params = (!loc || loc->size() == 1) && (!scale || scale->size() == 1);
  if (out_shape == shape && scalar_params && fused_available<RandomNormal>(stream, dtype)) {
    auto applied_scale = array(std::sqrt(2.0), dtype);
    if (scale) applied_scale = multiply(applied_scale, astype(*scale, dtype, stream), stream);
    std::vector<array> inputs{k, applied_scale};
    if (loc) inputs.push_back(astype(*loc, dtype, stream));
    return array(shape, dtype, std::make_shared<RandomNormal>(stream, shape, dtype),
                 std::move(inputs));
  }
  auto chain = [&](const BitSource& part) { return normal_chain(part, dtype, loc, scale); };
  if (out_shape != shape) return chain(src);
  return generate(src, dtype, chain);
}

array randint(const array& low, const array& high, const Shape& shape, Dtype dtype,
              const std::optional<array>& key, StreamOrDevice s) {
  if (issubdtype(dtype, inexact)) {
    lumen::detail::throw_invalid("[randint] randint only accepts integer dtypes and bool.");
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
    lumen::detail::throw_invalid("[bernoulli] bernoulli probability `p` must be a float type.");
  }
  // p scaled onto [0, the float after UINT32_MAX]: p >= 1 is always true, p <= 0 never
  auto upper = array(std::nextafter(static_cast<float>(std::numeric_limits<uint32_t>::max()),
                                    std::numeric_limits<float>::max()),
                     float32);
  auto res = less(bits(shape, key, s), multiply(p, upper, s), s);
  if (res.shape() != shape) {
    lumen::detail::throw_invalid("[bernoulli] shape of `p` is incompatible with argument `shape`.");
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
  if (!issubdtype(dtype, floating)) {
    lumen::detail::throw_invalid("[trunc_normal] trunc_normal only accepts floating point dtypes.");
  }
  // the checks of the inner uniform, before its key is drawn
  auto bounds = broadcast_shapes(lower.shape(), upper.shape(), "truncated_normal");
  auto out_shape = broadcast_shapes(shape, bounds, "uniform");
  if (out_shape != shape) {
    lumen::detail::throw_invalid(
        "[uniform] Cannot generate random values of shape {} from broadcasted shape {}.",
        lumen::detail::shape_str(shape), lumen::detail::shape_str(out_shape));
  }
  upper_bound(dtype);
  auto k = key_or_next(key);
  check_key(k);
  auto stream = to_stream(s);
  BitSource src(k, shape, stream);
  auto chain = [&](const BitSource& part) {
    return truncated_normal_chain(part, lower, upper, dtype);
  };
  // scalar bounds: the fused uniform keeps the whole chain at the output's size
  if (lower.size() == 1 && upper.size() == 1 && fused_available<RandomUniform>(stream, dtype)) {
    return chain(src);
  }
  return generate(src, dtype, chain);
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
    lumen::detail::throw_invalid("[laplace] Only real floating point types are supported.");
  }
  auto k = key_or_next(key);
  check_key(k);
  BitSource src(k, shape, to_stream(s));
  return generate(src, dtype,
                  [&](const BitSource& part) { return laplace_chain(part, dtype, loc, scale); });
}

namespace {

int categorical_axis(int axis, int ndim) {
  int ax = axis < 0 ? axis + ndim : axis;
  if (ax < 0 || ax >= ndim) {
    lumen::detail::throw_invalid("[categorical] Invalid axis {} for logits with {} dimensions.",
                                 axis, ndim);
  }
  return ax;
}

// MLX's sampler for one distribution and a shape of samples: inverse CDF, in
// O(n + m) memory there. searchsorted(cdf, u, "right") is the number of cdf
// values <= u (the cdf does not decrease); lumen has no searchsorted yet, so
// that count is taken directly (O(n * m) memory, the same numbers).
array categorical_inverse_cdf(const array& logits, const Shape& shape,
                              const std::optional<array>& key, StreamOrDevice s) {
  auto dtype = promote_types(logits.dtype(), float32);
  auto x = astype(logits, dtype, s);
  auto m = max(x, s);
  // exp(x - m) is NaN for an infinite max: uniform over the maximal entries
  auto w = where(isinf(m, s), astype(equal(x, m, s), dtype, s), exp(subtract(x, m, s), s), s);
  auto cdf = cumsum(w, 0, /* reverse = */ false, /* inclusive = */ false, s);
  auto u = multiply(uniform(shape, float32, key, s), sum(w, s), s);
  auto at_or_below = less_equal(cdf, expand_dims(u, -1, s), s);
  auto count = astype(sum(at_or_below, -1, false, s), uint32, s);
  return subtract(count, array(1u, uint32), s);
}

array categorical_impl(const array& logits, int axis, const Shape& shape,
                       const std::optional<array>& key, StreamOrDevice s) {
  auto n = logits.shape(axis);
  if (n > 0 && logits.size() == static_cast<size_t>(n) && !shape.empty()) {
    return categorical_inverse_cdf(reshape(logits, {n}, s), shape, key, s);
  }
  // Gumbel-max: argmax(logits + g)
  auto gumbel_shape = shape;
  auto offset = static_cast<int>(axis + shape.size() - logits.ndim() + 1);
  gumbel_shape.insert(gumbel_shape.begin() + offset, logits.shape(axis));
  auto g = gumbel(gumbel_shape, float32, key, s);
  return argmax(add(g, logits, s), offset, false, s);
}

}  // namespace

array categorical(const array& logits, int axis, const Shape& shape,
                  const std::optional<array>& key, StreamOrDevice s) {
  axis = categorical_axis(axis, static_cast<int>(logits.ndim()));
  // shape must broadcast with the logits reduced along axis
  auto reduced = logits.shape();
  reduced.erase(reduced.begin() + axis);
  if (broadcast_shapes(shape, reduced, "categorical") != shape) {
    lumen::detail::throw_invalid(
        "[categorical] Requested shape {} is not broadcast compatible with reduced logits shape "
        "{}.",
        lumen::detail::shape_str(shape), lumen::detail::shape_str(reduced));
  }
  return categorical_impl(logits, axis, shape, key, s);
}

array categorical(const array& logits_, int axis, int num_samples, const std::optional<array>& key,
                  StreamOrDevice s) {
  axis = categorical_axis(axis, static_cast<int>(logits_.ndim()));
  auto logits = expand_dims(logits_, -1, s);
  auto shape = logits.shape();
  shape.erase(shape.begin() + axis);
  shape.back() = num_samples;
  return categorical_impl(logits, axis, shape, key, s);
}

array categorical(const array& logits, int axis, const std::optional<array>& key,
                  StreamOrDevice s) {
  axis = categorical_axis(axis, static_cast<int>(logits.ndim()));
  auto shape = logits.shape();
  shape.erase(shape.begin() + axis);
  return categorical_impl(logits, axis, shape, key, s);
}

array permutation(const array& x, int axis, const std::optional<array>& key, StreamOrDevice s) {
  return take(x, permutation(x.shape(axis), key, s), axis, s);
}

array permutation(int x, const std::optional<array>& key, StreamOrDevice s) {
  return argsort(bits({x}, key, s), s);
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
