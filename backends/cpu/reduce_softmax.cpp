// CPU kernels of LogSumExp and Softmax over the last axis. Each row is
// gathered (through its strides) into a compute buffer, float32 for
// float16/bfloat16/float32 (whatever the softmax `precise` flag says) and
// double for float64; float32 rows run on vectors with a polynomial exp.
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "backends/cpu/ordering.h"
#include "backends/cpu/reduce_layout.h"
#include "backends/cpu/simd.h"
#include "lumen/backend.h"
#include "lumen/reduction_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Calls row(o, buffer, n) for every row of the last axis, in parallel, with
// the row's values converted into `buffer`.
template <typename In, typename Acc, typename F>
void for_each_row(const array& in, F&& row) {
  auto l = make_reduce_layout(in, {static_cast<int>(in.ndim()) - 1});
  const int64_t n = l.n_red, st = l.rstride[0];
  const In* src = in.data<In>();
  int64_t grain = std::max<int64_t>(1, kTaskGrain / std::max<int64_t>(n, 1));
  detail::parallel_for(l.n_out, grain, [&](int64_t b, int64_t e) {
    std::vector<Acc> buf(n);
    int64_t o = b;
    visit_runs(l.kshape, l.kstride, b, e, [&](int64_t off, int64_t cnt, int64_t kst) {
      for (int64_t i = 0; i < cnt; ++i, ++o) {
        const In* p = src + off + i * kst;
        for (int64_t j = 0; j < n; ++j) buf[j] = static_cast<Acc>(p[j * st]);
        row(o, buf.data(), n);
      }
    });
  });
}

// The row's maximum (NaN if any).
template <typename Acc>
Acc row_max(const Acc* x, int64_t n) {
  using V = simd_t<Acc>;
  constexpr int N = simd_lanes<Acc>;
  V m = V{} - std::numeric_limits<Acc>::infinity();
  int64_t j = 0;
  for (; j + N <= n; j += N) {
    V v = simd_load<V>(x + j);
    m = ((v > m) | (v != v)) & (m == m) ? v : m;
  }
  Acc r = -std::numeric_limits<Acc>::infinity();
  for (int k = 0; k < N; ++k) r = nan_max(r, m[k]);
  for (; j < n; ++j) r = nan_max(r, x[j]);
  return r;
}

// x[j] = exp(x[j] - m) in place; returns the sum (accumulated in blocks so
// that long rows stay accurate).
template <typename Acc>
double exp_and_sum(Acc* x, int64_t n, Acc m) {
  if constexpr (std::is_same_v<Acc, double>) {
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += x[j] = std::exp(x[j] - m);
    return sum;
  } else {
    using V = simd_t<float>;
    constexpr int N = simd_lanes<float>;
    constexpr int64_t kBlock = 1024;
    double total = 0;
    for (int64_t b = 0; b < n; b += kBlock) {
      int64_t e = std::min(n, b + kBlock), j = b;
      V s0 = V{}, s1 = V{};
      for (; j + 2 * N <= e; j += 2 * N) {
        V v0 = exp_nonpositive(simd_load<V>(x + j) - m);
        V v1 = exp_nonpositive(simd_load<V>(x + j + N) - m);
        simd_store(x + j, v0);
        simd_store(x + j + N, v1);
        s0 += v0;
        s1 += v1;
      }
      float part = 0;
      for (int k = 0; k < N; ++k) part += s0[k] + s1[k];
      for (; j < e; ++j) part += x[j] = exp_nonpositive(x[j] - m);
      total += part;
    }
    return total;
  }
}

template <typename T>
using row_acc_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename In>
void logsumexp_rows(const array& in, array& out) {
  using Acc = row_acc_t<In>;
  In* dst = out.data<In>();
  for_each_row<In, Acc>(in, [&](int64_t o, Acc* x, int64_t n) {
    Acc m = row_max(x, n);
    if (std::isinf(m)) {
      dst[o] = static_cast<In>(m);
      return;
    }
    double sum = exp_and_sum(x, n, m);
    dst[o] = static_cast<In>(static_cast<Acc>(std::log(sum)) + m);
  });
}

template <typename In>
void softmax_rows(const array& in, array& out) {
  using Acc = row_acc_t<In>;
  In* dst = out.data<In>();
  for_each_row<In, Acc>(in, [&](int64_t o, Acc* x, int64_t n) {
    Acc m = row_max(x, n);
    Acc inv = static_cast<Acc>(1.0 / exp_and_sum(x, n, m));
    In* d = dst + o * n;  // the output is row-contiguous
    for (int64_t j = 0; j < n; ++j) d[j] = static_cast<In>(x[j] * inv);
  });
}

template <typename F>
void dispatch_float(Dtype d, const char* op, F&& f) {
  switch (d) {
    case float16: return f(float16_t{});
    case bfloat16: return f(bfloat16_t{});
    case float32: return f(float{});
    case float64: return f(double{});
    default: detail::throw_invalid("[{}] only floating point inputs, got {}", op, dtype_to_string(d));
  }
}

void logsumexp_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  dispatch_float(inputs[0].dtype(), "logsumexp", [&](auto tag) {
    logsumexp_rows<decltype(tag)>(inputs[0], out);
  });
}

void softmax_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  // Rows are copied out before they are written, so a dying dense input can
  // take the output.
  alloc_elementwise_output(inputs, out);
  dispatch_float(inputs[0].dtype(), "softmax", [&](auto tag) {
    softmax_rows<decltype(tag)>(inputs[0], out);
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, LogSumExp, logsumexp_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Softmax, softmax_kernel);

}  // namespace
}  // namespace lumen::cpu
