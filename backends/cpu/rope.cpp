// CPU kernel of RoPE. x is walked as [B, N, T, D] (N = the dims between the
// first and the last two); each (b, t) computes its cosines and sines once
// and rotates the feature pairs of all N rows, in float32 for
// float16/bfloat16 (float64 for float64) with one rounding per element.
#include <cmath>
#include <vector>

#include "backends/cpu/elementwise.h"
#include "backends/cpu/norm.h"
#include "lumen/backend.h"
#include "lumen/fast_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Position offset of batch entry b: a scalar or one per entry, int32 or uint32.
int64_t offset_at(const array& offset, int64_t b) {
  const int64_t i = offset.size() == 1 ? 0 : b * offset.strides(0);
  return offset.dtype() == uint32 ? static_cast<int64_t>(offset.data<uint32_t>()[i])
                                  : static_cast<int64_t>(offset.data<int32_t>()[i]);
}

template <typename T>
void rope_typed(const fast::RoPE& p, const std::vector<array>& inputs, array& out) {
  using C = compute_t<T>;
  const array& x = inputs[0];
  if (x.size() == 0) return;
  const int nd = static_cast<int>(x.ndim());
  const int64_t B = x.shape(0), T_len = x.shape(-2), D = x.shape(-1);
  const int64_t N = static_cast<int64_t>(x.size()) / (B * T_len * D);
  const StridedWalk heads(Shape(x.shape().begin() + 1, x.shape().end() - 2),
                          Strides(x.strides().begin() + 1, x.strides().end() - 2));
  const int64_t sb = x.strides(0), st = x.strides(nd - 2), sd = x.strides(nd - 1);
  const int64_t half = p.dims() / 2;
  const bool traditional = p.traditional(), forward = p.forward();

  std::vector<C> inv_freq(static_cast<size_t>(half));
  if (inputs.size() == 3) {
    const array& freqs = inputs[2];
    for (int64_t i = 0; i < half; ++i) {
      inv_freq[i] = C(1) / static_cast<C>(freqs.data<float>()[i * freqs.strides(0)]);
    }
  } else {
    const C step = std::log(static_cast<C>(p.base())) / static_cast<C>(half);
    for (int64_t i = 0; i < half; ++i) inv_freq[i] = std::exp(-static_cast<C>(i) * step);
  }

  const T* in = x.data<T>();
  T* dst = out.data<T>();
  const int64_t grain = std::max<int64_t>(1, 16384 / (N * D));
  detail::parallel_for(B * T_len, grain, [&](int64_t begin, int64_t end) {
    std::vector<C> cosv(static_cast<size_t>(half)), sinv(static_cast<size_t>(half));
    for (int64_t bt = begin; bt < end; ++bt) {
      const int64_t b = bt / T_len, t = bt % T_len;
      const C pos = static_cast<C>(t + offset_at(inputs[1], b)) * static_cast<C>(p.scale());
      for (int64_t i = 0; i < half; ++i) {
        const C theta = pos * inv_freq[i];
        cosv[i] = std::cos(theta);
        sinv[i] = std::sin(theta);
      }
      for (int64_t n = 0; n < N; ++n) {
        const T* src = in + b * sb + heads.offset(n) + t * st;
        T* o = dst + ((b * N + n) * T_len + t) * D;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t j1 = traditional ? 2 * i : i;
          const int64_t j2 = traditional ? 2 * i + 1 : i + half;
          const C x1 = static_cast<C>(src[j1 * sd]), x2 = static_cast<C>(src[j2 * sd]);
          const C c = cosv[i], s = forward ? sinv[i] : -sinv[i];
          o[j1] = static_cast<T>(x1 * c - x2 * s);
          o[j2] = static_cast<T>(x1 * s + x2 * c);
        }
        for (int64_t j = 2 * half; j < D; ++j) o[j] = src[j * sd];
      }
    }
  });
}

void rope_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  alloc_elementwise_output({inputs[0]}, out);  // each pair is read before it is written
  dispatch_floating("RoPE", out.dtype(), [&](auto tag) {
    rope_typed<decltype(tag)>(static_cast<const fast::RoPE&>(p), inputs, out);
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, fast::RoPE, rope_kernel);

}  // namespace
}  // namespace lumen::cpu
