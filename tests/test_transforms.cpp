// vjp, jvp, grad and value_and_grad: the machinery and the elementwise
// rules, checked against central finite differences in float64.
#include <cmath>
#include <numbers>

#include <lumen/backend.h>
#include <lumen/primitive.h>
#include <lumen/transforms.h>
#include <lumen/transforms_primitives.h>

#include "test_transforms_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

array f64(double v) { return array(v, float64); }
array f64(std::initializer_list<double> v) { return array(v, float64); }

struct UnaryCase {
  const char* name;
  std::function<array(const array&, const Stream&)> f;
  double lo, hi;
};

std::vector<UnaryCase> unary_cases() {
  auto S = [](array (*op)(const array&, StreamOrDevice)) {
    return [op](const array& x, const Stream& s) { return op(x, s); };
  };
  return {
      {"abs", S(abs), 0.2, 2.0},
      {"abs_negative", S(abs), -2.0, -0.2},
      {"negative", S(negative), -2, 2},
      {"sqrt", S(sqrt), 0.5, 2},
      {"rsqrt", S(rsqrt), 0.5, 2},
      {"square", S(square), -2, 2},
      {"exp", S(exp), -1, 1},
      {"expm1", S(expm1), -1, 1},
      {"log", S(log), 0.5, 2},
      {"log2", S(log2), 0.5, 2},
      {"log10", S(log10), 0.5, 2},
      {"log1p", S(log1p), -0.5, 1},
      {"sin", S(sin), -2, 2},
      {"cos", S(cos), -2, 2},
      {"tan", S(tan), -1, 1},
      {"arcsin", S(arcsin), -0.8, 0.8},
      {"arccos", S(arccos), -0.8, 0.8},
      {"arctan", S(arctan), -2, 2},
      {"sinh", S(sinh), -2, 2},
      {"cosh", S(cosh), -2, 2},
      {"tanh", S(tanh), -2, 2},
      {"arcsinh", S(arcsinh), -2, 2},
      {"arccosh", S(arccosh), 1.2, 3},
      {"arctanh", S(arctanh), -0.8, 0.8},
      {"sigmoid", S(sigmoid), -3, 3},
      {"erf", S(erf), -1.5, 1.5},
      {"erfinv", S(erfinv), -0.8, 0.8},
      {"reciprocal", S(reciprocal), 0.5, 2},
      {"copy", [](const array& x, const Stream& s) { return copy(x, s); }, -2, 2},
  };
}

struct BinaryCase {
  const char* name;
  std::function<array(const array&, const array&, const Stream&)> f;
  double a_lo, a_hi, b_lo, b_hi;
};

std::vector<BinaryCase> binary_cases() {
  auto S = [](array (*op)(const array&, const array&, StreamOrDevice)) {
    return [op](const array& a, const array& b, const Stream& s) { return op(a, b, s); };
  };
  return {
      {"add", S(add), -2, 2, -2, 2},
      {"subtract", S(subtract), -2, 2, -2, 2},
      {"multiply", S(multiply), -2, 2, -2, 2},
      {"divide", S(divide), -2, 2, 0.5, 2},
      // a / b stays within (1, 2): no jump of floor(a / b) nearby
      {"remainder", S(remainder), 2.6, 2.9, 1.5, 1.6},
      {"power", S(power), 0.5, 2, -1.5, 1.5},
      // disjoint ranges: never a tie
      {"maximum", S(maximum), -2, -0.5, 0.5, 2},
      {"maximum_b_small", S(maximum), 0.5, 2, -2, -0.5},
      {"minimum", S(minimum), -2, -0.5, 0.5, 2},
      {"minimum_b_small", S(minimum), 0.5, 2, -2, -0.5},
      {"arctan2", S(arctan2), -2, 2, 0.5, 2},
      {"logaddexp", S(logaddexp), -2, 2, -2, 2},
  };
}

}  // namespace

LUMEN_DEVICE_SUITE(Transforms);

LUMEN_DEVICE_TEST(Transforms, UnaryRulesMatchFiniteDifferences) {
  auto p = precision_for(on_gpu);
  uint64_t seed = 1;
  for (auto& c : unary_cases()) {
    auto fn = [&c](const std::vector<array>& x, const Stream& st) {
      return std::vector<array>{c.f(x[0], st)};
    };
    check_derivatives(fn, {uniform_arg({2, 3}, c.lo, c.hi, seed++)}, s, p.dtype, p.rtol, p.atol,
                      c.name);
  }
}

LUMEN_DEVICE_TEST(Transforms, BinaryRulesMatchFiniteDifferences) {
  auto p = precision_for(on_gpu);
  uint64_t seed = 50;
  for (auto& c : binary_cases()) {
    auto fn = [&c](const std::vector<array>& x, const Stream& st) {
      return std::vector<array>{c.f(x[0], x[1], st)};
    };
    check_derivatives(fn,
                      {uniform_arg({3, 2}, c.a_lo, c.a_hi, seed),
                       uniform_arg({3, 2}, c.b_lo, c.b_hi, seed + 1)},
                      s, p.dtype, p.rtol, p.atol, c.name);
    seed += 2;
    // The same array on both sides (where the ranges overlap): the
    // contributions of both inputs add up.
    double lo = std::max(c.a_lo, c.b_lo), hi = std::min(c.a_hi, c.b_hi);
    if (lo >= hi) continue;
    auto same = [&c](const std::vector<array>& x, const Stream& st) {
      return std::vector<array>{c.f(x[0], x[0], st)};
    };
    check_derivatives(same, {uniform_arg({4}, lo, hi, seed++)}, s, p.dtype, p.rtol, p.atol,
                      std::string(c.name) + " of (x, x)");
  }
}

LUMEN_DEVICE_TEST(Transforms, SelectRuleMatchesFiniteDifferences) {
  auto p = precision_for(on_gpu);
  array cond({true, false, true, false, false, true}, {2, 3});
  auto fn = [&](const std::vector<array>& x, const Stream& st) {
    return std::vector<array>{where(cond, multiply(x[0], x[1], st), sin(x[1], st), st)};
  };
  check_derivatives(fn, {uniform_arg({2, 3}, -2, 2, 7), uniform_arg({2, 3}, -2, 2, 8)}, s,
                    p.dtype, p.rtol, p.atol, "where");
}

LUMEN_DEVICE_TEST(Transforms, CompositeFunctionsOfSeveralOutputs) {
  auto p = precision_for(on_gpu);
  auto fn = [](const std::vector<array>& x, const Stream& st) {
    auto& a = x[0];
    auto& b = x[1];
    auto one = array(1.0, a.dtype());
    auto y = divide(multiply(sin(a, st), exp(b, st), st), add(one, square(a, st), st), st);
    auto z = subtract(logaddexp(a, b, st), tanh(multiply(a, b, st), st), st);
    return std::vector<array>{y, z, multiply(y, z, st)};
  };
  check_derivatives(fn, {uniform_arg({2, 2}, -1, 1, 11), uniform_arg({2, 2}, -1, 1, 12)}, s,
                    p.dtype, p.rtol, p.atol, "composite");
}

LUMEN_DEVICE_TEST(Transforms, AsTypeCastsCotangentsBack) {
  auto x = array({1.0, -2.0, 3.0}, float64);
  auto [outs, grads] = vjp(
      [&](const std::vector<array>& in) {
        return std::vector<array>{multiply(astype(in[0], float32, s), array(3.0f), s)};
      },
      {x}, {array({1.0f, 2.0f, 3.0f})});
  EXPECT_EQ(outs[0].dtype(), float32);
  EXPECT_EQ(grads[0].dtype(), float64);
  expect_close(to_doubles(grads[0]), {3, 6, 9}, 0, 0);
  auto [touts, tans] = jvp(
      [&](const std::vector<array>& in) { return std::vector<array>{astype(in[0], float32, s)}; },
      {x}, {array({0.5, 0.25, 2.0}, float64)});
  EXPECT_EQ(tans[0].dtype(), float32);
  expect_close(to_doubles(tans[0]), {0.5, 0.25, 2.0}, 0, 0);
}

LUMEN_DEVICE_TEST(Transforms, BroadcastJvp) {
  auto [outs, tans] = jvp(
      [&](const std::vector<array>& in) {
        return std::vector<array>{broadcast_to(in[0], {2, 3}, s)};
      },
      {array({1.0f, 2.0f, 3.0f})}, {array({1.0f, 10.0f, 100.0f})});
  EXPECT_EQ(tans[0].shape(), (Shape{2, 3}));
  expect_close(to_doubles(tans[0]), {1, 10, 100, 1, 10, 100}, 0, 0);
}

LUMEN_DEVICE_TEST(Transforms, NonDifferentiableOpsGiveZeros) {
  auto x = array({0.25f, 1.75f, -2.25f});
  auto zero_grad = [&](std::function<array(const array&)> f, const char* what) {
    auto [out, g] = vjp(f, x, ones(f(x).shape(), f(x).dtype(), s));
    expect_close(to_doubles(g), {0, 0, 0}, 0, 0, what);
    auto [out2, t] = jvp(f, x, array({1.0f, 1.0f, 1.0f}));
    expect_close(to_doubles(t), {0, 0, 0}, 0, 0, what);
  };
  zero_grad([&](const array& a) { return floor(a, s); }, "floor");
  zero_grad([&](const array& a) { return ceil(a, s); }, "ceil");
  zero_grad([&](const array& a) { return round(a, 0, s); }, "round");
  zero_grad([&](const array& a) { return sign(a, s); }, "sign");
  zero_grad([&](const array& a) { return stop_gradient(a, s); }, "stop_gradient");
  zero_grad([&](const array& a) { return astype(greater(a, array(0.5f), s), float32, s); },
            "greater");
  zero_grad([&](const array& a) { return astype(equal(a, a, s), float32, s); }, "equal");
  zero_grad(
      [&](const array& a) {
        return astype(logical_and(greater(a, array(0.0f), s), less(a, array(1.0f), s), s),
                      float32, s);
      },
      "logical_and");
  // Integer math on a cast input: no gradient reaches the float input.
  zero_grad(
      [&](const array& a) {
        auto i = astype(a, int32, s);
        return astype(bitwise_xor(i, array(3), s), float32, s);
      },
      "bitwise_xor");
}

LUMEN_DEVICE_TEST(Transforms, ComplexRules) {
  // Gradients of real functions of z = x + iy come back as df/dx + i df/dy.
  std::vector<complex64_t> zs{{1.0f, 2.0f}, {-0.5f, 0.25f}};
  array z(zs.begin(), {2}, complex64);
  auto cot = array({1.0f, 1.0f});
  auto check = [&](std::function<array(const array&)> f, auto want, const char* what) {
    auto [out, g] = vjp(f, z, cot);
    EXPECT_EQ(g.dtype(), complex64) << what;
    expect_close(to_doubles(real(g, s)), {want(zs[0]).real(), want(zs[1]).real()}, 1e-6, 1e-6,
                 what);
    expect_close(to_doubles(imag(g, s)), {want(zs[0]).imag(), want(zs[1]).imag()}, 1e-6, 1e-6,
                 what);
  };
  check([&](const array& a) { return real(multiply(a, conjugate(a, s), s), s); },
        [](complex64_t v) { return 2.0f * v; }, "|z|^2");
  check([&](const array& a) { return square(imag(a, s), s); },
        [](complex64_t v) { return complex64_t(0.0f, 2.0f * v.imag()); }, "imag(z)^2");
  check([&](const array& a) { return real(abs(a, s), s); },
        [](complex64_t v) { return v / std::abs(v); }, "|z|");
}

TEST(TransformsGrad, ScalarDerivativesAndNesting) {
  auto s = default_stream(Device::cpu);
  auto f = [s](const array& x) { return add(multiply(x, multiply(x, x, s), s), sin(x, s), s); };
  auto x = f64(0.7);
  double v = 0.7;
  EXPECT_NEAR(grad(f)(x).item<double>(), 3 * v * v + std::cos(v), 1e-12);
  EXPECT_NEAR(grad(grad(f))(x).item<double>(), 6 * v - std::sin(v), 1e-12);
  EXPECT_NEAR(grad(grad(grad(f)))(x).item<double>(), 6 - std::cos(v), 1e-12);
  // jvp of grad: forward-over-reverse gives the second derivative too.
  auto [g, h] = jvp(grad(f), x, f64(1.0));
  EXPECT_NEAR(h.item<double>(), 6 * v - std::sin(v), 1e-12);
  auto [vv, gg] = value_and_grad(f)(x);
  EXPECT_NEAR(vv.item<double>(), v * v * v + std::sin(v), 1e-12);
  EXPECT_NEAR(gg.item<double>(), 3 * v * v + std::cos(v), 1e-12);
}

TEST(TransformsGrad, ArgnumsAndAuxiliaryOutputs) {
  auto s = default_stream(Device::cpu);
  // f(a, b, c) = a * b^2 + c, with an auxiliary output that is not differentiated
  auto f = [s](const std::vector<array>& in) {
    auto y = add(multiply(in[0], square(in[1], s), s), in[2], s);
    return std::vector<array>{y, multiply(in[0], f64(100.0), s)};
  };
  std::vector<array> in{f64(2.0), f64(3.0), f64(5.0)};
  auto [vals, grads] = value_and_grad(f, std::vector<int>{2, 0})(in);
  ASSERT_EQ(vals.size(), 2u);
  EXPECT_DOUBLE_EQ(vals[0].item<double>(), 23.0);
  EXPECT_DOUBLE_EQ(vals[1].item<double>(), 200.0);
  ASSERT_EQ(grads.size(), 2u);  // in increasing argument order, as MLX
  EXPECT_DOUBLE_EQ(grads[0].item<double>(), 9.0);   // d/da = b^2
  EXPECT_DOUBLE_EQ(grads[1].item<double>(), 1.0);   // d/dc
  auto g1 = grad([s](const std::vector<array>& in) {
    return add(multiply(in[0], square(in[1], s), s), in[2], s);
  }, -2)(in);
  EXPECT_DOUBLE_EQ(g1[0].item<double>(), 12.0);  // d/db = 2ab

  auto scalar_f = [s](const std::vector<array>& in) { return multiply(in[0], in[1], s); };
  EXPECT_THROW(grad(scalar_f, 3)(in), std::out_of_range);
  EXPECT_THROW(grad(scalar_f, std::vector<int>{0, 0})(in), std::invalid_argument);
  EXPECT_THROW(grad(scalar_f, std::vector<int>{})(in), std::invalid_argument);
}

TEST(TransformsGrad, VjpOfSeveralOutputsAndUnusedArguments) {
  auto s = default_stream(Device::cpu);
  auto f = [s](const std::vector<array>& in) {
    return std::vector<array>{multiply(in[0], in[0], s), exp(in[0], s)};
  };
  auto [outs, g] = vjp(f, {f64({1.0, 2.0}), f64(7.0)}, {f64({1.0, 1.0}), f64({0.5, 2.0})});
  expect_close(to_doubles(g[0]), {2 + 0.5 * std::exp(1.0), 4 + 2 * std::exp(2.0)}, 1e-12, 0);
  EXPECT_EQ(g[1].shape(), Shape{});  // unused argument: zero cotangent
  EXPECT_EQ(g[1].item<double>(), 0.0);
  // An argument returned as is gets its cotangent.
  auto [o2, g2] = vjp([](const std::vector<array>& in) { return in; }, {f64(3.0)},
                      {f64(2.0)});
  EXPECT_EQ(g2[0].item<double>(), 2.0);
  // The same array passed twice is two arguments.
  auto x = f64(3.0);
  auto [o3, g3] = vjp(
      [s](const std::vector<array>& in) {
        return std::vector<array>{multiply(in[0], square(in[1], s), s)};
      },
      {x, x}, {f64(1.0)});
  EXPECT_EQ(g3[0].item<double>(), 9.0);
  EXPECT_EQ(g3[1].item<double>(), 18.0);
}

TEST(TransformsGrad, StopGradientBlocksTheFlow) {
  auto s = default_stream(Device::cpu);
  auto f = [s](const array& x) { return multiply(x, stop_gradient(x, s), s); };
  EXPECT_EQ(grad(f)(f64(3.0)).item<double>(), 3.0);
  // An output made with stop_gradient takes no cotangent.
  auto [outs, g] = vjp(
      [s](const std::vector<array>& in) {
        return std::vector<array>{stop_gradient(in[0], s), multiply(in[0], f64(2.0), s)};
      },
      {f64(1.0)}, {f64(1.0)});
  EXPECT_EQ(g[0].item<double>(), 2.0);
}

TEST(TransformsGrad, EvaluatingInsideTheFunctionKeepsTheGraph) {
  auto s = default_stream(Device::cpu);
  auto f = [s](const array& x) {
    auto y = multiply(x, x, s);
    eval(y);  // e.g. to read a value for control flow
    EXPECT_EQ(y.item<double>(), 4.0);
    return multiply(y, x, s);
  };
  EXPECT_DOUBLE_EQ(grad(f)(f64(2.0)).item<double>(), 12.0);
  auto [out, t] = jvp(f, f64(2.0), f64(1.0));
  EXPECT_DOUBLE_EQ(t.item<double>(), 12.0);
}

TEST(TransformsGrad, CapturedArraysAreConstants) {
  auto s = default_stream(Device::cpu);
  auto c = exp(f64(1.0), s);  // unevaluated, captured
  auto f = [&](const array& x) { return multiply(c, square(x, s), s); };
  EXPECT_NEAR(grad(f)(f64(2.0)).item<double>(), 4 * std::exp(1.0), 1e-12);
}

TEST(TransformsGrad, CustomVjpAndCustomFunction) {
  auto s = default_stream(Device::cpu);
  auto f = custom_vjp(
      [s](const std::vector<array>& in) { return std::vector<array>{sin(in[0], s)}; },
      [s](const std::vector<array>&, const std::vector<array>& cots,
          const std::vector<array>&) {
        return std::vector<array>{multiply(cots[0], f64(42.0), s)};
      });
  auto x = f64(0.3);
  auto [outs, g] = vjp(f, {x}, {f64(2.0)});
  EXPECT_DOUBLE_EQ(outs[0].item<double>(), std::sin(0.3));
  EXPECT_DOUBLE_EQ(g[0].item<double>(), 84.0);
  // Without a jvp rule, jvp falls back to differentiating the function.
  auto [jo, jt] = jvp(f, {x}, {f64(1.0)});
  EXPECT_DOUBLE_EQ(jt[0].item<double>(), std::cos(0.3));
  // A custom jvp.
  auto h = custom_function(
      [s](const std::vector<array>& in) { return std::vector<array>{exp(in[0], s)}; },
      std::nullopt,
      [s](const std::vector<array>&, const std::vector<array>& tans, const std::vector<int>&) {
        return std::vector<array>{multiply(tans[0], f64(-1.0), s)};
      });
  auto [ho, ht] = jvp(h, {x}, {f64(3.0)});
  EXPECT_DOUBLE_EQ(ht[0].item<double>(), -3.0);
  auto [hv, hg] = vjp(h, {x}, {f64(1.0)});  // vjp derived from the function
  EXPECT_DOUBLE_EQ(hg[0].item<double>(), std::exp(0.3));
}

TEST(TransformsGrad, CheckpointGivesTheSameGradients) {
  auto s = default_stream(Device::cpu);
  auto body = [s](const std::vector<array>& in) {
    auto y = tanh(multiply(in[0], in[1], s), s);
    return std::vector<array>{multiply(y, sin(in[0], s), s)};
  };
  auto ck = checkpoint(body);
  std::vector<array> in{f64({0.3, -0.7}), f64({1.5, 0.25})};
  std::vector<array> cot{f64({1.0, -2.0})};
  auto [o1, g1] = vjp(body, in, cot);
  auto [o2, g2] = vjp(ck, in, cot);
  // The forward output comes from the custom primitive; the gradient
  // recomputes the body only once the forward outputs exist.
  EXPECT_EQ(primitive_counts(o2)["CustomTransforms"], 1);
  EXPECT_GE(primitive_counts(g2)["Depends"], 1);
  for (int i = 0; i < 2; ++i) expect_close(to_doubles(g2[i]), to_doubles(g1[i]), 1e-14, 0);
  expect_close(to_doubles(o2[0]), to_doubles(o1[0]), 0, 0);
}

TEST(TransformsGrad, TracingFlagIsOnWhileTracing) {
  auto s = default_stream(Device::cpu);
  std::vector<bool> seen;
  auto f = [&](const array& x) {
    seen.push_back(detail::in_tracing());
    return multiply(x, x, s);
  };
  EXPECT_FALSE(detail::in_tracing());
  grad(f)(f64(1.0));
  jvp(f, f64(1.0), f64(1.0));
  grad(grad(f))(f64(1.0));
  EXPECT_FALSE(detail::in_tracing());
  ASSERT_EQ(seen.size(), 3u);
  for (bool b : seen) EXPECT_TRUE(b);
}

namespace {
// A primitive with a kernel but no rules, to check the error messages.
class Opaque : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  const char* name() const override { return "Opaque"; }
};
void opaque_kernel(const Primitive&, const std::vector<array>& in, std::vector<array>& out) {
  out[0].copy_shared_buffer(in[0]);
}
LUMEN_REGISTER_KERNEL(Device::cpu, Opaque, opaque_kernel);
}  // namespace

array lumen::test::opaque(const array& x) {
  return array(x.shape(), x.dtype(), std::make_shared<Opaque>(default_stream(Device::cpu)), {x});
}

namespace {
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(TransformsGrad, ErrorsNameTheArgumentAndPrimitive) {
  auto s = default_stream(Device::cpu);
  auto uses_opaque = [s](const std::vector<array>& in) {
    return multiply(in[0], opaque(exp(in[1], s)), s);
  };
  auto msg = message_of([&] { grad(uses_opaque, 1)({f64(1.0), f64(2.0)}); });
  EXPECT_NE(msg.find("Opaque"), std::string::npos) << msg;
  EXPECT_NE(msg.find("argument 1"), std::string::npos) << msg;
  msg = message_of([&] {
    jvp([&](const std::vector<array>& in) { return std::vector<array>{uses_opaque(in)}; },
        {f64(1.0), f64(2.0)}, {f64(1.0), f64(1.0)});
  });
  EXPECT_NE(msg.find("Opaque"), std::string::npos) << msg;
  EXPECT_NE(msg.find("jvp"), std::string::npos) << msg;
  // Not differentiated through: no error.
  EXPECT_EQ(grad(uses_opaque, 0)({f64(1.0), f64(2.0)})[0].item<double>(), std::exp(2.0));

  msg = message_of([&] {
    vjp([](const std::vector<array>& in) { return std::vector<array>{in[0], array()}; },
        {f64(1.0)}, {f64(1.0), f64(1.0)});
  });
  EXPECT_NE(msg.find("output 1"), std::string::npos) << msg;
  msg = message_of([&] {
    grad([s](const std::vector<array>& in) { return multiply(in[0], f64({1.0, 2.0}), s); })(
        {f64(1.0)});
  });
  EXPECT_NE(msg.find("scalar"), std::string::npos) << msg;
  EXPECT_THROW(vjp([](const array& x) { return x; }, f64({1.0, 2.0}), f64(1.0)),
               std::invalid_argument);
  EXPECT_THROW(jvp([](const array& x) { return x; }, f64({1.0, 2.0}), f64(1.0)),
               std::invalid_argument);
  EXPECT_THROW(jvp([](const std::vector<array>& x) { return x; }, {f64(1.0)}, {}),
               std::invalid_argument);
}
