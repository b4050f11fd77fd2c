#include "lumen/creation.h"

#include <climits>
#include <cmath>
#include <numbers>
#include <optional>

#include "core/detail/errors.h"
#include "lumen/creation_primitives.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/shape.h"

namespace lumen {

array arange(double start, double stop, double step, Dtype dtype, StreamOrDevice s) {
  if (dtype == bool_) detail::throw_invalid("[arange] bool not supported for arange");
  if (std::isnan(start) || std::isnan(stop) || std::isnan(step) || std::isinf(start) ||
      std::isinf(stop)) {
    detail::throw_invalid("[arange] cannot compute length of start={}, stop={}, step={}", start,
                          stop, step);
  }
  if (step == 0) detail::throw_invalid("[arange] step must be nonzero, got start={}, stop={}", start, stop);
  // An infinite step towards stop takes one element.
  if (std::isinf(step) && ((step > 0 && start < stop) || (step < 0 && start > stop))) {
    return array({start}, dtype);
  }
  double real_size = std::ceil((stop - start) / step);
  if (real_size > INT_MAX) {
    detail::throw_invalid("[arange] maximum size exceeded: start={}, stop={}, step={} gives {} elements",
                          start, stop, step, real_size);
  }
  int size = std::max(static_cast<int>(real_size), 0);
  return array({size}, dtype, std::make_shared<Arange>(to_stream(s), start, stop, step), {});
}
array arange(double start, double stop, double step, StreamOrDevice s) {
  return arange(start, stop, step, float32, s);
}
array arange(double start, double stop, Dtype dtype, StreamOrDevice s) {
  return arange(start, stop, 1.0, dtype, s);
}
array arange(double start, double stop, StreamOrDevice s) {
  return arange(start, stop, 1.0, float32, s);
}
array arange(double stop, Dtype dtype, StreamOrDevice s) { return arange(0.0, stop, 1.0, dtype, s); }
array arange(double stop, StreamOrDevice s) { return arange(0.0, stop, 1.0, float32, s); }
array arange(int start, int stop, int step, StreamOrDevice s) {
  return arange(static_cast<double>(start), static_cast<double>(stop), static_cast<double>(step),
                int32, s);
}
array arange(int start, int stop, StreamOrDevice s) {
  return arange(static_cast<double>(start), static_cast<double>(stop), 1.0, int32, s);
}
array arange(int stop, StreamOrDevice s) { return arange(0.0, static_cast<double>(stop), 1.0, int32, s); }

array linspace(double start, double stop, int num, bool endpoint, Dtype dtype, StreamOrDevice s) {
  if (num < 0) {
    detail::throw_invalid("[linspace] number of samples, {}, must be non-negative", num);
  }
  // as MLX: a single sample is start as float32, whatever the dtype
  if (num == 1) return astype(array({start}), dtype, s);
  Dtype inner = dtype == float64 ? float64 : float32;
  int denominator = endpoint ? num - 1 : num;
  auto t = divide(arange(0, num, inner, s), array(denominator, inner), s);
  auto t_bar = subtract(array(1, inner), t, s);
  return astype(add(multiply(t_bar, array(start, inner), s), multiply(t, array(stop, inner), s), s),
                dtype, s);
}

namespace {
// Materializes a value of the output's shape and dtype.
array full_impl(array vals, Dtype dtype, StreamOrDevice s) {
  auto shape = vals.shape();
  return array(std::move(shape), dtype, std::make_shared<Full>(to_stream(s)),
               {astype(std::move(vals), dtype, s)});
}
}  // namespace

array full(Shape shape, array vals, Dtype dtype, StreamOrDevice s) {
  for (auto d : shape) {
    if (d < 0) detail::throw_invalid("[full] negative dimensions not allowed, got {}", detail::shape_str(shape));
  }
  return full_impl(broadcast_to(vals, shape, s), dtype, s);
}
array full(Shape shape, array vals, StreamOrDevice s) {
  auto dtype = vals.dtype();
  return full(std::move(shape), std::move(vals), dtype, s);
}

array full_like(const array& a, array vals, Dtype dtype, StreamOrDevice s) {
  auto ins = broadcast_arrays({a, std::move(vals)}, s);
  return full_impl(std::move(ins[1]), dtype, s);
}
array full_like(const array& a, array vals, StreamOrDevice s) {
  return full_like(a, std::move(vals), a.dtype(), s);
}

array zeros(const Shape& shape, Dtype dtype, StreamOrDevice s) {
  return full(shape, array(0, dtype), s);
}
array zeros_like(const array& a, StreamOrDevice s) { return zeros_like(a, a.dtype(), s); }
array zeros_like(const array& a, Dtype dtype, StreamOrDevice s) { return full_like(a, 0, dtype, s); }

array ones(const Shape& shape, Dtype dtype, StreamOrDevice s) { return full(shape, array(1, dtype), s); }
array ones_like(const array& a, StreamOrDevice s) { return ones_like(a, a.dtype(), s); }
array ones_like(const array& a, Dtype dtype, StreamOrDevice s) { return full_like(a, 1, dtype, s); }

array eye(int n, int m, int k, Dtype dtype, StreamOrDevice s) {
  if (n < 0 || m < 0) detail::throw_invalid("[eye] N and M must be non-negative, got {} and {}", n, m);
  array result = zeros({n, m}, dtype, s);
  if (n == 0 || m == 0 || k >= m || -k >= n) return result;
  // as MLX: scatter ones onto the diagonal of zeros
  int length = k >= 0 ? std::min(n, m - k) : std::min(n + k, m);
  int row0 = std::max(0, -k), col0 = std::max(0, k);
  std::vector<array> indices = {arange(row0, row0 + length, int32, s),
                                arange(col0, col0 + length, int32, s)};
  return scatter(result, indices, ones({length, 1, 1}, dtype, s), {0, 1}, s);
}

array identity(int n, Dtype dtype, StreamOrDevice s) { return eye(n, n, 0, dtype, s); }

array tri(int n, int m, int k, Dtype type, StreamOrDevice s) {
  // row i keeps columns j <= i + k
  auto rows = expand_dims(arange(n, s), 1, s);
  auto cols = expand_dims(arange(-k, m - k, s), 0, s);
  return astype(greater_equal(rows, cols, s), type, s);
}

array tril(array x, int k, StreamOrDevice s) {
  if (x.ndim() < 2) {
    detail::throw_invalid("[tril] array must be at least 2-D, got shape {}", detail::shape_str(x.shape()));
  }
  auto mask = tri(x.shape(-2), x.shape(-1), k, bool_, s);
  return where(mask, x, array(0, x.dtype()), s);
}

array triu(array x, int k, StreamOrDevice s) {
  if (x.ndim() < 2) {
    detail::throw_invalid("[triu] array must be at least 2-D, got shape {}", detail::shape_str(x.shape()));
  }
  auto mask = tri(x.shape(-2), x.shape(-1), k - 1, bool_, s);
  return where(mask, array(0, x.dtype()), x, s);
}

namespace {
// n * factor for n = 0 .. M-1 in float32, or the trivial windows.
std::optional<array> trivial_window(int M, StreamOrDevice s) {
  if (M < 1) return array(std::initializer_list<float>{});
  if (M == 1) return ones({1}, float32, s);
  return std::nullopt;
}
array scaled_ramp(int M, double factor, StreamOrDevice s) {
  return multiply(array(static_cast<float>(factor), float32), arange(0, M, float32, s), s);
}
}  // namespace

array hanning(int M, StreamOrDevice s) {
  if (auto w = trivial_window(M, s)) return *w;
  return square(sin(scaled_ramp(M, std::numbers::pi / (M - 1), s), s), s);
}
array hamming(int M, StreamOrDevice s) {
  if (auto w = trivial_window(M, s)) return *w;
  auto c = cos(scaled_ramp(M, 2.0 * std::numbers::pi / (M - 1), s), s);
  return subtract(array(0.54f), multiply(array(0.46f), c, s), s);
}
array bartlett(int M, StreamOrDevice s) {
  if (auto w = trivial_window(M, s)) return *w;
  auto t = subtract(scaled_ramp(M, 2.0f / static_cast<float>(M - 1), s), array(1.0f), s);
  return subtract(array(1.0f), abs(t, s), s);
}
array blackman(int M, StreamOrDevice s) {
  if (auto w = trivial_window(M, s)) return *w;
  // 0.42 - 0.5 cos x + 0.08 cos 2x, written as MLX does with cos^2
  auto c = cos(scaled_ramp(M, 2.0 * std::numbers::pi / (M - 1), s), s);
  return add(subtract(array(0.34f), multiply(array(0.5f), c, s), s),
             multiply(array(0.16f), square(c, s), s), s);
}

// ---- primitive parameters ----

bool Arange::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Arange*>(&other);
  return o && o->start_ == start_ && o->stop_ == stop_ && o->step_ == step_;
}
std::vector<Shape> Arange::output_shapes(const std::vector<array>&) {
  int size = std::max(static_cast<int>(std::ceil((stop_ - start_) / step_)), 0);
  return {{size}};
}

bool Full::is_equivalent(const Primitive& other) const {
  return dynamic_cast<const Full*>(&other) != nullptr;
}
std::vector<Shape> Full::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

}  // namespace lumen
