// CPU kernel of Scan (cumsum, cumprod, cummax, cummin, logcumsumexp).
//
// The input is read through its strides; the output is row-contiguous. Lines
// along the axis are scanned in blocks of neighbours that are adjacent in the
// output, so the innermost loop runs across lines and vectorizes when the axis
// is not the last one. Few long lines are cut into segments: a first pass
// folds each segment, a second rescans it from the carry of those before it.
// float16/bfloat16 carry a float32 running value (rounded only when written);
// logcumsumexp carries a double.
#include <memory>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/reduce_layout.h"
#include "backends/cpu/reduce_ops.h"
#include "lumen/backend.h"
#include "lumen/scan_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

template <typename In, typename Op>
class Scanner {
 public:
  using Acc = typename Op::Acc;
  using Out = decltype(std::declval<Op>().finish(std::declval<Acc>()));

  Scanner(const Op& op, const Scan& prim, const array& in, array& out)
      : op_(op), reverse_(prim.reverse()), inclusive_(prim.inclusive()), src_(in.data<In>()),
        dst_(out.data<Out>()) {
    int axis = prim.axis();
    l_ = make_reduce_layout(in, {axis});
    n_ = in.shape(axis);
    in_st_ = in.strides(axis);
    inner_ = 1;
    for (size_t d = axis + 1; d < in.ndim(); ++d) inner_ *= in.shape(d);
    jb_ = std::clamp<int64_t>(inner_, 1, 256);
    per_outer_ = (inner_ + jb_ - 1) / jb_;
  }

  void run() {
    const int64_t lines = l_.n_out;
    if (lines == 0 || n_ == 0) return;
    const int64_t blocks = lines / inner_ * per_outer_;
    const int64_t pieces = parallel_pieces(lines * n_);
    if (blocks >= pieces || n_ < 1024) {
      int64_t grain = std::max<int64_t>(1, kTaskGrain / (jb_ * n_));
      detail::parallel_for(blocks, grain, [&](int64_t b, int64_t e) {
        std::unique_ptr<Acc[]> acc(new Acc[jb_]);
        for (int64_t k = b; k < e; ++k) scan_block(k, 0, n_, acc.get(), false, true);
      });
      return;
    }
    // Few long lines: segment the axis.
    const int64_t segs = std::min<int64_t>(n_, (pieces + blocks - 1) / blocks);
    auto seg_begin = [&](int64_t s) { return n_ * s / segs; };
    std::unique_ptr<Acc[]> carry(new Acc[blocks * segs * jb_]);  // carry into segment s
    detail::parallel_for(blocks * (segs - 1), 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t k = t / (segs - 1), s = t % (segs - 1);
        scan_block(k, seg_begin(s), seg_begin(s + 1), carry.get() + (k * segs + s + 1) * jb_, false,
                   false);
      }
    });
    for (int64_t k = 0; k < blocks; ++k) {
      for (int64_t s = 2; s < segs; ++s) {
        Acc* prev = carry.get() + (k * segs + s - 1) * jb_;
        Acc* cur = carry.get() + (k * segs + s) * jb_;
        for (int64_t j = 0; j < jb_; ++j) cur[j] = op_.merge(prev[j], cur[j]);
      }
    }
    detail::parallel_for(blocks * segs, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t k = t / segs, s = t % segs;
        scan_block(k, seg_begin(s), seg_begin(s + 1), carry.get() + t * jb_, s > 0, true);
      }
    });
  }

 private:
  // Scans the lines of block k over scan steps [t0, t1). `acc` holds the
  // carry when `carried` (else the block starts the lines) and ends with the
  // running values. Writes the output when `write`.
  void scan_block(int64_t k, int64_t t0, int64_t t1, Acc* acc, bool carried, bool write) const {
    int64_t o = k / per_outer_, j0 = (k % per_outer_) * jb_;
    int64_t len = std::min(jb_, inner_ - j0);
    int64_t first_line = o * inner_ + j0;
    Out* out_base = dst_ + o * n_ * inner_ + j0;
    int64_t i0 = 0;
    visit_runs(l_.kshape, l_.kstride, first_line, first_line + len,
               [&](int64_t off, int64_t cnt, int64_t kst) {
                 scan_run(src_ + off, kst, out_base + i0, cnt, acc + i0, t0, t1, carried, write);
                 i0 += cnt;
               });
  }

  // cnt lines starting at `in` (line stride kst) and `out` (line stride 1).
  void scan_run(const In* in, int64_t kst, Out* out, int64_t cnt, Acc* acc, int64_t t0, int64_t t1,
                bool carried, bool write) const {
    const int64_t in_step = reverse_ ? -in_st_ : in_st_, out_step = reverse_ ? -inner_ : inner_;
    int64_t pos = reverse_ ? n_ - 1 - t0 : t0;
    const In* x = in + pos * in_st_;
    Out* y = out + pos * inner_;
    int64_t t = t0;
    if (!carried && t < t1) {  // a line's first element
      for (int64_t i = 0; i < cnt; ++i) {
        Acc v = static_cast<Acc>(x[i * kst]);
        if (write) y[i] = inclusive_ ? op_.finish(v) : op_.finish(op_.init());
        acc[i] = v;
      }
      ++t, x += in_step, y += out_step;
    }
    if (cnt == 1) {  // one line (the axis is the last one): no inner loop
      Acc a = acc[0];
      for (; t < t1; ++t, x += in_step, y += out_step) {
        if (inclusive_) {
          a = op_.step(a, *x);
          if (write) *y = op_.finish(a);
        } else {
          if (write) *y = op_.finish(a);
          a = op_.step(a, *x);
        }
      }
      acc[0] = a;
      return;
    }
    for (; t < t1; ++t, x += in_step, y += out_step) {
      if (inclusive_) {
        for (int64_t i = 0; i < cnt; ++i) {
          acc[i] = op_.step(acc[i], x[i * kst]);
          if (write) y[i] = op_.finish(acc[i]);
        }
      } else {
        for (int64_t i = 0; i < cnt; ++i) {
          if (write) y[i] = op_.finish(acc[i]);
          acc[i] = op_.step(acc[i], x[i * kst]);
        }
      }
    }
  }

  Op op_;
  bool reverse_, inclusive_;
  const In* src_;
  Out* dst_;
  ReduceLayout l_;
  int64_t n_, in_st_, inner_, jb_, per_outer_;
};

template <typename In, typename Op>
void scan_with(const Op& op, const Scan& prim, const array& in, array& out) {
  Scanner<In, Op>(op, prim, in, out).run();
}

void scan_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const Scan&>(p);
  const array& in = inputs[0];
  array& out = outputs[0];
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  dispatch_dtype(in.dtype(), [&](auto tag) {
    using In = decltype(tag);
    using C = compute_t<In>;
    switch (prim.reduce_type()) {
      case Scan::Sum:
        if constexpr (std::is_same_v<In, bool>) {
          return scan_with<In>(SumOp<In, int32_t, int32_t>{}, prim, in, out);
        } else {
          return scan_with<In>(SumOp<In, In, C>{}, prim, in, out);
        }
      case Scan::Prod: return scan_with<In>(ProdOp<In, In, C>{}, prim, in, out);
      case Scan::Max: return scan_with<In>(MaxOp<In>{}, prim, in, out);
      case Scan::Min: return scan_with<In>(MinOp<In>{}, prim, in, out);
      case Scan::LogAddExp:
        if constexpr (std::is_floating_point_v<C>) {
          return scan_with<In>(LogAddExpOp<In>{}, prim, in, out);
        } else {
          detail::throw_invalid("[logcumsumexp] only floating point inputs, got {}",
                                dtype_to_string(in.dtype()));
        }
    }
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, Scan, scan_kernel);

}  // namespace
}  // namespace lumen::cpu
