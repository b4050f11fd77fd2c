// Matmul/AddMM through every kernel variant and operand layout: transposed,
// sliced and broadcast views (made on the CPU, so they reach the device's
// kernel as views), matrix-vector shapes, tiles past the edges, sizes that
// take the tensor-core path where a GPU has one, and bfloat16 rows whose
// range float16 cannot hold exactly. References are double-precision loops
// over the operands' values.
#include <cmath>

#include "float_op_util.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

const Device host = Device::cpu;

// out[b] = a[b] @ b[b] for row-major values of [batch, M, K] and [batch, K, N].
std::vector<double> ref_batched(const std::vector<double>& a, const std::vector<double>& b, int64_t batch,
                                int64_t M, int64_t K, int64_t N) {
  std::vector<double> out(static_cast<size_t>(batch * M * N), 0.0);
  for (int64_t q = 0; q < batch; ++q) {
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += a[(q * M + i) * K + k] * b[(q * K + k) * N + j];
        out[(q * M + i) * N + j] = acc;
      }
    }
  }
  return out;
}

// matmul(a, b) on `s` against the reference (a and b: [M, K] / [K, N] or
// batched alike, any views).
void check(const array& a, const array& b, const Stream& s, const std::string& what) {
  const int64_t M = a.shape(-2), K = a.shape(-1), N = b.shape(-1);
  const int64_t batch = static_cast<int64_t>(a.size()) / std::max<int64_t>(M * K, 1);
  auto out = matmul(a, b, s);
  auto want = ref_batched(to_doubles(a), to_doubles(b), batch, M, K, N);
  auto tol = rounded_once_tol(out.dtype(), K);
  expect_close(to_doubles(out), want, tol.rtol, tol.atol, what);
}

// check() of fresh random operands of the given shapes.
void check_random(const Shape& a, const Shape& b, Dtype d, uint32_t& seed, const Stream& s,
                  const std::string& what) {
  auto x = random_array(a, d, seed++);
  auto y = random_array(b, d, seed++);
  check(x, y, s, what);
}

std::string name(Dtype d, const std::string& what) { return dtype_to_string(d) + " " + what; }

const std::vector<Dtype> kKernelTypes = {float16, bfloat16, float32};

}  // namespace

LUMEN_DEVICE_SUITE(LinalgKernels);

LUMEN_DEVICE_TEST(LinalgKernels, TransposedAndSlicedViews) {
  uint32_t seed = 1;
  for (Dtype d : kKernelTypes) {
    auto at = transpose(random_array({70, 37}, d, seed++), {1, 0}, host);   // [37, 70], m contiguous
    auto bt = transpose(random_array({45, 70}, d, seed++), {1, 0}, host);   // [70, 45], k contiguous
    auto a = random_array({37, 70}, d, seed++);
    auto b = random_array({70, 45}, d, seed++);
    check(at, b, s, name(d, "a transposed"));
    check(a, bt, s, name(d, "b transposed"));
    check(at, bt, s, name(d, "both transposed"));
    // no unit stride at all: every other column / row
    auto a2 = slice(random_array({37, 140}, d, seed++), {0, 0}, {37, 140}, {1, 2}, host);
    auto b2 = slice(random_array({140, 45}, d, seed++), {0, 0}, {140, 45}, {2, 1}, host);
    check(a2, b2, s, name(d, "strided rows and columns"));
    // an offset start: vector loads are misaligned
    auto a3 = slice(random_array({37, 71}, d, seed++), {0, 1}, {37, 71}, host);
    check(a3, b, s, name(d, "offset a"));
  }
}

LUMEN_DEVICE_TEST(LinalgKernels, BatchedViews) {
  uint32_t seed = 100;
  for (Dtype d : kKernelTypes) {
    // a batch broadcast from one matrix (stride 0) against transposed matrices
    auto a = broadcast_to(random_array({1, 20, 33}, d, seed++), {3, 20, 33}, host);
    auto b = swapaxes(random_array({3, 18, 33}, d, seed++), 1, 2, host);  // [3, 33, 18]
    check(a, b, s, name(d, "broadcast a, transposed b"));
    // batch dims that do not collapse: [2, 3] with the 3 broadcast
    auto a4 = broadcast_to(random_array({2, 1, 9, 17}, d, seed++), {2, 3, 9, 17}, host);
    auto b4 = random_array({2, 3, 17, 11}, d, seed++);
    check(a4, b4, s, name(d, "broadcast middle batch dim"));
  }
}

LUMEN_DEVICE_TEST(LinalgKernels, MatrixVectorShapes) {
  uint32_t seed = 200;
  for (Dtype d : kKernelTypes) {
    for (int K : {1, 7, 64, 1000}) {
      auto A = random_array({67, K}, d, seed++);
      auto v = random_array({K, 1}, d, seed++);
      check(A, v, s, name(d, "A @ column, K=" + std::to_string(K)));
      auto row = random_array({1, K}, d, seed++);
      auto Bt = transpose(random_array({67, K}, d, seed++), {1, 0}, host);  // [K, 67], k contiguous
      check(row, Bt, s, name(d, "row @ B^T, K=" + std::to_string(K)));
      auto B = random_array({K, 67}, d, seed++);
      check(row, B, s, name(d, "row @ B, K=" + std::to_string(K)));
      auto At = transpose(random_array({K, 67}, d, seed++), {1, 0}, host);  // [67, K], m contiguous
      check(At, v, s, name(d, "A^T @ column, K=" + std::to_string(K)));
      // a vector with a stride, and a misaligned matrix
      auto vs = slice(random_array({2 * K, 1}, d, seed++), {0, 0}, {2 * K, 1}, {2, 1}, host);
      auto Aoff = slice(random_array({67, K + 1}, d, seed++), {0, 1}, {67, K + 1}, host);
      check(Aoff, vs, s, name(d, "offset A @ strided column, K=" + std::to_string(K)));
    }
    // batched matrix-vector with a broadcast vector
    auto A = random_array({4, 30, 40}, d, seed++);
    auto v = broadcast_to(random_array({1, 40, 1}, d, seed++), {4, 40, 1}, host);
    check(A, v, s, name(d, "batched A @ broadcast column"));
  }
}

LUMEN_DEVICE_TEST(LinalgKernels, TensorCoreSizes) {
  // Large enough for the tensor-core path (where the device has one); the odd
  // sizes leave partial tiles and a partial k slice.
  uint32_t seed = 300;
  for (Dtype d : {float16, bfloat16}) {
    check_random({256, 256}, {256, 256}, d, seed, s, name(d, "256^3"));
    check_random({200, 300}, {300, 136}, d, seed, s, name(d, "200x300x136"));
    auto at = transpose(random_array({300, 200}, d, seed++), {1, 0}, host);
    auto bt = transpose(random_array({136, 300}, d, seed++), {1, 0}, host);
    check(at, bt, s, name(d, "200x300x136 transposed"));
    auto aoff = slice(random_array({200, 301}, d, seed++), {0, 1}, {200, 301}, host);
    check(aoff, random_array({300, 136}, d, seed++), s, name(d, "200x300x136 misaligned a"));
    check_random({3, 130, 70}, {3, 70, 129}, d, seed, s, name(d, "batched"));
    // addmm with a broadcast c at this size
    auto a = random_array({160, 96}, d, seed++), b = random_array({96, 144}, d, seed++);
    auto c = random_array({144}, d, seed++);
    auto out = addmm(c, a, b, 0.5f, 2.0f, s);
    auto want = ref_batched(to_doubles(a), to_doubles(b), 1, 160, 96, 144);
    auto cv = to_doubles(c);
    for (size_t i = 0; i < want.size(); ++i) want[i] = 0.5 * want[i] + 2.0 * cv[i % 144];
    auto tol = rounded_once_tol(d, 96 * 4);
    expect_close(to_doubles(out), want, tol.rtol, tol.atol, name(d, "addmm 160x96x144"));
  }
}

LUMEN_DEVICE_TEST(LinalgKernels, Bfloat16RangesBeyondFloat16) {
  // Rows and columns whose values span more than float16 can hold at one
  // scale, values far outside float16's range, subnormal bfloat16 values and
  // zero lines: the tensor-core path must scale or hand them over exactly.
  // With 128 x 128 tensor-core tiles: tile rows 0 and 1 and tile column 2
  // scale exactly (at extreme powers of two), the rest fall back.
  const int M = 272, K = 192, N = 272;
  std::vector<float> av(M * K), bv(K * N);
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& x : av) x = dist(gen);
  for (auto& x : bv) x = dist(gen);
  for (int k = 0; k < K; ++k) av[3 * K + k] = 0.0f;                      // a zero row
  for (int k = 0; k < K; ++k) av[9 * K + k] *= std::ldexp(1.0f, 100);     // far above float16's range
  for (int k = 0; k < K; ++k) av[140 * K + k] *= std::ldexp(1.0f, -100);  // far below it
  av[260 * K + 7] = std::ldexp(1.0f, -40);                                 // 2^40 below its row's max
  bv[11 * N + 20] = 1e-39f;                                                // subnormal in bfloat16
  bv[4 * N + 130] = std::ldexp(1.0f, 30);                                  // a column with a wide range
  auto a = array(av.begin(), {M, K}, bfloat16);
  auto b = array(bv.begin(), {K, N}, bfloat16);
  auto got = to_doubles(matmul(a, b, s));
  auto ad = to_doubles(a), bd = to_doubles(b);
  ASSERT_EQ(got.size(), static_cast<size_t>(M * N));
  // float32 sums rounded once to bfloat16: half an ulp of the result plus
  // the accumulation's error, relative to the sum of |products|.
  int bad = 0;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double want = 0, magnitude = 0;
      for (int k = 0; k < K; ++k) {
        want += ad[i * K + k] * bd[k * N + j];
        magnitude += std::abs(ad[i * K + k] * bd[k * N + j]);
      }
      double err = std::abs(got[i * N + j] - want);
      if (!(err <= 4e-3 * std::abs(want) + 1e-6 * K * magnitude) && bad++ < 10) {
        ADD_FAILURE() << "(" << i << ", " << j << "): got " << got[i * N + j] << ", want " << want;
      }
    }
  }
  EXPECT_EQ(bad, 0);
}
