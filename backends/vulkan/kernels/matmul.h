// Matrix products on the GPU: the host-side description of one Matmul/AddMM
// shared by its kernels (shaders/matmul*.comp). kernels/matmul.cpp picks the
// kernel; kernels/matmul_coopmat.cpp holds the tensor-core path.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "backends/vulkan/kernels/launch.h"

namespace lumen::vulkan {

// Push constants of shaders/matmul.glsl.
struct MatmulPush {
  uint64_t a = 0;
  uint64_t b = 0;
  uint64_t c = 0;
  uint64_t out = 0;
  uint64_t table = 0;
  uint64_t scales = 0;
  uint64_t partials = 0;
  uint32_t M = 0;
  uint32_t N = 0;
  uint32_t K = 0;
  uint32_t batch = 0;
  uint32_t ndim = 0;
  float alpha = 1.0f;
  float beta = 0.0f;
  uint32_t gate_m = 0;
  uint32_t gate_n = 0;
  uint32_t slices_a = 0;
  uint32_t slices_b = 0;
};

// out[batch, M, N] = alpha * a @ b (+ beta * c): operands as views (any
// strides; batch dims already broadcast to the output's).
struct MatmulProblem {
  const array* a = nullptr;
  const array* b = nullptr;
  const array* c = nullptr;  // null: no c term
  array* out = nullptr;
  uint32_t M = 0, N = 0, K = 0, batch = 0;
  // Strides within a matrix, in elements.
  int64_t a_rs = 0, a_cs = 0, b_rs = 0, b_cs = 0, c_rs = 0, c_cs = 0;
  // The batch dims, collapsed: shape, then the strides of a, b and c.
  std::vector<int64_t> batch_shape, a_bs, b_bs, c_bs;
  float alpha = 1.0f, beta = 0.0f;
};

// Uploads the stride table and fills the push constants of `p`.
MatmulPush matmul_push(KernelContext& k, const MatmulProblem& p);

// Records `shader` reading a, b, c (and `scales` when given) and writing out.
void dispatch_matmul(KernelContext& k, const char* shader, Constants constants, const MatmulProblem& p,
                     const MatmulPush& push, uint64_t invocations, const array* scales = nullptr);

// Whether a 16-byte vector load works at every row start of a matrix view:
// the address, the row stride and every batch stride are 16-byte multiples.
bool rows_aligned16(uint64_t address, int64_t row_stride, const std::vector<int64_t>& batch_strides,
                    size_t itemsize);

// Records the portable tiled kernel. With `gate` set, it computes only the
// output tiles whose tensor-core tile (gate_m x gate_n in `push`) holds an
// inexact line (see matmul_coopmat.cpp).
void record_tiled_matmul(KernelContext& k, const MatmulProblem& p, const MatmulPush& push, bool gate,
                         const array* scales = nullptr);

// Records the tensor-core kernel (VK_NV_cooperative_matrix) when the device,
// dtype and shape suit it; false leaves the problem to the caller.
bool record_coopmat_matmul(KernelContext& k, const MatmulProblem& p);

// The f16 x f16 -> f32 cooperative-matrix fragment shape {m, n, k} the device
// offers (asked once per device); nullopt without one or with
// LUMEN_VULKAN_NO_COOPMAT=1.
std::optional<std::array<uint32_t, 3>> coopmat_fragment(const Capabilities& caps);
// Whether the device offers f16 x f16 -> f32 fragments of m x n x k (asked
// once per device and shape; false with LUMEN_VULKAN_NO_COOPMAT=1).
bool coopmat_offers(const Capabilities& caps, uint32_t m, uint32_t n, uint32_t k);

// Whether the device runs the tensor-core kernel at all (float16 operands).
bool coopmat_matmul_available(const Capabilities& caps);

}  // namespace lumen::vulkan
