// matmul, addmm, tensordot, inner, outer against double-precision loops.
#include <complex>

#include "float_op_util.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// Tolerances for a K-term dot product of values in [-1, 1].
Tol dot_tol(Dtype d, int64_t K) { return rounded_once_tol(d, K); }

struct Ref {
  std::vector<double> v;
  Shape shape;
};

// Row-major index of `out_index` (over out_batch) in a batch shape that
// broadcasts to it (right-aligned, size-1 dims repeat).
int64_t broadcast_index(int64_t out_index, const Shape& out_batch, const Shape& batch) {
  const int lead = static_cast<int>(out_batch.size() - batch.size());
  int64_t idx = 0, stride = 1;
  for (int d = static_cast<int>(out_batch.size()) - 1; d >= lead; --d) {
    const int64_t i = out_index % out_batch[d];
    out_index /= out_batch[d];
    if (batch[d - lead] != 1) idx += i * stride;
    stride *= batch[d - lead];
  }
  return idx;
}

// NumPy matmul in double on row-major values.
Ref ref_matmul(const std::vector<double>& a, Shape as, const std::vector<double>& b, Shape bs) {
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  Shape batch(std::max(ab.size(), bb.size()), 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    int da = i + ab.size() >= batch.size() ? ab[i + ab.size() - batch.size()] : 1;
    int db = i + bb.size() >= batch.size() ? bb[i + bb.size() - batch.size()] : 1;
    batch[i] = std::max(da, db);
  }
  Ref r;
  for (int64_t bi = 0; bi < numel(batch); ++bi) {
    const double* pa = a.data() + broadcast_index(bi, batch, ab) * M * K;
    const double* pb = b.data() + broadcast_index(bi, batch, bb) * K * N;
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += pa[i * K + k] * pb[k * N + j];
        r.v.push_back(acc);
      }
    }
  }
  r.shape = batch;
  if (!a_vec) r.shape.push_back(static_cast<int>(M));
  if (!b_vec) r.shape.push_back(static_cast<int>(N));
  return r;
}

// matmul(a, b) against the reference, for operands given as (possibly strided) arrays.
void check_matmul(const array& a, const array& b, const Stream& s, const std::string& what) {
  auto out = matmul(a, b, s);
  auto ref = ref_matmul(to_doubles(a), a.shape(), to_doubles(b), b.shape());
  ASSERT_EQ(out.shape(), ref.shape) << what;
  EXPECT_EQ(out.dtype(), promote_types(a.dtype(), b.dtype())) << what;
  auto tol = dot_tol(out.dtype(), a.shape(-1));
  expect_close(to_doubles(out), ref.v, tol.rtol, tol.atol, what);
}

std::string case_name(Dtype d, const Shape& a, const Shape& b) {
  std::ostringstream os;
  os << dtype_to_string(d) << " " << a << " @ " << b;
  return os.str();
}

}  // namespace

LUMEN_DEVICE_SUITE(Linalg);

LUMEN_DEVICE_TEST(Linalg, MatmulOddShapesEveryDtype) {
  const std::vector<std::array<int, 3>> sizes = {
      {1, 1, 1}, {3, 17, 5}, {17, 3, 65}, {65, 17, 3}, {1, 65, 17}, {17, 65, 1}, {33, 1, 9}};
  uint32_t seed = 1;
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;  // float64 is CPU-only
    for (auto [M, K, N] : sizes) {
      auto a = random_array({M, K}, d, seed++);
      auto b = random_array({K, N}, d, seed++);
      check_matmul(a, b, s, case_name(d, a.shape(), b.shape()));
    }
  }
}

LUMEN_DEVICE_TEST(Linalg, MatmulSeveralTiles) {
  // M over the 256-row tile of the half path, K over its 256-deep blocks,
  // and enough work to be split across threads.
  uint32_t seed = 100;
  for (Dtype d : {float16, bfloat16, float32}) {
    auto a = random_array({260, 300}, d, seed++);
    auto b = random_array({300, 33}, d, seed++);
    check_matmul(a, b, s, case_name(d, a.shape(), b.shape()));
  }
}

LUMEN_DEVICE_TEST(Linalg, MatmulTransposedAndStridedOperands) {
  uint32_t seed = 200;
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;
    auto at = transpose(random_array({17, 5}, d, seed++), {1, 0}, s);  // [5, 17], column-major
    auto bt = transpose(random_array({9, 17}, d, seed++), {1, 0}, s);  // [17, 9]
    auto b = random_array({17, 9}, d, seed++);
    check_matmul(at, b, s, "transposed a " + dtype_to_string(d));
    check_matmul(at, bt, s, "transposed a and b " + dtype_to_string(d));
    // every other column: no unit stride, copied (float types) or read in place (halves)
    auto wide = random_array({5, 34}, d, seed++);
    auto sliced = slice(wide, {0, 0}, {5, 34}, {1, 2}, s);  // [5, 17]
    check_matmul(sliced, b, s, "column-strided a " + dtype_to_string(d));
    auto rows = slice(random_array({34, 9}, d, seed++), {0, 0}, {34, 9}, {2, 1}, s);  // [17, 9]
    check_matmul(at, rows, s, "row-strided b " + dtype_to_string(d));
    // batched, transposed inside each matrix
    auto batch_t = swapaxes(random_array({3, 17, 5}, d, seed++), -1, -2, s);  // [3, 5, 17]
    check_matmul(batch_t, b, s, "batched transposed a " + dtype_to_string(d));
  }
}

LUMEN_DEVICE_TEST(Linalg, MatmulBatchedAndBroadcast) {
  uint32_t seed = 300;
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 1, 3, 4}, {3, 4, 5}},     // batch dims broadcast both ways
      {{4, 5}, {2, 3, 5, 6}},        // one matrix against a batch
      {{2, 3, 4, 5}, {5, 6}},        // a batch against one matrix (flattened)
      {{1, 3, 4}, {7, 4, 2}},        // size-1 batch dim
      {{5, 1, 65, 3}, {1, 4, 3, 17}}};
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;
    for (auto& [sa, sb] : cases) {
      auto a = random_array(sa, d, seed++);
      auto b = random_array(sb, d, seed++);
      check_matmul(a, b, s, case_name(d, sa, sb));
    }
  }
  // a batch broadcast by a view (stride 0) and transposed matrices
  auto a = broadcast_to(random_array({1, 5, 7}, float32, seed++), {4, 5, 7}, s);
  auto b = swapaxes(random_array({4, 3, 7}, float32, seed++), 1, 2, s);
  check_matmul(a, b, s, "broadcast view a, transposed b");
}

LUMEN_DEVICE_TEST(Linalg, MatmulVectors) {
  uint32_t seed = 400;
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{17}, {17, 5}}, {{5, 17}, {17}}, {{17}, {17}}, {{1}, {1}},
      {{4}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {5}}};
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;
    for (auto& [sa, sb] : cases) {
      auto a = random_array(sa, d, seed++);
      auto b = random_array(sb, d, seed++);
      check_matmul(a, b, s, case_name(d, sa, sb));
    }
  }
}

LUMEN_DEVICE_TEST(Linalg, MatmulPromotesTypes) {
  auto i = array({1, 2, 3, 4}, {2, 2}, int32);
  auto f = array({1.0f, 0.5f, -1.0f, 2.0f}, {2, 2});
  auto h = astype(f, float16, s);
  auto bf = astype(f, bfloat16, s);
  EXPECT_EQ(matmul(i, f, s).dtype(), float32);
  EXPECT_EQ(matmul(h, f, s).dtype(), float32);
  EXPECT_EQ(matmul(h, bf, s).dtype(), float32);
  EXPECT_EQ(matmul(h, h, s).dtype(), float16);
  expect_close(to_doubles(matmul(i, f, s)), {1 * 1 + 2 * -1.0, 1 * 0.5 + 2 * 2, 3 - 4.0, 1.5 + 8});
}

LUMEN_DEVICE_TEST(Linalg, MatmulEmptyDims) {
  auto zk = matmul(zeros({3, 0}, float32, s), zeros({0, 4}, float32, s), s);
  EXPECT_EQ(zk.shape(), (Shape{3, 4}));
  expect_close(to_doubles(zk), std::vector<double>(12, 0.0));
  auto zm = matmul(zeros({0, 3}, float32, s), ones({3, 4}, float32, s), s);
  EXPECT_EQ(zm.shape(), (Shape{0, 4}));
  zm.eval();
  EXPECT_EQ(zm.size(), 0u);
}

LUMEN_DEVICE_TEST(Linalg, MatmulComplex) {
  if (on_gpu) GTEST_SKIP() << "complex64 matmul runs on the CPU";
  using c64 = std::complex<float>;
  std::vector<c64> av = {{1, 2}, {0, -1}, {3, 0.5f}, {-2, 1}, {0.25f, 0}, {1, 1}};  // [2, 3]
  std::vector<c64> bv = {{1, 0}, {2, -1}, {0, 1}, {1, 1}, {-1, 0.5f}, {0, 0}};    // [3, 2]
  auto out = matmul(array(av.begin(), {2, 3}, complex64), array(bv.begin(), {3, 2}, complex64), s);
  ASSERT_EQ(out.dtype(), complex64);
  out.eval();
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      std::complex<double> want = 0;
      for (int k = 0; k < 3; ++k) {
        want += std::complex<double>(av[i * 3 + k]) * std::complex<double>(bv[k * 2 + j]);
      }
      auto got = out.data<c64>()[i * 2 + j];
      EXPECT_NEAR(got.real(), want.real(), 1e-5) << i << "," << j;
      EXPECT_NEAR(got.imag(), want.imag(), 1e-5) << i << "," << j;
    }
  }
}

LUMEN_DEVICE_TEST(Linalg, MatmulBadInputs) {
  expect_invalid_message([&] { matmul(ones({2, 3}, s), ones({4, 5}, s), s); },
                 {"[matmul]", "(2, 3)", "(4, 5)"});
  expect_invalid_message([&] { matmul(ones({2, 3}, int32, s), ones({3, 2}, int32, s), s); },
                 {"[matmul]", "int32"});
  expect_invalid_message([&] { matmul(array(1.0f), ones({3}, s), s); }, {"[matmul]", "()"});
  expect_invalid_message([&] { matmul(ones({2, 2, 3}, s), ones({3, 3, 4}, s), s); }, {"[matmul]"});
  expect_invalid_message([&] { addmm(ones({2}, s), ones({2, 3}, s), ones({2, 4}, s)); },
                 {"[addmm]", "(2, 3)", "(2, 4)"});
  expect_invalid_message([&] { addmm(ones({2}, int32, s), ones({2, 3}, int32, s), ones({3, 2}, int32, s)); },
                 {"[addmm]", "int32"});
  expect_invalid_message([&] { addmm(ones({3, 3}, s), ones({2, 3}, s), ones({3, 2}, s)); },
                 {"[addmm]", "(3, 3)"});
  expect_invalid_message([&] { tensordot(ones({2, 3}, s), ones({4, 5}, s), 1, s); },
                 {"[tensordot]", "(2, 3)", "(4, 5)"});
  expect_invalid_message([&] { tensordot(ones({2, 3}, s), ones({3, 5}, s), {1}, {0, 1}, s); },
                 {"[tensordot]"});
  expect_invalid_message([&] { inner(ones({2, 3}, s), ones({2}, s), s); }, {"[inner]", "(2, 3)", "(2)"});
  EXPECT_THROW(tensordot(ones({2, 3}, s), ones({3, 5}, s), {2}, {0}, s), std::out_of_range);
  EXPECT_THROW(tensordot(ones({2, 3}, s), ones({3, 5}, s), 3, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Linalg, AddmmEveryDtype) {
  uint32_t seed = 500;
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;
    for (auto [alpha, beta] : {std::pair{1.0f, 1.0f}, {2.0f, 0.5f}, {-0.5f, 3.0f}}) {
      auto a = random_array({17, 65}, d, seed++);
      auto b = random_array({65, 3}, d, seed++);
      for (Shape cs : {Shape{17, 3}, Shape{3}, Shape{}, Shape{17, 1}}) {
        auto c = random_array(cs, d, seed++);
        auto out = addmm(c, a, b, alpha, beta, s);
        auto ab = ref_matmul(to_doubles(a), a.shape(), to_doubles(b), b.shape());
        auto cv = to_doubles(broadcast_to(c, {17, 3}, s));
        for (size_t i = 0; i < ab.v.size(); ++i) ab.v[i] = alpha * ab.v[i] + beta * cv[i];
        ASSERT_EQ(out.shape(), (Shape{17, 3}));
        EXPECT_EQ(out.dtype(), d);
        auto tol = dot_tol(d, 65 * 3);
        expect_close(to_doubles(out), ab.v, tol.rtol, tol.atol, case_name(d, cs, {17, 3}));
      }
    }
  }
}

LUMEN_DEVICE_TEST(Linalg, AddmmShapes) {
  uint32_t seed = 600;
  struct Case {
    Shape c, a, b;
  };
  const std::vector<Case> cases = {
      {{5}, {2, 3, 4}, {4, 5}},          // batch against a matrix, vector c (flattened)
      {{3, 1}, {2, 3, 4}, {2, 4, 5}},    // batched, c broadcast
      {{5}, {4}, {4, 5}},                // vector @ matrix
      {{3}, {3, 4}, {4}},                // matrix @ vector
      {{}, {4}, {4}},                    // vector . vector
      {{2, 3, 5}, {3, 4}, {2, 4, 5}}};  // matrix against a batch
  for (auto& cs : cases) {
    auto a = random_array(cs.a, float32, seed++);
    auto b = random_array(cs.b, float32, seed++);
    auto c = random_array(cs.c, float32, seed++);
    auto out = addmm(c, a, b, 0.5f, 2.0f, s);
    auto ab = ref_matmul(to_doubles(a), cs.a, to_doubles(b), cs.b);
    ASSERT_EQ(out.shape(), ab.shape) << case_name(float32, cs.a, cs.b);
    auto cv = to_doubles(broadcast_to(c, ab.shape, s));
    for (size_t i = 0; i < ab.v.size(); ++i) ab.v[i] = 0.5 * ab.v[i] + 2.0 * cv[i];
    expect_close(to_doubles(out), ab.v, 1e-5, 1e-5, case_name(float32, cs.a, cs.b));
  }
  // transposed operands, and a transposed c
  auto a = transpose(random_array({6, 5}, float32, seed++), {1, 0}, s);
  auto b = transpose(random_array({7, 6}, float32, seed++), {1, 0}, s);
  auto c = transpose(random_array({7, 5}, float32, seed++), {1, 0}, s);
  auto ab = ref_matmul(to_doubles(a), a.shape(), to_doubles(b), b.shape());
  auto cv = to_doubles(c);
  for (size_t i = 0; i < ab.v.size(); ++i) ab.v[i] += cv[i];
  expect_close(to_doubles(addmm(c, a, b, 1.0f, 1.0f, s)), ab.v, 1e-5, 1e-5, "transposed");
}

LUMEN_DEVICE_TEST(Linalg, AddmmBetaZeroIgnoresC) {
  // As BLAS: with beta == 0, c is not read (NaN in c does not propagate).
  auto a = random_array({3, 4}, float32, 700);
  auto b = random_array({4, 2}, float32, 701);
  auto c = full({3, 2}, NAN, float32, s);
  auto ab = ref_matmul(to_doubles(a), {3, 4}, to_doubles(b), {4, 2});
  for (auto& v : ab.v) v *= 2;
  expect_close(to_doubles(addmm(c, a, b, 2.0f, 0.0f, s)), ab.v, 1e-5, 1e-5);
}

LUMEN_DEVICE_TEST(Linalg, AddmmComplexIsComposed) {
  if (on_gpu) GTEST_SKIP() << "complex64 matmul runs on the CPU";
  using c64 = std::complex<float>;
  std::vector<c64> av = {{1, 1}, {2, 0}}, bv = {{0, 1}, {1, 0}}, cv = {{1, -1}};
  auto out = addmm(array(cv.begin(), {1}, complex64), array(av.begin(), {1, 2}, complex64),
                   array(bv.begin(), {2, 1}, complex64), 2.0f, 3.0f, s);
  ASSERT_EQ(out.shape(), (Shape{1, 1}));
  out.eval();
  // 2 * ((1+i) i + 2) + 3 (1 - i) = 2 (1 + i) + 3 - 3i = 5 - i
  EXPECT_EQ(out.data<c64>()[0], c64(5, -1));
}

LUMEN_DEVICE_TEST(Linalg, Tensordot) {
  uint32_t seed = 800;
  auto a = random_array({3, 4, 5}, float32, seed++);
  auto b = random_array({4, 5, 6}, float32, seed++);
  auto av = to_doubles(a), bv = to_doubles(b);
  // axis = 2: contract a's last two with b's first two
  auto out = tensordot(a, b, 2, s);
  ASSERT_EQ(out.shape(), (Shape{3, 6}));
  std::vector<double> want;
  for (int i = 0; i < 3; ++i) {
    for (int l = 0; l < 6; ++l) {
      double acc = 0;
      for (int j = 0; j < 4; ++j) {
        for (int k = 0; k < 5; ++k) acc += av[(i * 4 + j) * 5 + k] * bv[(j * 5 + k) * 6 + l];
      }
      want.push_back(acc);
    }
  }
  expect_close(to_doubles(out), want, 1e-5, 1e-5, "axis=2");
  // explicit axes, in a different order: a axes (2, 0) with c axes (0, 2)
  auto c = random_array({5, 7, 3}, float32, seed++);
  auto cv = to_doubles(c);
  auto out2 = tensordot(a, c, {2, 0}, {0, 2}, s);
  ASSERT_EQ(out2.shape(), (Shape{4, 7}));
  want.clear();
  for (int j = 0; j < 4; ++j) {
    for (int m = 0; m < 7; ++m) {
      double acc = 0;
      for (int i = 0; i < 3; ++i) {
        for (int k = 0; k < 5; ++k) acc += av[(i * 4 + j) * 5 + k] * cv[(k * 7 + m) * 3 + i];
      }
      want.push_back(acc);
    }
  }
  expect_close(to_doubles(out2), want, 1e-5, 1e-5, "axes lists");
  // axis = 0: outer product
  auto x = random_array({2, 3}, float64, seed++), y = random_array({4}, float64, seed++);
  auto xv = to_doubles(x), yv = to_doubles(y);
  auto out3 = tensordot(x, y, 0, s);
  ASSERT_EQ(out3.shape(), (Shape{2, 3, 4}));
  want.clear();
  for (double p : xv) {
    for (double q : yv) want.push_back(p * q);
  }
  expect_close(to_doubles(out3), want, 1e-12, 1e-12, "axis=0");
}

LUMEN_DEVICE_TEST(Linalg, InnerAndOuter) {
  uint32_t seed = 900;
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;
    auto a = random_array({2, 17}, d, seed++);
    auto b = random_array({3, 17}, d, seed++);
    auto av = to_doubles(a), bv = to_doubles(b);
    auto in = inner(a, b, s);
    ASSERT_EQ(in.shape(), (Shape{2, 3}));
    std::vector<double> want;
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) {
        double acc = 0;
        for (int k = 0; k < 17; ++k) acc += av[i * 17 + k] * bv[j * 17 + k];
        want.push_back(acc);
      }
    }
    auto tol = dot_tol(d, 17);
    expect_close(to_doubles(in), want, tol.rtol, tol.atol, "inner " + dtype_to_string(d));

    auto x = random_array({3}, d, seed++), y = random_array({2, 2}, d, seed++);
    auto xv = to_doubles(x), yv = to_doubles(y);
    auto out = outer(x, y, s);
    ASSERT_EQ(out.shape(), (Shape{3, 4}));
    want.clear();
    for (double p : xv) {
      for (double q : yv) want.push_back(p * q);
    }
    tol = dot_tol(d, 1);
    expect_close(to_doubles(out), want, tol.rtol, tol.atol, "outer " + dtype_to_string(d));
  }
  // a scalar operand: a plain product
  auto sc = inner(array(2.0f), array({1.0f, 2.0f, 3.0f}), s);
  expect_close(to_doubles(sc), {2, 4, 6});
}

// Over 2^31 output elements (64-bit offsets): a float16 outer product of
// 46341-vectors, 4.3 GB. Release only (ctest label `large`), on the CPU.
TEST(LinalgLarge, MatmulOutputOver2To31Elements) {
#ifndef NDEBUG
  GTEST_SKIP() << "large: 4.3 GB of float16 output, Release builds only";
#endif
  const int n = 46341;
  auto s = default_stream(Device::cpu);
  auto a = random_array({n, 1}, float16, 1000);
  auto b = random_array({1, n}, float16, 1001);
  auto out = matmul(a, b, s);
  out.eval();
  ASSERT_GT(out.size(), size_t{1} << 31);
  a.eval();
  b.eval();
  // one product of two float16 values is exact in float32: one rounding
  auto expect_entry = [&](int64_t i, int64_t j) {
    float want = float(float16_t(float(a.data<float16_t>()[i]) * float(b.data<float16_t>()[j])));
    EXPECT_EQ(float(out.data<float16_t>()[i * n + j]), want) << i << ", " << j;
  };
  for (int64_t i : {0, 1, 12345, n - 2, n - 1}) {
    for (int64_t j : {0, 777, n - 1}) expect_entry(i, j);
  }
}
