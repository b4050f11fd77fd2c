// CPU kernel of ArgReduce (argmax, argmin along one axis). Ties keep the
// lowest index; the first NaN wins. Walks like the Reduce kernel: along the
// axis per output, or across contiguous runs of outputs per step of the axis;
// one long axis is split across threads.
#include <memory>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/ordering.h"
#include "backends/cpu/reduce_layout.h"
#include "lumen/backend.h"
#include "lumen/reduction_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Whether `cand` (at a later index) replaces `best`.
template <typename C, bool IsMax>
bool replaces(C cand, C best) {
  if (is_nan_value(best)) return false;
  if (is_nan_value(cand)) return true;
  return IsMax ? value_less(best, cand) : value_less(cand, best);
}

template <typename In, bool IsMax>
class ArgReducer {
 public:
  using C = compute_t<In>;

  ArgReducer(const ReduceLayout& l, const In* src, uint32_t* dst) : l_(l), src_(src), dst_(dst) {
    n_ = l.rshape[0];
    st_ = l.rstride[0];
  }

  void run() {
    if (l_.n_out == 0) return;
    bool columns = l_.kstride.back() == 1 && l_.kshape.back() > 1 && st_ != 1;
    if (columns) {
      by_columns();
    } else {
      by_rows();
    }
  }

 private:
  struct Best {
    C value;
    int64_t index;
  };

  Best scan(const In* base, int64_t rb, int64_t re) const {
    Best b{static_cast<C>(base[rb * st_]), rb};
    for (int64_t r = rb + 1; r < re; ++r) {
      C v = static_cast<C>(base[r * st_]);
      if (replaces<C, IsMax>(v, b.value)) b = {v, r};
    }
    return b;
  }

  void by_rows() {
    const int64_t n_out = l_.n_out;
    const int64_t pieces = parallel_pieces(n_out * n_);
    if (n_out >= pieces) {
      int64_t grain = std::max<int64_t>(1, kTaskGrain / n_);
      detail::parallel_for(n_out, grain, [&](int64_t b, int64_t e) {
        int64_t o = b;
        visit_runs(l_.kshape, l_.kstride, b, e, [&](int64_t off, int64_t n, int64_t st) {
          for (int64_t i = 0; i < n; ++i) {
            dst_[o++] = static_cast<uint32_t>(scan(src_ + off + i * st, 0, n_).index);
          }
        });
      });
      return;
    }
    // Few outputs: split the axis; pieces merge in index order.
    const int64_t splits = std::min(n_, (pieces + n_out - 1) / n_out);
    std::vector<Best> part(n_out * splits);
    detail::parallel_for(n_out * splits, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / splits, p = t % splits;
        part[t] = scan(src_ + offset_of(l_.kshape, l_.kstride, o), n_ * p / splits,
                       n_ * (p + 1) / splits);
      }
    });
    for (int64_t o = 0; o < n_out; ++o) {
      Best b = part[o * splits];
      for (int64_t p = 1; p < splits; ++p) {
        const Best& c = part[o * splits + p];
        if (replaces<C, IsMax>(c.value, b.value)) b = c;
      }
      dst_[o] = static_cast<uint32_t>(b.index);
    }
  }

  void by_columns() {
    const int64_t M = l_.kshape.back();
    const int64_t jb = std::min<int64_t>(M, 1024);
    const int64_t nblk = (M + jb - 1) / jb;
    std::vector<int64_t> outer_shape(l_.kshape.begin(), l_.kshape.end() - 1);
    std::vector<int64_t> outer_stride(l_.kstride.begin(), l_.kstride.end() - 1);
    if (outer_shape.empty()) {
      outer_shape = {1};
      outer_stride = {0};
    }
    const int64_t tasks = l_.n_out / M * nblk;
    int64_t grain = std::max<int64_t>(1, kTaskGrain / (jb * n_));
    detail::parallel_for(tasks, grain, [&](int64_t b, int64_t e) {
      std::unique_ptr<C[]> best(new C[jb]);
      for (int64_t t = b; t < e; ++t) {
        int64_t q = t / nblk, j0 = (t % nblk) * jb;
        int64_t len = std::min(jb, M - j0);
        const In* base = src_ + offset_of(outer_shape, outer_stride, q) + j0;
        uint32_t* idx = dst_ + q * M + j0;
        for (int64_t j = 0; j < len; ++j) {
          best[j] = static_cast<C>(base[j]);
          idx[j] = 0;
        }
        for (int64_t r = 1; r < n_; ++r) {
          const In* p = base + r * st_;
          for (int64_t j = 0; j < len; ++j) {
            C v = static_cast<C>(p[j]);
            if (replaces<C, IsMax>(v, best[j])) {
              best[j] = v;
              idx[j] = static_cast<uint32_t>(r);
            }
          }
        }
      }
    });
  }

  const ReduceLayout& l_;
  const In* src_;
  uint32_t* dst_;
  int64_t n_, st_;
};

void arg_reduce_kernel(const Primitive& p, const std::vector<array>& inputs,
                       std::vector<array>& outputs) {
  const auto& prim = static_cast<const ArgReduce&>(p);
  const array& in = inputs[0];
  array& out = outputs[0];
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  auto layout = make_reduce_layout(in, {prim.axis()});
  dispatch_dtype(in.dtype(), [&](auto tag) {
    using In = decltype(tag);
    if (prim.reduce_type() == ArgReduce::ArgMax) {
      ArgReducer<In, true>(layout, in.data<In>(), out.data<uint32_t>()).run();
    } else {
      ArgReducer<In, false>(layout, in.data<In>(), out.data<uint32_t>()).run();
    }
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, ArgReduce, arg_reduce_kernel);

}  // namespace
}  // namespace lumen::cpu
