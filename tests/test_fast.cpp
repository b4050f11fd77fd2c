// fast::rms_norm, fast::layer_norm, fast::rope against double-precision loops.
#include <cmath>

#include <lumen/fast.h>
#include <lumen/fast_primitives.h>

#include "fast_reference.h"
#include "float_op_util.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

std::string describe(Dtype d, const Shape& shape, const std::string& extra = "") {
  std::ostringstream os;
  os << dtype_to_string(d) << " " << shape << " " << extra;
  return os.str();
}

}  // namespace

LUMEN_DEVICE_SUITE(Fast);

LUMEN_DEVICE_TEST(Fast, RMSNormEveryDtype) {
  uint32_t seed = 1;
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;
    for (Shape shape : {Shape{1}, Shape{3, 17}, Shape{2, 3, 65}, Shape{4, 1}}) {
      const int D = shape.back();
      auto x = random_array(shape, d, seed++);
      auto w = random_array({D}, d, seed++);
      auto tol = rounded_once_tol(d, D);
      auto out = fast::rms_norm(x, w, 1e-5f, s);
      ASSERT_EQ(out.shape(), shape);
      EXPECT_EQ(out.dtype(), d);
      expect_close(to_doubles(out), ref_rms_norm(to_doubles(x), D, to_doubles(w), 1e-5f),
                   tol.rtol, tol.atol, describe(d, shape, "weight"));
      auto plain = fast::rms_norm(x, std::nullopt, 1e-3f, s);
      expect_close(to_doubles(plain), ref_rms_norm(to_doubles(x), D, {}, 1e-3f), tol.rtol,
                   tol.atol, describe(d, shape, "no weight"));
    }
  }
}

LUMEN_DEVICE_TEST(Fast, RMSNormStridedInputsAndPromotion) {
  // x transposed (last axis strided), x broadcast, weight sliced (stride 2)
  auto xt = transpose(random_array({17, 3}, float32, 10), {1, 0}, s);  // [3, 17]
  auto xb = broadcast_to(random_array({1, 17}, float32, 11), {4, 17}, s);
  auto w = slice(random_array({34}, float32, 12), {0}, {34}, {2}, s);  // [17]
  for (auto& x : {xt, xb}) {
    expect_close(to_doubles(fast::rms_norm(x, w, 1e-5f, s)),
                 ref_rms_norm(to_doubles(x), 17, to_doubles(w), 1e-5f), 1e-5, 1e-6,
                 describe(float32, x.shape(), "strided"));
  }
  // a float16 x with a float32 weight gives float32
  auto xh = random_array({2, 5}, float16, 13);
  auto wf = random_array({5}, float32, 14);
  auto out = fast::rms_norm(xh, wf, 1e-5f, s);
  EXPECT_EQ(out.dtype(), float32);
  expect_close(to_doubles(out), ref_rms_norm(to_doubles(xh), 5, to_doubles(wf), 1e-5f), 1e-5,
               1e-6);
}

LUMEN_DEVICE_TEST(Fast, LayerNormEveryDtype) {
  uint32_t seed = 100;
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;
    for (Shape shape : {Shape{1}, Shape{3, 17}, Shape{2, 3, 65}}) {
      const int D = shape.back();
      // an offset mean, so centering matters
      auto x = random_array(shape, d, seed++, 0.5f, 2.0f);
      auto w = random_array({D}, d, seed++);
      auto b = random_array({D}, d, seed++);
      auto xv = to_doubles(x), wv = to_doubles(w), bv = to_doubles(b);
      auto tol = rounded_once_tol(d, D);
      auto out = fast::layer_norm(x, w, b, 1e-5f, s);
      ASSERT_EQ(out.shape(), shape);
      EXPECT_EQ(out.dtype(), d);
      expect_close(to_doubles(out), ref_layer_norm(xv, D, wv, bv, 1e-5f), tol.rtol, tol.atol,
                   describe(d, shape, "weight and bias"));
      expect_close(to_doubles(fast::layer_norm(x, w, std::nullopt, 1e-5f, s)),
                   ref_layer_norm(xv, D, wv, {}, 1e-5f), tol.rtol, tol.atol,
                   describe(d, shape, "weight"));
      expect_close(to_doubles(fast::layer_norm(x, std::nullopt, b, 1e-5f, s)),
                   ref_layer_norm(xv, D, {}, bv, 1e-5f), tol.rtol, tol.atol,
                   describe(d, shape, "bias"));
      expect_close(to_doubles(fast::layer_norm(x, std::nullopt, std::nullopt, 1e-2f, s)),
                   ref_layer_norm(xv, D, {}, {}, 1e-2f), tol.rtol, tol.atol,
                   describe(d, shape, "plain"));
    }
  }
}

LUMEN_DEVICE_TEST(Fast, LayerNormStridedInputs) {
  auto xt = transpose(random_array({17, 2, 3}, float32, 200), {1, 2, 0}, s);  // [2, 3, 17]
  auto w = slice(random_array({34}, float32, 201), {1}, {34}, {2}, s);
  auto b = broadcast_to(array(0.25f), {17}, s);
  expect_close(to_doubles(fast::layer_norm(xt, w, b, 1e-5f, s)),
               ref_layer_norm(to_doubles(xt), 17, to_doubles(w), to_doubles(b), 1e-5f), 1e-5, 1e-6);
}

LUMEN_DEVICE_TEST(Fast, NormBadInputs) {
  auto x = ones({2, 4}, s);
  expect_invalid_message([&] { fast::rms_norm(x, ones({2, 4}, s), 1e-5f, s); },
                         {"[rms_norm]", "(2, 4)"});
  expect_invalid_message([&] { fast::rms_norm(x, ones({3}, s), 1e-5f, s); },
                         {"[rms_norm]", "(3)", "(2, 4)"});
  expect_invalid_message([&] { fast::rms_norm(ones({2, 4}, int32, s), std::nullopt, 1e-5f, s); },
                         {"[rms_norm]", "int32"});
  expect_invalid_message([&] { fast::rms_norm(array(1.0f), std::nullopt, 1e-5f, s); },
                         {"[rms_norm]"});
  expect_invalid_message([&] { fast::layer_norm(x, std::nullopt, ones({5}, s), 1e-5f, s); },
                         {"[layer_norm]", "bias", "(5)"});
  expect_invalid_message([&] { fast::layer_norm(ones({4}, int32, s), ones({4}, int32, s),
                                                std::nullopt, 1e-5f, s); },
                         {"[layer_norm]", "int32"});
}

LUMEN_DEVICE_TEST(Fast, RopeEveryDtypeAndLayout) {
  uint32_t seed = 300;
  struct Case {
    Shape shape;
    int dims;
  };
  const std::vector<Case> cases = {{{2, 3, 5, 8}, 8},  {{2, 3, 5, 8}, 4}, {{2, 5, 6}, 6},
                                   {{2, 2, 3, 5, 8}, 8}, {{1, 1, 1, 4}, 2}, {{3, 1, 17, 10}, 6}};
  for (Dtype d : kFloatTypes) {
    if (on_gpu && d == float64) continue;
    auto tol = rope_tol(d);
    for (auto& c : cases) {
      for (bool traditional : {false, true}) {
        auto x = random_array(c.shape, d, seed++);
        auto xv = to_doubles(x);
        RopeArgs r{c.dims, traditional, 10000.0, {}, 1.0, {3}};
        auto out = fast::rope(x, c.dims, traditional, 10000.0f, 1.0f, 3, std::nullopt, s);
        ASSERT_EQ(out.shape(), c.shape);
        EXPECT_EQ(out.dtype(), d);
        expect_close(to_doubles(out), ref_rope(xv, c.shape, r), tol.rtol, tol.atol,
                     describe(d, c.shape, traditional ? "traditional" : "halves"));
        // scaled positions with a per-batch offset array and another base
        std::vector<int> offs;
        for (int b = 0; b < c.shape[0]; ++b) offs.push_back(7 * b + 1);
        r = {c.dims, traditional, 500.0, {}, 0.5, {}};
        for (int o : offs) r.offset.push_back(o);
        auto out2 = fast::rope(x, c.dims, traditional, 500.0f, 0.5f,
                               array(offs.begin(), {c.shape[0]}, int32), std::nullopt, s);
        expect_close(to_doubles(out2), ref_rope(xv, c.shape, r), tol.rtol, tol.atol,
                     describe(d, c.shape, "offset array"));
      }
    }
  }
}

LUMEN_DEVICE_TEST(Fast, RopeFreqsStridedAndInverse) {
  // explicit frequencies (scalar int64 offset array: converted to int32)
  auto x = random_array({2, 3, 4, 8}, float32, 400);
  std::vector<float> fv = {1.0f, 3.0f, 10.0f, 40.0f};
  auto out = fast::rope(x, 8, false, std::nullopt, 1.0f, array(int64_t{2}), array(fv.begin(), {4}),
                        s);
  RopeArgs r{8, false, 0.0, {1, 3, 10, 40}, 1.0, {2}};
  expect_close(to_doubles(out), ref_rope(to_doubles(x), x.shape(), r), 1e-5, 2e-5, "freqs");

  // x with heads and time transposed (a common attention layout)
  auto xt = swapaxes(random_array({2, 5, 3, 8}, float32, 401), 1, 2, s);  // [2, 3, 5, 8]
  r = {8, true, 10000.0, {}, 1.0, {0}};
  expect_close(to_doubles(fast::rope(xt, 8, true, 10000.0f, 1.0f, 0, std::nullopt, s)),
               ref_rope(to_doubles(xt), xt.shape(), r), 1e-5, 2e-5, "transposed x");
  // offset given as a uint32 vector
  std::vector<uint32_t> uo = {4, 9};
  r = {8, false, 10000.0, {}, 1.0, {4, 9}};
  expect_close(to_doubles(fast::rope(xt, 8, false, 10000.0f, 1.0f, array(uo.begin(), {2}),
                                     std::nullopt, s)),
               ref_rope(to_doubles(xt), xt.shape(), r), 1e-5, 2e-5, "uint32 offsets");

  // the last axis strided, with features past dims copied through
  auto xs = transpose(random_array({2, 3, 8, 5}, float32, 403), {0, 1, 3, 2}, s);  // [2, 3, 5, 8]
  r = {4, false, 10000.0, {}, 1.0, {1}};
  expect_close(to_doubles(fast::rope(xs, 4, false, 10000.0f, 1.0f, 1, std::nullopt, s)),
               ref_rope(to_doubles(xs), xs.shape(), r), 1e-5, 2e-5, "strided last axis");

  // the backward rotation (the vjp's) undoes the forward one
  if (!on_gpu) {
    auto xd = random_array({2, 3, 5, 8}, float64, 402);
    auto fwd = fast::rope(xd, 6, true, 10000.0f, 1.0f, 5, std::nullopt, s);
    auto back = fast::rope_primitive({fwd, array(5, int32)}, 6, true, 10000.0f, 1.0f, false, s);
    expect_close(to_doubles(back), to_doubles(xd), 1e-12, 1e-12, "inverse");
  }
}

// Transforms see each fast primitive through its fallback composition: it
// must compute what the primitive's kernel computes.
LUMEN_DEVICE_TEST(Fast, FallbacksMatchPrimitives) {
  auto check = [&](const array& out, double tol, const std::string& what) {
    auto& prim = dynamic_cast<fast::Custom&>(out.primitive());
    auto composed = prim.fallback()(out.inputs());
    ASSERT_EQ(composed.size(), 1u) << what;
    EXPECT_EQ(composed[0].shape(), out.shape()) << what;
    EXPECT_EQ(composed[0].dtype(), out.dtype()) << what;
    expect_close(to_doubles(composed[0]), to_doubles(out), tol, tol, what);
  };
  auto x = random_array({2, 3, 5, 8}, float32, 500);
  auto w = random_array({8}, float32, 501), b = random_array({8}, float32, 502);
  check(fast::rms_norm(x, w, 1e-5f, s), 1e-5, "rms_norm");
  check(fast::rms_norm(x, std::nullopt, 1e-5f, s), 1e-5, "rms_norm, no weight");
  check(fast::layer_norm(x, w, b, 1e-5f, s), 1e-5, "layer_norm");
  check(fast::layer_norm(x, std::nullopt, b, 1e-5f, s), 1e-5, "layer_norm, bias only");
  std::vector<float> fv = {1.0f, 2.0f, 5.0f};
  std::vector<int> offs = {2, 9};
  for (bool traditional : {false, true}) {
    for (int dims : {8, 6}) {
      check(fast::rope(x, dims, traditional, 10000.0f, 0.5f, 3, std::nullopt, s), 1e-5,
            "rope base");
      check(fast::rope(random_array({2, 5, 8}, float32, 503), dims, traditional, 100.0f, 1.0f,
                       array(offs.begin(), {2}, int32), std::nullopt, s),
            1e-5, "rope 3-D, offsets");
      if (dims == 6) {
        check(fast::rope(random_array({2, 2, 3, 5, 8}, float32, 504), dims, traditional,
                         std::nullopt, 1.0f, 1, array(fv.begin(), {3}), s),
              1e-5, "rope 5-D, freqs");
      }
    }
  }
  auto xd = random_array({1, 2, 4, 6}, float64, 505);
  auto fwd = fast::rope(xd, 6, false, 10000.0f, 1.0f, 2, std::nullopt, s);
  if (!on_gpu) {
    check(fast::rope_primitive({fwd, array(2, int32)}, 6, false, 10000.0f, 1.0f, false, s), 1e-6,
          "rope backward");
  }
}

LUMEN_DEVICE_TEST(Fast, RopeBadInputs) {
  auto x = ones({2, 3, 4, 8}, s);
  expect_invalid_message([&] { fast::rope(ones({4, 8}, s), 8, false, 1e4f, 1.0f, 0); },
                         {"[rope]", "(4, 8)"});
  expect_invalid_message([&] { fast::rope(x, 7, false, 1e4f, 1.0f, 0, std::nullopt, s); },
                         {"[rope]", "7"});
  expect_invalid_message([&] { fast::rope(x, 10, false, 1e4f, 1.0f, 0, std::nullopt, s); },
                         {"[rope]", "10", "(2, 3, 4, 8)"});
  expect_invalid_message([&] { fast::rope(ones({2, 3, 4, 8}, int32, s), 8, false, 1e4f, 1.0f, 0); },
                         {"[rope]", "int32"});
  expect_invalid_message(
      [&] { fast::rope(x, 8, false, 1e4f, 1.0f, array({1.0f, 2.0f}), std::nullopt, s); },
      {"[rope]", "float32"});
  expect_invalid_message(
      [&] { fast::rope(x, 8, false, 1e4f, 1.0f, array({1, 2, 3}, int32), std::nullopt, s); },
      {"[rope]", "(3)"});
  expect_invalid_message([&] { fast::rope(x, 8, false, 1e4f, 1.0f, 0, ones({4}, s), s); },
                         {"[rope]", "base", "freqs"});
  expect_invalid_message([&] { fast::rope(x, 8, false, std::nullopt, 1.0f, 0, std::nullopt, s); },
                         {"[rope]", "base", "freqs"});
  expect_invalid_message([&] { fast::rope(x, 8, false, std::nullopt, 1.0f, 0, ones({3}, s), s); },
                         {"[rope]", "freqs", "(3)"});
}

// Over 2^31 elements (64-bit offsets): inputs broadcast from one row, 4.3 GB
// float16 outputs. Release only (ctest label `large`), on the CPU.
TEST(FastLarge, NormsAndRopeOver2To31Elements) {
#ifndef NDEBUG
  GTEST_SKIP() << "large: 4.3 GB of float16 output, Release builds only";
#endif
  const int n = 46341;
  auto s = default_stream(Device::cpu);
  auto row = random_array({1, n}, float16, 1100);
  auto rv = to_doubles(row);
  auto tol = rounded_once_tol(float16, 1);
  {
    auto out = fast::rms_norm(broadcast_to(row, {n, n}, s), std::nullopt, 1e-5f, s);
    out.eval();
    ASSERT_GT(out.size(), size_t{1} << 31);
    auto want = ref_rms_norm(rv, n, {}, 1e-5f);
    for (int64_t r : {0, n / 2, n - 1}) {
      std::vector<double> got(n);
      for (int64_t j = 0; j < n; ++j) got[j] = float(out.data<float16_t>()[r * n + j]);
      expect_close(got, want, tol.rtol, tol.atol, "rms_norm row " + std::to_string(r));
    }
  }
  {
    // T = n positions of one n-feature row; dims = 2 rotates the first pair
    // by t radians and copies the other n - 2 features
    auto x = broadcast_to(reshape(row, {1, 1, 1, n}, s), {1, 1, n, n}, s);
    auto out = fast::rope(x, 2, false, 10000.0f, 1.0f, 0, std::nullopt, s);
    out.eval();
    ASSERT_GT(out.size(), size_t{1} << 31);
    for (int64_t t : {int64_t{0}, int64_t{1}, int64_t{n - 1}}) {
      const float16_t* o = out.data<float16_t>() + t * n;
      double c = std::cos(static_cast<double>(t)), sn = std::sin(static_cast<double>(t));
      std::vector<double> got(n), want = rv;
      for (int64_t j = 0; j < n; ++j) got[j] = float(o[j]);
      want[0] = rv[0] * c - rv[1] * sn;
      want[1] = rv[0] * sn + rv[1] * c;
      expect_close(got, want, tol.rtol, 2e-5, "rope position " + std::to_string(t));
    }
  }
}
