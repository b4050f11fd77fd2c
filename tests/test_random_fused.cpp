// random: the fused RandomUniform/RandomNormal against the plain chains they
// replace (bit-identical on many shapes, dtypes and parameters), and the
// tracing gate (fused outside transforms, only plain primitives inside).
#include <functional>
#include <set>
#include <sstream>

#include "random_test_helpers.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(RandomFused);

namespace {

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> v = {{},          {1},          {2},     {3},    {5},
                                       {7, 3},      {4, 0},       {1023},  {1024}, {1025},
                                       {33, 65, 3}, {2, 1, 9, 1}, {100003}};
  return v;
}

const std::vector<Dtype>& float_dtypes() {
  static const std::vector<Dtype> v = {float32, float16, bfloat16};
  return v;
}

// The same request built outside tracing (fused where allowed) and inside
// (the plain chain): the graphs use the expected primitives and the bytes agree.
void expect_fused_equals_plain(const std::function<array()>& make, const char* fused_name,
                               const std::string& what) {
  array fused = make();
  array plain;
  {
    detail::TracingGuard tracing;
    plain = make();
  }
  auto fc = primitive_counts({fused});
  auto pc = primitive_counts({plain});
  EXPECT_EQ(fc.count(fused_name), 1u) << what;
  EXPECT_EQ(fc.count("RandomBits"), 0u) << what;
  EXPECT_EQ(pc.count(fused_name), 0u) << what;
  EXPECT_EQ(pc.count("RandomBits"), 1u) << what;
  EXPECT_EQ(fused.shape(), plain.shape()) << what;
  EXPECT_EQ(fused.dtype(), plain.dtype()) << what;
  ASSERT_EQ(bytes_of(fused), bytes_of(plain)) << what;
}

std::string describe(const Shape& shape, Dtype dt) {
  std::ostringstream os;
  os << dt << " (";
  for (auto d : shape) os << d << ",";
  os << ")";
  return os.str();
}

}  // namespace

LUMEN_DEVICE_TEST(RandomFused, UniformEqualsPlainChain) {
  // bounds: defaults, an ordinary range, high < low, integer and float64
  // bounds (cast to dtype first), shapes that broadcast to the request
  std::vector<std::pair<array, array>> bounds = {
      {array(-2.0f), array(7.0f)},
      {array(3.5f), array(-1.25f)},
      {array(1), array(5)},
      {array(-0.1), array(1e-3)},
      {array({0.25f}), array({4.0f}, {1, 1})},
  };
  int key_no = 0;
  for (Dtype dt : float_dtypes()) {
    for (auto& shape : shapes()) {
      auto key = random::key(key_no++);
      auto what = "uniform " + describe(shape, dt);
      expect_fused_equals_plain([&] { return random::uniform(shape, dt, key, s); }, "RandomUniform",
                                what);
      for (auto& [lo, hi] : bounds) {
        if (hi.ndim() > shape.size()) continue;
        expect_fused_equals_plain([&] { return random::uniform(lo, hi, shape, dt, key, s); },
                                  "RandomUniform", what + " with bounds");
      }
    }
  }
}

LUMEN_DEVICE_TEST(RandomFused, NormalEqualsPlainChain) {
  struct Params {
    std::optional<array> loc, scale;
  };
  std::vector<Params> params = {
      {std::nullopt, std::nullopt},  {array(2.0f), array(0.5f)},
      {array(-3), array(10)},        {array(0.75f), std::nullopt},
      {std::nullopt, array({3.0f})}, {array({-1.5f}, {1, 1}), array(1e-3f)},
  };
  int key_no = 100;
  for (Dtype dt : float_dtypes()) {
    for (auto& shape : shapes()) {
      auto key = random::key(key_no++);
      for (auto& p : params) {
        if ((p.loc && p.loc->ndim() > shape.size()) ||
            (p.scale && p.scale->ndim() > shape.size())) {
          continue;
        }
        expect_fused_equals_plain([&] { return random::normal(shape, dt, p.loc, p.scale, key, s); },
                                  "RandomNormal", "normal " + describe(shape, dt));
      }
      // MLX's float overload (no loc/scale node when they are 0 and 1)
      expect_fused_equals_plain([&] { return random::normal(shape, dt, 0.0f, 2.5f, key, s); },
                                "RandomNormal", "normal(0, 2.5) " + describe(shape, dt));
    }
  }
}

// Parameters whose outputs are subnormal, infinite, NaN or zero: the GPU
// kernel rounds bfloat16 on the float pipe only for normal floats below
// 2^111 and must give the plain chain's bits everywhere else too.
LUMEN_DEVICE_TEST(RandomFused, ExtremeParametersEqualPlainChain) {
  const Shape shape = {4099};
  std::vector<std::pair<float, float>> bounds = {{-3e38f, 3e38f}, {0.0f, 1e-39f}, {-1e-38f, 1e-38f}, {-0.0f, 0.0f},
                                                 {1e38f, 3.4e38f}};
  std::vector<std::pair<float, float>> loc_scale = {{0.0f, 1e-39f}, {0.0f, 1e-44f}, {0.0f, 3e37f},
                                                    {1e38f, 1e38f}, {-0.0f, 0.0f}, {0.0f, -1e-40f}};
  int key_no = 300;
  for (Dtype dt : float_dtypes()) {
    for (auto [lo, hi] : bounds) {
      auto key = random::key(key_no++);
      expect_fused_equals_plain([&] { return random::uniform(array(lo), array(hi), shape, dt, key, s); },
                                "RandomUniform", "uniform extreme bounds " + describe(shape, dt));
    }
    for (auto [loc, scale] : loc_scale) {
      auto key = random::key(key_no++);
      expect_fused_equals_plain([&] { return random::normal(shape, dt, loc, scale, key, s); }, "RandomNormal",
                                "normal extreme parameters " + describe(shape, dt));
    }
  }
}

LUMEN_DEVICE_TEST(RandomFused, DistributionsBuiltOnUniformUseIt) {
  // gumbel and truncated_normal with scalar bounds draw their uniform fused
  auto key = random::key(3);
  for (Dtype dt : float_dtypes()) {
    expect_fused_equals_plain(
        [&] {
          return random::gumbel({257, 3}, dt, key, s);
        },
        "RandomUniform", "gumbel");
    expect_fused_equals_plain(
        [&] {
          return random::truncated_normal(array(-0.5f), array(2.0f), {257, 3}, dt, key, s);
        },
        "RandomUniform", "truncated_normal");
  }
  expect_fused_equals_plain([&] { return random::randint(-7, 40, {1001}, int32, key, s); },
                            "RandomUniform", "randint");
}

LUMEN_DEVICE_TEST(RandomFused, ArrayParametersTakeThePlainChain) {
  // bounds with one value per element: no fused primitive, the plain chain
  auto key = random::key(4);
  auto lo = array({0.0f, 1.0f, 2.0f});
  auto u = random::uniform(lo, array(5.0f), {2, 3}, float16, key, s);
  auto c = primitive_counts({u});
  EXPECT_EQ(c.count("RandomUniform"), 0u);
  EXPECT_EQ(c["RandomBits"], 1);
  auto n = random::normal({2, 3}, float32, lo, std::nullopt, key, s);
  EXPECT_EQ(primitive_counts({n}).count("RandomNormal"), 0u);
  // broadcasting loc of a larger shape grows the output, as in MLX
  auto g = random::normal({3}, float32, array({1.0f, 2.0f}, {2, 1}), std::nullopt, key, s);
  EXPECT_EQ(g.shape(), (Shape{2, 3}));
}

LUMEN_DEVICE_TEST(RandomFused, TracingGateGraphs) {
  // Outside tracing: the fused primitive alone (plus the tiny scalar ops that
  // cast the parameters). Inside: RandomBits and elementwise primitives only.
  auto key = random::key(8);
  auto outside = random::normal({64, 64}, bfloat16, 1.0f, 2.0f, key, s);
  auto oc = primitive_counts({outside});
  EXPECT_EQ(oc["RandomNormal"], 1);
  EXPECT_EQ(oc.count("RandomBits"), 0u);
  EXPECT_EQ(oc.count("ErfInv"), 0u);
  array inside;
  {
    detail::TracingGuard tracing;
    EXPECT_TRUE(detail::in_tracing());
    inside = random::normal({64, 64}, bfloat16, 1.0f, 2.0f, key, s);
  }
  EXPECT_FALSE(detail::in_tracing());
  auto ic = primitive_counts({inside});
  const std::set<std::string> plain = {"RandomBits", "AsType",   "Divide", "Minimum",  "Multiply",
                                       "Add",        "Subtract", "ErfInv", "Broadcast"};
  for (auto& [name, count] : ic) EXPECT_TRUE(plain.count(name)) << name << " inside tracing";
  EXPECT_EQ(ic["RandomBits"], 1);
  EXPECT_EQ(ic["ErfInv"], 1);
  EXPECT_EQ(bytes_of(outside), bytes_of(inside));
  // nested guards keep the gate closed until the outermost ends
  {
    detail::TracingGuard a;
    { detail::TracingGuard b; }
    EXPECT_EQ(primitive_counts({random::uniform({4}, float32, key, s)}).count("RandomUniform"), 0u);
  }
  EXPECT_EQ(primitive_counts({random::uniform({4}, float32, key, s)})["RandomUniform"], 1);
}

LUMEN_DEVICE_TEST(RandomFused, TransformsSeeThePlainChain) {
  // jvp, vmap (test_random.cpp) and compile trace the function: the fused
  // primitives (which have no rules) stay out, and the values are those of
  // the untransformed call
  auto key = random::key(9);
  const int n = 1000;
  auto f = [&](const std::vector<array>& p) {
    return std::vector<array>{random::normal({n}, float32, p[0], p[1], key, s)};
  };
  auto loc = array(0.5f), scale = array(2.0f);
  auto samples = random::normal({n}, float32, loc, scale, key, s);
  EXPECT_EQ(primitive_counts({samples})["RandomNormal"], 1);
  // d/dloc = 1 everywhere; d/dscale = (x - loc) / scale
  auto [values, dloc] = jvp(f, {loc, scale}, {array(1.0f), array(0.0f)});
  auto dscale = jvp(f, {loc, scale}, {array(0.0f), array(1.0f)}).second;
  EXPECT_EQ(bytes_of(values[0]), bytes_of(samples));
  EXPECT_EQ(to_doubles(dloc[0]), std::vector<double>(n, 1.0));
  expect_close(to_doubles(dscale[0]), to_doubles(divide(subtract(samples, loc, s), scale, s)), 1e-5,
               1e-6, "d/dscale");

  // jvp of uniform in its upper bound: x = low + (high - low) u, dx/dhigh = u
  auto g = [&](const array& high) {
    return random::uniform(array(0.0f), high, {n}, float32, key, s);
  };
  auto [out, tangent] = jvp(std::function<array(const array&)>(g), array(1.0f), array(1.0f));
  EXPECT_EQ(bytes_of(out), bytes_of(random::uniform({n}, float32, key, s)));
  EXPECT_EQ(bytes_of(tangent), bytes_of(out));

  // compile: same bits as the eager call
  auto compiled = compile([](const std::vector<array>& k) {
    return std::vector<array>{random::normal({257}, bfloat16, k[0]),
                              random::gumbel({33}, float16, k[0])};
  });
  auto c = compiled({key});
  EXPECT_EQ(bytes_of(c[0]), bytes_of(random::normal({257}, bfloat16, key)));
  EXPECT_EQ(bytes_of(c[1]), bytes_of(random::gumbel({33}, float16, key)));
}
