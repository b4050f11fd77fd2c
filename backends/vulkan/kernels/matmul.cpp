// Vulkan kernels of Matmul and AddMM. Every operand is read in place through
// its strides (transposed, sliced and broadcast views need no copy). Kernels,
// by preference:
//   - tensor cores (matmul_coopmat.cpp) for float16/bfloat16 where the device
//     has VK_NV_cooperative_matrix;
//   - a subgroup matrix-vector product when one side is a vector and the
//     matrix is contiguous along k (memory-bound: one pass over the matrix);
//   - the portable tiled kernel (shared memory, float32 accumulation);
//   - float64 and complex64: one invocation per output element.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "backends/cpu/strided.h"
#include "backends/vulkan/kernels/matmul.h"
#include "backends/vulkan/shaders/ids.h"
#include "core/detail/errors.h"
#include "lumen/linalg_primitives.h"

namespace lumen::vulkan {

namespace {

MatmulProblem describe(const array& a, const array& b, const array* c, array& out, float alpha,
                       float beta) {
  MatmulProblem p;
  p.a = &a;
  p.b = &b;
  p.c = c;
  p.out = &out;
  p.alpha = alpha;
  p.beta = beta;
  const int64_t M = out.shape(-2), N = out.shape(-1), K = a.shape(-1);
  const int64_t batch = static_cast<int64_t>(out.size()) / (M * N);
  if (batch > UINT32_MAX || batch * M > UINT32_MAX || batch * N > UINT32_MAX) {
    throw std::runtime_error(fmt::format(
        "[matmul] the GPU kernels index at most 2^32 rows; got a batch of {} x ({} x {})", batch, M, N));
  }
  p.M = static_cast<uint32_t>(M);
  p.N = static_cast<uint32_t>(N);
  p.K = static_cast<uint32_t>(K);
  p.batch = static_cast<uint32_t>(batch);
  p.a_rs = a.strides(-2);
  p.a_cs = a.strides(-1);
  p.b_rs = b.strides(-2);
  p.b_cs = b.strides(-1);
  if (c) {
    p.c_rs = c->strides(-2);
    p.c_cs = c->strides(-1);
  }
  const size_t nb = out.ndim() - 2;
  const Shape batch_shape(out.shape().begin(), out.shape().begin() + nb);
  const Strides sa(a.strides().begin(), a.strides().begin() + nb);
  const Strides sb(b.strides().begin(), b.strides().begin() + nb);
  const Strides sc = c ? Strides(c->strides().begin(), c->strides().begin() + nb) : Strides(nb, 0);
  auto layout = cpu::collapse<3>(batch_shape, {&sa, &sb, &sc});
  p.batch_shape = layout.shape;
  p.a_bs = layout.strides[0];
  p.b_bs = layout.strides[1];
  p.c_bs = layout.strides[2];
  return p;
}

// The same product seen from the other side: out^T = b^T a^T. The output
// [batch, 1, N] is also [batch, N, 1], so a row vector times a matrix becomes
// a matrix (b^T, contiguous along k when b's columns are) times a vector.
MatmulProblem transposed(const MatmulProblem& p) {
  MatmulProblem t = p;
  t.a = p.b;
  t.b = p.a;
  t.M = p.N;
  t.N = p.M;
  t.a_rs = p.b_cs;
  t.a_cs = p.b_rs;
  t.b_rs = p.a_cs;
  t.b_cs = p.a_rs;
  t.c_rs = p.c_cs;
  t.c_cs = p.c_rs;
  t.a_bs = p.b_bs;
  t.b_bs = p.a_bs;
  return t;
}

// Matrix (contiguous along k) times vector; p.N == 1.
void record_gemv(KernelContext& k, const MatmulProblem& p) {
  MatmulPush push = matmul_push(k, p);
  const size_t item = p.out->itemsize();
  Constants constants(5, 0);
  constants[1] = dtype_id(p.out->dtype());
  constants[2] = p.a_cs == 1 && rows_aligned16(push.a, p.a_rs, p.a_bs, item);
  constants[3] = p.b_rs == 1 && rows_aligned16(push.b, 0, p.b_bs, item);
  constants[4] = p.c != nullptr;
  const uint64_t rows = static_cast<uint64_t>(p.batch) * p.M;
  const uint32_t sub = std::max<uint32_t>(1, k.caps().subgroup_size);
  const uint64_t rows_per_group = KernelContext::kWorkgroupSize / sub;
  const uint64_t groups = (rows + rows_per_group - 1) / rows_per_group;
  dispatch_matmul(k, "matmul_gemv", std::move(constants), p, push, groups * KernelContext::kWorkgroupSize);
}

void record_naive(KernelContext& k, const MatmulProblem& p) {
  if (p.out->dtype() == float64 && !k.caps().float64) {
    detail::throw_invalid("[matmul] float64 needs a GPU with shaderFloat64; {} has none", k.caps().name);
  }
  MatmulPush push = matmul_push(k, p);
  Constants constants(3, 0);
  constants[1] = dtype_id(p.out->dtype());
  constants[2] = p.c != nullptr;
  dispatch_matmul(k, "matmul_naive", std::move(constants), p, push,
                  static_cast<uint64_t>(p.batch) * p.M * p.N);
}

bool is_gemv(const MatmulProblem& p) { return p.N == 1 && (p.a_cs == 1 || p.K == 1); }

void matmul_general(const Primitive& prim, const array& a, const array& b, const array* c, array& out,
                    float alpha, float beta) {
  KernelContext k(prim);
  if (c) {
    k.allocate_elementwise({*c}, out);  // each element of c is read before it is written
  } else {
    k.allocate(out);
  }
  if (out.size() == 0) return;
  MatmulProblem p = describe(a, b, c, out, alpha, beta);
  const Dtype dt = out.dtype();
  if (dt == float64 || dt == complex64) {
    record_naive(k, p);
    return;
  }
  if (dt != float32 && dt != float16 && dt != bfloat16) {
    detail::throw_invalid("[matmul] no GPU kernel for dtype {}", dtype_to_string(dt));
  }
  if (k.caps().subgroup_arithmetic) {
    if (is_gemv(p)) return record_gemv(k, p);
    if (p.M == 1 && is_gemv(transposed(p))) return record_gemv(k, transposed(p));
  }
  if (record_coopmat_matmul(k, p)) return;
  record_tiled_matmul(k, p, matmul_push(k, p), false);
}

void matmul_kernel(const Primitive& prim, const std::vector<array>& inputs, std::vector<array>& outputs) {
  matmul_general(prim, inputs[0], inputs[1], nullptr, outputs[0], 1.0f, 0.0f);
}

void addmm_kernel(const Primitive& prim, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& p = static_cast<const AddMM&>(prim);
  const array* c = p.beta() != 0.0f ? &inputs[2] : nullptr;  // BLAS: beta == 0 never reads c
  matmul_general(prim, inputs[0], inputs[1], c, outputs[0], p.alpha(), p.beta());
}

LUMEN_REGISTER_KERNEL(Device::gpu, Matmul, matmul_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, AddMM, addmm_kernel);

}  // namespace

MatmulPush matmul_push(KernelContext& k, const MatmulProblem& p) {
  MatmulPush push;
  push.a = address_of(*p.a);
  push.b = address_of(*p.b);
  push.c = p.c ? address_of(*p.c) : 0;
  push.out = address_of(*p.out);
  const size_t nd = p.batch_shape.size();
  std::vector<int64_t> table = {p.a_rs, p.a_cs, p.b_rs, p.b_cs, p.c_rs, p.c_cs};
  table.insert(table.end(), p.batch_shape.begin(), p.batch_shape.end());
  table.insert(table.end(), p.a_bs.begin(), p.a_bs.end());
  table.insert(table.end(), p.b_bs.begin(), p.b_bs.end());
  table.insert(table.end(), p.c_bs.begin(), p.c_bs.end());
  push.table = k.stream().upload(table.data(), table.size() * sizeof(int64_t));
  push.M = p.M;
  push.N = p.N;
  push.K = p.K;
  push.batch = p.batch;
  push.ndim = static_cast<uint32_t>(nd);
  push.alpha = p.alpha;
  push.beta = p.beta;
  return push;
}

void dispatch_matmul(KernelContext& k, const char* shader, Constants constants, const MatmulProblem& p,
                     const MatmulPush& push, uint64_t invocations, const array* scales) {
  const array* c = p.c ? p.c : p.a;
  k.dispatch(shader, std::move(constants), &push, sizeof(push), invocations,
             {p.a, p.b, c, scales ? scales : p.a}, {p.out});
}

bool rows_aligned16(uint64_t address, int64_t row_stride, const std::vector<int64_t>& batch_strides,
                    size_t itemsize) {
  auto aligned = [&](int64_t stride) { return (stride * static_cast<int64_t>(itemsize)) % 16 == 0; };
  bool ok = address % 16 == 0 && aligned(row_stride);
  for (int64_t s : batch_strides) ok = ok && aligned(s);
  return ok;
}

void record_tiled_matmul(KernelContext& k, const MatmulProblem& p, const MatmulPush& push, bool gate,
                         const array* scales) {
  // Large outputs on a real GPU take 128 x 128 tiles (8 x 8 accumulators per
  // invocation); the rest, and CPU implementations, 64 x 64 (4 x 4).
  const bool large = k.caps().type != VK_PHYSICAL_DEVICE_TYPE_CPU &&
                     static_cast<uint64_t>(p.M) * p.N * p.batch >= (1u << 20);
  const uint32_t tile = large ? 128 : 64, per_thread = large ? 8 : 4;
  Constants constants(11, 0);
  constants[1] = dtype_id(p.out->dtype());
  constants[2] = tile;
  constants[3] = tile;
  constants[4] = 16;
  constants[5] = per_thread;
  constants[6] = per_thread;
  // Consecutive invocations read along the operand's smaller stride.
  constants[7] = p.M == 1 || std::llabs(p.a_cs) <= std::llabs(p.a_rs);
  constants[8] = p.K == 1 || std::llabs(p.b_cs) <= std::llabs(p.b_rs);
  constants[9] = p.c != nullptr;
  constants[10] = gate;
  const uint64_t tiles = static_cast<uint64_t>(p.batch) * ((p.M + tile - 1) / tile) * ((p.N + tile - 1) / tile);
  if (tiles > UINT32_MAX) {
    throw std::runtime_error(fmt::format("[matmul] {} output tiles exceed the GPU kernel's index", tiles));
  }
  dispatch_matmul(k, "matmul_tiled", std::move(constants), p, push, tiles * KernelContext::kWorkgroupSize,
                  scales);
}

}  // namespace lumen::vulkan
