// vmap: the machinery and the rules, each checked against running the
// function on every example of the batch.
#include <cmath>

#include <lumen/backend.h>
#include <lumen/compile.h>
#include <lumen/transforms.h>

#include "test_transforms_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

using Fn = std::function<std::vector<array>(const std::vector<array>&)>;

array values(Shape shape, double lo, double hi, uint64_t seed, Dtype d = float32) {
  return make_array(uniform_arg(std::move(shape), lo, hi, seed), d);
}

}  // namespace

LUMEN_DEVICE_SUITE(Vmap);

LUMEN_DEVICE_TEST(Vmap, UnaryOpsAlongAnyAxis) {
  std::vector<std::pair<const char*, std::function<array(const array&)>>> ops = {
      {"exp", [&](const array& x) { return exp(x, s); }},
      {"sqrt", [&](const array& x) { return sqrt(abs(x, s), s); }},
      {"erf", [&](const array& x) { return erf(x, s); }},
      {"floor", [&](const array& x) { return floor(x, s); }},
      {"logical_not", [&](const array& x) { return logical_not(greater(x, array(0.0f), s), s); }},
      {"astype", [&](const array& x) { return astype(x, int32, s); }},
      {"copy", [&](const array& x) { return copy(x, s); }},
      {"stop_gradient", [&](const array& x) { return stop_gradient(x, s); }},
  };
  auto x = values({3, 4, 2}, -3, 3, 1);
  for (auto& [name, op] : ops) {
    Fn f = [op](const std::vector<array>& in) { return std::vector<array>{op(in[0])}; };
    for (int in_ax : {0, 1, 2}) {
      for (int out_ax : {0, 2}) {
        check_vmap(f, {x}, {in_ax}, {out_ax}, s,
                   std::string(name) + " in " + std::to_string(in_ax) + " out " + std::to_string(out_ax));
      }
    }
  }
}

LUMEN_DEVICE_TEST(Vmap, BinaryAndSelectWithMixedAxesAndRanks) {
  auto a = values({4, 3}, -2, 2, 2);      // batch at 0 or 1
  auto b = values({3, 4}, 0.5, 2, 3);
  auto c = values({5, 3}, -1, 1, 4);      // not batched
  auto row = values({3}, -1, 1, 5);       // example rank 0 after mapping axis 0
  Fn mul = [&](const std::vector<array>& in) {
    return std::vector<array>{multiply(in[0], in[1], s)};
  };
  check_vmap(mul, {a, b}, {0, 1}, {0}, s, "both batched, different axes");
  check_vmap(mul, {a, b}, {1, 0}, {1}, s, "both batched, swapped");
  check_vmap(mul, {a, c}, {0, -1}, {0}, s, "example (3) times unbatched (5, 3)");
  auto c4 = values({5, 4}, -1, 1, 13);
  check_vmap(mul, {c4, a}, {-1, 1}, {1}, s, "unbatched first, example (4)");
  check_vmap(mul, {row, c}, {0, -1}, {0}, s, "scalar examples broadcast against (5, 3)");
  Fn cmp = [&](const std::vector<array>& in) {
    return std::vector<array>{less(in[0], in[1], s), power(in[1], in[0], s),
                              divmod(in[1], in[0], s)[1]};
  };
  check_vmap(cmp, {a, b}, {0, 1}, {0, 0, 0}, s, "comparison, power, divmod", 1e-6);
  Fn sel = [&](const std::vector<array>& in) {
    return std::vector<array>{where(greater(in[0], array(0.0f), s), in[1], in[2], s)};
  };
  check_vmap(sel, {a, b, c}, {0, 1, -1}, {0}, s, "where, batched condition and x");
  check_vmap(sel, {row, b, c4}, {0, 0, -1}, {1}, s, "where, mixed ranks");
  Fn bc = [&](const std::vector<array>& in) {
    return std::vector<array>{broadcast_to(in[0], {2, 3}, s)};
  };
  check_vmap(bc, {a}, {0}, {0}, s, "broadcast_to, batch first");
  check_vmap(bc, {b}, {1}, {2}, s, "broadcast_to, batch last");
  Fn fill = [&](const std::vector<array>& in) {
    return std::vector<array>{add(zeros_like(in[0], s), full_like(in[0], 2.0f, s), s)};
  };
  check_vmap(fill, {a}, {1}, {0}, s, "zeros_like and full_like");
}

LUMEN_DEVICE_TEST(Vmap, OutputsThatDoNotDependOnTheBatch) {
  auto x = values({3, 2}, -1, 1, 6);
  auto w = values({2}, -1, 1, 7);
  Fn f = [&](const std::vector<array>& in) {
    return std::vector<array>{add(in[0], in[1], s), exp(in[1], s), in[0]};
  };
  auto outs = vmap(f, {0, -1}, {0, -1, 1})({x, w});
  EXPECT_EQ(outs[1].shape(), (Shape{2}));  // out_axes -1: returned as is
  expect_close(to_doubles(outs[1]), to_doubles(exp(w, s)), 1e-6, 0);
  EXPECT_EQ(outs[2].shape(), (Shape{2, 3}));  // the mapped argument itself, batch moved to 1
  expect_close(to_doubles(outs[2]), to_doubles(transpose(x, s)), 0, 0);
  // An unbatched output with a batch axis is repeated along it.
  auto rep = vmap(f, {0, -1}, {0, 1, 0})({x, w});
  EXPECT_EQ(rep[1].shape(), (Shape{2, 3}));
  for (int b = 0; b < 3; ++b) {
    expect_close(to_doubles(example(rep[1], 1, b, s)), to_doubles(exp(w, s)), 1e-6, 0);
  }
}

LUMEN_DEVICE_TEST(Vmap, NestedAndComposedWithGradAndCompile) {
  auto x = values({3, 4}, -1, 1, 8);
  auto y = values({4}, -1, 1, 9);
  Fn f = [&](const std::vector<array>& in) {
    return std::vector<array>{multiply(sin(in[0], s), in[1], s)};
  };
  // vmap of vmap: over rows, then over entries.
  auto inner = vmap(f, {0, 0}, {0});
  auto outer = vmap(inner, {0, -1}, {0});
  auto got = outer({x, y});
  auto want = f({x, broadcast_to(y, {3, 4}, s)});
  expect_close(to_doubles(got[0]), to_doubles(want[0]), 1e-6, 1e-6, "vmap(vmap)");

  // Per-example gradients: vmap of grad, and grad (vjp) of vmap.
  auto g = [&](const array& v) { return multiply(v, exp(v, s), s); };
  auto dg = [](double v) { return (1 + v) * std::exp(v); };
  auto xs = values({5}, -1, 1, 10);
  auto per_example = vmap(grad(std::function<array(const array&)>(g)))(xs);
  std::vector<double> want_d;
  for (double v : to_doubles(xs)) want_d.push_back(dg(v));
  expect_close(to_doubles(per_example), want_d, 1e-5, 1e-6, "vmap(grad)");
  auto cot = values({5}, -1, 1, 11);
  auto [vo, vg] = vjp(vmap(std::function<array(const array&)>(g)), xs, cot);
  auto cots = to_doubles(cot);
  for (size_t i = 0; i < want_d.size(); ++i) want_d[i] *= cots[i];
  expect_close(to_doubles(vg), want_d, 1e-5, 1e-6, "vjp(vmap)");
  auto [jo, jt] = jvp(vmap(std::function<array(const array&)>(g)), xs, cot);
  expect_close(to_doubles(jt), want_d, 1e-5, 1e-6, "jvp(vmap)");
  auto vj = vmap(
      [&](const std::vector<array>& in) { return jvp(Fn([&](const std::vector<array>& a) {
                                                       return std::vector<array>{g(a[0])};
                                                     }),
                                                     {in[0]}, {in[1]}).second; },
      {0, 0}, {0})({xs, cot});
  expect_close(to_doubles(vj[0]), want_d, 1e-5, 1e-6, "vmap(jvp)");

  // compile of vmap and vmap of compile.
  auto cv = compile(vmap(f, {0, -1}, {1}))({x, y});
  auto vc = vmap(compile(f), {0, -1}, {1})({x, y});
  auto ref = vmap(f, {0, -1}, {1})({x, y});
  expect_close(to_doubles(cv[0]), to_doubles(ref[0]), 0, 0, "compile(vmap)");
  expect_close(to_doubles(vc[0]), to_doubles(ref[0]), 0, 0, "vmap(compile)");
}

LUMEN_DEVICE_TEST(Vmap, CustomFunctionsUseTheirRuleOrTheFunction) {
  auto x = values({4, 2}, -1, 1, 12);
  Fn f = [&](const std::vector<array>& in) { return std::vector<array>{exp(in[0], s)}; };
  auto derived = custom_vjp(f, [&](const std::vector<array>&, const std::vector<array>& c,
                                   const std::vector<array>&) { return c; });
  check_vmap(derived, {x}, {1}, {0}, s, "custom_vjp under vmap");
  int rule_calls = 0;
  auto own = custom_function(
      f, std::nullopt, std::nullopt,
      [&](const std::vector<array>& in, const std::vector<int>& axes) {
        ++rule_calls;
        return std::make_pair(std::vector<array>{exp(in[0], s)}, std::vector<int>{axes[0]});
      });
  check_vmap(own, {x}, {1}, {0}, s, "custom vmap rule");
  EXPECT_EQ(rule_calls, 1);
}

TEST(VmapErrors, NameTheArgumentAndPrimitive) {
  auto s = default_stream(Device::cpu);
  Fn f = [&](const std::vector<array>& in) { return std::vector<array>{add(in[0], in[1], s)}; };
  auto a = array({1.0f, 2.0f, 3.0f}), b = array({1.0f, 2.0f});
  auto message = [](const std::function<void()>& fn) -> std::string {
    try {
      fn();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  auto m = message([&] { vmap(f, {0}, {0})({a, a}); });
  EXPECT_NE(m.find("1 in_axes given for a function of 2 arguments"), std::string::npos) << m;
  m = message([&] { vmap(f, {0, 1}, {0})({a, a}); });
  EXPECT_NE(m.find("in_axes[1] = 1"), std::string::npos) << m;
  EXPECT_NE(m.find("argument 1"), std::string::npos) << m;
  m = message([&] { vmap(f)({a, b}); });
  EXPECT_NE(m.find("argument 1 has size 2"), std::string::npos) << m;
  m = message([&] { vmap(f, {-1, -1}, {0})({a, b}); });
  EXPECT_FALSE(m.empty());
  m = message([&] { vmap(f, {0, 0}, {-1})({a, a}); });
  EXPECT_NE(m.find("out_axes[0] is -1"), std::string::npos) << m;
  m = message([&] { vmap(f, {0, 0}, {0, 0})({a, a}); });
  EXPECT_NE(m.find("out_axes"), std::string::npos) << m;
  m = message([&] {
    vmap([](const std::vector<array>& in) { return std::vector<array>{in[0], array()}; })({a});
  });
  EXPECT_NE(m.find("output 1"), std::string::npos) << m;
  Fn no_rule = [&](const std::vector<array>& in) {
    return std::vector<array>{add(in[0], opaque(exp(in[1], s)), s)};
  };
  m = message([&] { vmap(no_rule, {-1, 0}, {0})({a, a}); });
  EXPECT_NE(m.find("Opaque"), std::string::npos) << m;
  EXPECT_NE(m.find("argument 1"), std::string::npos) << m;
  EXPECT_NE(m.find("vmap"), std::string::npos) << m;
}
