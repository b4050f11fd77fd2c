// Elementwise ops: every unary and binary op for every dtype it allows,
// against references computed in the test (double or long double, 128-bit
// integers for wrapping arithmetic), over dense, broadcast and scalar
// inputs; comparisons, logical and bitwise ops, where, clip, astype between
// all dtype pairs, and bad inputs.
#include <cmath>
#include <complex>
#include <functional>
#include <limits>
#include <numbers>

#include "test_util.h"
#include "typed_values.h"

using namespace lumen;
using namespace lumen::test;

namespace {

using ld = long double;
using i128 = __int128;
// Products of two 64-bit values can pass i128's range (uint64 max squared);
// multiply unsigned, where wrapping is defined: the low 64 bits the test
// keeps are the same.
i128 wrapping_mul(i128 a, i128 b) {
  using u128 = unsigned __int128;
  return static_cast<i128>(static_cast<u128>(a) * static_cast<u128>(b));
}
using UnaryFnPtr = array (*)(const array&, StreamOrDevice);
using BinaryFnPtr = array (*)(const array&, const array&, StreamOrDevice);

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

bool is_float(Dtype d) { return issubdtype(d, floating); }
bool is_int(Dtype d) { return issubdtype(d, integer); }
Dtype at_least_float(Dtype d) { return is_float(d) || d == complex64 ? d : float32; }
std::string name(Dtype d) { return dtype_to_string(d); }

int bits(Dtype d) { return 8 * size_of(d); }
i128 int_min(Dtype d) { return issubdtype(d, signedinteger) ? -(i128(1) << (bits(d) - 1)) : 0; }
i128 int_max(Dtype d) {
  return issubdtype(d, signedinteger) ? (i128(1) << (bits(d) - 1)) - 1 : (i128(1) << bits(d)) - 1;
}
// v reduced into d's range modulo 2^bits (two's complement wrap).
i128 wrap(i128 v, Dtype d) {
  i128 m = i128(1) << bits(d);
  v %= m;
  if (v < 0) v += m;
  if (issubdtype(d, signedinteger) && v > int_max(d)) v -= m;
  return v;
}

// Relative tolerance of a correctly computed result stored in d.
double rtol_of(Dtype d) {
  switch (d) {
    case float16: return 1e-3;     // 2^-11 rounding
    case bfloat16: return 8e-3;    // 2^-8
    case float32: return 2e-6;     // a few ulp of libm
    case float64: return 1e-13;
    case complex64: return 1e-5;
    default: return 0;
  }
}
double atol_of(Dtype d) { return d == float16 ? 1e-7 : (d == bfloat16 ? 1e-37 : 1e-300); }

// x stored in floating dtype d: rounded to nearest, overflowing to inf.
ld stored_as(Dtype d, ld x) {
  switch (d) {
    case float16: return static_cast<float>(float16_t(static_cast<float>(x)));
    case bfloat16: return static_cast<float>(bfloat16_t(static_cast<float>(x)));
    case float32: return static_cast<float>(x);
    case float64: return static_cast<double>(x);
    default: return x;
  }
}

// Compares results of dtype d with exact references (rounded to d first).
void expect_values(const std::vector<ld>& got, const std::vector<ld>& want_exact, Dtype d,
                   const std::string& what, double rtol_scale = 1) {
  ASSERT_EQ(got.size(), want_exact.size()) << what;
  std::vector<ld> want;
  for (ld w : want_exact) want.push_back(stored_as(d, w));
  double rtol = rtol_of(d) * rtol_scale, atol = atol_of(d);
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    bool ok = got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])) ||
              (std::isfinite(want[i]) &&
               std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i]));
    if (!ok && reported++ < 6) {
      ADD_FAILURE() << what << " [" << i << "]: got " << static_cast<double>(got[i]) << ", want "
                    << static_cast<double>(want[i]);
    }
  }
}

// Values of dtype d spread over [lo, hi] (ints: whole numbers in range,
// bool: 0/1 inside it), plus `extra` specials a float dtype can hold.
std::vector<double> samples(Dtype d, double lo, double hi, std::vector<double> extra = {}) {
  std::vector<double> v;
  if (d == bool_) {
    for (double x : {0.0, 1.0}) {
      if (x >= lo && x <= hi) v.push_back(x);
    }
    return v;
  }
  if (is_int(d)) {
    lo = std::max(lo, static_cast<double>(int_min(d)));
    hi = std::min(hi, static_cast<double>(int_max(d)));
    lo = std::ceil(lo);
    hi = std::floor(hi);
  }
  const int n = 23;
  for (int i = 0; i < n; ++i) {
    double x = lo + (hi - lo) * i / (n - 1);
    v.push_back(is_int(d) ? std::round(x) : x);
  }
  if (!is_int(d)) v.insert(v.end(), extra.begin(), extra.end());
  return v;
}

// The same values in three layouts: dense {n}, a row broadcast to {3, n},
// and element 1 broadcast to {2, n} (a stride-0 input).
std::vector<std::pair<array, std::vector<ld>>> layouts(const array& x, StreamOrDevice s) {
  auto vals = exact_values(x);
  int n = static_cast<int>(vals.size());
  std::vector<ld> rows, scalar;
  for (int r = 0; r < 3; ++r) rows.insert(rows.end(), vals.begin(), vals.end());
  ld first = vals[n > 1 ? 1 : 0];
  for (int r = 0; r < 2 * n; ++r) scalar.push_back(first);
  // a 0-d array of x's dtype holding that element (float64 holds every value exactly)
  auto elem = astype(array(static_cast<double>(first), float64), x.dtype(), Device::cpu);
  return {{x, vals},
          {broadcast_to(x, {3, n}, s), rows},
          {broadcast_to(elem, {2, n}, s), scalar}};
}

// ---- unary ops that compute in floating point ----

double ref_erfinv(double y) {
  if (y <= -1) return y == -1 ? -inf : nan;
  if (y >= 1) return y == 1 ? inf : nan;
  if (y == 0) return y;
  double lo = -10, hi = 10;
  for (int i = 0; i < 200; ++i) {
    double mid = (lo + hi) / 2;
    (std::erf(mid) < y ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

struct FloatUnaryCase {
  const char* name;
  UnaryFnPtr op;
  double (*ref)(double);
  double lo, hi;  // domain sampled
  bool complex_ok;
};

const std::vector<FloatUnaryCase>& float_unary_cases() {
  static const std::vector<FloatUnaryCase> cases = {
      {"sqrt", &lumen::sqrt, [](double x) { return std::sqrt(x); }, 0, 100, true},
      {"rsqrt", &lumen::rsqrt, [](double x) { return 1 / std::sqrt(x); }, 0.01, 100, true},
      {"exp", &lumen::exp, [](double x) { return std::exp(x); }, -10, 10, true},
      {"expm1", &lumen::expm1, [](double x) { return std::expm1(x); }, -5, 5, false},
      {"log", &lumen::log, [](double x) { return std::log(x); }, 0.01, 100, true},
      {"log2", &lumen::log2, [](double x) { return std::log2(x); }, 0.01, 100, true},
      {"log10", &lumen::log10, [](double x) { return std::log10(x); }, 0.01, 100, true},
      {"log1p", &lumen::log1p, [](double x) { return std::log1p(x); }, -0.9, 100, true},
      {"sin", &lumen::sin, [](double x) { return std::sin(x); }, -10, 10, true},
      {"cos", &lumen::cos, [](double x) { return std::cos(x); }, -10, 10, true},
      {"tan", &lumen::tan, [](double x) { return std::tan(x); }, -1.4, 1.4, true},
      {"arcsin", &lumen::arcsin, [](double x) { return std::asin(x); }, -1, 1, true},
      {"arccos", &lumen::arccos, [](double x) { return std::acos(x); }, -1, 1, true},
      {"arctan", &lumen::arctan, [](double x) { return std::atan(x); }, -50, 50, true},
      {"sinh", &lumen::sinh, [](double x) { return std::sinh(x); }, -8, 8, true},
      {"cosh", &lumen::cosh, [](double x) { return std::cosh(x); }, -8, 8, true},
      {"tanh", &lumen::tanh, [](double x) { return std::tanh(x); }, -8, 8, true},
      {"arcsinh", &lumen::arcsinh, [](double x) { return std::asinh(x); }, -50, 50, true},
      {"arccosh", &lumen::arccosh, [](double x) { return std::acosh(x); }, 1, 50, true},
      {"arctanh", &lumen::arctanh, [](double x) { return std::atanh(x); }, -0.99, 0.99, true},
      {"sigmoid", &lumen::sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, -20, 20, false},
      {"erf", &lumen::erf, [](double x) { return std::erf(x); }, -4, 4, false},
      {"erfinv", &lumen::erfinv, ref_erfinv, -0.999, 0.999, false},
      {"reciprocal", &lumen::reciprocal, [](double x) { return 1 / x; }, 0.1, 100, true},
      {"degrees", &lumen::degrees, [](double x) { return x * 180 / std::numbers::pi; }, -10, 10, true},
      {"radians", &lumen::radians, [](double x) { return x * std::numbers::pi / 180; }, -500, 500, true},
  };
  return cases;
}

LUMEN_DEVICE_SUITE(Elementwise);

LUMEN_DEVICE_TEST(Elementwise, FloatUnaryOpsEveryRealDtype) {
  for (auto& c : float_unary_cases()) {
    for (Dtype d : all_dtypes()) {
      if (d == complex64) continue;  // FloatUnaryOpsComplex
      if (d == float64 && on_gpu) continue;
      auto x = make_array(samples(d, c.lo, c.hi, {c.lo, c.hi}), d);
      for (auto& [in, vals] : layouts(x, s)) {
        auto y = c.op(in, s);
        ASSERT_EQ(y.dtype(), at_least_float(d)) << c.name << " " << name(d);
        ASSERT_EQ(y.shape(), in.shape()) << c.name;
        std::vector<ld> want;
        for (ld v : vals) want.push_back(c.ref(static_cast<double>(v)));
        // degrees/radians multiply by a constant rounded to the dtype first
        double scale = std::string(c.name) == "degrees" || std::string(c.name) == "radians" ? 2 : 1;
        expect_values(exact_values(y), want, y.dtype(),
                      std::string(c.name) + " of " + name(d), scale);
      }
    }
  }
}

LUMEN_DEVICE_TEST(Elementwise, FloatUnaryOpsSpecialValues) {
  const float fi = std::numeric_limits<float>::infinity();
  auto x = array({-fi, fi, NAN, 0.0f, -0.0f}, float32);
  auto v = exact_values(exp(x, s));
  EXPECT_EQ(v[0], 0);
  EXPECT_EQ(v[1], inf);
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], 1);
  v = exact_values(sigmoid(x, s));
  EXPECT_EQ(v[0], 0);
  EXPECT_EQ(v[1], 1);
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], 0.5);
  v = exact_values(log(x, s));
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], inf);
  EXPECT_EQ(v[3], -inf);
  v = exact_values(erfinv(array({-1.0f, 1.0f, 1.5f, 0.0f}), s));
  EXPECT_EQ(v[0], -inf);
  EXPECT_EQ(v[1], inf);
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], 0);
  v = exact_values(sqrt(array({-1.0f}), s));
  EXPECT_TRUE(std::isnan(v[0]));
  v = exact_values(rsqrt(array({0.0f}), s));
  EXPECT_EQ(v[0], inf);
}

LUMEN_DEVICE_TEST(Elementwise, FloatUnaryOpsComplex) {
  using C = std::complex<double>;
  const std::vector<C> zs = {{0.5, 0.3}, {-1.2, 0.7}, {2.0, -1.5}, {0.1, -0.2}, {-0.3, -0.9}};
  std::vector<complex64_t> zf(zs.begin(), zs.end());
  auto z = array(zf.begin(), {static_cast<int>(zf.size())}, complex64);
  struct Case {
    const char* name;
    UnaryFnPtr op;
    C (*ref)(C);
  };
  const std::vector<Case> cases = {
      {"sqrt", &lumen::sqrt, [](C x) { return std::sqrt(x); }},
      {"rsqrt", &lumen::rsqrt, [](C x) { return 1.0 / std::sqrt(x); }},
      {"exp", &lumen::exp, [](C x) { return std::exp(x); }},
      {"log", &lumen::log, [](C x) { return std::log(x); }},
      {"log2", &lumen::log2, [](C x) { return std::log(x) / std::numbers::ln2; }},
      {"log10", &lumen::log10, [](C x) { return std::log10(x); }},
      {"log1p", &lumen::log1p, [](C x) { return std::log(1.0 + x); }},
      {"sin", &lumen::sin, [](C x) { return std::sin(x); }},
      {"cos", &lumen::cos, [](C x) { return std::cos(x); }},
      {"tan", &lumen::tan, [](C x) { return std::tan(x); }},
      {"arcsin", &lumen::arcsin, [](C x) { return std::asin(x); }},
      {"arccos", &lumen::arccos, [](C x) { return std::acos(x); }},
      {"arctan", &lumen::arctan, [](C x) { return std::atan(x); }},
      {"sinh", &lumen::sinh, [](C x) { return std::sinh(x); }},
      {"cosh", &lumen::cosh, [](C x) { return std::cosh(x); }},
      {"tanh", &lumen::tanh, [](C x) { return std::tanh(x); }},
      {"arcsinh", &lumen::arcsinh, [](C x) { return std::asinh(x); }},
      {"arccosh", &lumen::arccosh, [](C x) { return std::acosh(x); }},
      {"arctanh", &lumen::arctanh, [](C x) { return std::atanh(x); }},
      {"negative", &lumen::negative, [](C x) { return -x; }},
      {"square", &lumen::square, [](C x) { return x * x; }},
      {"sign", &lumen::sign, [](C x) { return x / std::abs(x); }},
      {"conjugate", &lumen::conjugate, [](C x) { return std::conj(x); }},
      {"reciprocal", &lumen::reciprocal, [](C x) { return 1.0 / x; }},
      {"round", [](const array& a, StreamOrDevice st) { return lumen::round(a, st); },
       [](C x) { return C(std::nearbyint(x.real()), std::nearbyint(x.imag())); }},
  };
  for (auto& c : cases) {
    auto y = c.op(z, s);
    ASSERT_EQ(y.dtype(), complex64) << c.name;
    auto got = complex_values(y);
    for (size_t i = 0; i < zs.size(); ++i) {
      C zin(zf[i].real(), zf[i].imag());
      C want = c.ref(zin);
      EXPECT_LE(std::abs(got[i] - want), 2e-6 + 2e-6 * std::abs(want))
          << c.name << " of " << zin << ": got " << got[i] << ", want " << want;
    }
  }
  // abs, real and imag give float32
  auto a = abs(z, s);
  EXPECT_EQ(a.dtype(), float32);
  auto re = real(z, s), im = imag(z, s);
  EXPECT_EQ(re.dtype(), float32);
  auto av = exact_values(a), rv = exact_values(re), iv = exact_values(im);
  for (size_t i = 0; i < zs.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(av[i]), std::abs(C(zf[i])), 1e-6);
    EXPECT_EQ(rv[i], zf[i].real());
    EXPECT_EQ(iv[i], zf[i].imag());
  }
  // sign of 0 is 0; the real-only ops refuse complex
  EXPECT_EQ(complex_values(sign(array(complex64_t(0, 0)), s))[0], C(0, 0));
  for (UnaryFnPtr op : {&lumen::expm1, &lumen::sigmoid, &lumen::erf, &lumen::erfinv, &lumen::floor,
                        &lumen::ceil, &lumen::trunc, &lumen::bitwise_invert}) {
    EXPECT_THROW(op(z, s), std::invalid_argument);
  }
  EXPECT_THROW(nan_to_num(z, 0.0f, std::nullopt, std::nullopt, s), std::invalid_argument);
}

// ---- unary ops that keep integer dtypes ----

struct ExactUnaryCase {
  const char* name;
  std::function<array(const array&, StreamOrDevice)> op;
  std::function<i128(i128, Dtype)> int_ref;   // result before wrapping
  std::function<double(double)> float_ref;
  bool bool_ok;
};

LUMEN_DEVICE_TEST(Elementwise, IntegerPreservingUnaryOpsEveryDtype) {
  const std::vector<ExactUnaryCase> cases = {
      {"abs", [](auto& a, auto st) { return abs(a, st); }, [](i128 x, Dtype) { return x < 0 ? -x : x; },
       [](double x) { return std::fabs(x); }, true},
      {"negative", [](auto& a, auto st) { return negative(a, st); }, [](i128 x, Dtype) { return -x; },
       [](double x) { return -x; }, false},
      {"sign", [](auto& a, auto st) { return sign(a, st); },
       [](i128 x, Dtype) { return i128((x > 0) - (x < 0)); },
       [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }, true},  // NaN -> 0 as MLX
      {"square", [](auto& a, auto st) { return square(a, st); }, [](i128 x, Dtype) { return wrapping_mul(x, x); },
       [](double x) { return x * x; }, true},
      {"floor", [](auto& a, auto st) { return floor(a, st); }, [](i128 x, Dtype) { return x; },
       [](double x) { return std::floor(x); }, true},
      {"ceil", [](auto& a, auto st) { return ceil(a, st); }, [](i128 x, Dtype) { return x; },
       [](double x) { return std::ceil(x); }, true},
      {"round", [](auto& a, auto st) { return round(a, st); }, [](i128 x, Dtype) { return x; },
       [](double x) { return std::nearbyint(x); }, true},  // half to even
      {"trunc", [](auto& a, auto st) { return trunc(a, st); }, [](i128 x, Dtype) { return x; },
       [](double x) { return std::trunc(x); }, true},
      {"positive", [](auto& a, auto st) { return positive(a, st); }, [](i128 x, Dtype) { return x; },
       [](double x) { return x; }, true},
      {"copy", [](auto& a, auto st) { return copy(a, st); }, [](i128 x, Dtype) { return x; },
       [](double x) { return x; }, true},
      {"stop_gradient", [](auto& a, auto st) { return stop_gradient(a, st); },
       [](i128 x, Dtype) { return x; }, [](double x) { return x; }, true},
  };
  for (auto& c : cases) {
    for (Dtype d : all_dtypes()) {
      if (d == complex64 || (d == float64 && on_gpu)) continue;
      if (d == bool_ && !c.bool_ok) {
        EXPECT_THROW(c.op(array({true}), s), std::invalid_argument) << c.name;
        continue;
      }
      std::vector<double> vals;
      if (is_int(d)) {
        vals = {0, 1, -1, 2, -7, 100, -100, 127, -128, 255, 1000, -30000, 65535,
                static_cast<double>(int_max(d)), static_cast<double>(int_min(d))};
      } else if (d == bool_) {
        vals = {0, 1, 1, 0};
      } else {
        vals = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.7, -3.7, 0.0, -0.0, 1e3, -65504, inf, -inf, nan};
      }
      auto x = make_array(vals, d);
      for (auto& [in, xs] : layouts(x, s)) {
        auto y = c.op(in, s);
        ASSERT_EQ(y.dtype(), d) << c.name << " " << name(d);
        std::vector<ld> want;
        for (ld v : xs) {
          if (is_int(d) || d == bool_) {
            i128 r = c.int_ref(static_cast<i128>(v), d);
            want.push_back(d == bool_ ? (r != 0) : static_cast<ld>(wrap(r, d)));
          } else {
            want.push_back(c.float_ref(static_cast<double>(v)));
          }
        }
        expect_values(exact_values(y), want, d, std::string(c.name) + " of " + name(d));
      }
    }
  }
}

LUMEN_DEVICE_TEST(Elementwise, RoundWithDecimals) {
  auto x = array({1.2345f, -2.5f, 0.125f, 1234.5f, 7.0f});
  auto v = exact_values(round(x, 2, s));
  EXPECT_NEAR(static_cast<double>(v[0]), 1.23, 1e-6);
  EXPECT_NEAR(static_cast<double>(v[1]), -2.5, 1e-6);
  EXPECT_NEAR(static_cast<double>(v[2]), 0.12, 1e-6);  // 12.5 rounds to even
  v = exact_values(round(x, -2, s));
  EXPECT_NEAR(static_cast<double>(v[3]), 1200, 1e-3);
  EXPECT_NEAR(static_cast<double>(v[4]), 0, 1e-6);
  // integers round through float32 and come back in their dtype
  auto xi = array({1234, -1250, 1350}, int32);
  auto r = round(xi, -2, s);
  EXPECT_EQ(r.dtype(), int32);
  EXPECT_EQ(exact_values(r), (std::vector<ld>{1200, -1200, 1400}));
  auto h = round(array({1.25f, 2.75f}, float16), 1, s);
  EXPECT_EQ(h.dtype(), float16);
  expect_values(exact_values(h), {1.2, 2.8}, float16, "round f16", 2);
}

LUMEN_DEVICE_TEST(Elementwise, ClassificationOpsEveryDtype) {
  for (Dtype d : all_dtypes()) {
    if (d == float64 && on_gpu) continue;
    std::vector<double> vals = {0, 1, -2};
    if (is_float(d) || d == complex64) vals = {0, 1.5, -2, inf, -inf, nan};
    if (d == bool_) vals = {0, 1};
    auto x = make_array(vals, d);
    auto xs = d == complex64 ? std::vector<ld>(vals.begin(), vals.end()) : exact_values(x);
    auto check = [&](const char* what, const array& got, auto pred) {
      ASSERT_EQ(got.dtype(), bool_) << what;
      std::vector<ld> want;
      for (ld v : xs) want.push_back(pred(static_cast<double>(v)));
      EXPECT_EQ(exact_values(got), want) << what << " of " << name(d);
    };
    check("isnan", isnan(x, s), [](double v) { return std::isnan(v); });
    check("isinf", isinf(x, s), [](double v) { return std::isinf(v); });
    check("isfinite", isfinite(x, s), [](double v) { return std::isfinite(v); });
    check("isposinf", isposinf(x, s), [](double v) { return v == inf; });
    check("isneginf", isneginf(x, s), [](double v) { return v == -inf; });
    check("logical_not", logical_not(x, s), [](double v) { return v == 0; });
  }
  // complex: an infinite or NaN part counts
  auto z = array(std::vector<complex64_t>{{1, INFINITY}, {NAN, 0}, {1, 2}}.begin(), {3}, complex64);
  EXPECT_EQ(exact_values(isinf(z, s)), (std::vector<ld>{1, 0, 0}));
  EXPECT_EQ(exact_values(isnan(z, s)), (std::vector<ld>{0, 1, 0}));
  EXPECT_EQ(exact_values(isfinite(z, s)), (std::vector<ld>{0, 0, 1}));
}

LUMEN_DEVICE_TEST(Elementwise, NanToNum) {
  for (Dtype d : {float16, bfloat16, float32, float64}) {
    if (d == float64 && on_gpu) continue;
    auto x = make_array({nan, inf, -inf, 2.5}, d);
    double big = d == float16   ? 65504.0
                 : d == bfloat16 ? std::ldexp(255.0, 120)
                 : d == float32  ? std::numeric_limits<float>::max()
                                 : std::numeric_limits<double>::max();
    auto y = nan_to_num(x, 0.0f, std::nullopt, std::nullopt, s);
    EXPECT_EQ(y.dtype(), d);
    EXPECT_EQ(exact_values(y), (std::vector<ld>{0, big, -big, 2.5})) << name(d);
    y = nan_to_num(x, -1.0f, 100.0f, -50.0f, s);
    EXPECT_EQ(exact_values(y), (std::vector<ld>{-1, 100, -50, 2.5})) << name(d);
  }
  auto xi = array({1, 2}, int32);
  EXPECT_EQ(exact_values(nan_to_num(xi, 0.0f, std::nullopt, std::nullopt, s)), (std::vector<ld>{1, 2}));
}

LUMEN_DEVICE_TEST(Elementwise, BitwiseInvertAndComplexParts) {
  for (Dtype d : all_dtypes()) {
    auto x = make_array({0, 1, 5, -3}, d);
    if (is_float(d) || d == complex64) {
      EXPECT_THROW(bitwise_invert(x, s), std::invalid_argument) << name(d);
      continue;
    }
    auto y = bitwise_invert(x, s);
    EXPECT_EQ(y.dtype(), d);
    std::vector<ld> want;
    for (ld v : exact_values(x)) {
      want.push_back(d == bool_ ? (v == 0) : static_cast<ld>(wrap(~static_cast<i128>(v), d)));
    }
    EXPECT_EQ(exact_values(y), want) << name(d);
    EXPECT_EQ(exact_values((~x)), want);
  }
  // real, imag and conjugate of real inputs
  auto r = array({1.5f, -2.0f});
  EXPECT_EQ(real(r, s).id(), r.id());
  EXPECT_EQ(conjugate(r, s).id(), r.id());
  EXPECT_EQ(exact_values(imag(r, s)), (std::vector<ld>{0, 0}));
}

// ---- binary ops ----

// Evaluates op over a and b broadcast against each other and compares with
// ref applied to the broadcast values. Shapes up to 2-D.
struct BinaryCheck {
  Dtype out = bool_;
  std::function<ld(ld, ld)> ref;
  double rtol_scale = 1;
};

// The values of an array of shape `from` broadcast to `to`, row-major.
std::vector<ld> broadcast_values(const std::vector<ld>& v, const Shape& from, const Shape& to) {
  size_t nd = to.size();
  Shape f(nd - from.size(), 1);
  f.insert(f.end(), from.begin(), from.end());
  std::vector<int64_t> fstride(nd, 0);
  for (int64_t d = static_cast<int64_t>(nd) - 1, st = 1; d >= 0; --d) {
    fstride[d] = f[d] == 1 ? 0 : st;
    st *= f[d];
  }
  int64_t total = 1;
  for (auto e : to) total *= e;
  std::vector<ld> out;
  for (int64_t i = 0; i < total; ++i) {
    int64_t rem = i, src = 0;
    for (int64_t d = static_cast<int64_t>(nd) - 1; d >= 0; --d) {
      src += (rem % to[d]) * fstride[d];
      rem /= to[d];
    }
    out.push_back(v[src]);
  }
  return out;
}

void check_binary(const char* what, BinaryFnPtr op, const array& a, const array& b,
                  const BinaryCheck& c, StreamOrDevice s) {
  auto y = op(a, b, s);
  ASSERT_EQ(y.dtype(), c.out) << what;
  Shape shape = broadcast_shapes(a.shape(), b.shape());
  ASSERT_EQ(y.shape(), shape) << what;
  auto av = broadcast_values(exact_values(a), a.shape(), shape);
  auto bv = broadcast_values(exact_values(b), b.shape(), shape);
  std::vector<ld> want;
  for (size_t i = 0; i < av.size(); ++i) want.push_back(c.ref(av[i], bv[i]));
  expect_values(exact_values(y), want, c.out, what, c.rtol_scale);
}

// Runs check_binary on x, y (1-D, same length n) in four layouts: dense,
// scalar right, scalar left, and a column against a row.
void check_binary_layouts(const std::string& what, BinaryFnPtr op, const array& x, const array& y,
                          const BinaryCheck& c, StreamOrDevice s) {
  int n = x.shape(0);
  check_binary((what + " dense").c_str(), op, x, y, c, s);
  auto y0 = broadcast_to(astype(array(static_cast<double>(exact_values(y)[n / 2]), float64), y.dtype(),
                                Device::cpu),
                         {1}, s);
  check_binary((what + " scalar right").c_str(), op, x, y0, c, s);
  check_binary((what + " scalar left").c_str(), op, y0, x, c, s);
  auto col = broadcast_to(x, {1, n}, s);
  std::vector<ld> yv = exact_values(y);
  std::vector<double> ycol(yv.begin(), yv.begin() + std::min(n, 4));
  auto ycolumn = make_array(ycol, {static_cast<int>(ycol.size()), 1}, y.dtype());
  check_binary((what + " column x row").c_str(), op, ycolumn, col, c, s);
}

// Value sets for binary tests of dtype d: pairs (x[i], y[i]).
std::pair<std::vector<double>, std::vector<double>> binary_samples(Dtype d) {
  if (d == bool_) return {{0, 0, 1, 1}, {0, 1, 0, 1}};
  if (is_int(d)) {
    std::vector<double> x = {7, -7, 7, -7, 0, 100, -100, 13, 120, -128, 255, 6, -1, 3, 2};
    std::vector<double> y = {2, 2, -2, -2, 3, 7, 7, -5, -27, -1, 3, 0, 5, 4, 1};
    x.push_back(static_cast<double>(int_max(d)));
    y.push_back(2);
    x.push_back(static_cast<double>(int_min(d)));
    y.push_back(3);
    for (auto& v : x) v = static_cast<double>(wrap(static_cast<i128>(v), d));
    for (auto& v : y) v = static_cast<double>(wrap(static_cast<i128>(v), d));
    return {x, y};
  }
  return {{1.5, -2.25, 3.0, 0.5, -0.75, 10.0, -7.5, 0.0, 2.0, -3.0, 5.5, 0.25},
          {2.0, 1.5, -0.5, 4.0, -2.0, 3.0, 2.5, 1.0, -8.0, -0.25, 5.5, 0.75}};
}

i128 floor_div(i128 a, i128 b) {
  i128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Arithmetic references of dtype d: integers exact then wrapped, floats in
// long double (then compared at d's precision).
struct ArithCase {
  const char* name;
  BinaryFnPtr op;
  std::function<i128(i128, i128, Dtype)> int_ref;  // before wrapping
  std::function<ld(ld, ld)> float_ref;
  std::function<bool(bool, bool)> bool_ref;
  bool float_out;  // output is at_least_float (divide)
};

i128 int_pow(i128 a, i128 b, Dtype d) {
  if (b < 0) return 0;  // as MLX
  i128 r = 1;
  for (; b > 0; b >>= 1, a = wrap(wrapping_mul(a, a), d)) {
    if (b & 1) r = wrap(wrapping_mul(r, a), d);
  }
  return r;
}

const std::vector<ArithCase>& arith_cases() {
  static const std::vector<ArithCase> cases = {
      {"add", &lumen::add, [](i128 a, i128 b, Dtype) { return a + b; }, [](ld a, ld b) { return a + b; },
       [](bool a, bool b) { return a || b; }, false},
      {"subtract", &lumen::subtract, [](i128 a, i128 b, Dtype) { return a - b; },
       [](ld a, ld b) { return a - b; }, [](bool a, bool b) { return a != b; }, false},
      {"multiply", &lumen::multiply, [](i128 a, i128 b, Dtype) { return wrapping_mul(a, b); },
       [](ld a, ld b) { return a * b; }, [](bool a, bool b) { return a && b; }, false},
      {"divide", &lumen::divide, nullptr, [](ld a, ld b) { return a / b; }, nullptr, true},
      // MLX 846d176: integer floor_divide truncates toward zero; 0 for / 0
      {"floor_divide", &lumen::floor_divide,
       [](i128 a, i128 b, Dtype) { return b == 0 ? i128(0) : a / b; },
       [](ld a, ld b) { return std::floor(a / b); }, [](bool a, bool b) { return a && b; }, false},
      // the remainder takes the divisor's sign; 0 for % 0
      {"remainder", &lumen::remainder,
       [](i128 a, i128 b, Dtype) { return b == 0 ? i128(0) : a - b * floor_div(a, b); },
       [](ld a, ld b) { return a - b * std::floor(a / b); }, [](bool, bool) { return false; }, false},
      {"power", &lumen::power, int_pow, [](ld a, ld b) { return std::pow(a, b); },
       [](bool a, bool b) { return a || !b; }, false},
      {"maximum", &lumen::maximum, [](i128 a, i128 b, Dtype) { return std::max(a, b); },
       [](ld a, ld b) { return std::isnan(a) || std::isnan(b) ? ld(NAN) : std::max(a, b); },
       [](bool a, bool b) { return a || b; }, false},
      {"minimum", &lumen::minimum, [](i128 a, i128 b, Dtype) { return std::min(a, b); },
       [](ld a, ld b) { return std::isnan(a) || std::isnan(b) ? ld(NAN) : std::min(a, b); },
       [](bool a, bool b) { return a && b; }, false},
  };
  return cases;
}

LUMEN_DEVICE_TEST(Elementwise, ArithmeticEveryDtype) {
  for (auto& c : arith_cases()) {
    for (Dtype d : all_dtypes()) {
      if (d == complex64 || (d == float64 && on_gpu)) continue;
      auto [xs, ys] = binary_samples(d);
      if (std::string(c.name) == "power" && !is_float(d)) {
        // small exponents, and -1 for signed types (giving 0, as MLX)
        for (auto& y : ys) y = std::fmod(std::fabs(y), 9.0) - (y < 0 ? 1 : 0);
        if (issubdtype(d, unsignedinteger)) {
          for (auto& y : ys) y = std::fabs(y);
        }
        if (d == bool_) ys = {0, 1, 0, 1};
      }
      auto x = make_array(xs, d), y = make_array(ys, d);
      BinaryCheck chk;
      chk.out = c.float_out ? at_least_float(d) : d;
      if (d == bool_ && !c.float_out) {
        chk.ref = [&](ld a, ld b) { return ld(c.bool_ref(a != 0, b != 0)); };
      } else if (is_int(d) && !c.float_out) {
        chk.ref = [&, d = d](ld a, ld b) {
          return static_cast<ld>(wrap(c.int_ref(static_cast<i128>(a), static_cast<i128>(b), d), d));
        };
      } else {
        chk.ref = c.float_ref;
      }
      check_binary_layouts(std::string(c.name) + " " + name(d), c.op, x, y, chk, s);
    }
  }
}

LUMEN_DEVICE_TEST(Elementwise, FloatBinaryOpsAndSpecialValues) {
  for (Dtype d : {float16, bfloat16, float32, float64}) {
    if (d == float64 && on_gpu) continue;
    auto [xs, ys] = binary_samples(d);
    auto x = make_array(xs, d), y = make_array(ys, d);
    check_binary_layouts("arctan2 " + name(d), &lumen::arctan2, x, y,
                         {d, [](ld a, ld b) { return std::atan2(a, b); }, 2}, s);
    check_binary_layouts("logaddexp " + name(d), &lumen::logaddexp, x, y,
                         {d, [](ld a, ld b) { return std::log(std::exp(a) + std::exp(b)); }, 2}, s);
  }
  auto a = array({1.0f, NAN, 2.0f, INFINITY, -INFINITY, -INFINITY, INFINITY, 0.0f});
  auto b = array({NAN, 1.0f, 1.0f, INFINITY, -INFINITY, 3.0f, -INFINITY, -0.0f});
  auto mx = exact_values(maximum(a, b, s)), mn = exact_values(minimum(a, b, s));
  EXPECT_TRUE(std::isnan(mx[0]) && std::isnan(mx[1]) && std::isnan(mn[0]) && std::isnan(mn[1]));
  EXPECT_EQ(mx[2], 2);
  EXPECT_EQ(mn[2], 1);
  auto lae = exact_values(logaddexp(a, b, s));
  EXPECT_TRUE(std::isnan(lae[0]) && std::isnan(lae[1]));
  EXPECT_EQ(lae[3], inf);
  EXPECT_EQ(lae[4], -inf);
  EXPECT_EQ(lae[5], 3);
  EXPECT_EQ(lae[6], inf);
  auto dv = exact_values(divide(array({1.0f, -1.0f, 0.0f}), array({0.0f, 0.0f, 0.0f}), s));
  EXPECT_EQ(dv[0], inf);
  EXPECT_EQ(dv[1], -inf);
  EXPECT_TRUE(std::isnan(dv[2]));
  // remainder with an infinite divisor keeps the dividend's value or moves it
  auto rv = exact_values(remainder(array({5.0f, -5.0f}), array({INFINITY, INFINITY}), s));
  EXPECT_EQ(rv[0], 5);
  EXPECT_EQ(rv[1], inf);
}

LUMEN_DEVICE_TEST(Elementwise, IntegerDivisionSemantics) {
  // MLX 846d176: floor_divide truncates, remainder and divmod floor
  auto a = array({-7, 7, -7, 7, -1, 1, -5, 5, 9, 0}, int32);
  auto b = array({2, 2, -2, -2, 3, -3, 3, -3, 0, 0}, int32);
  EXPECT_EQ(exact_values(floor_divide(a, b, s)), (std::vector<ld>{-3, 3, 3, -3, 0, 0, -1, -1, 0, 0}));
  EXPECT_EQ(exact_values(remainder(a, b, s)), (std::vector<ld>{1, 1, -1, -1, 2, -2, 1, -1, 0, 0}));
  EXPECT_EQ(exact_values(a % b), (std::vector<ld>{1, 1, -1, -1, 2, -2, 1, -1, 0, 0}));
  auto qr = divmod(a, b, s);
  ASSERT_EQ(qr.size(), 2u);
  EXPECT_EQ(primitive_counts(qr).at("DivMod"), 1);  // one primitive, two outputs
  EXPECT_EQ(exact_values(qr[0]), (std::vector<ld>{-4, 3, 3, -4, -1, -1, -2, -2, 0, 0}));
  EXPECT_EQ(exact_values(qr[1]), (std::vector<ld>{1, 1, -1, -1, 2, -2, 1, -1, 0, 0}));
  // the most negative value divided by -1 wraps instead of trapping
  auto m = array({std::numeric_limits<int32_t>::min()}, int32);
  auto neg1 = array({-1}, int32);
  EXPECT_EQ(exact_values(floor_divide(m, neg1, s))[0], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(exact_values(remainder(m, neg1, s))[0], 0);
  // divmod of every dtype but complex, against floor division in 128 bits
  for (Dtype d : all_dtypes()) {
    if (d == complex64 || (d == float64 && on_gpu)) continue;
    auto [xs, ys] = binary_samples(d);
    auto x = make_array(xs, d), y = make_array(ys, d);
    auto out = divmod(x, y, s);
    ASSERT_EQ(out[0].dtype(), d);
    auto xv = exact_values(x), yv = exact_values(y);
    std::vector<ld> q, r;
    for (size_t i = 0; i < xv.size(); ++i) {
      if (is_int(d)) {
        i128 xi = static_cast<i128>(xv[i]), yi = static_cast<i128>(yv[i]);
        q.push_back(yi == 0 ? 0 : static_cast<ld>(wrap(floor_div(xi, yi), d)));
        r.push_back(yi == 0 ? 0 : static_cast<ld>(wrap(xi - yi * floor_div(xi, yi), d)));
      } else if (d == bool_) {
        q.push_back(xv[i] != 0 && yv[i] != 0);
        r.push_back(0);
      } else {
        q.push_back(std::floor(xv[i] / yv[i]));
        r.push_back(xv[i] - yv[i] * std::floor(xv[i] / yv[i]));
      }
    }
    expect_values(exact_values(out[0]), q, d, "divmod quotient " + name(d));
    expect_values(exact_values(out[1]), r, d, "divmod remainder " + name(d));
  }
}

LUMEN_DEVICE_TEST(Elementwise, PromotionAndScalarOperators) {
  auto i8 = array({1, 2}, int8);
  auto u8 = array({1, 2}, uint8);
  EXPECT_EQ(add(i8, u8, s).dtype(), int16);
  EXPECT_EQ(add(array({1}, uint64), array({1}, int8), s).dtype(), float32);
  EXPECT_EQ(add(array({1}, int64), array({1.0f}, float16), s).dtype(), float16);
  EXPECT_EQ(add(array({1.0f}, bfloat16), array({1.0f}, float16), s).dtype(), float32);
  EXPECT_EQ(divide(i8, u8, s).dtype(), float32);
  EXPECT_EQ(divide(array({1}, float16), array({2}, float16), s).dtype(), float16);
  EXPECT_EQ(arctan2(i8, i8, s).dtype(), float32);
  EXPECT_EQ(sqrt(array({4}, int64), s).dtype(), float32);
  EXPECT_EQ(sqrt(array({4}, float64), s).dtype(), float64);
  EXPECT_EQ(equal(i8, u8, s).dtype(), bool_);
  // scalars take their C++ type (double makes float32), as MLX's operators
  auto h = array({1.0f, 2.0f}, float16);
  EXPECT_EQ((h + 1).dtype(), float16);
  EXPECT_EQ((h * 2.0f).dtype(), float32);
  EXPECT_EQ((h / 2).dtype(), float32);  // operator/ takes double
  EXPECT_EQ((2 - h).dtype(), float16);
  EXPECT_EQ((i8 + 1).dtype(), int32);
  EXPECT_EQ((i8 * int8_t(3)).dtype(), int8);
  EXPECT_EQ((h == float16_t(1.0f)).dtype(), bool_);
  EXPECT_EQ(exact_values(h * 2.0f), (std::vector<ld>{2, 4}));
  EXPECT_EQ(exact_values(10 - i8), (std::vector<ld>{9, 8}));
  EXPECT_EQ(exact_values(3.0 / array({2.0f, 4.0f})), (std::vector<ld>{1.5, 0.75}));
  EXPECT_EQ(exact_values(array({5, 6}) % 4), (std::vector<ld>{1, 2}));
  EXPECT_EQ(exact_values(array({5, 6}) > 5), (std::vector<ld>{0, 1}));
  EXPECT_EQ(exact_values(5 >= array({5, 6})), (std::vector<ld>{1, 0}));
  EXPECT_EQ(exact_values(-array({5, -6})), (std::vector<ld>{-5, 6}));
  EXPECT_EQ(exact_values(!array({true, false})), (std::vector<ld>{0, 1}));
  auto z = array(complex64_t(1.0f, 1.0f)) * 2.0f;
  EXPECT_EQ(z.dtype(), complex64);
  EXPECT_EQ(complex_values(z)[0], std::complex<double>(2, 2));
}

LUMEN_DEVICE_TEST(Elementwise, ComplexArithmetic) {
  using C = std::complex<double>;
  std::vector<complex64_t> xs = {{1, 2}, {-0.5f, 0.25f}, {3, -1}}, ys = {{0.5f, -1}, {2, 2}, {-1, 0}};
  auto x = array(xs.begin(), {3}, complex64), y = array(ys.begin(), {3}, complex64);
  struct Case {
    const char* name;
    BinaryFnPtr op;
    C (*ref)(C, C);
  };
  for (auto& c : std::vector<Case>{{"add", &lumen::add, [](C a, C b) { return a + b; }},
                                   {"subtract", &lumen::subtract, [](C a, C b) { return a - b; }},
                                   {"multiply", &lumen::multiply, [](C a, C b) { return a * b; }},
                                   {"divide", &lumen::divide, [](C a, C b) { return a / b; }},
                                   {"power", &lumen::power, [](C a, C b) { return std::pow(a, b); }}}) {
    auto got = complex_values(c.op(x, y, s));
    for (size_t i = 0; i < xs.size(); ++i) {
      C want = c.ref(C(xs[i]), C(ys[i]));
      EXPECT_LE(std::abs(got[i] - want), 1e-5 * (1 + std::abs(want))) << c.name << " " << i;
    }
  }
  // lexicographic order, as MLX
  auto mx = complex_values(maximum(x, y, s));
  EXPECT_EQ(mx[0], C(1, 2));
  EXPECT_EQ(mx[1], C(2, 2));
  auto a = array(std::vector<complex64_t>{{1, 1}, {1, 2}, {2, 0}}.begin(), {3}, complex64);
  auto b = array(std::vector<complex64_t>{{1, 2}, {1, 2}, {1, 5}}.begin(), {3}, complex64);
  EXPECT_EQ(exact_values(less(a, b, s)), (std::vector<ld>{1, 0, 0}));
  EXPECT_EQ(exact_values(less_equal(a, b, s)), (std::vector<ld>{1, 1, 0}));
  EXPECT_EQ(exact_values(greater(a, b, s)), (std::vector<ld>{0, 0, 1}));
  EXPECT_EQ(exact_values(equal(a, b, s)), (std::vector<ld>{0, 1, 0}));
  EXPECT_THROW(remainder(x, y, s), std::invalid_argument);
  EXPECT_THROW(divmod(x, y, s), std::invalid_argument);
  EXPECT_THROW(arctan2(x, y, s), std::invalid_argument);
  EXPECT_THROW(floor_divide(x, y, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Elementwise, ComparisonsEveryDtype) {
  struct Case {
    const char* name;
    BinaryFnPtr op;
    bool (*ref)(ld, ld);
  };
  const std::vector<Case> cases = {
      {"equal", &lumen::equal, [](ld a, ld b) { return a == b; }},
      {"not_equal", &lumen::not_equal, [](ld a, ld b) { return a != b; }},
      {"less", &lumen::less, [](ld a, ld b) { return a < b; }},
      {"less_equal", &lumen::less_equal, [](ld a, ld b) { return a <= b; }},
      {"greater", &lumen::greater, [](ld a, ld b) { return a > b; }},
      {"greater_equal", &lumen::greater_equal, [](ld a, ld b) { return a >= b; }},
  };
  for (auto& c : cases) {
    for (Dtype d : all_dtypes()) {
      if (d == complex64 || (d == float64 && on_gpu)) continue;
      auto [xs, ys] = binary_samples(d);
      if (is_float(d)) {
        xs.insert(xs.end(), {nan, 1.0, nan, inf, -inf, 2.0});
        ys.insert(ys.end(), {1.0, nan, nan, inf, inf, 2.0});
      }
      auto x = make_array(xs, d), y = make_array(ys, d);
      check_binary_layouts(std::string(c.name) + " " + name(d), c.op, x, y,
                           {bool_, [&](ld a, ld b) { return ld(c.ref(a, b)); }}, s);
    }
  }
}

LUMEN_DEVICE_TEST(Elementwise, LogicalOpsEveryDtype) {
  for (Dtype d : all_dtypes()) {
    if (d == float64 && on_gpu) continue;
    std::vector<double> xs = {0, 0, 1, 1, 2, -3}, ys = {0, 1, 0, 1, 0, 5};
    if (is_float(d) || d == complex64) {
      xs.push_back(nan);  // NaN is true
      ys.push_back(0);
    }
    auto x = make_array(xs, d), y = make_array(ys, d);
    // the values as stored (e.g. -3 saturates to 0 in unsigned types)
    auto xv = d == complex64 ? std::vector<ld>(xs.begin(), xs.end()) : exact_values(x);
    auto yv = d == complex64 ? std::vector<ld>(ys.begin(), ys.end()) : exact_values(y);
    auto check = [&](const char* what, const array& got, bool (*f)(bool, bool)) {
      ASSERT_EQ(got.dtype(), bool_);
      std::vector<ld> want;
      for (size_t i = 0; i < xs.size(); ++i) want.push_back(f(xv[i] != 0, yv[i] != 0));
      EXPECT_EQ(exact_values(got), want) << what << " " << name(d);
    };
    check("logical_and", logical_and(x, y, s), [](bool a, bool b) { return a && b; });
    check("logical_or", logical_or(x, y, s), [](bool a, bool b) { return a || b; });
    check("logical_xor", logical_xor(x, y, s), [](bool a, bool b) { return a != b; });
    check("&&", x && y, [](bool a, bool b) { return a && b; });
    check("||", x || y, [](bool a, bool b) { return a || b; });
  }
}

LUMEN_DEVICE_TEST(Elementwise, BitwiseOpsEveryDtype) {
  struct Case {
    const char* name;
    BinaryFnPtr op;
    std::function<i128(i128, i128, Dtype)> ref;
  };
  auto shift_ok = [](i128 b, Dtype d) { return b >= 0 && b < bits(d); };
  const std::vector<Case> cases = {
      {"bitwise_and", &lumen::bitwise_and, [](i128 a, i128 b, Dtype) { return a & b; }},
      {"bitwise_or", &lumen::bitwise_or, [](i128 a, i128 b, Dtype) { return a | b; }},
      {"bitwise_xor", &lumen::bitwise_xor, [](i128 a, i128 b, Dtype) { return a ^ b; }},
      {"left_shift", &lumen::left_shift,
       [=](i128 a, i128 b, Dtype d) { return shift_ok(b, d) ? a * (i128(1) << b) : i128(0); }},
      {"right_shift", &lumen::right_shift, [=](i128 a, i128 b, Dtype d) {
         // arithmetic shift; past the width: the sign
         return shift_ok(b, d) ? floor_div(a, i128(1) << b) : (a < 0 ? i128(-1) : i128(0));
       }},
  };
  for (auto& c : cases) {
    bool shift = std::string(c.name).find("shift") != std::string::npos;
    for (Dtype d : all_dtypes()) {
      std::vector<double> xs = {0, 1, 5, 12, -3, 100, -128, 255, 77, -1, 9, 6};
      std::vector<double> ys = {1, 3, 2, 10, 1, 3, 3, 7, 0, 70, -1, 64};
      auto x = make_array(xs, d), y = make_array(ys, d);
      if (is_float(d) || d == complex64) {
        try {
          c.op(x, y, s);
          ADD_FAILURE() << c.name << " of " << name(d) << " did not throw";
        } catch (const std::invalid_argument& e) {
          std::string msg = e.what();
          EXPECT_NE(msg.find(c.name), std::string::npos) << msg;
          EXPECT_NE(msg.find(name(d)), std::string::npos) << msg;
        }
        continue;
      }
      Dtype out = d == bool_ && shift ? uint8 : d;
      BinaryCheck chk{out, [&, out](ld a, ld b) {
                        i128 r = c.ref(static_cast<i128>(a), static_cast<i128>(b), out);
                        return out == bool_ ? ld(r != 0) : static_cast<ld>(wrap(r, out));
                      }};
      check_binary_layouts(std::string(c.name) + " " + name(d), c.op, x, y, chk, s);
    }
  }
  auto a = array({12, 10}, int32), b = array({10, 6}, int32);
  EXPECT_EQ(exact_values(a & b), (std::vector<ld>{8, 2}));
  EXPECT_EQ(exact_values(a | b), (std::vector<ld>{14, 14}));
  EXPECT_EQ(exact_values(a ^ b), (std::vector<ld>{6, 12}));
  EXPECT_EQ(exact_values(a << array({1, 2})), (std::vector<ld>{24, 40}));
  EXPECT_EQ(exact_values(a >> array({1, 2})), (std::vector<ld>{6, 2}));
}

LUMEN_DEVICE_TEST(Elementwise, WhereEveryDtypeAndBroadcast) {
  for (Dtype d : all_dtypes()) {
    if (d == float64 && on_gpu) continue;
    auto x = make_array({1, 2, 3, 4, 5, 6}, {2, 3}, d);
    auto y = make_array({-1, -2, -3}, {1, 3}, d);  // a broadcast row
    auto cond = array({1, 0, 2, 0, 0, 7}, {2, 3}, int32);  // nonzero is true
    auto w = where(cond, x, y, s);
    EXPECT_EQ(w.dtype(), d);
    auto want = make_array({1, -2, 3, -1, -2, 6}, {2, 3}, d);
    if (d == complex64) {
      EXPECT_EQ(complex_values(w), complex_values(want));
    } else {
      EXPECT_EQ(exact_values(w), exact_values(want)) << name(d);
    }
    // a scalar condition and scalar branches
    auto w2 = where(array(false), x, make_array({9}, d), s);
    EXPECT_EQ(w2.shape(), (Shape{2, 3}));
    if (d != complex64) {
      EXPECT_EQ(exact_values(w2), std::vector<ld>(6, d == bool_ ? 1 : 9));
    }
  }
  // branch dtypes promote
  auto w = where(array({true, false}), array({1, 2}, int8), array({0.5f, 1.5f}), s);
  EXPECT_EQ(w.dtype(), float32);
  EXPECT_EQ(exact_values(w), (std::vector<ld>{1, 1.5}));
  EXPECT_THROW(where(array({true, false, true}), array({1, 2}), array(0), s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Elementwise, Clip) {
  auto x = array({-5.0f, -1.0f, 0.5f, 3.0f, 10.0f, NAN});
  auto v = exact_values(clip(x, array(-1.0f), array(2.0f), s));
  EXPECT_EQ(std::vector<ld>(v.begin(), v.end() - 1), (std::vector<ld>{-1, -1, 0.5, 2, 2}));
  EXPECT_TRUE(std::isnan(v.back()));
  EXPECT_EQ(exact_values(clip(x, array(0.0f), std::nullopt, s))[0], 0);
  EXPECT_EQ(exact_values(clip(x, std::nullopt, array(0.0f), s))[4], 0);
  // bounds broadcast, and promote with x
  auto xi = array({1, 5, 9, 12}, {2, 2}, int32);
  auto c = clip(xi, array({2, 6}, int32), array(10.0f), s);
  EXPECT_EQ(c.dtype(), float32);
  EXPECT_EQ(exact_values(c), (std::vector<ld>{2, 6, 9, 10}));
  EXPECT_THROW(clip(x, std::nullopt, std::nullopt, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Elementwise, IsClose) {
  auto a = array({1.0f, 1.0f, INFINITY, INFINITY, NAN, 0.0f, 100.0f});
  auto b = array({1.000001f, 1.1f, INFINITY, -INFINITY, NAN, 1e-9f, 100.001f});
  EXPECT_EQ(exact_values(isclose(a, b, 1e-5, 1e-8, false, s)), (std::vector<ld>{1, 0, 1, 0, 0, 1, 1}));
  EXPECT_EQ(exact_values(isclose(a, b, 1e-5, 1e-8, true, s)), (std::vector<ld>{1, 0, 1, 0, 1, 1, 1}));
  EXPECT_EQ(exact_values(isclose(a, b, 0.2, 0.0, false, s))[1], 1);
}

// ---- astype between all pairs ----

// The conversion rules, from an exact value: to bool != 0; float to integer
// truncates, saturates and sends NaN to 0; integers wrap; to float rounds
// to nearest (halves through float32, as MLX).
ld convert_reference(ld v, Dtype from, Dtype to) {
  if (to == bool_) return v != 0;
  if (is_int(to)) {
    if (std::isnan(v)) return 0;
    if (is_int(from) || from == bool_) return static_cast<ld>(wrap(static_cast<i128>(v), to));
    ld t = std::trunc(v);
    if (t <= static_cast<ld>(int_min(to))) return static_cast<ld>(int_min(to));
    if (t >= static_cast<ld>(int_max(to))) return static_cast<ld>(int_max(to));
    return t;
  }
  switch (to) {
    case float16: return static_cast<float>(float16_t(static_cast<float>(v)));
    case bfloat16: return static_cast<float>(bfloat16_t(static_cast<float>(v)));
    case float32: return static_cast<float>(v);
    default: return static_cast<double>(v);  // float64, and complex64's real part
  }
}

LUMEN_DEVICE_TEST(Elementwise, AsTypeAllPairs) {
  const std::vector<double> vals = {0,      1,     -1,   2.5,   -2.5,  3.7,    -3.7,        100,
                                    200,    300,   -129, 65504, 65520, 1e10,   -1e10,       0.1,
                                    1e-8,   1e20,  nan,  inf,   -inf,  4294967296.0, -32769, 1 / 3.0};
  for (Dtype from : all_dtypes()) {
    if (from == float64 && on_gpu) continue;
    auto x = make_array(vals, from);
    for (Dtype to : all_dtypes()) {
      if (to == float64 && on_gpu) continue;
      auto y = astype(x, to, s);
      ASSERT_EQ(y.dtype(), to);
      std::string what = "astype " + name(from) + " -> " + name(to);
      if (from == complex64 || to == complex64) {
        // complex <-> real: the real part; to complex: an imaginary 0
        if (to == complex64) {
          auto got = complex_values(y);
          std::vector<ld> src = from == complex64 ? std::vector<ld>() : exact_values(x);
          for (size_t i = 0; i < got.size() && from != complex64; ++i) {
            EXPECT_EQ(got[i].imag(), 0) << what;
            ld want = static_cast<float>(src[i]);
            EXPECT_TRUE(got[i].real() == want || (std::isnan(want) && std::isnan(got[i].real())))
                << what << " [" << i << "]";
          }
        } else {
          auto src = complex_values(x);
          auto got = exact_values(y);
          for (size_t i = 0; i < got.size(); ++i) {
            ld want = convert_reference(src[i].real(), float32, to);
            EXPECT_TRUE(got[i] == want || (std::isnan(want) && std::isnan(got[i])))
                << what << " [" << i << "]: " << static_cast<double>(got[i]);
          }
        }
        continue;
      }
      auto src = exact_values(x);
      std::vector<ld> want;
      for (ld v : src) want.push_back(convert_reference(v, from, to));
      auto got = exact_values(y);
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(got[i] == want[i] || (std::isnan(want[i]) && std::isnan(got[i])))
            << what << " [" << i << "]: got " << static_cast<double>(got[i]) << " want "
            << static_cast<double>(want[i]) << " from " << static_cast<double>(src[i]);
      }
      // through a broadcast view too
      auto yb = astype(broadcast_to(x, {2, static_cast<int>(vals.size())}, s), to, s);
      auto gb = exact_values(yb);
      ASSERT_EQ(gb.size(), 2 * got.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(gb[i + got.size()] == got[i] || std::isnan(got[i])) << what << " broadcast";
      }
    }
  }
  auto same = array({1.0f});
  EXPECT_EQ(astype(same, float32, s).id(), same.id());  // no-op, as MLX
}

// ---- broadcasting, strided inputs and big inputs ----

LUMEN_DEVICE_TEST(Elementwise, BroadcastShapes) {
  auto ramp = [](int n, double start) {
    std::vector<double> v(n);
    for (int i = 0; i < n; ++i) v[i] = start + i;
    return v;
  };
  struct Case {
    Shape a, b, out;
  };
  for (auto& c : std::vector<Case>{{{2, 1, 4}, {3, 1}, {2, 3, 4}},
                                   {{4}, {2, 3, 4}, {2, 3, 4}},
                                   {{3, 1}, {1, 5}, {3, 5}},
                                   {{}, {2, 2}, {2, 2}},
                                   {{1, 1, 1}, {6}, {1, 1, 6}},
                                   {{2, 1, 3, 1}, {1, 4, 1, 5}, {2, 4, 3, 5}},
                                   {{0, 3}, {1, 3}, {0, 3}}}) {
    int na = 1, nb = 1;
    for (auto d : c.a) na *= d;
    for (auto d : c.b) nb *= d;
    auto a = make_array(ramp(na, 1), c.a, float32);
    auto b = make_array(ramp(nb, 100), c.b, float32);
    auto y = subtract(a, b, s);
    ASSERT_EQ(y.shape(), c.out);
    auto av = broadcast_values(exact_values(a), c.a, c.out);
    auto bv = broadcast_values(exact_values(b), c.b, c.out);
    std::vector<ld> want;
    for (size_t i = 0; i < av.size(); ++i) want.push_back(av[i] - bv[i]);
    EXPECT_EQ(exact_values(y), want) << ::testing::PrintToString(c.a) << " - " << ::testing::PrintToString(c.b);
  }
  try {
    add(array({1, 2, 3}), array({1, 2, 3, 4}), s);
    ADD_FAILURE() << "no throw";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("(3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(4)"), std::string::npos) << msg;
  }
  EXPECT_THROW(multiply(zeros({2, 3}), zeros({3, 2}), s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Elementwise, StridedAndLargeInputsAcrossThreads) {
  // big enough for several parallel chunks, with runs split mid-row: a
  // column broadcast (inner stride 0), a row broadcast, a middle-axis
  // broadcast, and a dense operand
  const int rows = 257, cols = 301;
  std::vector<double> cv(rows), rv(cols), dv(rows * cols);
  for (int i = 0; i < rows; ++i) cv[i] = i;
  for (int j = 0; j < cols; ++j) rv[j] = 1000.0 * j;
  for (int k = 0; k < rows * cols; ++k) dv[k] = 0.5 * (k % 97);
  auto col = make_array(cv, {rows, 1}, float32);
  auto row = make_array(rv, {1, cols}, float32);
  auto dense = make_array(dv, {rows, cols}, float32);
  auto y = add(add(col, row, s), dense, s);
  auto got = exact_values(y);
  ASSERT_EQ(got.size(), size_t(rows * cols));
  int bad = 0;
  for (int i = 0; i < rows && bad < 5; ++i) {
    for (int j = 0; j < cols && bad < 5; ++j) {
      ld want = static_cast<ld>(static_cast<float>(cv[i] + rv[j])) + dv[i * cols + j];
      if (got[i * cols + j] != static_cast<float>(want)) {
        ++bad;
        ADD_FAILURE() << i << "," << j << ": " << static_cast<double>(got[i * cols + j]);
      }
    }
  }
  // middle-axis broadcast: {4, 1, 3} against {4, 5, 3}, 2 * 60 * 1000 elements
  auto m = make_array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {4, 1, 3}, int32);
  auto big = broadcast_to(make_array({2}, int32), {4, 5, 3}, s);
  auto prod = multiply(m, big, s);
  std::vector<ld> want;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 5; ++j) {
      for (int k = 0; k < 3; ++k) want.push_back(2 * (i * 3 + k + 1));
    }
  }
  EXPECT_EQ(exact_values(prod), want);
  // scalar on both sides of a large op; donation keeps values right
  auto ones_big = full({200000}, 3.0f, s);
  auto z = exp(multiply(ones_big, array(0.0f), s), s);
  auto zv = exact_values(z);
  EXPECT_EQ(zv.front(), 1);
  EXPECT_EQ(zv.back(), 1);
}

// Views of a 6 x 8 array: transposed (inner stride 8), sliced with steps
// and an offset, and a transposed slice; with their values as the test
// computes them from the base.
struct View {
  const char* name;
  std::function<array(const array&, StreamOrDevice)> make;
  Shape shape;
  std::function<int(int, int)> base_index;  // (i, j) of the view -> flat index in the base
};
const std::vector<View>& views() {
  static const std::vector<View> v = {
      {"transposed", [](const array& x, StreamOrDevice st) { return transpose(x, st); }, {8, 6},
       [](int i, int j) { return j * 8 + i; }},
      {"sliced", [](const array& x, StreamOrDevice st) { return slice(x, {1, 1}, {6, 8}, {2, 3}, st); },
       {3, 3}, [](int i, int j) { return (1 + 2 * i) * 8 + 1 + 3 * j; }},
      {"sliced transposed",
       [](const array& x, StreamOrDevice st) { return transpose(slice(x, {0, 2}, {5, 8}, st), st); },
       {6, 5}, [](int i, int j) { return j * 8 + 2 + i; }},
      {"row slice", [](const array& x, StreamOrDevice st) { return slice(x, {2, 0}, {4, 8}, st); },
       {2, 8}, [](int i, int j) { return (2 + i) * 8 + j; }},
  };
  return v;
}

std::vector<ld> view_values(const std::vector<ld>& base, const View& v) {
  std::vector<ld> out;
  for (int i = 0; i < v.shape[0]; ++i) {
    for (int j = 0; j < v.shape[1]; ++j) out.push_back(base[v.base_index(i, j)]);
  }
  return out;
}

LUMEN_DEVICE_TEST(Elementwise, TransposedAndSlicedInputsEveryDtype) {
  std::vector<double> xs(48), ys(64);
  for (int k = 0; k < 48; ++k) xs[k] = (k * 7) % 23 - 5;  // unsigned: negatives saturate to 0
  for (int k = 0; k < 64; ++k) ys[k] = (k * 5) % 17 - 3;
  for (Dtype d : all_dtypes()) {
    if (d == complex64 || (d == float64 && on_gpu)) continue;
    auto x = make_array(xs, {6, 8}, d), y = make_array(ys, {8, 8}, d);
    auto xb = exact_values(x), yb = exact_values(y);
    for (auto& v : views()) {
      auto xv = v.make(x, s);
      ASSERT_EQ(xv.shape(), v.shape) << v.name;
      auto want_x = view_values(xb, v);
      std::string what = std::string(v.name) + " " + name(d);
      // unary: a copy, a cast, and a float op
      EXPECT_EQ(exact_values(copy(xv, s)), want_x) << what;
      std::vector<ld> want_f;
      for (ld e : want_x) want_f.push_back(static_cast<float>(e));
      EXPECT_EQ(exact_values(astype(xv, float32, s)), want_f) << what;
      std::vector<ld> want_sq;
      for (ld e : want_x) {
        if (is_int(d)) want_sq.push_back(static_cast<ld>(wrap(static_cast<i128>(e) * static_cast<i128>(e), d)));
        else want_sq.push_back(d == bool_ ? e : e * e);
      }
      expect_values(exact_values(square(xv, s)), want_sq, d, "square " + what);
      // binary against a differently laid out operand of the same shape:
      // the other base transposed, cut to the view's shape
      auto other = slice(transpose(y, s), {0, 0}, {v.shape[0], v.shape[1]}, s);
      std::vector<ld> want_o;
      for (int i = 0; i < v.shape[0]; ++i) {
        for (int j = 0; j < v.shape[1]; ++j) want_o.push_back(yb[j * 8 + i]);
      }
      std::vector<ld> want_max, want_gt;
      for (size_t k = 0; k < want_x.size(); ++k) {
        want_max.push_back(std::max(want_x[k], want_o[k]));
        want_gt.push_back(want_x[k] > want_o[k]);
      }
      EXPECT_EQ(exact_values(maximum(xv, other, s)), want_max) << what;
      EXPECT_EQ(exact_values(greater(xv, other, s)), want_gt) << what;
      // and against a scalar, on both sides
      auto two = astype(array(2), d, s);
      std::vector<ld> want_min2;
      for (ld e : want_x) want_min2.push_back(std::min<ld>(e, d == bool_ ? 1 : 2));
      EXPECT_EQ(exact_values(minimum(xv, two, s)), want_min2) << what;
      EXPECT_EQ(exact_values(minimum(two, xv, s)), want_min2) << what;
      // where with a view as the condition
      std::vector<ld> want_w;
      for (size_t k = 0; k < want_x.size(); ++k) want_w.push_back(want_x[k] != 0 ? want_o[k] : want_x[k]);
      EXPECT_EQ(exact_values(where(xv, other, xv, s)), want_w) << what;
    }
  }
}

LUMEN_DEVICE_TEST(Elementwise, SliceOfAViewPastTwoToThe31) {
  // a row far into a 46341 x 46341 broadcast view: no element memory
  const int n = 46341;
  auto big = broadcast_to(astype(arange(n, s), uint8, s), {n, n}, s);
  auto last = slice(big, {n - 1, n - 5}, {n, n}, s);
  auto y = add(last, array(uint8_t(1)), s);
  ASSERT_EQ(y.shape(), (Shape{1, 5}));
  std::vector<ld> want;
  for (int j = n - 5; j < n; ++j) want.push_back(static_cast<uint8_t>(j % 256 + 1));
  EXPECT_EQ(exact_values(y), want);
}

// E4M3 values by their fields: (1 + m/8) 2^(e-7), subnormals m 2^-9.
double fp8_value(int bits) {
  int e = (bits >> 3) & 15, m = bits & 7;
  double v = e == 0 ? std::ldexp(m, -9) : std::ldexp(1 + m / 8.0, e - 7);
  return (bits & 0x80) ? -v : v;
}

LUMEN_DEVICE_TEST(Elementwise, Float8Conversions) {
  // every code decodes to its field value, in each floating dtype
  std::vector<double> codes(256);
  for (int b = 0; b < 256; ++b) codes[b] = b;
  auto x = make_array(codes, uint8);
  for (Dtype d : {float16, bfloat16, float32, float64}) {
    if (d == float64 && on_gpu) continue;
    auto f = from_fp8(x, d, s);
    ASSERT_EQ(f.dtype(), d);
    auto v = exact_values(f);
    for (int b = 0; b < 256; ++b) {
      ld want = stored_as(d, fp8_value(b));
      EXPECT_EQ(v[b], want) << "code " << b << " as " << name(d);
    }
  }
  // encoding: the nearest finite code (ties to the even mantissa), at most
  // +-448; NaN saturates too (as MLX)
  std::vector<double> vals = {0.0, -0.0, 1.0, -1.0, 0.3, 447.0, 448.0, 463.9, 464.0, 1e6, -1e6,
                              0.001953125, 0.0009765625, 0.0029296875, 0.00146484375, 1.0625, 1.1875,
                              -2.5, 0.015625, 0.0146484375, 3.14159, nan, inf, -inf};
  for (int i = 0; i < 400; ++i) vals.push_back(std::ldexp(1.0 + (i % 37) / 37.0, i % 19 - 11) * (i % 2 ? -1 : 1));
  for (Dtype d : {float16, bfloat16, float32, float64}) {
    if (d == float64 && on_gpu) continue;
    auto in = make_array(vals, d);
    auto q = to_fp8(in, s);
    ASSERT_EQ(q.dtype(), uint8);
    auto got = exact_values(q);
    auto src = exact_values(in);
    for (size_t i = 0; i < src.size(); ++i) {
      double a = static_cast<double>(static_cast<float>(src[i]));
      int want;
      if (std::isnan(a) || std::fabs(a) >= 464) {
        want = (std::signbit(a) ? 0x80 : 0) | 0x7e;
      } else {
        int best = 0;
        for (int b = 0; b < 0x7f; ++b) {
          double db = std::fabs(std::fabs(a) - fp8_value(b)), dbest = std::fabs(std::fabs(a) - fp8_value(best));
          if (db < dbest || (db == dbest && (b & 1) == 0)) best = b;
        }
        want = (std::signbit(a) ? 0x80 : 0) | best;
      }
      EXPECT_EQ(static_cast<int>(got[i]), want) << "to_fp8 of " << a << " from " << name(d);
    }
  }
  EXPECT_THROW(to_fp8(array({1, 2}), s), std::invalid_argument);
  EXPECT_THROW(from_fp8(array({1.0f}), float32, s), std::invalid_argument);
  EXPECT_THROW(from_fp8(x, int32, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Elementwise, BadInputsNameTheOp) {
  auto expect_msg = [](auto&& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no throw, expected " << needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_msg([&] { negative(array({true}), s); }, "[negative]");
  expect_msg([&] { bitwise_and(array({1.0f}), array({1}), s); }, "[bitwise_and]");
  expect_msg([&] { left_shift(array({1}), array({1.5f}), s); }, "float32");
  expect_msg([&] { expm1(array(complex64_t(1, 1)), s); }, "[expm1]");
  expect_msg([&] { floor(array(complex64_t(1, 1)), s); }, "complex64");
  expect_msg([&] { remainder(array(complex64_t(1, 1)), array(1), s); }, "[remainder]");
  expect_msg([&] { clip(array(1), std::nullopt, std::nullopt, s); }, "[clip]");
  expect_msg([&] { add(zeros({2}), zeros({3}), s); }, "(2)");
}

}  // namespace
