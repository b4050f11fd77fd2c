// compile: tracing per signature, simplification, fusion of elementwise
// chains into one Compiled primitive, and fused results equal to the
// unfused ones bit for bit.
#include <cstring>
#include <numbers>

#include <lumen/backend.h>
#include <lumen/compile.h>
#include <lumen/elementwise_primitives.h>
#include <lumen/transforms.h>
#include <lumen/transforms_primitives.h>

#include "test_transforms_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

using Fn = std::function<std::vector<array>(const std::vector<array>&)>;

// Whether compile fuses on this device (a Compiled kernel exists there).
bool fuses_on(const Device& d) {
  return backend::find_kernel(d.type, std::type_index(typeid(Compiled))) != nullptr;
}

// Primitive counts with every Compiled... name counted as "Compiled".
std::map<std::string, int> counts_of(const std::vector<array>& outs) {
  std::map<std::string, int> c;
  for (auto& [name, n] : primitive_counts(outs)) {
    c[name.rfind("Compiled", 0) == 0 ? "Compiled" : name] += n;
  }
  return c;
}

int total(const std::map<std::string, int>& c) {
  int n = 0;
  for (auto& [_, k] : c) n += k;
  return n;
}

array gelu(const array& x, const Stream& s) {
  auto half = array(0.5f, x.dtype());
  auto one = array(1.0f, x.dtype());
  auto inv_sqrt2 = array(static_cast<float>(1.0 / std::numbers::sqrt2), x.dtype());
  return multiply(multiply(x, half, s), add(one, erf(multiply(x, inv_sqrt2, s), s), s), s);
}

// Evaluates both and compares their bytes (row-contiguous outputs).
void expect_same_bits(array got, array want, const std::string& what) {
  got = contiguous_copy(got);  // on the CPU: any device's result, row-major
  want = contiguous_copy(want);
  eval(got, want);
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  EXPECT_EQ(std::memcmp(got.data<char>(), want.data<char>(), got.nbytes()), 0) << what;
}

// Deterministic values of any dtype: mixed signs for signed types.
array test_values(Dtype d, Shape shape, uint64_t seed) {
  double lo = -3, hi = 3;
  if (d == bool_) lo = 0, hi = 2;
  else if (issubdtype(d, unsignedinteger)) lo = 0, hi = 100;
  else if (issubdtype(d, integer)) lo = -50, hi = 50;
  auto v = uniform_values(shape_size(shape), lo, hi, seed);
  if (d == bool_ || issubdtype(d, integer)) {
    for (auto& x : v) x = std::floor(x);
  }
  return array(v.begin(), shape, d);
}

}  // namespace

LUMEN_DEVICE_SUITE(Compile);

LUMEN_DEVICE_TEST(Compile, GeluRunsAsOneFusedPrimitive) {
  Fn f = [&](const std::vector<array>& in) { return std::vector<array>{gelu(in[0], s)}; };
  auto cf = compile(f);
  for (Dtype d : {float32, float16, bfloat16}) {
    auto x = test_values(d, {4, 33}, 3);
    auto out = cf({x});
    auto plain = f({x});
    if (fuses_on(dev)) {
      auto c = counts_of(out);
      EXPECT_EQ(c["Compiled"], 1) << dtype_to_string(d);
      EXPECT_EQ(total(c), 1) << dtype_to_string(d);
      EXPECT_GT(total(counts_of(plain)), 4);
    }
    expect_same_bits(out[0], plain[0], "gelu " + dtype_to_string(d));
  }
}

LUMEN_DEVICE_TEST(Compile, TracesOncePerSignature) {
  int traces = 0;
  Fn f = [&](const std::vector<array>& in) {
    ++traces;
    EXPECT_TRUE(detail::in_tracing());
    return std::vector<array>{add(exp(in[0], s), in[1], s)};
  };
  auto cf = compile(f);
  auto a = ones({3}, float32, s), b = ones({3}, float32, s);
  cf({a, b});
  cf({a, b});
  EXPECT_EQ(traces, 1);
  cf({ones({4}, float32, s), ones({4}, float32, s)});  // new shape
  EXPECT_EQ(traces, 2);
  cf({ones({3}, float16, s), ones({3}, float16, s)});  // new dtype
  EXPECT_EQ(traces, 3);
  auto r = cf({a, b});  // an old signature: cached
  EXPECT_EQ(traces, 3);
  expect_close(to_doubles(r[0]), std::vector<double>(3, std::exp(1.0) + 1), 1e-6, 0);

  int shapeless_traces = 0;
  Fn g = [&](const std::vector<array>& in) {
    ++shapeless_traces;
    return std::vector<array>{multiply(sin(in[0], s), in[0], s)};
  };
  auto sg = compile(g, /*shapeless=*/true);
  for (int n : {2, 5, 9}) {
    auto x = test_values(float32, {n, 3}, n);
    auto y = sg({x});
    EXPECT_EQ(y[0].shape(), (Shape{n, 3}));
    expect_same_bits(y[0], g({x})[0], "shapeless");
  }
  EXPECT_EQ(shapeless_traces, 1 + 3);  // one trace, plus the three uncompiled reference calls
  sg({test_values(float32, {7}, 1)});  // another rank
  EXPECT_EQ(shapeless_traces, 1 + 3 + 1);
}

LUMEN_DEVICE_TEST(Compile, SimplifiesCommonSubexpressionsConstantsAndNoOps) {
  set_compile_mode(CompileMode::no_fuse);
  Fn f = [&](const std::vector<array>& in) {
    auto& x = in[0];
    // Two separate scalar 2s: shared, so both products are one node.
    auto a = multiply(x, array(2.0f), s);
    auto b = multiply(x, array(2.0f), s);
    auto unused = exp(x, s);  // dead code
    (void)unused;
    return std::vector<array>{add(copy(exp(a, s), s), stop_gradient(exp(b, s), s), s)};
  };
  auto x = test_values(float32, {5}, 9);
  auto out = compile(f)({x});
  set_compile_mode(CompileMode::enabled);
  auto c = counts_of(out);
  EXPECT_EQ(c["Multiply"], 1);
  EXPECT_EQ(c["Exp"], 1);
  EXPECT_EQ(c["Add"], 1);
  EXPECT_EQ(c.count("Copy"), 0u);
  EXPECT_EQ(c.count("StopGradient"), 0u);
  expect_same_bits(out[0], f({x})[0], "simplified");

  // Without simplification every node stays.
  set_compile_mode(CompileMode::no_simplify);
  auto raw = compile(f)({x});
  set_compile_mode(CompileMode::enabled);
  if (fuses_on(dev)) {
    EXPECT_EQ(counts_of(raw)["Compiled"], 1);
  }
  expect_same_bits(raw[0], f({x})[0], "not simplified");
}

LUMEN_DEVICE_TEST(Compile, CapturedArraysSideOutputsAndNewShapes) {
  auto w = array({1.0f, 2.0f, 3.0f});          // evaluated constant
  auto lazy = exp(array({0.5f, 0.25f, 1.0f}), s);  // unevaluated, captured
  Fn f = [&](const std::vector<array>& in) {
    auto y = multiply(exp(in[0], s), w, s);  // an intermediate that is also returned
    auto z = add(multiply(y, lazy, s), array(1.0f), s);
    return std::vector<array>{z, y};
  };
  auto cf = compile(f);
  auto x = test_values(float32, {2, 3}, 4);
  auto out = cf({x});
  auto want = f({x});
  if (fuses_on(dev)) {
    auto c = counts_of(out);
    // both outputs, and the captured lazy array's exp, in one kernel
    EXPECT_EQ(c["Compiled"], 1);
    EXPECT_EQ(total(c), 1);
  }
  expect_same_bits(out[0], want[0], "z");
  expect_same_bits(out[1], want[1], "y");
  // A new shape retraces; the old one still works.
  auto x2 = test_values(float32, {4, 3}, 5);
  expect_same_bits(cf({x2})[0], f({x2})[0], "new shape");
  expect_same_bits(cf({x})[1], want[1], "old shape");
}

LUMEN_DEVICE_TEST(Compile, BroadcastsFuseAndOutputsOfOtherShapesStayApart) {
  Fn f = [&](const std::vector<array>& in) {
    auto col = add(in[0], array(1.0f), s);                   // (3, 1), also returned
    auto full = multiply(exp(col, s), in[1], s);             // (3, 4)
    return std::vector<array>{add(full, sin(in[1], s), s), col};
  };
  auto a = test_values(float32, {3, 1}, 6), b = test_values(float32, {1, 4}, 7);
  auto out = compile(f)({a, b});
  auto want = f({a, b});
  EXPECT_EQ(out[0].shape(), (Shape{3, 4}));
  EXPECT_EQ(out[1].shape(), (Shape{3, 1}));
  if (fuses_on(dev)) {
    auto c = counts_of(out);
    EXPECT_EQ(c.count("Multiply"), 0u);
    EXPECT_EQ(c.count("Exp"), 0u);
  }
  expect_same_bits(out[0], want[0], "broadcast chain");
  expect_same_bits(out[1], want[1], "column output");
}

LUMEN_DEVICE_TEST(Compile, NonContiguousInputs) {
  Fn f = [&](const std::vector<array>& in) {
    return std::vector<array>{tanh(add(multiply(in[0], in[1], s), in[0], s), s)};
  };
  auto base = test_values(float32, {6, 8}, 8);
  auto t = transpose(base, s);                       // (8, 6), column-major view
  auto sl = slice(base, {0, 1}, {6, 7}, {1, 1}, s);  // (6, 6), offset rows
  auto t6 = slice(t, {1, 0}, {7, 6}, {1, 1}, s);     // (6, 6), strided
  auto out = compile(f)({t6, sl});
  expect_same_bits(out[0], f({t6, sl})[0], "strided inputs");
}

LUMEN_DEVICE_TEST(Compile, FusedEqualsUnfusedForEveryUnaryOpAndDtype) {
  uint64_t seed = 100;
  auto check = [&](UnaryOp op, DtypeSet set) {
    for (int i = 0; i < num_dtypes; ++i) {
      Dtype d = dtype_from_index(i);
      if (!dtype_in(d, set)) continue;
      if (on_gpu && d == float64) continue;
      Fn f = [&, op](const std::vector<array>& in) {
        Dtype out = (op == UnaryOp::Real || op == UnaryOp::Imag) ? float32 : in[0].dtype();
        auto y = array(in[0].shape(), out, std::make_shared<Unary>(s, op), {in[0]});
        auto z = array(y.shape(), out, std::make_shared<Binary>(s, BinaryOp::Add), {y, y});
        return std::vector<array>{z};
      };
      auto x = test_values(d, {3, 37}, seed++);
      auto out = compile(f)({x});
      if (fuses_on(dev) && op != UnaryOp::Copy && op != UnaryOp::StopGradient) {
        EXPECT_EQ(total(counts_of(out)), 1) << op_name(op) << " " << dtype_to_string(d);
      }
      expect_same_bits(out[0], f({x})[0], std::string(op_name(op)) + " " + dtype_to_string(d));
    }
  };
#define LUMEN_CHECK_OP(name, set) check(UnaryOp::name, DtypeSet::set);
  LUMEN_UNARY_OPS(LUMEN_CHECK_OP)
#undef LUMEN_CHECK_OP
}

LUMEN_DEVICE_TEST(Compile, FusedEqualsUnfusedForEveryBinaryOpAndDtype) {
  uint64_t seed = 500;
  auto check = [&](BinaryOp op, DtypeSet set) {
    for (int i = 0; i < num_dtypes; ++i) {
      Dtype d = dtype_from_index(i);
      if (!dtype_in(d, set)) continue;
      if (on_gpu && d == float64) continue;
      Fn f = [&, op](const std::vector<array>& in) {
        Dtype out = is_comparison(op) ? bool_ : in[0].dtype();
        auto make = [&](BinaryOp o, const array& a, const array& b, Dtype t) {
          return array(a.shape(), t, std::make_shared<Binary>(s, o), {a, b});
        };
        auto y = make(op, in[0], in[1], out);
        auto z = make(op, in[1], in[0], out);
        return std::vector<array>{make(BinaryOp::Add, y, z, out)};
      };
      auto a = test_values(d, {5, 9}, seed++), b = test_values(d, {5, 9}, seed++);
      auto out = compile(f)({a, b});
      if (fuses_on(dev)) {
    EXPECT_EQ(total(counts_of(out)), 1) << op_name(op);
  }
      expect_same_bits(out[0], f({a, b})[0], std::string(op_name(op)) + " " + dtype_to_string(d));
    }
  };
#define LUMEN_CHECK_OP(name, set) check(BinaryOp::name, DtypeSet::set);
  LUMEN_BINARY_OPS(LUMEN_CHECK_OP)
#undef LUMEN_CHECK_OP
}

LUMEN_DEVICE_TEST(Compile, FusedEqualsUnfusedForCastsAndSelect) {
  uint64_t seed = 900;
  for (int i = 0; i < num_dtypes; ++i) {
    for (int j = 0; j < num_dtypes; ++j) {
      Dtype from = dtype_from_index(i), to = dtype_from_index(j);
      if (from == to || (on_gpu && (from == float64 || to == float64))) continue;
      Fn f = [&, to](const std::vector<array>& in) {
        auto y = astype(in[0], to, s);
        auto c = astype(in[1], bool_, s);
        return std::vector<array>{where(c, y, add(y, y, s), s)};
      };
      auto x = test_values(from, {4, 11}, seed++);
      auto c = test_values(int32, {4, 11}, seed++);
      auto out = compile(f)({x, c});
      if (fuses_on(dev)) {
    EXPECT_EQ(total(counts_of(out)), 1);
  }
      expect_same_bits(out[0], f({x, c})[0],
                       "astype " + dtype_to_string(from) + " -> " + dtype_to_string(to));
    }
  }
}

LUMEN_DEVICE_TEST(Compile, ComposesWithGrad) {
  auto x = test_values(float32, {6}, 12);
  Fn f = [&](const std::vector<array>& in) {
    return std::vector<array>{multiply(sin(in[0], s), exp(in[0], s), s)};
  };
  auto cot = test_values(float32, {6}, 13);
  // compile of vjp: the backward graph is traced and fused.
  Fn vjp_fn = [&](const std::vector<array>& in) { return vjp(f, {in[0]}, {in[1]}).second; };
  auto compiled_vjp = compile(vjp_fn)({x, cot});
  if (fuses_on(dev)) {
    EXPECT_EQ(total(counts_of(compiled_vjp)), 1);
  }
  expect_same_bits(compiled_vjp[0], vjp_fn({x, cot})[0], "compile(vjp)");
  // vjp of compile: the compiled function is traced by vjp instead.
  auto [outs, g] = vjp(compile(f), {x}, {cot});
  expect_same_bits(g[0], vjp(f, {x}, {cot}).second[0], "vjp(compile)");
}

TEST(CompileModes, DisabledRunsTheFunctionItself) {
  auto s = default_stream(Device::cpu);
  int calls = 0;
  Fn f = [&](const std::vector<array>& in) {
    ++calls;
    return std::vector<array>{exp(exp(in[0], s), s)};
  };
  auto cf = compile(f);
  disable_compile();
  auto out = cf({array({1.0f})});
  cf({array({1.0f})});
  enable_compile();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(counts_of(out)["Exp"], 2);
  cf({array({1.0f})});
  cf({array({1.0f})});
  EXPECT_EQ(calls, 3);
}

namespace {
std::vector<array> plain_function(const std::vector<array>& in) {
  return {add(in[0], array(1.0f))};
}
int pointer_traces = 0;
std::vector<array> counted_function(const std::vector<array>& in) {
  ++pointer_traces;
  return {multiply(in[0], in[0])};
}
}  // namespace

TEST(CompileModes, FunctionPointersShareTheirTraces) {
  auto x = array({1.0f, 2.0f});
  EXPECT_EQ(compile(plain_function)({x})[0].size(), 2u);
  compile(counted_function)({x});
  compile(counted_function)({x});
  auto lambda = [](const std::vector<array>& in) { return std::vector<array>{exp(in[0])}; };
  expect_close(to_doubles(compile(lambda)({x})[0]), {std::exp(1.0), std::exp(2.0)}, 1e-6, 0);
  EXPECT_EQ(pointer_traces, 1);
}

TEST(CompileModes, FusedChainDoesNotMaterializeIntermediates) {
  auto s = default_stream(Device::cpu);
  const int n = 1 << 20;
  const size_t out_bytes = static_cast<size_t>(n) * 4;
  // Unfused, exp(x) and sin(x) are alive together next to the output.
  Fn f = [&](const std::vector<array>& in) {
    auto& x = in[0];
    auto y = add(multiply(exp(x, s), sin(x, s), s), multiply(cos(x, s), x, s), s);
    return std::vector<array>{multiply(y, array(0.5f), s)};
  };
  auto x = exp(zeros({n}, float32, s), s);
  eval(x);
  auto peak_of = [&](const Fn& fn) {
    size_t base = get_active_memory();
    reset_peak_memory();
    auto out = fn({x});
    eval(out);
    return get_peak_memory() - base;
  };
  auto cf = compile(f);
  cf({x});  // trace outside the measurement
  size_t fused = peak_of(cf), unfused = peak_of(f);
  EXPECT_LE(fused, out_bytes + (1 << 16)) << "fused peak over baseline " << fused;
  EXPECT_GE(unfused, 2 * out_bytes) << "unfused peak over baseline " << unfused;
}

TEST(CompileErrors, NameTheProblem) {
  auto s = default_stream(Device::cpu);
  auto x = array({1.0f});
  try {
    compile([](const std::vector<array>& in) { return std::vector<array>{in[0], array()}; })({x});
    ADD_FAILURE() << "no error for an empty output";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("output 1"), std::string::npos) << e.what();
  }
  Fn captures_input = [&](const std::vector<array>&) { return std::vector<array>{exp(x, s)}; };
  EXPECT_THROW(compile(captures_input)({x}), std::invalid_argument);
  Fn evaluates = [&](const std::vector<array>& in) {
    auto y = exp(in[0], s);
    eval(y);
    return std::vector<array>{y};
  };
  try {
    compile(evaluates)({x});
    ADD_FAILURE() << "no error for evaluating a placeholder";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("compiled or vmapped"), std::string::npos) << e.what();
  }
  EXPECT_THROW(compile(Fn{}), std::invalid_argument);
}
