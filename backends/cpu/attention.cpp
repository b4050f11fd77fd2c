// CPU kernels of scaled dot-product attention.
// Forward: flash-style. A task owns a block of queries of one head; it walks
// the keys in blocks, converting each block of K and V once to the compute
// type (float32; float64 for float64), and keeps per query a running max, a
// running sum and an accumulator of the output (online softmax). No [L_q, L_k]
// matrix exists: memory beyond the output is a few blocks per thread.
// Whether the lse is written is a template parameter, so the kernel that does
// not write it has nothing extra in its loops.
// Backward: a task owns one KV head of one batch entry (its dK and dV are
// accumulated without sharing) and recomputes each probability from q, k and
// the saved lse.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/norm.h"
#include "lumen/attention_primitives.h"
#include "lumen/backend.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

enum class MaskKind { none, keep, additive };

// One input [B, H, L, D] read through its strides.
template <typename T>
struct Heads {
  const T* data;
  int64_t stride[4];
  explicit Heads(const array& a) : data(a.data<T>()) {
    for (int i = 0; i < 4; ++i) stride[i] = a.strides(i);
  }
  const T* at(int64_t b, int64_t h, int64_t l) const {
    return data + b * stride[0] + h * stride[1] + l * stride[2];
  }
  // Rows [l0, l0 + n) of head (b, h) into dst [n x width], as C.
  template <typename C>
  void load(int64_t b, int64_t h, int64_t l0, int64_t n, int64_t width, C* dst) const {
    for (int64_t r = 0; r < n; ++r) {
      const T* src = at(b, h, l0 + r);
      C* row = dst + r * width;
      if (stride[3] == 1) {
        for (int64_t d = 0; d < width; ++d) row[d] = static_cast<C>(src[d]);
      } else {
        for (int64_t d = 0; d < width; ++d) row[d] = static_cast<C>(src[d * stride[3]]);
      }
    }
  }
};

// Dot product with independent partial sums (the compiler vectorizes it
// without reassociating a single running sum).
template <typename C>
C dot(const C* a, const C* b, int64_t n) {
  constexpr int kLanes = 8;
  C part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) part[l] += a[i + l] * b[i + l];
  }
  C total = 0;
  for (; i < n; ++i) total += a[i] * b[i];
  for (int l = 0; l < kLanes; ++l) total += part[l];
  return total;
}

template <typename C>
void axpy(C alpha, const C* x, C* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// Shapes and parameters of one call.
struct Problem {
  int64_t B, Hq, Hkv, Lq, Lk, D, Dv;
  int64_t group;  // query heads per KV head
  fast::AttentionParams params;

  Problem(const fast::AttentionParams& p, const std::vector<array>& in)
      : B(in[0].shape(0)),
        Hq(in[0].shape(1)),
        Hkv(in[1].shape(1)),
        Lq(in[0].shape(2)),
        Lk(in[1].shape(2)),
        D(in[0].shape(3)),
        Dv(in[2].shape(3)),
        group(Hq / std::max<int64_t>(Hkv, 1)),
        params(p) {}
  // Keys [0, end) that query i may see (all of them unless causal).
  int64_t visible_end(int64_t i) const {
    if (!params.causal) return Lk;
    return std::clamp<int64_t>(i + params.causal_offset + 1, 0, Lk);
  }
};

// The scores' mask, bool (true = keep) or additive, read through its strides.
template <typename T, MaskKind kMask>
struct Mask {
  using E = std::conditional_t<kMask == MaskKind::keep, bool, T>;
  const E* data = nullptr;
  int64_t stride[4] = {};
  explicit Mask(const std::vector<array>& in) {
    if constexpr (kMask != MaskKind::none) {
      data = in[3].data<E>();
      for (int i = 0; i < 4; ++i) stride[i] = in[3].strides(i);
    }
  }
  const E* row(int64_t b, int64_t h, int64_t i) const {
    return data + b * stride[0] + h * stride[1] + i * stride[2];
  }
  // score = scale * q.k, masked; -inf for a key this query may not see.
  template <typename C>
  C apply(C score, const E* mask_row, int64_t j) const {
    if constexpr (kMask == MaskKind::keep) {
      return mask_row[j * stride[3]] ? score : -std::numeric_limits<C>::infinity();
    } else if constexpr (kMask == MaskKind::additive) {
      return score + static_cast<C>(mask_row[j * stride[3]]);
    } else {
      (void)mask_row;
      (void)j;
      return score;
    }
  }
};

template <typename T>
std::vector<compute_t<T>> load_sinks(const Problem& pb, const std::vector<array>& in) {
  std::vector<compute_t<T>> sinks;
  if (!pb.params.has_sinks) return sinks;
  const array& s = in[pb.params.has_mask ? 4 : 3];
  for (int64_t h = 0; h < pb.Hq; ++h) sinks.push_back(static_cast<compute_t<T>>(s.data<T>()[h * s.strides(0)]));
  return sinks;
}

template <typename T, MaskKind kMask, bool kWriteLse>
void forward(const Problem& pb, const std::vector<array>& in, T* out, float* lse) {
  using C = compute_t<T>;
  constexpr int64_t kQBlock = 32, kKBlock = 64;
  constexpr C kNegInf = -std::numeric_limits<C>::infinity();
  const Heads<T> q(in[0]), k(in[1]), v(in[2]);
  const Mask<T, kMask> mask(in);
  const std::vector<C> sinks = load_sinks<T>(pb, in);
  const C scale = static_cast<C>(pb.params.scale);
  const int64_t D = pb.D, Dv = pb.Dv;
  const int64_t q_blocks = (pb.Lq + kQBlock - 1) / kQBlock;

  detail::parallel_for(pb.B * pb.Hq * q_blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<C> qb(kQBlock * D), kb(kKBlock * D), vb(kKBlock * Dv), scores(kKBlock),
        acc(kQBlock * Dv), row_max(kQBlock), row_sum(kQBlock);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / (pb.Hq * q_blocks), h = task / q_blocks % pb.Hq;
      const int64_t q0 = task % q_blocks * kQBlock, nq = std::min(kQBlock, pb.Lq - q0);
      const int64_t hk = h / pb.group;
      q.load(b, h, q0, nq, D, qb.data());
      std::fill(acc.begin(), acc.end(), C(0));
      std::fill(row_max.begin(), row_max.end(), kNegInf);
      std::fill(row_sum.begin(), row_sum.end(), C(0));
      const int64_t k_end = pb.visible_end(q0 + nq - 1);
      for (int64_t k0 = 0; k0 < k_end; k0 += kKBlock) {
        const int64_t nk = std::min(kKBlock, k_end - k0);
        k.load(b, hk, k0, nk, D, kb.data());
        v.load(b, hk, k0, nk, Dv, vb.data());
        for (int64_t r = 0; r < nq; ++r) {
          const int64_t i = q0 + r;
          const int64_t nj = std::min(nk, pb.visible_end(i) - k0);
          if (nj <= 0) continue;
          const auto* mask_row = kMask == MaskKind::none ? nullptr : mask.row(b, h, i) + k0 * mask.stride[3];
          C block_max = kNegInf;
          for (int64_t j = 0; j < nj; ++j) {
            scores[j] = mask.apply(scale * dot(&qb[r * D], &kb[j * D], D), mask_row, j);
            block_max = std::max(block_max, scores[j]);
          }
          if (block_max == kNegInf) continue;  // nothing visible in this block
          const C new_max = std::max(row_max[r], block_max);
          C* acc_row = &acc[r * Dv];
          if (new_max != row_max[r]) {
            const C rescale = std::exp(row_max[r] - new_max);
            row_sum[r] *= rescale;
            for (int64_t d = 0; d < Dv; ++d) acc_row[d] *= rescale;
            row_max[r] = new_max;
          }
          for (int64_t j = 0; j < nj; ++j) {
            const C p = std::exp(scores[j] - new_max);
            row_sum[r] += p;
            axpy(p, &vb[j * Dv], acc_row, Dv);
          }
        }
      }
      for (int64_t r = 0; r < nq; ++r) {
        C m = row_max[r], l = row_sum[r];
        C* acc_row = &acc[r * Dv];
        if (pb.params.has_sinks) {  // one more logit in the denominator
          const C sink = sinks[h];
          const C new_max = std::max(m, sink);
          const C rescale = m == kNegInf ? C(0) : std::exp(m - new_max);
          l = l * rescale + std::exp(sink - new_max);
          for (int64_t d = 0; d < Dv; ++d) acc_row[d] *= rescale;
          m = new_max;
        }
        const int64_t row = (b * pb.Hq + h) * pb.Lq + q0 + r;
        T* dst = out + row * Dv;
        // A fully masked query (l == 0) gives 0 and lse -inf.
        for (int64_t d = 0; d < Dv; ++d) dst[d] = static_cast<T>(l > 0 ? acc_row[d] / l : C(0));
        if constexpr (kWriteLse) {
          lse[row] = l > 0 ? static_cast<float>(m + std::log(l)) : -std::numeric_limits<float>::infinity();
        }
      }
    }
  });
}

template <typename T, MaskKind kMask>
void backward(const Problem& pb, const std::vector<array>& in, std::vector<array>& outs) {
  using C = compute_t<T>;
  const size_t n = in.size();
  const Heads<T> q(in[0]), k(in[1]), v(in[2]), d_out(in[n - 2]);
  const Mask<T, kMask> mask(in);
  const array& lse_arr = in[n - 3];
  const array& delta_arr = in[n - 1];
  const C scale = static_cast<C>(pb.params.scale);
  const int64_t D = pb.D, Dv = pb.Dv, Lk = pb.Lk;
  T* dq = outs[0].data<T>();
  T* dk = outs[1].data<T>();
  T* dv = outs[2].data<T>();
  // lse and delta are row-contiguous [B, H_q, L_q] as made by the vjp, read
  // through their strides all the same.
  auto row_value = [](const array& a, int64_t b, int64_t h, int64_t i, auto tag) {
    using E = decltype(tag);
    return static_cast<C>(a.data<E>()[b * a.strides(0) + h * a.strides(1) + i * a.strides(2)]);
  };

  detail::parallel_for(pb.B * pb.Hkv, 1, [&](int64_t begin, int64_t end) {
    std::vector<C> kb(Lk * D), vb(Lk * Dv), dkb(Lk * D), dvb(Lk * Dv), qi(D), doi(Dv), dqi(D);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / pb.Hkv, hk = task % pb.Hkv;
      k.load(b, hk, 0, Lk, D, kb.data());
      v.load(b, hk, 0, Lk, Dv, vb.data());
      std::fill(dkb.begin(), dkb.end(), C(0));
      std::fill(dvb.begin(), dvb.end(), C(0));
      for (int64_t h = hk * pb.group; h < (hk + 1) * pb.group; ++h) {
        for (int64_t i = 0; i < pb.Lq; ++i) {
          std::fill(dqi.begin(), dqi.end(), C(0));
          const C lse = row_value(lse_arr, b, h, i, float{});
          const int64_t nj = pb.visible_end(i);
          if (lse != -std::numeric_limits<C>::infinity() && nj > 0) {
            const C delta = row_value(delta_arr, b, h, i, C{});
            q.load(b, h, i, 1, D, qi.data());
            d_out.load(b, h, i, 1, Dv, doi.data());
            const auto* mask_row = kMask == MaskKind::none ? nullptr : mask.row(b, h, i);
            for (int64_t j = 0; j < nj; ++j) {
              const C score = mask.apply(scale * dot(qi.data(), &kb[j * D], D), mask_row, j);
              const C p = std::exp(score - lse);
              if (p == 0) continue;
              const C ds = p * (dot(doi.data(), &vb[j * Dv], Dv) - delta) * scale;
              axpy(p, doi.data(), &dvb[j * Dv], Dv);
              axpy(ds, qi.data(), &dkb[j * D], D);
              axpy(ds, &kb[j * D], dqi.data(), D);
            }
          }
          T* dst = dq + ((b * pb.Hq + h) * pb.Lq + i) * D;
          for (int64_t d = 0; d < D; ++d) dst[d] = static_cast<T>(dqi[d]);
        }
      }
      T* dk_dst = dk + (b * pb.Hkv + hk) * Lk * D;
      T* dv_dst = dv + (b * pb.Hkv + hk) * Lk * Dv;
      for (int64_t x = 0; x < Lk * D; ++x) dk_dst[x] = static_cast<T>(dkb[x]);
      for (int64_t x = 0; x < Lk * Dv; ++x) dv_dst[x] = static_cast<T>(dvb[x]);
    }
  });
}

MaskKind mask_kind(const fast::AttentionParams& p, const std::vector<array>& in) {
  if (!p.has_mask) return MaskKind::none;
  return in[3].dtype() == bool_ ? MaskKind::keep : MaskKind::additive;
}

// Calls f(T{}, mask-kind constant) for the dtype and mask of a call.
template <typename F>
void dispatch_attention(const char* op, const fast::AttentionParams& p,
                        const std::vector<array>& in, F&& f) {
  const MaskKind kind = mask_kind(p, in);
  dispatch_floating(op, in[0].dtype(), [&](auto tag) {
    switch (kind) {
      case MaskKind::none: return f(tag, std::integral_constant<MaskKind, MaskKind::none>{});
      case MaskKind::keep: return f(tag, std::integral_constant<MaskKind, MaskKind::keep>{});
      case MaskKind::additive:
        return f(tag, std::integral_constant<MaskKind, MaskKind::additive>{});
    }
  });
}

void allocate(array& a) { a.set_data(allocator::allocator(Device::cpu).malloc(a.nbytes())); }

void attention_kernel(const Primitive& prim, const std::vector<array>& inputs,
                      std::vector<array>& outputs) {
  const auto& p = static_cast<const fast::ScaledDotProductAttention&>(prim);
  for (auto& o : outputs) allocate(o);
  const Problem pb(p.params(), inputs);
  dispatch_attention("ScaledDotProductAttention", p.params(), inputs, [&](auto tag, auto kind) {
    using T = decltype(tag);
    constexpr MaskKind kMask = decltype(kind)::value;
    if (p.output_lse()) {
      forward<T, kMask, true>(pb, inputs, outputs[0].data<T>(), outputs[1].data<float>());
    } else {
      forward<T, kMask, false>(pb, inputs, outputs[0].data<T>(), nullptr);
    }
  });
}

void attention_vjp_kernel(const Primitive& prim, const std::vector<array>& inputs,
                          std::vector<array>& outputs) {
  const auto& p = static_cast<const fast::ScaledDotProductAttentionVJP&>(prim);
  for (auto& o : outputs) allocate(o);
  const Problem pb(p.params(), inputs);
  dispatch_attention("ScaledDotProductAttentionVJP", p.params(), inputs,
                     [&](auto tag, auto kind) {
                       backward<decltype(tag), decltype(kind)::value>(pb, inputs, outputs);
                     });
}

LUMEN_REGISTER_KERNEL(Device::cpu, fast::ScaledDotProductAttention, attention_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, fast::ScaledDotProductAttentionVJP, attention_vjp_kernel);

}  // namespace
}  // namespace lumen::cpu
