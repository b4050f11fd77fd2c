// Single-threaded GEMM blocks on top of Eigen; backends/cpu/matmul.cpp splits
// the work across threads and batches.
#pragma once

#include <cstdint>

#include "lumen/dtype.h"

namespace lumen::cpu {

// A matrix in memory: element (i, j) is data[i * rs + j * cs].
template <typename T>
struct StridedMatrix {
  const T* data;
  int64_t rs;
  int64_t cs;
  const T& at(int64_t i, int64_t j) const { return data[i * rs + j * cs]; }
};

// Whether Eigen can read a rows x cols matrix with these strides in place:
// unit stride along one axis and a leading dimension at least as long as the
// other axis (BLAS rules). Anything else is copied to row-major first.
bool gemm_readable(int64_t rows, int64_t cols, int64_t rs, int64_t cs);

// c[i * ldc + j] += alpha * sum_k a(i, k) b(k, j), for a: M x K, b: K x N,
// both gemm_readable. T is float, double or complex64_t.
template <typename T>
void gemm_accumulate(int64_t M, int64_t N, int64_t K, StridedMatrix<T> a, StridedMatrix<T> b,
                     T* c, int64_t ldc, T alpha);

// acc[i * N + j] = sum_k a(i, k) b(k, j) in float32, for float16/bfloat16
// inputs of any strides: blocks of a and b are converted to float32 and
// multiplied by Eigen; acc holds M * N floats.
template <typename T>
void gemm_half_to_float(int64_t M, int64_t N, int64_t K, StridedMatrix<T> a, StridedMatrix<T> b,
                        float* acc);

}  // namespace lumen::cpu
