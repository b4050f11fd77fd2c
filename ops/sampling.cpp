// sample(): Gumbel-max token sampling with runtime temperature, top-k and
// top-p. Outside transforms the fused GumbelSample primitive runs; under them
// the plain composition below, which the fused kernels reproduce exactly.
#include "lumen/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <typeindex>

#include "core/detail/errors.h"
#include "lumen/allocator.h"
#include "lumen/backend.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/random.h"
#include "lumen/reduction.h"
#include "lumen/sampling_primitives.h"
#include "lumen/scan.h"
#include "lumen/shape.h"
#include "lumen/sort.h"
#include "lumen/tracing.h"

namespace lumen {

namespace {

// A per-row parameter: a scalar, [1] or [rows] array of `category`.
void check_param(const array& a, int rows, Dtype::Category category, const char* what) {
  if (!issubdtype(a.dtype(), category)) {
    detail::throw_invalid("[sample] {} must be {}, got {}.", what,
                          category == floating ? "a floating point array" : "an integer array",
                          dtype_to_string(a.dtype()));
  }
  bool ok = a.ndim() == 0 || (a.ndim() == 1 && (a.shape(0) == 1 || a.shape(0) == rows));
  if (!ok) {
    detail::throw_invalid("[sample] {} must be a scalar or have shape ({}), got {}.", what, rows,
                          detail::shape_str(a.shape()));
  }
}

// The values of an evaluated scalar or 1-D parameter held in CPU memory, as
// doubles (nothing for others: the CPU kernel checks those when evaluated).
std::vector<double> known_values(const array& a) {
  if (!a.is_available() || !a.has_data() ||
      a.buffer().owner != &allocator::allocator(Device::cpu)) {
    return {};
  }
  std::vector<double> v(a.size());
  int64_t stride = a.ndim() == 0 ? 0 : a.strides(0);
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t at = static_cast<int64_t>(i) * stride;
    switch (a.dtype()) {
      case float32: v[i] = a.data<float>()[at]; break;
      case float16: v[i] = static_cast<float>(a.data<float16_t>()[at]); break;
      case bfloat16: v[i] = static_cast<float>(a.data<bfloat16_t>()[at]); break;
      case float64: v[i] = a.data<double>()[at]; break;
      case int32: v[i] = a.data<int32_t>()[at]; break;
      case int64: v[i] = static_cast<double>(a.data<int64_t>()[at]); break;
      default: return {};
    }
  }
  return v;
}

void check_temperature_values(const array& t) {
  for (double v : known_values(t)) {
    if (!(v >= 0)) detail::throw_invalid("[sample] temperature must be >= 0, got {}.", v);
  }
}
void check_top_k(double k) {
  if (k < 0) detail::throw_invalid("[sample] top_k must be >= 0 (0 = off), got {}.", k);
}
void check_top_p(double p) {
  if (!(p > 0 && p <= 1)) {
    detail::throw_invalid("[sample] top_p must be in (0, 1] (1 = off), got {}.", p);
  }
}

// A per-row parameter as a column that broadcasts against [rows, V].
array column(const array& a, Dtype dtype, int rows, const Stream& s) {
  auto c = astype(a, dtype, s);
  return a.ndim() == 0 ? c : reshape(broadcast_to(c, {rows}, s), {rows, 1}, s);
}

// A per-row parameter as a [rows] vector (a stride-0 view for a scalar).
array per_row(const array& a, Dtype dtype, int rows, const Stream& s) {
  return broadcast_to(astype(a, dtype, s), {rows}, s);
}

// The filtering threshold per row, [rows, 1]: the value of the sorted
// (descending) scaled logits at the smaller of the top-k and top-p positions.
array threshold(const array& scaled, const array& top_k, const array& top_p, const Stream& s) {
  const int rows = scaled.shape(0), vocab = scaled.shape(1);
  auto sorted = negative(sort(negative(scaled, s), -1, s), s);
  auto last = array(vocab - 1, int32);

  // top-k: position k - 1, or the last one when off (0) or k >= V
  auto k = column(top_k, int32, rows, s);
  auto k_on = logical_and(greater(k, array(0, int32), s), less(k, array(vocab, int32), s), s);
  auto k_pos = where(k_on, subtract(k, array(1, int32), s), last, s);

  // top-p: the last position whose exclusive cumulative mass is < p * total,
  // with masses in fixed point so that any summation order gives the same sums
  auto p = column(top_p, float32, rows, s);
  auto m = max(scaled, -1, true, s);
  auto e = exp(subtract(sorted, m, s), s);
  auto q = astype(multiply(e, array(4294967296.0f), s), int64, s);
  auto before = cumsum(q, -1, false, false, std::nullopt, s);
  auto total = sum(q, -1, true, s);
  auto limit = multiply(astype(total, float64, s), astype(p, float64, s), s);
  auto count = sum(less(astype(before, float64, s), limit, s), -1, true, s);
  auto p_pos = maximum(subtract(astype(count, int32, s), array(1, int32), s), array(0, int32), s);
  p_pos = where(greater_equal(p, array(1.0f), s), last, p_pos, s);

  return take_along_axis(sorted, minimum(k_pos, p_pos, s), -1, s);
}

// The plain composition: gumbel noise from `key`, scaled logits, the
// filtering mask, the temperature-0 rows, argmax.
array sample_plain(const array& x2, const array& temperature, const std::optional<array>& top_k,
                   const std::optional<array>& top_p, const array& key, const Stream& s) {
  const int rows = x2.shape(0), vocab = x2.shape(1);
  auto x = astype(x2, float32, s);
  auto t = column(temperature, float32, rows, s);
  auto scaled = divide(x, t, s);
  auto g = random::gumbel({rows, vocab}, float32, key, s);
  auto z = add(scaled, g, s);
  if (top_k) {
    auto cut = threshold(scaled, *top_k, *top_p, s);
    auto minus_inf = array(-std::numeric_limits<float>::infinity());
    z = where(less(scaled, cut, s), minus_inf, z, s);
  }
  z = where(equal(t, array(0.0f), s), x, z, s);
  return astype(argmax(z, -1, false, s), int32, s);
}

array sample_impl(const array& logits, const array& temperature,
                  const std::optional<array>& top_k, const std::optional<array>& top_p,
                  const std::optional<array>& key_, StreamOrDevice s_) {
  auto s = to_stream(s_);
  auto d = logits.dtype();
  if (d != float32 && d != float16 && d != bfloat16) {
    detail::throw_invalid("[sample] logits must be float32, float16 or bfloat16, got {}.",
                          dtype_to_string(d));
  }
  if (logits.ndim() != 1 && logits.ndim() != 2) {
    detail::throw_invalid("[sample] logits must have shape [V] or [B, V], got {}.",
                          detail::shape_str(logits.shape()));
  }
  if (logits.shape(-1) == 0) {
    detail::throw_invalid("[sample] the vocabulary (last axis of logits) is empty: {}.",
                          detail::shape_str(logits.shape()));
  }
  const int rows = logits.ndim() == 2 ? logits.shape(0) : 1;
  check_param(temperature, rows, floating, "temperature");
  check_temperature_values(temperature);
  if (top_k) check_param(*top_k, rows, integer, "top_k");
  if (top_p) check_param(*top_p, rows, floating, "top_p");
  const std::vector<double> ks = top_k ? known_values(*top_k) : std::vector<double>{};
  for (double k : ks) check_top_k(k);
  if (top_p) for (double p : known_values(*top_p)) check_top_p(p);
  // a hint for the fused kernels: top-k known to be off in every row
  const bool no_top_k =
      !top_k || (!ks.empty() && std::all_of(ks.begin(), ks.end(), [](double k) { return k == 0; }));

  auto key = key_ ? *key_ : random::KeySequence::default_().next();
  if (key.dtype() != uint32 || key.shape() != Shape{2}) {
    detail::throw_invalid("[sample] key must be a uint32 array of shape (2), got {} {}.",
                          dtype_to_string(key.dtype()), detail::shape_str(key.shape()));
  }

  auto x2 = logits.ndim() == 2 ? logits : reshape(logits, {1, logits.shape(0)}, s);
  array ids = [&] {
    bool fused = !detail::in_tracing() &&
                 backend::find_kernel(s.device.type, std::type_index(typeid(GumbelSample)));
    if (!fused) return sample_plain(x2, temperature, top_k, top_p, key, s);
    std::vector<array> inputs{x2, per_row(temperature, float32, rows, s), key};
    if (top_k) {
      inputs.push_back(per_row(*top_k, int32, rows, s));
      inputs.push_back(per_row(*top_p, float32, rows, s));
    }
    return array({rows}, int32, std::make_shared<GumbelSample>(s, top_k.has_value(), no_top_k),
                  std::move(inputs));
  }();
  return logits.ndim() == 2 ? ids : reshape(ids, {}, s);
}

}  // namespace

array sample(const array& logits, const array& temperature, int top_k, float top_p,
             const std::optional<array>& key, StreamOrDevice s) {
  check_top_k(top_k);
  check_top_p(top_p);
  if (top_k == 0 && top_p == 1.0f) return sample_impl(logits, temperature, {}, {}, key, s);
  return sample_impl(logits, temperature, array(top_k, int32), array(top_p, float32), key, s);
}

array sample(const array& logits, const array& temperature, const array& top_k,
             const array& top_p, const std::optional<array>& key, StreamOrDevice s) {
  return sample_impl(logits, temperature, top_k, top_p, key, s);
}

bool GumbelSample::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const GumbelSample*>(&other);
  return o && o->filtered_ == filtered_ && o->no_top_k_ == no_top_k_;
}

std::vector<Shape> GumbelSample::output_shapes(const std::vector<array>& inputs) {
  return {{inputs[0].shape(0)}};
}

}  // namespace lumen
