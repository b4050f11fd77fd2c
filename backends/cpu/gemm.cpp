#include "backends/cpu/gemm.h"

#include <Eigen/Core>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace lumen::cpu {

namespace {

template <typename T, int Order>
using ConstMatrixMap =
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, Eigen::Unaligned,
               Eigen::OuterStride<>>;
template <typename T>
using OutMatrixMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                                Eigen::Unaligned, Eigen::OuterStride<>>;

// Row-major readable: unit stride along columns (or one column), rows at
// least a row apart. Returns the leading dimension, or -1.
int64_t row_major_ld(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  if (cs != 1 && cols != 1) return -1;
  if (rows == 1) return cols;
  return rs >= cols ? rs : -1;
}

int64_t col_major_ld(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  return row_major_ld(cols, rows, cs, rs);
}

// Calls f with an Eigen map of the rows x cols matrix m (gemm_readable).
template <typename T, typename F>
void with_eigen_map(int64_t rows, int64_t cols, StridedMatrix<T> m, F&& f) {
  if (int64_t ld = row_major_ld(rows, cols, m.rs, m.cs); ld >= 0) {
    f(ConstMatrixMap<T, Eigen::RowMajor>(m.data, rows, cols, Eigen::OuterStride<>(ld)));
  } else {
    ld = col_major_ld(rows, cols, m.rs, m.cs);
    f(ConstMatrixMap<T, Eigen::ColMajor>(m.data, rows, cols, Eigen::OuterStride<>(ld)));
  }
}

// dst (rows x cols, row-major, dense) = float(src), walking src along its
// smaller stride so transposed inputs are read in order.
template <typename T>
void to_float_block(StridedMatrix<T> src, int64_t rows, int64_t cols, float* dst) {
  if (std::abs(src.cs) <= std::abs(src.rs)) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) dst[i * cols + j] = static_cast<float>(src.at(i, j));
    }
  } else {
    for (int64_t j = 0; j < cols; ++j) {
      for (int64_t i = 0; i < rows; ++i) dst[i * cols + j] = static_cast<float>(src.at(i, j));
    }
  }
}

// Depth of the converted blocks in the half-precision GEMM.
constexpr int64_t kHalfBlockDepth = 256;

}  // namespace

bool gemm_readable(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  return row_major_ld(rows, cols, rs, cs) >= 0 || col_major_ld(rows, cols, rs, cs) >= 0;
}

template <typename T>
void gemm_accumulate(int64_t M, int64_t N, int64_t K, StridedMatrix<T> a, StridedMatrix<T> b,
                     T* c, int64_t ldc, T alpha) {
  if (M == 0 || N == 0 || K == 0) return;
  OutMatrixMap<T> out(c, M, N, Eigen::OuterStride<>(ldc));
  with_eigen_map(M, K, a, [&](const auto& am) {
    with_eigen_map(K, N, b, [&](const auto& bm) { out.noalias() += alpha * am * bm; });
  });
}

template <typename T>
void gemm_half_to_float(int64_t M, int64_t N, int64_t K, StridedMatrix<T> a, StridedMatrix<T> b,
                        float* acc) {
  std::fill(acc, acc + M * N, 0.0f);
  if (M == 0 || N == 0 || K == 0) return;
  const int64_t depth = std::min(K, kHalfBlockDepth);
  std::vector<float> a_block(static_cast<size_t>(M * depth));
  std::vector<float> b_block(static_cast<size_t>(depth * N));
  for (int64_t k0 = 0; k0 < K; k0 += depth) {
    const int64_t kl = std::min(depth, K - k0);
    to_float_block(StridedMatrix<T>{a.data + k0 * a.cs, a.rs, a.cs}, M, kl, a_block.data());
    to_float_block(StridedMatrix<T>{b.data + k0 * b.rs, b.rs, b.cs}, kl, N, b_block.data());
    gemm_accumulate<float>(M, N, kl, {a_block.data(), kl, 1}, {b_block.data(), N, 1}, acc, N,
                           1.0f);
  }
}

template void gemm_accumulate<float>(int64_t, int64_t, int64_t, StridedMatrix<float>,
                                     StridedMatrix<float>, float*, int64_t, float);
template void gemm_accumulate<double>(int64_t, int64_t, int64_t, StridedMatrix<double>,
                                      StridedMatrix<double>, double*, int64_t, double);
template void gemm_accumulate<complex64_t>(int64_t, int64_t, int64_t, StridedMatrix<complex64_t>,
                                           StridedMatrix<complex64_t>, complex64_t*, int64_t,
                                           complex64_t);
template void gemm_half_to_float<float16_t>(int64_t, int64_t, int64_t, StridedMatrix<float16_t>,
                                            StridedMatrix<float16_t>, float*);
template void gemm_half_to_float<bfloat16_t>(int64_t, int64_t, int64_t, StridedMatrix<bfloat16_t>,
                                             StridedMatrix<bfloat16_t>, float*);

}  // namespace lumen::cpu
