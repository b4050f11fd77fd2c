// CPU kernels of Matmul and AddMM. The output is cut into tiles (whole
// matrices when the batch alone keeps every thread busy); each tile is one
// Eigen GEMM for float32/float64/complex64, or a float32-accumulated GEMM over
// converted blocks for float16/bfloat16, rounded once at the end.
#include <algorithm>
#include <vector>

#include "backends/cpu/copy.h"
#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/norm.h"
#include "lumen/backend.h"
#include "lumen/linalg_primitives.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// One input seen as a batch of matrices over the output's batch dims.
struct MatrixOperand {
  StridedWalk batch;  // where matrix i starts (stride 0 on broadcast dims)
  int64_t rs;
  int64_t cs;
};

MatrixOperand describe(const array& x, const Shape& batch_shape) {
  Strides strides(batch_shape.size(), 0);
  const size_t nb = x.ndim() - 2;
  for (size_t d = 0; d < nb; ++d) {
    const int axis = static_cast<int>(d);
    strides[batch_shape.size() - nb + d] = x.shape(axis) == 1 ? 0 : x.strides(axis);
  }
  return {StridedWalk(batch_shape, std::move(strides)), x.strides(-2), x.strides(-1)};
}

// A dense row-major copy of x for Eigen. Batch dims that x broadcasts stay of
// size 1, so the copy is never larger than the data behind the view.
array compact_copy(const array& x) {
  Shape shape = x.shape();
  for (size_t d = 0; d + 2 < x.ndim(); ++d) {
    if (x.strides()[d] == 0) shape[d] = 1;
  }
  array out(shape, x.dtype(), nullptr, {});
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  copy_strided(x.data<char>(), x.strides(), out.data<char>(), out.strides(), shape, x.itemsize());
  return out;
}

// How the output matrices are cut: tiles of mb x nb, tiles_m x tiles_n per matrix.
struct TilePlan {
  int64_t mb, nb, tiles_m, tiles_n;
};

// Below this many multiply-adds a product runs on one thread.
constexpr double kParallelWork = 1 << 18;
// Tiles are not cut thinner than this when splitting for threads.
constexpr int64_t kMinTileSplit = 32;
// float16/bfloat16 tiles are at most this big (float32 accumulator per tile).
constexpr int64_t kHalfTile = 256;

TilePlan plan_tiles(int64_t batch, int64_t M, int64_t N, int64_t K, int64_t max_tile) {
  const int64_t threads = detail::cpu_threads();
  const double work = static_cast<double>(batch) * M * N * std::max<int64_t>(K, 1);
  int64_t splits = 1;
  if (batch < threads && work >= kParallelWork) splits = ceil_div(threads, batch);
  // rows first: they keep A's rows and C's rows contiguous in each tile
  const int64_t tm = std::max<int64_t>(1, std::min(splits, ceil_div(M, kMinTileSplit)));
  const int64_t tn = std::max<int64_t>(1, std::min(ceil_div(splits, tm), ceil_div(N, kMinTileSplit)));
  int64_t mb = ceil_div(M, tm), nb = ceil_div(N, tn);
  if (max_tile > 0) {
    mb = std::min(mb, max_tile);
    nb = std::min(nb, max_tile);
  }
  return {mb, nb, ceil_div(M, mb), ceil_div(N, nb)};
}

// out = alpha * (a @ b) + beta * c, with c == nullptr meaning no c term.
template <typename T>
void gemm_batched(array a, array b, const array* c, array& out, float alpha, float beta) {
  const int64_t M = out.shape(-2), N = out.shape(-1), K = a.shape(-1);
  if constexpr (!is_half_v<T>) {
    // Eigen reads unit-stride layouts in place; anything else is copied.
    if (!gemm_readable(M, K, a.strides(-2), a.strides(-1))) a = compact_copy(a);
    if (!gemm_readable(K, N, b.strides(-2), b.strides(-1))) b = compact_copy(b);
  }
  const Shape batch_shape(out.shape().begin(), out.shape().end() - 2);
  const int64_t batch = static_cast<int64_t>(out.size()) / (M * N);
  const auto ad = describe(a, batch_shape);
  const auto bd = describe(b, batch_shape);
  const auto cd = describe(c ? *c : out, batch_shape);
  const T* a_ptr = a.data<T>();
  const T* b_ptr = b.data<T>();
  const T* c_ptr = c ? c->data<T>() : nullptr;
  T* out_ptr = out.data<T>();

  const TilePlan plan = plan_tiles(batch, M, N, K, is_half_v<T> ? kHalfTile : 0);
  const int64_t tiles_per_matrix = plan.tiles_m * plan.tiles_n;

  auto run_tile = [&](int64_t t) {
    const int64_t bi = t / tiles_per_matrix;
    const int64_t m0 = (t % tiles_per_matrix) / plan.tiles_n * plan.mb;
    const int64_t n0 = (t % plan.tiles_n) * plan.nb;
    const int64_t ml = std::min(plan.mb, M - m0), nl = std::min(plan.nb, N - n0);
    StridedMatrix<T> at{a_ptr + ad.batch.offset(bi) + m0 * ad.rs,
                        ad.rs, ad.cs};
    StridedMatrix<T> bt{b_ptr + bd.batch.offset(bi) + n0 * bd.cs,
                        bd.rs, bd.cs};
    StridedMatrix<T> ct{nullptr, cd.rs, cd.cs};
    if (c) ct.data = c_ptr + cd.batch.offset(bi) + m0 * cd.rs + n0 * cd.cs;
    T* dst = out_ptr + bi * M * N + m0 * N + n0;
    if constexpr (is_half_v<T>) {
      std::vector<float> acc(static_cast<size_t>(ml * nl));
      gemm_half_to_float<T>(ml, nl, K, at, bt, acc.data());
      for (int64_t i = 0; i < ml; ++i) {
        for (int64_t j = 0; j < nl; ++j) {
          float v = alpha * acc[i * nl + j];
          if (c) v += beta * static_cast<float>(ct.at(i, j));
          dst[i * N + j] = T(v);
        }
      }
    } else {
      for (int64_t i = 0; i < ml; ++i) {
        for (int64_t j = 0; j < nl; ++j) dst[i * N + j] = c ? T(beta) * ct.at(i, j) : T(0);
      }
      gemm_accumulate<T>(ml, nl, K, at, bt, dst, N, T(alpha));
    }
  };

  const double tile_work = static_cast<double>(plan.mb) * plan.nb * std::max<int64_t>(K, 1);
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kParallelWork / tile_work));
  detail::parallel_for(batch * tiles_per_matrix, grain, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) run_tile(t);
  });
}

void matmul_general(const char* op, const array& a, const array& b, const array* c, array& out,
                    float alpha, float beta) {
  if (c) {
    alloc_elementwise_output({*c}, out);  // each element of c is read before it is written
  } else {
    out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  }
  if (out.size() == 0) return;
  auto run = [&](auto tag) { gemm_batched<decltype(tag)>(a, b, c, out, alpha, beta); };
  switch (out.dtype()) {
    case float32: run(float{}); break;
    case float64: run(double{}); break;
    case complex64: run(complex64_t{}); break;
    case float16: run(float16_t{}); break;
    case bfloat16: run(bfloat16_t{}); break;
    default:
      detail::throw_invalid("[{}] no CPU kernel for dtype {}", op, dtype_to_string(out.dtype()));
  }
}

void matmul_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  matmul_general("Matmul", inputs[0], inputs[1], nullptr, outputs[0], 1.0f, 0.0f);
}

void addmm_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const AddMM&>(p);
  const array* c = prim.beta() != 0.0f ? &inputs[2] : nullptr;
  matmul_general("AddMM", inputs[0], inputs[1], c, outputs[0], prim.alpha(), prim.beta());
}

LUMEN_REGISTER_KERNEL(Device::cpu, Matmul, matmul_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, AddMM, addmm_kernel);

}  // namespace
}  // namespace lumen::cpu
