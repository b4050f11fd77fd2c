// Scans: cumsum, cumprod, cummax, cummin, logcumsumexp (axis, reverse,
// inclusive) against double-precision loops.
#include <cmath>
#include <functional>
#include <limits>

#include "reference_values.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

using Fold = std::function<double(double, double)>;

// Scans every line of x (shape `shape`) along `axis`.
std::vector<double> ref_scan(const std::vector<double>& x, const Shape& shape, int axis,
                             bool reverse, bool inclusive, const Fold& f, double init) {
  axis = normalize(axis, shape.size());
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  int64_t n = shape[axis], outer = n == 0 ? 0 : numel(shape) / (n * inner);
  std::vector<double> out(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      double acc = init;
      for (int64_t t = 0; t < n; ++t) {
        int64_t i = o * n * inner + (reverse ? n - 1 - t : t) * inner + j;
        if (inclusive) {
          acc = t == 0 ? x[i] : f(acc, x[i]);
          out[i] = acc;
        } else {
          out[i] = acc;
          acc = t == 0 ? x[i] : f(acc, x[i]);
        }
      }
    }
  }
  return out;
}

double lowest_of(Dtype d) {
  switch (d) {
    case bool_: return 0;
    case uint8: case uint16: case uint32: case uint64: return 0;
    case int8: return std::numeric_limits<int8_t>::lowest();
    case int16: return std::numeric_limits<int16_t>::lowest();
    case int32: return std::numeric_limits<int32_t>::lowest();
    case int64: return static_cast<double>(std::numeric_limits<int64_t>::lowest());
    default: return -INFINITY;
  }
}

double highest_of(Dtype d) {
  switch (d) {
    case bool_: return 1;
    case uint8: return std::numeric_limits<uint8_t>::max();
    case uint16: return std::numeric_limits<uint16_t>::max();
    case uint32: return std::numeric_limits<uint32_t>::max();
    case uint64: return static_cast<double>(std::numeric_limits<uint64_t>::max());
    case int8: return std::numeric_limits<int8_t>::max();
    case int16: return std::numeric_limits<int16_t>::max();
    case int32: return std::numeric_limits<int32_t>::max();
    case int64: return static_cast<double>(std::numeric_limits<int64_t>::max());
    default: return INFINITY;
  }
}

double rtol_of(Dtype d) {
  switch (d) {
    case float16: return 2e-3;
    case bfloat16: return 1.6e-2;
    case float32:
    case complex64: return 2e-6;
    case float64: return 1e-12;
    default: return 0;
  }
}

bool cpu_only(Dtype d) { return d == float64 || d == complex64; }

double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }

double log_add_exp(double a, double b) {
  double hi = std::max(a, b), lo = std::min(a, b);
  if (lo == -INFINITY || hi == INFINITY) return hi;
  return hi + std::log1p(std::exp(lo - hi));
}

struct ScanCase {
  const char* name;
  std::function<array(const array&, int, bool, bool, StreamOrDevice)> op;
  Fold fold;
  std::function<double(Dtype)> init;
  bool small_values;  // products need values that stay small
};

std::vector<ScanCase> scan_cases() {
  return {
      {"cumsum", [](auto& a, int ax, bool r, bool i, auto s) { return cumsum(a, ax, r, i, s); },
       std::plus<double>(), [](Dtype) { return 0.0; }, false},
      {"cumprod", [](auto& a, int ax, bool r, bool i, auto s) { return cumprod(a, ax, r, i, s); },
       std::multiplies<double>(), [](Dtype) { return 1.0; }, true},
      {"cummax", [](auto& a, int ax, bool r, bool i, auto s) { return cummax(a, ax, r, i, s); },
       nan_max, lowest_of, false},
      {"cummin", [](auto& a, int ax, bool r, bool i, auto s) { return cummin(a, ax, r, i, s); },
       nan_min, highest_of, false},
  };
}

// Values whose running products stay small.
std::vector<double> product_values(int64_t n, Dtype d) {
  static const double ints[] = {1, 2, -1, 1, 1, -1, 3, 1};
  static const double floats[] = {1, 2, -0.5, 1.5, 1, -1, 0.75};
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) {
    if (d == bool_) {
      v[i] = i % 7 != 3;
    } else if (issubdtype(d, integer)) {
      v[i] = std::abs(ints[i % 8]) * (issubdtype(d, unsignedinteger) ? 1 : ints[i % 8]);
    } else {
      v[i] = floats[i % 7];
    }
  }
  return v;
}

// Checks every scan op on x (values v) along every axis, both directions.
void check_scans(const array& x, const std::vector<double>& v, const std::vector<double>& pv,
                 const array& px, const Shape& shape, const std::string& what, StreamOrDevice s) {
  for (auto& c : scan_cases()) {
    const array& in = c.small_values ? px : x;
    const auto& vals = c.small_values ? pv : v;
    for (int axis : {0, 1, 2, -1}) {
      for (bool reverse : {false, true}) {
        for (bool inclusive : {true, false}) {
          std::string label = what + " " + c.name + " " + dtype_to_string(in.dtype()) + " axis " +
                              std::to_string(axis) + (reverse ? " reverse" : "") +
                              (inclusive ? "" : " exclusive");
          auto out = c.op(in, axis, reverse, inclusive, s);
          Dtype want_dtype = std::string(c.name) == "cumsum" && in.dtype() == bool_ ? int32 : in.dtype();
          EXPECT_EQ(out.dtype(), want_dtype) << label;
          EXPECT_EQ(out.shape(), shape) << label;
          double init = c.init(in.dtype());
          auto want = ref_scan(vals, shape, axis, reverse, inclusive, c.fold, init);
          if (in.dtype() == bool_ && std::string(c.name) == "cumprod") {
            for (auto& w : want) w = w != 0;
          }
          expect_close(to_doubles(out), want, rtol_of(out.dtype()), 0, label);
        }
      }
    }
  }
}

}  // namespace

LUMEN_DEVICE_SUITE(Scan);

LUMEN_DEVICE_TEST(Scan, EveryOpDtypeAxisAndDirection) {
  Shape shape{3, 4, 5};
  for (Dtype d : all_dtypes()) {
    if (on_gpu && cpu_only(d)) continue;
    auto v = sample_values(numel(shape), d, 31);
    auto pv = product_values(numel(shape), d);
    check_scans(make_array(v, shape, d), v, pv, make_array(pv, shape, d), shape, "dense", s);
  }
}

LUMEN_DEVICE_TEST(Scan, StridedAndBroadcastInputs) {
  for (Dtype d : {float32, int32, bfloat16, uint8}) {
    auto base = make_array(sample_values(5 * 9 * 11, d, 5), {5, 9, 11}, d);
    auto pbase = make_array(product_values(5 * 9 * 11, d), {5, 9, 11}, d);
    auto views = [&](const array& b) {
      return std::vector<std::pair<std::string, array>>{
          {"transposed", transpose(slice(b, {0, 0, 0}, {4, 5, 3}, s), {2, 0, 1}, s)},
          {"stepped", slice(b, {1, 0, 0}, {4, 8, 10}, {1, 2, 2}, s)},
          {"backwards", slice(b, {4, 5, 7}, {1, 1, 2}, {-1, -1, -1}, s)},
          {"broadcast", broadcast_to(slice(b, {0, 0, 0}, {3, 1, 5}, s), {3, 4, 5}, s)}};
    };
    auto xs = views(base), ps = views(pbase);
    for (size_t i = 0; i < xs.size(); ++i) {
      ASSERT_EQ(xs[i].second.shape(), (Shape{3, 4, 5}));
      check_scans(xs[i].second, to_doubles(xs[i].second), to_doubles(ps[i].second), ps[i].second,
                  {3, 4, 5}, xs[i].first, s);
    }
  }
}

LUMEN_DEVICE_TEST(Scan, LogCumSumExp) {
  Shape shape{3, 4, 5};
  for (Dtype d : {float32, float16, bfloat16, float64, int32, bool_}) {
    if (on_gpu && cpu_only(d)) continue;
    auto v = sample_values(numel(shape), d, 41);
    auto x = make_array(v, shape, d);
    Dtype want_dtype = issubdtype(d, inexact) ? d : float32;
    for (int axis : {0, 1, 2, -1}) {
      for (bool reverse : {false, true}) {
        for (bool inclusive : {true, false}) {
          std::string label = dtype_to_string(d) + " axis " + std::to_string(axis) +
                              (reverse ? " reverse" : "") + (inclusive ? "" : " exclusive");
          auto out = logcumsumexp(x, axis, reverse, inclusive, s);
          EXPECT_EQ(out.dtype(), want_dtype) << label;
          double tol = std::max(rtol_of(want_dtype), 2e-6);
          expect_close(to_doubles(out), ref_scan(v, shape, axis, reverse, inclusive, log_add_exp, -INFINITY),
                       tol, tol, label);
        }
      }
    }
  }
  // stable for large values, -inf is the identity, NaN propagates
  auto y = array({1000.0f, 1000.0f, -INFINITY, NAN, 1.0f});
  expect_close(to_doubles(logcumsumexp(y, 0, false, true, s)),
               {1000, 1000 + std::log(2.0), 1000 + std::log(2.0), NAN, NAN}, 1e-6);
  expect_close(to_doubles(logcumsumexp(array({-INFINITY, -INFINITY}), 0, false, true, s)),
               {-INFINITY, -INFINITY});
  EXPECT_EQ(primitive_counts({logcumsumexp(y, 0, false, true, s)})["CumLogAddExp"], 1);
}

LUMEN_DEVICE_TEST(Scan, FlattenedDtypeAndNaN) {
  auto x = array({1, 2, 3, 4, 5, 6}, {2, 3}, int32);
  auto c = cumsum(x, false, true, s);
  EXPECT_EQ(c.shape(), Shape{6});
  expect_close(to_doubles(c), {1, 3, 6, 10, 15, 21});
  expect_close(to_doubles(cumprod(x, true, false, s)), {720, 360, 120, 30, 6, 1});
  expect_close(to_doubles(cummax(x, true, true, s)), {6, 6, 6, 6, 6, 6});
  expect_close(to_doubles(cummin(x, false, true, s)), {1, 1, 1, 1, 1, 1});
  expect_close(to_doubles(logcumsumexp(astype(x, float32, s), false, true, s)),
               ref_scan({1, 2, 3, 4, 5, 6}, {6}, 0, false, true, log_add_exp, -INFINITY), 1e-6);
  // int8 sums wrap, unless a dtype is given
  auto b = full({4}, 100, int8, s);
  expect_close(to_doubles(cumsum(b, 0, false, true, s)), {100, -56, 44, -112});
  auto wide = cumsum(b, 0, false, true, int32, s);
  EXPECT_EQ(wide.dtype(), int32);
  expect_close(to_doubles(wide), {100, 200, 300, 400});
  EXPECT_EQ(cumprod(array({2.0f, 3.0f}), 0, false, true, float64, s).dtype(), float64);
  // bool cumsum counts; cumprod stays bool
  auto t = array({true, false, true, true});
  EXPECT_EQ(cumsum(t, 0, false, true, s).dtype(), int32);
  expect_close(to_doubles(cumsum(t, 0, false, true, s)), {1, 1, 2, 3});
  EXPECT_EQ(cumprod(t, 0, false, true, s).dtype(), bool_);
  expect_close(to_doubles(cumprod(t, 0, false, true, s)), {1, 0, 0, 0});
  // NaN propagates through cummax/cummin
  auto n = array({1.0f, NAN, 3.0f, 0.5f});
  expect_close(to_doubles(cummax(n, 0, false, true, s)), {1, NAN, NAN, NAN});
  expect_close(to_doubles(cummin(n, 0, true, true, s)), {NAN, NAN, 0.5, 0.5});
  // -0.0 survives an inclusive cumsum, as MLX's
  EXPECT_TRUE(std::signbit(cumsum(array({-0.0f}), 0, false, true, s).item<float>()));
  // float16 carries a float32 running sum: 4096 ones reach 4096
  auto h = cumsum(ones({4096}, float16, s), 0, false, true, s);
  EXPECT_EQ(to_doubles(h).back(), 4096.0);
  EXPECT_EQ(primitive_counts({cumsum(x, 1, false, true, s)})["CumSum"], 1);
  EXPECT_EQ(primitive_counts({cumprod(x, 0, false, true, s)})["CumProd"], 1);
}

LUMEN_DEVICE_TEST(Scan, EmptyAndZeroDim) {
  EXPECT_EQ(cumsum(zeros({0}, float32, s), 0, false, true, s).shape(), Shape{0});
  auto e = cumsum(zeros({3, 0}, float32, s), 0, false, true, s);
  EXPECT_EQ(e.shape(), (Shape{3, 0}));
  eval(e);
  auto e2 = cummax(zeros({0, 4}, int32, s), 1, true, false, s);
  EXPECT_EQ(e2.shape(), (Shape{0, 4}));
  eval(e2);
  auto z = cumsum(array(5.0f), false, true, s);  // flattened: shape (1)
  EXPECT_EQ(z.shape(), Shape{1});
  EXPECT_EQ(z.item<float>(), 5.0f);
}

LUMEN_DEVICE_TEST(Scan, MillionElementsUseSegments) {
  // Multiples of 1/4 below 2^22: every float32 running sum is exact.
  const int n = 1000000;
  auto v = sample_values(n, float32, 3, true);
  for (Shape shape : {Shape{n}, Shape{250000, 4}, Shape{4, 250000}}) {
    auto x = make_array(v, shape, float32);
    for (int axis = 0; axis < static_cast<int>(shape.size()); ++axis) {
      for (bool reverse : {false, true}) {
        std::string label = "shape " + join_text(shape) + " axis " + std::to_string(axis) +
                            (reverse ? " reverse" : "");
        expect_close(to_doubles(cumsum(x, axis, reverse, true, s)),
                     ref_scan(v, shape, axis, reverse, true, std::plus<double>(), 0), 0, 0,
                     "cumsum " + label);
        if (reverse) {
          expect_close(to_doubles(cummax(x, axis, reverse, false, s)),
                       ref_scan(v, shape, axis, reverse, false, nan_max, -INFINITY), 0, 0,
                       "cummax exclusive " + label);
        }
      }
    }
  }
  auto w = v;
  w[600000] = NAN;
  auto m = to_doubles(cummin(make_array(w, {n}, float32), 0, false, true, s));
  EXPECT_FALSE(std::isnan(m[599999]));
  EXPECT_TRUE(std::isnan(m[600000]));
  EXPECT_TRUE(std::isnan(m.back()));
  auto lse = logcumsumexp(make_array(v, {n}, float32), 0, false, true, s);
  expect_close(to_doubles(lse), ref_scan(v, {n}, 0, false, true, log_add_exp, -INFINITY), 1e-5, 0,
               "logcumsumexp 1e6");
  auto counts = to_doubles(cumsum(ones({n}, bool_, s), 0, false, true, s));
  EXPECT_EQ(counts.back(), n);
}

LUMEN_DEVICE_TEST(Scan, BadInputs) {
  auto x = ones({2, 3}, float32, s);
  EXPECT_THROW(cumsum(x, 2, false, true, s), std::invalid_argument);
  EXPECT_THROW_NAMING(cumsum(x, 2, false, true, s), std::invalid_argument, "[cumsum] Axis 2");
  EXPECT_THROW_NAMING(cumprod(x, -3, false, true, s), std::invalid_argument, "[cumprod] Axis -3");
  EXPECT_THROW_NAMING(cummax(x, 5, false, true, s), std::invalid_argument, "[cummax] Axis 5");
  EXPECT_THROW_NAMING(cummin(x, 2, false, true, s), std::invalid_argument, "[cummin] Axis 2");
  EXPECT_THROW_NAMING(logcumsumexp(x, 2, false, true, s), std::invalid_argument,
                      "[logcumsumexp] Axis 2");
  EXPECT_THROW_NAMING(logcumsumexp(zeros({2}, complex64, s), 0, false, true, s),
                      std::invalid_argument, "[logcumsumexp]");
  EXPECT_THROW_NAMING(cumsum(array(1.0f), 0, false, true, s), std::invalid_argument, "[cumsum]");
}
