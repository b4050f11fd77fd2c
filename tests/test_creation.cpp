// Creation ops: arange, linspace, full/zeros/ones and their _like forms,
// eye, identity, tri, tril, triu; values against closed forms.
#include <cmath>
#include <numbers>

#include "test_util.h"
#include "typed_values.h"

using namespace lumen;
using namespace lumen::test;

namespace {

using ld = long double;

std::vector<ld> ints(std::initializer_list<int> v) { return std::vector<ld>(v.begin(), v.end()); }

LUMEN_DEVICE_SUITE(Creation);

LUMEN_DEVICE_TEST(Creation, ArangeOverloadsAndDtypes) {
  auto a = arange(5, s);
  EXPECT_EQ(a.dtype(), int32);
  EXPECT_EQ(exact_values(a), ints({0, 1, 2, 3, 4}));
  EXPECT_EQ(exact_values(arange(2, 10, 3, s)), ints({2, 5, 8}));
  EXPECT_EQ(exact_values(arange(-2, 3, s)), ints({-2, -1, 0, 1, 2}));
  EXPECT_EQ(exact_values(arange(10, 0, -3, s)), ints({10, 7, 4, 1}));
  EXPECT_EQ(arange(0, 10, -1, s).size(), 0u);
  auto f = arange(4.0, s);
  EXPECT_EQ(f.dtype(), float32);
  EXPECT_EQ(exact_values(f), ints({0, 1, 2, 3}));
  EXPECT_EQ(exact_values(arange(1.5, 4.0, s)), (std::vector<ld>{1.5, 2.5, 3.5}));
  EXPECT_EQ(arange(3.0, int16, s).dtype(), int16);
  EXPECT_EQ(exact_values(arange(-1.0, 2.0, 0.5, s)), (std::vector<ld>{-1, -0.5, 0, 0.5, 1, 1.5}));
  // integer dtypes take the converted start and the converted step
  EXPECT_EQ(exact_values(arange(0.5, 5.0, int32, s)), ints({0, 1, 2, 3, 4}));
  for (Dtype d : all_dtypes()) {
    if (d == bool_ || (d == float64 && on_gpu)) continue;
    auto x = arange(1.0, 7.0, 2.0, d, s);
    ASSERT_EQ(x.dtype(), d);
    ASSERT_EQ(x.shape(), Shape{3});
    if (d == complex64) {
      auto z = complex_values(x);
      EXPECT_EQ(z[2], std::complex<double>(5, 0));
    } else {
      EXPECT_EQ(exact_values(x), ints({1, 3, 5})) << dtype_to_string(d);
    }
  }
  EXPECT_EQ(primitive_counts({arange(3, s)}).at("Arange"), 1);
}

LUMEN_DEVICE_TEST(Creation, ArangeAccumulatesTheConvertedStep) {
  // MLX's CPU values: start, then start + step + step ... in the dtype
  auto x = arange(0.0, 1.0, 0.1, s);
  ASSERT_EQ(x.size(), 10u);
  auto v = exact_values(x);
  float acc = 0.0f, step = 0.1f;
  for (int i = 0; i < 10; ++i, acc += step) {
    EXPECT_EQ(v[i], acc) << i;
    EXPECT_NEAR(static_cast<double>(v[i]), 0.1 * i, 1e-6);
  }
  // half precision accumulates in float16: 2048 + 1 rounds back to 2048
  auto h = arange(2046.0, 2052.0, 1.0, float16, s);
  EXPECT_EQ(exact_values(h), ints({2046, 2047, 2048, 2048, 2048, 2048}));
  auto d = arange(0.0, 3.0, 0.1, float32, s);
  EXPECT_EQ(d.size(), 30u);  // ceil(3 / 0.1) in double
}

LUMEN_DEVICE_TEST(Creation, ArangeErrors) {
  EXPECT_THROW(arange(0.0, 5.0, 1.0, bool_, s), std::invalid_argument);
  EXPECT_THROW(arange(0, 5, 0, s), std::invalid_argument);
  EXPECT_THROW(arange(0.0, NAN, 1.0, s), std::invalid_argument);
  EXPECT_THROW(arange(0.0, 1.0, NAN, s), std::invalid_argument);
  EXPECT_THROW(arange(-INFINITY, 1.0, s), std::invalid_argument);
  EXPECT_THROW(arange(0.0, 1e10, 1.0, s), std::invalid_argument);
  try {
    arange(1.0, 2.0, 0.0, s);
    ADD_FAILURE() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[arange]"), std::string::npos);
  }
  // an infinite step towards stop gives just start
  EXPECT_EQ(exact_values(arange(2.0, 10.0, INFINITY, s)), ints({2}));
  EXPECT_EQ(arange(2.0, 10.0, -INFINITY, s).size(), 0u);
}

LUMEN_DEVICE_TEST(Creation, Linspace) {
  auto x = linspace(0.0, 1.0, 5, float32, s);
  EXPECT_EQ(x.dtype(), float32);
  EXPECT_EQ(exact_values(x), (std::vector<ld>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(exact_values(linspace(0.0, 1.0, 5, false, float32, s)),
            (std::vector<ld>{0, 0.2f, 0.4f, 0.6f, 0.8f}));
  EXPECT_EQ(linspace(0.0, 1.0).size(), 50u);  // num = 50 by default
  auto v = exact_values(linspace(-3.0, 7.0, 11, float32, s));
  for (int i = 0; i < 11; ++i) EXPECT_NEAR(static_cast<double>(v[i]), -3.0 + i, 1e-6);
  EXPECT_EQ(exact_values(linspace(2.5, 9.0, 1, float32, s)), (std::vector<ld>{2.5}));
  EXPECT_EQ(linspace(0.0, 1.0, 0, float32, s).size(), 0u);
  auto xi = linspace(0.0, 10.0, 4, int32, s);
  EXPECT_EQ(xi.dtype(), int32);
  EXPECT_EQ(exact_values(xi), ints({0, 3, 6, 10}));
  if (!on_gpu) {
    auto xd = linspace(0.0, 1.0, 4, float64, s);
    auto vd = exact_values(xd);
    EXPECT_NEAR(static_cast<double>(vd[1]), 1.0 / 3.0, 1e-15);
  }
  EXPECT_THROW(linspace(0.0, 1.0, -1, float32, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Creation, FullZerosOnesEveryDtype) {
  for (Dtype d : all_dtypes()) {
    if (d == float64 && on_gpu) continue;
    auto z = zeros({2, 3}, d, s);
    auto o = ones({2, 3}, d, s);
    auto f = full({3, 2}, 5, d, s);
    EXPECT_EQ(z.dtype(), d);
    EXPECT_EQ(f.shape(), (Shape{3, 2}));
    if (d == complex64) {
      EXPECT_EQ(complex_values(o)[5], std::complex<double>(1, 0));
      continue;
    }
    EXPECT_EQ(exact_values(z), std::vector<ld>(6, 0)) << dtype_to_string(d);
    EXPECT_EQ(exact_values(o), std::vector<ld>(6, 1)) << dtype_to_string(d);
    EXPECT_EQ(exact_values(f), std::vector<ld>(6, d == bool_ ? 1 : 5)) << dtype_to_string(d);
  }
  EXPECT_EQ(zeros({4}, s).dtype(), float32);
  EXPECT_EQ(ones({4}, s).dtype(), float32);
  EXPECT_EQ(full({2}, 2.5, s).dtype(), float32);
  EXPECT_EQ(full({2}, int64_t(3), s).dtype(), int64);
  EXPECT_EQ(exact_values(full({2}, 3.7f, int32, s)), ints({3, 3}));
  // values broadcast to the shape
  auto row = full({2, 3}, array({1, 2, 3}), s);
  EXPECT_EQ(exact_values(row), ints({1, 2, 3, 1, 2, 3}));
  auto col = full({2, 3}, array({7.0f, 8.0f}, {2, 1}), int8, s);
  EXPECT_EQ(col.dtype(), int8);
  EXPECT_EQ(exact_values(col), ints({7, 7, 7, 8, 8, 8}));
  EXPECT_EQ(zeros({0, 5}, s).size(), 0u);
  EXPECT_EQ(exact_values(full({}, 4, s)), ints({4}));
  EXPECT_THROW(zeros({2, -1}, s), std::invalid_argument);
  EXPECT_THROW(full({2, 2}, array({1, 2, 3}), s), std::invalid_argument);
  // materialized (MLX's Full), so the data is dense row-major
  auto m = full({3, 4}, array(2.0f), s);
  EXPECT_EQ(primitive_counts({m}).at("Full"), 1);
  m.eval();
  if (!on_gpu) {
    EXPECT_TRUE(m.flags().row_contiguous);
    EXPECT_EQ(m.strides(), (Strides{4, 1}));
    EXPECT_EQ(m.data<float>()[11], 2.0f);
  }
}

LUMEN_DEVICE_TEST(Creation, LikeForms) {
  auto a = array({1, 2, 3, 4, 5, 6}, {2, 3}, int16);
  auto z = zeros_like(a, s);
  EXPECT_EQ(z.dtype(), int16);
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(exact_values(z), std::vector<ld>(6, 0));
  auto o = ones_like(a, float16, s);
  EXPECT_EQ(o.dtype(), float16);
  EXPECT_EQ(exact_values(o), std::vector<ld>(6, 1));
  auto f = full_like(a, 3.5, s);  // a's dtype: 3.5 -> 3
  EXPECT_EQ(f.dtype(), int16);
  EXPECT_EQ(exact_values(f), std::vector<ld>(6, 3));
  auto fd = full_like(a, 3.5, float32, s);
  EXPECT_EQ(exact_values(fd), std::vector<ld>(6, 3.5));
  auto fa = full_like(a, array({10, 20, 30}), s);  // broadcast against a
  EXPECT_EQ(exact_values(fa), ints({10, 20, 30, 10, 20, 30}));
  EXPECT_EQ(exact_values(ones_like(a, s)), std::vector<ld>(6, 1));
  EXPECT_EQ(zeros_like(a, bool_, s).dtype(), bool_);
}

LUMEN_DEVICE_TEST(Creation, EyeAndIdentity) {
  struct Case {
    int n, m, k;
  };
  for (auto c : std::vector<Case>{{3, 3, 0}, {3, 4, 1}, {4, 3, -1}, {2, 5, 3}, {5, 2, -4}, {3, 3, 3},
                                  {3, 3, -3}, {0, 2, 0}, {1, 1, 0}}) {
    auto e = eye(c.n, c.m, c.k, float32, s);
    ASSERT_EQ(e.shape(), (Shape{c.n, c.m}));
    std::vector<ld> want;
    for (int i = 0; i < c.n; ++i) {
      for (int j = 0; j < c.m; ++j) want.push_back(j - i == c.k);
    }
    EXPECT_EQ(exact_values(e), want) << c.n << "x" << c.m << " k=" << c.k;
  }
  EXPECT_EQ(exact_values(eye(2, s)), ints({1, 0, 0, 1}));
  EXPECT_EQ(eye(2, int8, s).dtype(), int8);
  EXPECT_EQ(exact_values(eye(2, 3, s)), ints({1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(exact_values(eye(2, 3, 1, s)), ints({0, 1, 0, 0, 0, 1}));
  auto id = identity(3, bfloat16, s);
  EXPECT_EQ(id.dtype(), bfloat16);
  EXPECT_EQ(exact_values(id), ints({1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(identity(2, s).dtype(), float32);
  EXPECT_THROW(eye(-1, 2, 0, float32, s), std::invalid_argument);
  EXPECT_THROW(eye(2, -2, 0, float32, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Creation, TriTrilTriu) {
  for (int k : {-2, -1, 0, 1, 3}) {
    auto t = tri(3, 4, k, float32, s);
    std::vector<ld> want;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 4; ++j) want.push_back(j <= i + k);
    }
    EXPECT_EQ(exact_values(t), want) << "k=" << k;
  }
  EXPECT_EQ(tri(3, int32, s).dtype(), int32);
  EXPECT_EQ(exact_values(tri(2, bool_, s)), ints({1, 0, 1, 1}));

  // tril/triu over the last two axes of a batch, every dtype
  for (Dtype d : all_dtypes()) {
    if (d == float64 && on_gpu) continue;
    std::vector<double> v(2 * 3 * 4);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i + 1);
    auto x = make_array(v, {2, 3, 4}, d);
    for (int k : {-1, 0, 2}) {
      auto lo = tril(x, k, s), up = triu(x, k, s);
      ASSERT_EQ(lo.dtype(), d);
      ASSERT_EQ(up.shape(), (Shape{2, 3, 4}));
      if (d == complex64) continue;
      auto xv = exact_values(x);
      std::vector<ld> wl, wu;
      for (int b = 0; b < 2; ++b) {
        for (int i = 0; i < 3; ++i) {
          for (int j = 0; j < 4; ++j) {
            ld val = xv[(b * 3 + i) * 4 + j];
            wl.push_back(j <= i + k ? val : 0);
            wu.push_back(j >= i + k ? val : 0);
          }
        }
      }
      EXPECT_EQ(exact_values(lo), wl) << "tril k=" << k << " " << dtype_to_string(d);
      EXPECT_EQ(exact_values(up), wu) << "triu k=" << k << " " << dtype_to_string(d);
    }
  }
  EXPECT_THROW(tril(array({1, 2, 3}), 0, s), std::invalid_argument);
  EXPECT_THROW(triu(array(1), 0, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Creation, WindowFunctions) {
  const double pi = std::numbers::pi;
  struct Case {
    const char* name;
    array (*fn)(int, StreamOrDevice);
    double (*ref)(int n, int M);
  };
  const std::vector<Case> cases = {
      {"hanning", &lumen::hanning,
       [](int n, int M) { return 0.5 - 0.5 * std::cos(2 * std::numbers::pi * n / (M - 1)); }},
      {"hamming", &lumen::hamming,
       [](int n, int M) { return 0.54 - 0.46 * std::cos(2 * std::numbers::pi * n / (M - 1)); }},
      {"bartlett", &lumen::bartlett,
       [](int n, int M) { return 1 - std::fabs(2.0 * n / (M - 1) - 1); }},
      {"blackman", &lumen::blackman, [](int n, int M) {
         double x = 2 * std::numbers::pi * n / (M - 1);
         return 0.42 - 0.5 * std::cos(x) + 0.08 * std::cos(2 * x);
       }},
  };
  (void)pi;
  for (auto& c : cases) {
    for (int M : {2, 5, 12}) {
      auto w = c.fn(M, s);
      ASSERT_EQ(w.dtype(), float32);
      ASSERT_EQ(w.shape(), Shape{M});
      auto v = exact_values(w);
      for (int n = 0; n < M; ++n) {
        EXPECT_NEAR(static_cast<double>(v[n]), c.ref(n, M), 2e-6) << c.name << " M=" << M << " n=" << n;
      }
    }
    EXPECT_EQ(exact_values(c.fn(1, s)), ints({1})) << c.name;
    EXPECT_EQ(c.fn(0, s).size(), 0u) << c.name;
    EXPECT_EQ(c.fn(-3, s).dtype(), float32) << c.name;
  }
}

}  // namespace
