// CPU kernels of RMSNorm and LayerNorm: rows of the last axis in parallel.
// Each row is loaded once into a compute-type buffer (float32 for
// float16/bfloat16/float32, float64 for float64), reduced with several
// accumulators, and written with one rounding per element.
#include <cmath>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "backends/cpu/norm.h"
#include "lumen/backend.h"
#include "lumen/fast_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Sum of f(v[i]) with independent partial sums (vectorizable, and more
// accurate than one running sum).
template <typename C, typename F>
C lane_sum(const C* v, int64_t n, F f) {
  constexpr int kLanes = 8;
  C part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) part[l] += f(v[i + l]);
  }
  C total = 0;
  for (; i < n; ++i) total += f(v[i]);
  for (int l = 0; l < kLanes; ++l) total += part[l];
  return total;
}

// A per-feature vector (weight or bias): [D] with any stride, or a scalar.
template <typename T>
struct FeatureVector {
  const T* data;
  int64_t stride;
  explicit FeatureVector(const array& v) : data(v.data<T>()), stride(v.ndim() == 0 ? 0 : v.strides(0)) {}
  compute_t<T> operator[](int64_t j) const { return static_cast<compute_t<T>>(data[j * stride]); }
};

// Runs row_fn(row_in, row_out, buf) over every row of x's last axis, where
// buf holds the row converted to the compute type.
template <typename T, typename RowFn>
void for_each_row(const array& x, array& out, RowFn row_fn) {
  using C = compute_t<T>;
  const int64_t D = x.shape(-1);
  if (x.size() == 0) return;
  const int64_t rows = static_cast<int64_t>(x.size()) / D;
  const int64_t xs = x.strides(-1);
  const StridedWalk walk(x, 1);
  const T* in = x.data<T>();
  T* dst = out.data<T>();
  detail::parallel_for(rows, std::max<int64_t>(1, 16384 / D), [&](int64_t begin, int64_t end) {
    std::vector<C> buf(static_cast<size_t>(D));
    for (int64_t r = begin; r < end; ++r) {
      const T* src = in + walk.offset(r);
      if (xs == 1) {
        for (int64_t j = 0; j < D; ++j) buf[j] = static_cast<C>(src[j]);
      } else {
        for (int64_t j = 0; j < D; ++j) buf[j] = static_cast<C>(src[j * xs]);
      }
      row_fn(buf.data(), dst + r * D);
    }
  });
}

template <typename T>
void rms_norm_typed(const array& x, const array& w, array& out, float eps) {
  using C = compute_t<T>;
  const int64_t D = x.shape(-1);
  const FeatureVector<T> weight(w);
  for_each_row<T>(x, out, [&](const C* v, T* o) {
    C ms = lane_sum(v, D, [](C a) { return a * a; }) / static_cast<C>(D);
    C inv = C(1) / std::sqrt(ms + static_cast<C>(eps));
    for (int64_t j = 0; j < D; ++j) o[j] = static_cast<T>(v[j] * inv * weight[j]);
  });
}

template <typename T>
void layer_norm_typed(const array& x, const array& w, const array& b, array& out, float eps) {
  using C = compute_t<T>;
  const int64_t D = x.shape(-1);
  const FeatureVector<T> weight(w), bias(b);
  for_each_row<T>(x, out, [&](const C* v, T* o) {
    C mean = lane_sum(v, D, [](C a) { return a; }) / static_cast<C>(D);
    C var = lane_sum(v, D, [mean](C a) { return (a - mean) * (a - mean); }) / static_cast<C>(D);
    C inv = C(1) / std::sqrt(var + static_cast<C>(eps));
    for (int64_t j = 0; j < D; ++j) o[j] = static_cast<T>((v[j] - mean) * inv * weight[j] + bias[j]);
  });
}

void rms_norm_kernel(const Primitive& p, const std::vector<array>& inputs,
                     std::vector<array>& outputs) {
  const auto& prim = static_cast<const fast::RMSNorm&>(p);
  array& out = outputs[0];
  alloc_elementwise_output({inputs[0]}, out);  // a row is read whole before it is written
  dispatch_floating("RMSNorm", out.dtype(), [&](auto tag) {
    rms_norm_typed<decltype(tag)>(inputs[0], inputs[1], out, prim.eps());
  });
}

void layer_norm_kernel(const Primitive& p, const std::vector<array>& inputs,
                       std::vector<array>& outputs) {
  const auto& prim = static_cast<const fast::LayerNorm&>(p);
  array& out = outputs[0];
  alloc_elementwise_output({inputs[0]}, out);
  dispatch_floating("LayerNorm", out.dtype(), [&](auto tag) {
    layer_norm_typed<decltype(tag)>(inputs[0], inputs[1], inputs[2], out, prim.eps());
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, fast::RMSNorm, rms_norm_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, fast::LayerNorm, layer_norm_kernel);

}  // namespace
}  // namespace lumen::cpu
