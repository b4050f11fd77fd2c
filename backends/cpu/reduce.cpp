// CPU kernel of Reduce (sum, prod, max, min, all, any over any axes).
//
// Two walks, both vectorizable: "rows" folds each output's elements along
// the innermost reduced dim (contiguous last-axis reductions, all-reduce);
// "columns" folds whole contiguous runs of outputs at once while stepping
// over the reduced dims (reductions over leading axes, transposed inputs).
// Few outputs with many elements each split the reduction across threads.
// Sums are accumulated in blocks so float32 error grows slowly with size.
#include <memory>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/reduce_layout.h"
#include "backends/cpu/reduce_ops.h"
#include "backends/cpu/simd.h"
#include "lumen/backend.h"
#include "lumen/reduction_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

// Elements folded into fresh accumulators before joining the running ones.
constexpr int64_t kBlock = 4096;
// Reduced rows folded per block in the column walk.
constexpr int64_t kRowBlock = 256;

// Ops with a vector rule, on inputs that vector types can hold.
template <typename Op, typename In>
concept Vectorizable = std::is_arithmetic_v<In> && !std::is_same_v<In, bool> &&
                       requires { typename Op::VElem; };

template <typename Op, typename In>
struct Vec {
  using E = typename Op::VElem;
  static constexpr int N = simd_lanes<E>;
  using Acc = typename simd<E, N>::type;
  using Input = typename simd<In, N>::type;

  // acc (N accumulators in memory) folds in p[0, N).
  static void step(const Op& op, typename Op::Acc* acc, const In* p) {
    Acc a = simd_load<Acc>(acc);
    a = op.vstep(a, __builtin_convertvector(simd_load<Input>(p), Acc));
    simd_store(acc, a);
  }
};

// Interleaved accumulators per fold: four vectors' worth, so the adds of
// one step do not wait on each other.
template <typename Op>
constexpr int lanes_of() {
  constexpr int w = 64 / static_cast<int>(sizeof(typename Op::Acc));
  return w < 4 ? 4 : w;
}

// Folds n elements p[0], p[st], ... into W interleaved accumulators.
template <int W, typename Op, typename In>
void fold_lanes(const Op& op, typename Op::Acc* lanes, const In* p, int64_t n, int64_t st) {
  int64_t i = 0;
  if (st == 1) {
    if constexpr (Vectorizable<Op, In>) {
      constexpr int N = Vec<Op, In>::N;
      static_assert(W % N == 0);
      for (; i + W <= n; i += W) {
        for (int k = 0; k < W; k += N) Vec<Op, In>::step(op, lanes + k, p + i + k);
      }
    } else {
      for (; i + W <= n; i += W) {
        for (int k = 0; k < W; ++k) lanes[k] = op.step(lanes[k], p[i + k]);
      }
    }
  } else {
    for (; i + W <= n; i += W) {
      for (int k = 0; k < W; ++k) lanes[k] = op.step(lanes[k], p[(i + k) * st]);
    }
  }
  for (; i < n; ++i) lanes[0] = op.step(lanes[0], p[i * st]);
}

// acc[j] folds in p[j] for j < len (a contiguous run of outputs).
template <typename Op, typename In>
void fold_across(const Op& op, typename Op::Acc* acc, const In* p, int64_t len) {
  int64_t j = 0;
  if constexpr (Vectorizable<Op, In>) {
    constexpr int N = Vec<Op, In>::N;
    for (; j + N <= len; j += N) Vec<Op, In>::step(op, acc + j, p + j);
  }
  for (; j < len; ++j) acc[j] = op.step(acc[j], p[j]);
}

template <typename In, typename Op>
class Reducer {
 public:
  using Acc = typename Op::Acc;
  using Out = decltype(std::declval<Op>().finish(std::declval<Acc>()));
  static constexpr int W = lanes_of<Op>();

  Reducer(const Op& op, const ReduceLayout& l, const In* src, Out* dst)
      : op_(op), l_(l), src_(src), dst_(dst) {}

  void run() {
    if (l_.n_out == 0) return;
    if (l_.n_red == 0) {
      Out v = op_.finish(op_.init());
      detail::parallel_for(l_.n_out, kTaskGrain, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) dst_[o] = v;
      });
      return;
    }
    bool columns = l_.kstride.back() == 1 && l_.kshape.back() > 1 && l_.rstride.back() != 1;
    if (columns) {
      reduce_columns();
    } else {
      reduce_rows();
    }
  }

 private:
  // The fold of reduced elements [rb, re) of the output whose input starts at base.
  Acc fold_range(const In* base, int64_t rb, int64_t re) const {
    Acc total[W], block[W];
    std::fill(total, total + W, op_.init());
    visit_runs(l_.rshape, l_.rstride, rb, re, [&](int64_t off, int64_t n, int64_t st) {
      const In* p = base + off;
      if (n <= kBlock) {
        fold_lanes<W>(op_, total, p, n, st);
        return;
      }
      for (; n > 0; n -= kBlock, p += kBlock * st) {
        std::fill(block, block + W, op_.init());
        fold_lanes<W>(op_, block, p, std::min(n, kBlock), st);
        for (int k = 0; k < W; ++k) total[k] = op_.merge(total[k], block[k]);
      }
    });
    Acc a = total[0];
    for (int k = 1; k < W; ++k) a = op_.merge(a, total[k]);
    return a;
  }

  void reduce_rows() {
    const int64_t n_out = l_.n_out, n_red = l_.n_red;
    const int64_t pieces = parallel_pieces(n_out * n_red);
    if (n_out >= pieces) {
      int64_t grain = std::max<int64_t>(1, kTaskGrain / n_red);
      detail::parallel_for(n_out, grain, [&](int64_t b, int64_t e) {
        int64_t o = b;
        visit_runs(l_.kshape, l_.kstride, b, e, [&](int64_t off, int64_t n, int64_t st) {
          for (int64_t i = 0; i < n; ++i) dst_[o++] = op_.finish(fold_range(src_ + off + i * st, 0, n_red));
        });
      });
      return;
    }
    // Few outputs: each output's elements are cut into `splits` pieces.
    const int64_t splits = std::min(n_red, (pieces + n_out - 1) / n_out);
    std::unique_ptr<Acc[]> part(new Acc[n_out * splits]);
    detail::parallel_for(n_out * splits, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / splits, p = t % splits;
        const In* base = src_ + offset_of(l_.kshape, l_.kstride, o);
        part[t] = fold_range(base, n_red * p / splits, n_red * (p + 1) / splits);
      }
    });
    for (int64_t o = 0; o < n_out; ++o) {
      Acc a = part[o * splits];
      for (int64_t p = 1; p < splits; ++p) a = op_.merge(a, part[o * splits + p]);
      dst_[o] = op_.finish(a);
    }
  }

  // Column walk: task t covers outputs [j0, j0 + len) of one contiguous run of
  // M outputs; acc[j] receives the fold of reduced rows [rb, re).
  struct ColumnTasks {
    int64_t M, jb, nblk, count;
    std::vector<int64_t> outer_shape, outer_stride;
  };

  ColumnTasks column_tasks() const {
    ColumnTasks c;
    c.M = l_.kshape.back();
    c.jb = std::min<int64_t>(c.M, std::max<int64_t>(16, 4096 / static_cast<int64_t>(sizeof(Acc))));
    c.nblk = (c.M + c.jb - 1) / c.jb;
    c.count = l_.n_out / c.M * c.nblk;
    c.outer_shape.assign(l_.kshape.begin(), l_.kshape.end() - 1);
    c.outer_stride.assign(l_.kstride.begin(), l_.kstride.end() - 1);
    if (c.outer_shape.empty()) {
      c.outer_shape = {1};
      c.outer_stride = {0};
    }
    return c;
  }

  // Returns the first output index of task t and its length.
  std::pair<int64_t, int64_t> fold_columns(const ColumnTasks& c, int64_t t, int64_t rb, int64_t re,
                                           Acc* acc, Acc* block) const {
    int64_t q = t / c.nblk, j0 = (t % c.nblk) * c.jb;
    int64_t len = std::min(c.jb, c.M - j0);
    const In* base = src_ + offset_of(c.outer_shape, c.outer_stride, q) + j0;
    std::fill(acc, acc + len, op_.init());
    for (int64_t r0 = rb; r0 < re; r0 += kRowBlock) {
      std::fill(block, block + len, op_.init());
      visit_runs(l_.rshape, l_.rstride, r0, std::min(re, r0 + kRowBlock),
                 [&](int64_t off, int64_t n, int64_t st) {
                   for (int64_t i = 0; i < n; ++i) fold_across(op_, block, base + off + i * st, len);
                 });
      for (int64_t j = 0; j < len; ++j) acc[j] = op_.merge(acc[j], block[j]);
    }
    return {q * c.M + j0, len};
  }

  void reduce_columns() {
    const ColumnTasks c = column_tasks();
    const int64_t n_red = l_.n_red;
    const int64_t pieces = parallel_pieces(l_.n_out * n_red);
    if (c.count >= pieces || n_red < 2 * kRowBlock) {
      int64_t grain = std::max<int64_t>(1, kTaskGrain / (c.jb * n_red));
      detail::parallel_for(c.count, grain, [&](int64_t b, int64_t e) {
        std::unique_ptr<Acc[]> acc(new Acc[2 * c.jb]);
        for (int64_t t = b; t < e; ++t) {
          auto [o, len] = fold_columns(c, t, 0, n_red, acc.get(), acc.get() + c.jb);
          for (int64_t j = 0; j < len; ++j) dst_[o + j] = op_.finish(acc[j]);
        }
      });
      return;
    }
    // Few outputs: split the reduced rows too.
    const int64_t splits = std::min((pieces + c.count - 1) / c.count, n_red / kRowBlock);
    std::unique_ptr<Acc[]> part(new Acc[c.count * splits * c.jb]);
    detail::parallel_for(c.count * splits, 1, [&](int64_t b, int64_t e) {
      std::unique_ptr<Acc[]> block(new Acc[c.jb]);
      for (int64_t t = b; t < e; ++t) {
        int64_t p = t % splits;
        fold_columns(c, t / splits, n_red * p / splits, n_red * (p + 1) / splits,
                     part.get() + t * c.jb, block.get());
      }
    });
    for (int64_t t = 0; t < c.count; ++t) {
      Acc* first = part.get() + t * splits * c.jb;
      int64_t q = t / c.nblk, j0 = (t % c.nblk) * c.jb;
      int64_t len = std::min(c.jb, c.M - j0);
      for (int64_t j = 0; j < len; ++j) {
        Acc a = first[j];
        for (int64_t p = 1; p < splits; ++p) a = op_.merge(a, first[p * c.jb + j]);
        dst_[q * c.M + j0 + j] = op_.finish(a);
      }
    }
  }

  Op op_;
  const ReduceLayout& l_;
  const In* src_;
  Out* dst_;
};

template <typename In, typename Op>
void reduce_with(const Op& op, const array& in, array& out, const ReduceLayout& l) {
  using Out = typename Reducer<In, Op>::Out;
  Reducer<In, Op>(op, l, in.data<In>(), out.data<Out>()).run();
}

// all/any: the input read as unsigned integers of its width, with the bits
// that make an element true.
void reduce_and_or(Reduce::ReduceType type, const array& in, array& out, const ReduceLayout& l) {
  auto run = [&](auto bits, auto mask) {
    using U = decltype(bits);
    if (type == Reduce::And) {
      reduce_with<U>(AndOp<U>{static_cast<U>(mask)}, in, out, l);
    } else {
      reduce_with<U>(OrOp<U>{static_cast<U>(mask)}, in, out, l);
    }
  };
  switch (in.dtype()) {
    case bool_:
    case uint8:
    case int8: return run(uint8_t{}, 0xffu);
    case uint16:
    case int16: return run(uint16_t{}, 0xffffu);
    case float16:
    case bfloat16: return run(uint16_t{}, 0x7fffu);
    case uint32:
    case int32: return run(uint32_t{}, 0xffffffffu);
    case float32: return run(uint32_t{}, 0x7fffffffu);
    case uint64:
    case int64: return run(uint64_t{}, ~uint64_t{0});
    case float64: return run(uint64_t{}, 0x7fffffffffffffffull);
    case complex64: return run(uint64_t{}, 0x7fffffff7fffffffull);
  }
}

void reduce_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const Reduce&>(p);
  const array& in = inputs[0];
  array& out = outputs[0];
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  auto layout = make_reduce_layout(in, prim.axes());
  auto type = prim.reduce_type();
  if (type == Reduce::And || type == Reduce::Or) {
    reduce_and_or(type, in, out, layout);
    return;
  }
  dispatch_dtype(in.dtype(), [&](auto tag) {
    using In = decltype(tag);
    switch (type) {
      case Reduce::Sum: {
        using Out = std::conditional_t<is_half_v<In>, In, sum_acc_t<In>>;
        return reduce_with<In>(SumOp<In, Out>{}, in, out, layout);
      }
      case Reduce::Prod: {
        using Out = std::conditional_t<is_half_v<In>, In, sum_acc_t<In>>;
        return reduce_with<In>(ProdOp<In, Out>{}, in, out, layout);
      }
      case Reduce::Max: return reduce_with<In>(MaxOp<In>{}, in, out, layout);
      default: return reduce_with<In>(MinOp<In>{}, in, out, layout);
    }
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, Reduce, reduce_kernel);

}  // namespace
}  // namespace lumen::cpu
