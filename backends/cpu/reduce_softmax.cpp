// CPU kernels of LogSumExp and Softmax over the last axis. Rows are read
// through their strides; float16/bfloat16 compute in float32 (whatever the
// softmax `precise` flag says), float64 in double; sums of exponentials are
// kept in double so long rows stay accurate.
#include <cmath>
#include <limits>
#include <memory>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "backends/cpu/reduce_layout.h"
#include "lumen/backend.h"
#include "lumen/reduction_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Calls row(o, base, n, stride) for every row of the last axis, in parallel.
template <typename In, typename F>
void for_each_row(const array& in, F&& row) {
  auto l = make_reduce_layout(in, {static_cast<int>(in.ndim()) - 1});
  const int64_t n = l.n_red, st = l.rstride[0];
  const In* src = in.data<In>();
  int64_t grain = std::max<int64_t>(1, kTaskGrain / std::max<int64_t>(n, 1));
  detail::parallel_for(l.n_out, grain, [&](int64_t b, int64_t e) {
    int64_t o = b;
    visit_runs(l.kshape, l.kstride, b, e, [&](int64_t off, int64_t cnt, int64_t kst) {
      for (int64_t i = 0; i < cnt; ++i, ++o) row(o, src + off + i * kst, n, st);
    });
  });
}

template <typename Acc, typename In>
Acc row_max(const In* p, int64_t n, int64_t st) {
  Acc m = -std::numeric_limits<Acc>::infinity();
  for (int64_t j = 0; j < n; ++j) {
    Acc v = static_cast<Acc>(p[j * st]);
    m = (v > m || v != v) && m == m ? v : m;
  }
  return m;
}

template <typename In>
void logsumexp_rows(const array& in, array& out) {
  using Acc = std::conditional_t<std::is_same_v<In, double>, double, float>;
  In* dst = out.data<In>();
  for_each_row<In>(in, [&](int64_t o, const In* p, int64_t n, int64_t st) {
    Acc m = row_max<Acc>(p, n, st);
    if (std::isinf(m)) {
      dst[o] = static_cast<In>(m);
      return;
    }
    double sum = 0;  // long rows: float32 sums would drift
    for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<Acc>(p[j * st]) - m);
    dst[o] = static_cast<In>(static_cast<Acc>(std::log(sum)) + m);
  });
}

template <typename In>
void softmax_rows(const array& in, array& out) {
  using Acc = std::conditional_t<std::is_same_v<In, double>, double, float>;
  In* dst = out.data<In>();
  for_each_row<In>(in, [&](int64_t o, const In* p, int64_t n, int64_t st) {
    Acc m = row_max<Acc>(p, n, st);
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<Acc>(p[j * st]) - m);
    Acc inv = static_cast<Acc>(1.0 / sum);
    In* d = dst + o * n;  // the output is row-contiguous
    for (int64_t j = 0; j < n; ++j) d[j] = static_cast<In>(std::exp(static_cast<Acc>(p[j * st]) - m) * inv);
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
  // Each row is read whole before it is written, so a dying dense input can
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
