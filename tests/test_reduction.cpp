// Reductions: sum, prod, max, min, all, any, mean, var, std, argmax, argmin,
// logsumexp, softmax, count_nonzero, allclose, array_equal, against
// double-precision loops.
#include <algorithm>
#include <cmath>
#include <complex>
#include <functional>
#include <limits>
#include <numeric>
#include <set>

#include "reference_values.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

using Fold = std::function<double(double, double)>;

// Where each input element lands when `axes` are reduced: the output index
// (row-major over the kept dims) of every input index.
struct ReduceMap {
  Shape kept;
  std::vector<int64_t> out_of;
};

ReduceMap reduce_map(const Shape& shape, const std::vector<int>& axes) {
  const int nd = static_cast<int>(shape.size());
  std::vector<bool> red(nd, false);
  for (int ax : axes) red[normalize(ax, nd)] = true;
  ReduceMap m;
  std::vector<int64_t> ostride(nd, 0);
  int64_t st = 1;
  for (int d = nd - 1; d >= 0; --d) {
    if (!red[d]) {
      ostride[d] = st;
      st *= shape[d];
    }
  }
  for (int d = 0; d < nd; ++d) {
    if (!red[d]) m.kept.push_back(shape[d]);
  }
  std::vector<int64_t> idx(nd, 0);
  int64_t o = 0;
  m.out_of.resize(numel(shape));
  for (auto& out : m.out_of) {
    out = o;
    for (int d = nd - 1; d >= 0; --d) {
      o += ostride[d];
      if (++idx[d] < shape[d]) break;
      o -= ostride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return m;
}

// out[kept index] = fold of x over `axes`.
std::vector<double> ref_reduce(const std::vector<double>& x, const Shape& shape,
                               const std::vector<int>& axes, const Fold& f, double init) {
  auto m = reduce_map(shape, axes);
  std::vector<double> out(numel(m.kept), init);
  for (size_t i = 0; i < x.size(); ++i) out[m.out_of[i]] = f(out[m.out_of[i]], x[i]);
  return out;
}

// float64 and complex64 are CPU-only dtypes.
bool cpu_only(Dtype d) { return d == float64 || d == complex64; }

Shape reduced_shape(const Shape& shape, const std::vector<int>& axes, bool keepdims) {
  std::vector<bool> red(shape.size(), false);
  for (int ax : axes) red[normalize(ax, shape.size())] = true;
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!red[d]) out.push_back(shape[d]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

// Relative tolerance of results stored in dtype d.
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

Dtype sum_dtype(Dtype d) {
  if (d == bool_) return int32;
  if (issubdtype(d, signedinteger)) return d.size() <= 4 ? int32 : int64;
  if (issubdtype(d, unsignedinteger)) return d.size() <= 4 ? uint32 : uint64;
  return d;
}

double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }

// The reductions checked on arbitrary values (prod has its own values).
struct ReduceCase {
  const char* name;
  std::function<array(const array&, const std::vector<int>&, bool, StreamOrDevice)> op;
  Fold fold;
  double init;
  std::function<Dtype(Dtype)> out_dtype;
};

std::vector<ReduceCase> reduce_cases() {
  auto same = [](Dtype d) { return d; };
  auto boolean = [](Dtype) { return bool_; };
  return {
      {"sum", [](auto& a, auto& ax, bool k, auto s) { return sum(a, ax, k, s); },
       [](double a, double b) { return a + b; }, 0.0, sum_dtype},
      {"max", [](auto& a, auto& ax, bool k, auto s) { return max(a, ax, k, s); }, nan_max,
       -INFINITY, same},
      {"min", [](auto& a, auto& ax, bool k, auto s) { return min(a, ax, k, s); }, nan_min,
       INFINITY, same},
      {"all", [](auto& a, auto& ax, bool k, auto s) { return all(a, ax, k, s); },
       [](double a, double b) { return double(a != 0 && b != 0); }, 1.0, boolean},
      {"any", [](auto& a, auto& ax, bool k, auto s) { return any(a, ax, k, s); },
       [](double a, double b) { return double(a != 0 || b != 0); }, 0.0, boolean},
  };
}

// Values whose products stay small: mostly +-1 with some 2 and 1/2.
std::vector<double> product_values(int64_t n, Dtype d) {
  static const double ints[] = {1, 2, -1, 1, 1, -1, 3, 1};
  static const double uints[] = {1, 2, 1, 1, 3, 1};
  static const double floats[] = {1, 2, -0.5, 1.5, 1, -1, 0.75};
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) {
    if (d == bool_) {
      v[i] = i % 7 != 3;
    } else if (issubdtype(d, unsignedinteger)) {
      v[i] = uints[i % 6];
    } else if (issubdtype(d, signedinteger)) {
      v[i] = ints[i % 8];
    } else {
      v[i] = floats[i % 7];
    }
  }
  return v;
}

const std::vector<std::vector<int>> kAxesOf3d = {{0},    {1},    {2},    {-1},      {0, 1},
                                                  {0, 2}, {1, 2}, {2, 0}, {0, 1, 2}, {}};

// Runs every reduce case on `x` (whose values are `v`, shape `shape`) over
// every axes combination and keepdims.
void check_reduce_cases(const array& x, const std::vector<double>& v, const Shape& shape,
                        const std::string& what, StreamOrDevice s) {
  for (auto& c : reduce_cases()) {
    for (auto& axes : kAxesOf3d) {
      for (bool keepdims : {false, true}) {
        std::string label = what + " " + c.name + " " + dtype_to_string(x.dtype()) + " axes " +
                            join_text(axes) + " keepdims " +
                            std::to_string(keepdims);
        auto out = c.op(x, axes, keepdims, s);
        Dtype want_dtype = axes.empty() && std::string(c.name) != "all" && std::string(c.name) != "any"
                               ? x.dtype()
                               : c.out_dtype(x.dtype());
        EXPECT_EQ(out.dtype(), want_dtype) << label;
        EXPECT_EQ(out.shape(), reduced_shape(shape, axes, keepdims)) << label;
        auto want = axes.empty() ? v : ref_reduce(v, shape, axes, c.fold, c.init);
        if (axes.empty() && c.out_dtype(x.dtype()) == bool_) {
          for (auto& w : want) w = w != 0;
        }
        expect_close(to_doubles(out), want, rtol_of(out.dtype()), 0, label);
      }
    }
  }
}

void check_prod(const array& x, const Shape& shape, StreamOrDevice s) {
  auto v = to_doubles(x);
  for (auto& axes : kAxesOf3d) {
    if (axes.empty()) continue;
    for (bool keepdims : {false, true}) {
      auto out = prod(x, axes, keepdims, s);
      std::string label = "prod " + dtype_to_string(x.dtype()) + " axes " + join_text(axes);
      EXPECT_EQ(out.dtype(), sum_dtype(x.dtype())) << label;
      EXPECT_EQ(out.shape(), reduced_shape(shape, axes, keepdims)) << label;
      expect_close(to_doubles(out), ref_reduce(v, shape, axes, std::multiplies<double>(), 1.0),
                   rtol_of(out.dtype()), 0, label);
    }
  }
}

}  // namespace

LUMEN_DEVICE_SUITE(Reduction);

LUMEN_DEVICE_TEST(Reduction, EveryOpDtypeAndAxes) {
  Shape shape{3, 4, 5};
  for (Dtype d : all_dtypes()) {
    if (on_gpu && cpu_only(d)) continue;
    // sum/max/min/all/any on general values, prod on values with small products
    auto v = sample_values(numel(shape), d, 7);
    check_reduce_cases(make_array(v, shape, d), v, shape, "general", s);
    check_prod(make_array(product_values(numel(shape), d), shape, d), shape, s);
  }
}

LUMEN_DEVICE_TEST(Reduction, BroadcastInputs) {
  // A (3, 1, 5) array broadcast to (3, 4, 5) and a scalar broadcast to (3, 4, 5):
  // the kernels read stride-0 dims in place.
  for (Dtype d : {float32, int32, float16, bool_}) {
    auto v = sample_values(15, d, 3);
    auto x = broadcast_to(make_array(v, {3, 1, 5}, d), {3, 4, 5}, s);
    check_reduce_cases(x, to_doubles(x), {3, 4, 5}, "broadcast", s);
    auto c = broadcast_to(array(2.5f, d), {3, 4, 5}, s);
    check_reduce_cases(c, to_doubles(c), {3, 4, 5}, "broadcast scalar", s);
    check_prod(broadcast_to(make_array(product_values(15, d), {3, 1, 5}, d), {3, 4, 5}, s),
               {3, 4, 5}, s);
  }
}

LUMEN_DEVICE_TEST(Reduction, ComplexSumProdMaxMin) {
  std::vector<std::complex<float>> v;
  for (int i = 0; i < 12; ++i) v.emplace_back(0.5f * (i % 5) - 1.0f, 0.25f * (i % 3) - 0.25f);
  auto x = array(v.begin(), {3, 4}, complex64);
  for (int axis : {0, 1}) {
    Shape kept{axis == 0 ? 4 : 3};
    std::vector<std::complex<double>> want_sum(kept[0], 0), want_prod(kept[0], 1);
    std::vector<std::complex<double>> want_max(kept[0]), want_min(kept[0]);
    auto lex_less = [](std::complex<double> a, std::complex<double> b) {
      return a.real() < b.real() || (a.real() == b.real() && a.imag() < b.imag());
    };
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 4; ++j) {
        int o = axis == 0 ? j : i;
        bool first = (axis == 0 ? i : j) == 0;
        std::complex<double> z(v[i * 4 + j].real(), v[i * 4 + j].imag());
        want_sum[o] += z;
        want_prod[o] *= z;
        if (first || lex_less(want_max[o], z)) want_max[o] = z;
        if (first || lex_less(z, want_min[o])) want_min[o] = z;
      }
    }
    auto check = [&](const array& got, const std::vector<std::complex<double>>& want, const char* what) {
      std::vector<double> re, im;
      for (auto& z : want) {
        re.push_back(z.real());
        im.push_back(z.imag());
      }
      EXPECT_EQ(got.dtype(), complex64) << what;
      expect_close(to_doubles(real(got, s)), re, 1e-6, 1e-6, what);
      expect_close(to_doubles(imag(got, s)), im, 1e-6, 1e-6, what);
    };
    check(sum(x, axis, false, s), want_sum, "complex sum");
    check(prod(x, axis, false, s), want_prod, "complex prod");
    check(max(x, axis, false, s), want_max, "complex max");
    check(min(x, axis, false, s), want_min, "complex min");
  }
  // 1j is true for any/all (the imaginary part counts)
  std::vector<std::complex<float>> js{{0.0f, 1.0f}, {2.0f, 0.0f}};
  auto j = array(js.begin(), {2}, complex64);
  EXPECT_TRUE(all(j, s).item<bool>());
  std::vector<std::complex<float>> zs{{0.0f, 0.0f}, {-0.0f, -0.0f}};
  EXPECT_FALSE(any(array(zs.begin(), {2}, complex64), s).item<bool>());
}

LUMEN_DEVICE_TEST(Reduction, IntegerSumsWrapAndWiden) {
  // int8 sums accumulate in int32; int32 sums wrap as MLX's do; int64 stays exact.
  auto x8 = full({1000}, 100, int8, s);
  EXPECT_EQ(sum(x8, s).dtype(), int32);
  EXPECT_EQ(sum(x8, s).item<int32_t>(), 100000);
  auto u8 = full({1000}, 200, uint8, s);
  EXPECT_EQ(sum(u8, s).dtype(), uint32);
  EXPECT_EQ(sum(u8, s).item<uint32_t>(), 200000u);
  auto big = array({std::numeric_limits<int32_t>::max(), 1}, int32);
  EXPECT_EQ(sum(big, s).item<int32_t>(), std::numeric_limits<int32_t>::min());
  if (!on_gpu) {
    int64_t e40 = int64_t{1} << 40;
    auto x64 = array({e40, e40 + 1, int64_t{-3}}, int64);
    EXPECT_EQ(sum(x64, s).item<int64_t>(), 2 * e40 - 2);
    EXPECT_EQ(prod(array({e40, int64_t{3}}, int64), s).item<int64_t>(), 3 * e40);
  }
  auto b = array({true, true, false, true});
  EXPECT_EQ(sum(b, s).dtype(), int32);
  EXPECT_EQ(sum(b, s).item<int32_t>(), 3);
  EXPECT_EQ(prod(b, s).dtype(), int32);
  EXPECT_EQ(prod(b, s).item<int32_t>(), 0);
  EXPECT_EQ(max(b, s).item<bool>(), true);
  EXPECT_EQ(min(b, s).item<bool>(), false);
}

LUMEN_DEVICE_TEST(Reduction, HalfPrecisionAccumulatesInFloat32) {
  // 4096 ones: a float16 running sum would stop at 2048.
  for (Dtype d : {float16, bfloat16}) {
    auto x = ones({4096}, d, s);
    auto out = sum(astype(x, d, s), s);
    EXPECT_EQ(out.dtype(), d);
    EXPECT_EQ(to_doubles(out)[0], 4096.0) << dtype_to_string(d);
    // mean of 0.1s stays 0.1 to the dtype's precision
    auto m = mean(full({10000}, 0.1f, d, s), s);
    EXPECT_EQ(m.dtype(), d);
    expect_close(to_doubles(m), to_doubles(full({1}, 0.1f, d, s)), rtol_of(d), 0,
                 "mean " + dtype_to_string(d));
  }
}

LUMEN_DEVICE_TEST(Reduction, NaNAndSignedZero) {
  auto x = array({1.0f, NAN, 3.0f, -2.0f, 5.0f, 0.0f}, {2, 3});
  expect_close(to_doubles(max(x, s)), {NAN});
  expect_close(to_doubles(min(x, s)), {NAN});
  expect_close(to_doubles(max(x, 1, false, s)), {NAN, 5});
  expect_close(to_doubles(min(x, 1, false, s)), {NAN, -2});
  expect_close(to_doubles(max(x, 0, false, s)), {1, NAN, 3});
  expect_close(to_doubles(sum(x, 0, false, s)), {-1, NAN, 3});
  // NaN is true; -0.0 is false
  EXPECT_TRUE(all(array({NAN, 1.0f}), s).item<bool>());
  EXPECT_FALSE(any(array({-0.0f, 0.0f}), s).item<bool>());
  EXPECT_FALSE(any(astype(array({-0.0f}), float16, s), s).item<bool>());
  EXPECT_FALSE(any(astype(array({-0.0f}), bfloat16, s), s).item<bool>());
  if (!on_gpu) {
    EXPECT_FALSE(any(array({-0.0}, float64), s).item<bool>());
  }
  // infinities
  auto inf = array({-INFINITY, 2.0f, INFINITY});
  EXPECT_EQ(max(inf, s).item<float>(), INFINITY);
  EXPECT_EQ(min(inf, s).item<float>(), -INFINITY);
}

LUMEN_DEVICE_TEST(Reduction, EmptyReductionsGiveIdentities) {
  auto e = zeros({0, 3}, float32, s);
  expect_close(to_doubles(sum(e, 0, false, s)), {0, 0, 0});
  expect_close(to_doubles(prod(e, 0, false, s)), {1, 1, 1});
  expect_close(to_doubles(all(e, 0, false, s)), {1, 1, 1});
  expect_close(to_doubles(any(e, 0, false, s)), {0, 0, 0});
  EXPECT_EQ(sum(e, s).item<float>(), 0.0f);
  EXPECT_EQ(sum(zeros({0}, int8, s), s).item<int32_t>(), 0);
  EXPECT_TRUE(std::isnan(mean(e, s).item<float>()));
  // reducing a non-empty axis of an empty array gives an empty array
  EXPECT_EQ(sum(e, 1, false, s).shape(), Shape{0});
  EXPECT_EQ(max(e, 1, false, s).shape(), Shape{0});
  EXPECT_EQ(max(e, 1, true, s).shape(), (Shape{0, 1}));
  eval(max(e, 1, false, s));
  // max/min have no identity
  EXPECT_THROW(max(e, 0, false, s), std::invalid_argument);
  EXPECT_THROW(min(e, s), std::invalid_argument);
  EXPECT_THROW_NAMING(max(e, 0, false, s), std::invalid_argument, "[max]");
}

LUMEN_DEVICE_TEST(Reduction, ZeroDimAndNoopAxes) {
  auto x = array(3.5f);
  EXPECT_EQ(sum(x, s).shape(), Shape{});
  EXPECT_EQ(sum(x, s).item<float>(), 3.5f);
  EXPECT_EQ(max(x, true, s).shape(), Shape{});
  // reducing size-1 axes only converts the dtype
  auto y = array({1, 2, 3}, {3, 1}, int8);
  auto out = sum(y, 1, false, s);
  EXPECT_EQ(out.dtype(), int32);
  EXPECT_EQ(out.shape(), Shape{3});
  expect_close(to_doubles(out), {1, 2, 3});
  EXPECT_EQ(all(y, 1, true, s).dtype(), bool_);
}

LUMEN_DEVICE_TEST(Reduction, BadAxes) {
  auto x = ones({2, 3}, float32, s);
  EXPECT_THROW(sum(x, 2, false, s), std::out_of_range);
  EXPECT_THROW(sum(x, -3, false, s), std::out_of_range);
  EXPECT_THROW_NAMING(sum(x, 2, false, s), std::out_of_range, "[sum] Invalid axis 2");
  EXPECT_THROW_NAMING(prod(x, {0, 5}, false, s), std::out_of_range, "[prod] Invalid axis 5");
  EXPECT_THROW_NAMING(max(x, 7, false, s), std::out_of_range, "[max] Invalid axis 7");
  EXPECT_THROW_NAMING(min(x, -4, false, s), std::out_of_range, "[min] Invalid axis -4");
  EXPECT_THROW_NAMING(all(x, 2, false, s), std::out_of_range, "[all] Invalid axis 2");
  EXPECT_THROW_NAMING(any(x, 2, false, s), std::out_of_range, "[any] Invalid axis 2");
  EXPECT_THROW_NAMING(argmax(x, 2, false, s), std::out_of_range, "[argmax] Invalid axis 2");
  EXPECT_THROW_NAMING(argmin(x, -3, false, s), std::out_of_range, "[argmin] Invalid axis -3");
  EXPECT_THROW_NAMING(sum(x, {0, -2}, false, s), std::invalid_argument, "[sum] duplicate axes");
  EXPECT_THROW_NAMING(mean(x, 2, false, s), std::invalid_argument, "[mean] Axis 2");
  EXPECT_THROW_NAMING(var(x, 3, false, 0, s), std::invalid_argument, "[var] Axis 3");
  EXPECT_THROW_NAMING(logsumexp(x, 2, false, s), std::out_of_range, "Invalid axis 2");
  EXPECT_THROW_NAMING(logsumexp(array(1.0f), 0, false, s), std::invalid_argument, "[logsumexp]");
  EXPECT_THROW_NAMING(softmax(array(1.0f), 0, false, s), std::invalid_argument, "[softmax]");
  EXPECT_THROW_NAMING(argmax(zeros({0}, float32, s), s), std::invalid_argument, "[argmax]");
  EXPECT_THROW_NAMING(argmin(zeros({2, 0}, float32, s), 0, false, s), std::invalid_argument,
                      "[argmin]");
  EXPECT_THROW_NAMING(logsumexp(zeros({0}, float32, s), s), std::invalid_argument, "[logsumexp]");
}

// ---- argmax / argmin ----

namespace {

// Index of the first max (or min) of x[base + i * stride], NaN first.
int64_t ref_arg(const std::vector<double>& x, int64_t base, int64_t stride, int64_t n, bool is_max) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    double b = x[base + best * stride], v = x[base + i * stride];
    if (std::isnan(b)) break;
    if (std::isnan(v) || (is_max ? v > b : v < b)) best = i;
  }
  return best;
}

std::vector<double> ref_arg_axis(const std::vector<double>& x, const Shape& shape, int axis, bool is_max) {
  axis = normalize(axis, shape.size());
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  int64_t n = shape[axis], outer = numel(shape) / (n * inner);
  std::vector<double> out;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) out.push_back(double(ref_arg(x, o * n * inner + j, inner, n, is_max)));
  }
  return out;
}

}  // namespace

LUMEN_DEVICE_TEST(Reduction, ArgMaxArgMinEveryDtype) {
  Shape shape{3, 4, 5};
  for (Dtype d : all_dtypes()) {
    if (on_gpu && cpu_only(d)) continue;
    auto v = sample_values(numel(shape), d, 11);  // small value ranges: many ties
    auto x = make_array(v, shape, d);
    for (int axis : {0, 1, 2, -1, -3}) {
      for (bool keepdims : {false, true}) {
        std::string label = dtype_to_string(d) + " axis " + std::to_string(axis);
        auto mx = argmax(x, axis, keepdims, s);
        auto mn = argmin(x, axis, keepdims, s);
        EXPECT_EQ(mx.dtype(), uint32) << label;
        EXPECT_EQ(mx.shape(), reduced_shape(shape, {axis}, keepdims)) << label;
        expect_close(to_doubles(mx), ref_arg_axis(v, shape, axis, true), 0, 0, "argmax " + label);
        expect_close(to_doubles(mn), ref_arg_axis(v, shape, axis, false), 0, 0, "argmin " + label);
      }
    }
    // over the flattened array
    auto all_max = argmax(x, false, s);
    EXPECT_EQ(all_max.shape(), Shape{});
    EXPECT_EQ(all_max.item<uint32_t>(), static_cast<uint32_t>(ref_arg(v, 0, 1, numel(shape), true)))
        << dtype_to_string(d);
    EXPECT_EQ(argmin(x, true, s).shape(), (Shape{1, 1, 1}));
    EXPECT_EQ(argmin(x, true, s).item<uint32_t>(), static_cast<uint32_t>(ref_arg(v, 0, 1, numel(shape), false)));
  }
}

LUMEN_DEVICE_TEST(Reduction, ArgMaxTiesAndNaN) {
  auto x = array({1.0f, 5.0f, 5.0f, 2.0f, 5.0f});
  EXPECT_EQ(argmax(x, s).item<uint32_t>(), 1u);
  EXPECT_EQ(argmin(array({3.0f, 1.0f, 1.0f}), s).item<uint32_t>(), 1u);
  auto n = array({1.0f, 7.0f, NAN, 9.0f, NAN});
  EXPECT_EQ(argmax(n, s).item<uint32_t>(), 2u);
  EXPECT_EQ(argmin(n, s).item<uint32_t>(), 2u);
  EXPECT_EQ(argmax(array({NAN, 1.0f}), s).item<uint32_t>(), 0u);
  EXPECT_EQ(argmax(array(4.0f), s).item<uint32_t>(), 0u);
  EXPECT_EQ(argmax(array(4.0f), true, s).shape(), Shape{});
  // an axis of size 1 gives zeros
  EXPECT_EQ(to_doubles(argmax(ones({3, 1}, float32, s), 1, false, s)), (std::vector<double>{0, 0, 0}));
}

LUMEN_DEVICE_TEST(Reduction, MillionElementsUseAllPaths) {
  // 1e6 positive float32 values: all-reduce, last axis, leading axis, and a
  // tall-thin reduction whose few outputs are split across threads.
  const int n = 1000000;
  auto v = sample_values(n, float32, 5, true);
  auto x = make_array(v, {n}, float32);
  double total = std::accumulate(v.begin(), v.end(), 0.0);
  expect_close(to_doubles(sum(x, s)), {total}, 1e-6, 0, "sum 1e6");
  expect_close(to_doubles(mean(x, s)), {total / n}, 1e-6, 0, "mean 1e6");
  double mx = *std::max_element(v.begin(), v.end());
  EXPECT_EQ(max(x, s).item<float>(), static_cast<float>(mx));
  for (Shape shape : {Shape{1000, 1000}, Shape{250000, 4}, Shape{4, 250000}, Shape{50, 100, 200}}) {
    auto y = make_array(v, shape, float32);
    for (std::vector<int> axes : {std::vector<int>{0}, {-1}, {0, static_cast<int>(shape.size()) - 1}}) {
      std::string label = "sum shape " + join_text(shape) + " axes " + join_text(axes);
      expect_close(to_doubles(sum(y, axes, false, s)),
                   ref_reduce(v, shape, axes, std::plus<double>(), 0.0), 2e-6, 0, label);
      expect_close(to_doubles(max(y, axes, false, s)),
                   ref_reduce(v, shape, axes, nan_max, -INFINITY), 0, 0, "max " + label);
      expect_close(to_doubles(argmin(y, axes[0], false, s)),
                   ref_arg_axis(v, shape, axes[0], false), 0, 0, "argmin " + label);
    }
  }
  // a NaN far into a long reduction still wins
  auto w = v;
  w[777777] = NAN;
  EXPECT_TRUE(std::isnan(max(make_array(w, {n}, float32), s).item<float>()));
  EXPECT_EQ(argmax(make_array(w, {n}, float32), s).item<uint32_t>(), 777777u);
  EXPECT_EQ(argmax(make_array(w, {250000, 4}, float32), 0, false, s).shape(), Shape{4});
  expect_close(to_doubles(argmax(make_array(w, {250000, 4}, float32), 0, false, s)),
               ref_arg_axis(w, {250000, 4}, 0, true), 0, 0, "argmax NaN column");
  // integer and bool sums over many elements
  EXPECT_EQ(sum(ones({n}, int8, s), s).item<int32_t>(), n);
  EXPECT_EQ(sum(astype(ones({n}, bool_, s), bool_, s), s).item<int32_t>(), n);
  EXPECT_EQ(count_nonzero(make_array(v, {n}, float32), false, s).item<int32_t>(), n);
  EXPECT_TRUE(all(make_array(v, {1000, 1000}, float32), s).item<bool>());
}

// ---- mean, var, std ----

LUMEN_DEVICE_TEST(Reduction, MeanVarStd) {
  Shape shape{3, 4, 5};
  for (Dtype d : all_dtypes()) {
    if (d == complex64 || (on_gpu && cpu_only(d))) continue;
    auto v = sample_values(numel(shape), d, 21);
    auto x = make_array(v, shape, d);
    Dtype want_dtype = issubdtype(d, inexact) ? d : float32;
    for (auto& axes : kAxesOf3d) {
      if (axes.empty()) continue;
      auto cnt = ref_reduce(v, shape, axes, [](double a, double) { return a + 1; }, 0.0);
      auto sums = ref_reduce(v, shape, axes, std::plus<double>(), 0.0);
      auto sqs = ref_reduce(v, shape, axes, [](double a, double b) { return a + b * b; }, 0.0);
      std::vector<double> want_mean, want_var0, want_var1, want_std1;
      for (size_t i = 0; i < sums.size(); ++i) {
        double n = cnt[i], m = sums[i] / n;
        double ss = sqs[i] - n * m * m;  // exact enough for these small values
        want_mean.push_back(m);
        want_var0.push_back(ss / n);
        want_var1.push_back(ss / (n - 1));
        want_std1.push_back(std::sqrt(ss / (n - 1)));
      }
      std::string label = dtype_to_string(d) + " axes " + join_text(axes);
      double tol = std::max(rtol_of(want_dtype), 2e-6);
      auto m = mean(x, axes, false, s);
      EXPECT_EQ(m.dtype(), want_dtype) << label;
      expect_close(to_doubles(m), want_mean, tol, tol, "mean " + label);
      auto v0 = var(x, axes, false, 0, s);
      EXPECT_EQ(v0.dtype(), want_dtype) << label;
      EXPECT_EQ(v0.shape(), reduced_shape(shape, axes, false)) << label;
      expect_close(to_doubles(v0), want_var0, 4 * tol, 4 * tol, "var " + label);
      expect_close(to_doubles(var(x, axes, true, 1, s)), want_var1, 4 * tol, 4 * tol, "var ddof 1 " + label);
      expect_close(to_doubles(lumen::std(x, axes, false, 1, s)), want_std1, 4 * tol, 4 * tol, "std " + label);
    }
  }
  // ddof >= N: the normalizer clamps at 0 (inf or nan)
  auto y = array({1.0f, 3.0f});
  EXPECT_EQ(var(y, false, 2, s).item<float>(), INFINITY);
  EXPECT_TRUE(std::isnan(var(array({2.0f, 2.0f}), false, 3, s).item<float>()));
  EXPECT_EQ(lumen::std(y, s).item<float>(), 1.0f);
  EXPECT_EQ(var(array({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2}), 0, false, 1, s).shape(), Shape{2});
}

LUMEN_DEVICE_TEST(Reduction, ComplexVarianceIsReal) {
  std::vector<std::complex<float>> v{{1, 1}, {-1, 2}, {0, -1}, {2, 0}};
  auto x = array(v.begin(), {4}, complex64);
  std::complex<double> m = 0;
  for (auto z : v) m += std::complex<double>(z.real(), z.imag());
  m /= 4.0;
  double want = 0;
  for (auto z : v) want += std::norm(std::complex<double>(z.real(), z.imag()) - m);
  auto out = var(x, s);
  EXPECT_EQ(out.dtype(), float32);
  expect_close(to_doubles(out), {want / 4}, 1e-6);
}

// ---- logsumexp, softmax ----

namespace {

std::vector<double> ref_logsumexp(const std::vector<double>& x, const Shape& shape,
                                  const std::vector<int>& axes) {
  auto mx = ref_reduce(x, shape, axes, nan_max, -INFINITY);
  auto m = reduce_map(shape, axes);
  std::vector<double> acc(mx.size(), 0.0);
  for (size_t i = 0; i < x.size(); ++i) acc[m.out_of[i]] += std::exp(x[i] - mx[m.out_of[i]]);
  for (size_t o = 0; o < acc.size(); ++o) acc[o] = std::isinf(mx[o]) ? mx[o] : std::log(acc[o]) + mx[o];
  return acc;
}

}  // namespace

LUMEN_DEVICE_TEST(Reduction, LogSumExp) {
  Shape shape{3, 4, 5};
  for (Dtype d : {float32, float16, bfloat16, float64, int32, uint8, bool_}) {
    if (on_gpu && cpu_only(d)) continue;
    auto v = sample_values(numel(shape), d, 4);
    auto x = make_array(v, shape, d);
    Dtype want_dtype = issubdtype(d, inexact) ? d : float32;
    for (auto& axes : kAxesOf3d) {
      if (axes.empty()) continue;
      for (bool keepdims : {false, true}) {
        std::string label = dtype_to_string(d) + " axes " + join_text(axes);
        auto out = logsumexp(x, axes, keepdims, s);
        EXPECT_EQ(out.dtype(), want_dtype) << label;
        EXPECT_EQ(out.shape(), reduced_shape(shape, axes, keepdims)) << label;
        double tol = std::max(rtol_of(want_dtype), 2e-6);
        expect_close(to_doubles(out), ref_logsumexp(v, shape, axes), tol, tol, label);
      }
    }
  }
  // the last-axis primitive does the last-axis case
  auto counts = primitive_counts({logsumexp(ones({2, 3}, float32, s), -1, false, s)});
  EXPECT_EQ(counts["LogSumExp"], 1);
  // large values stay finite; -inf rows give -inf; +inf gives +inf; NaN stays
  auto y = array({1000.0f, 1000.0f, -INFINITY, -INFINITY, INFINITY, 1.0f, NAN, 1.0f}, {4, 2});
  for (int axis : {1, -1}) {
    auto out = logsumexp(y, axis, false, s);
    expect_close(to_doubles(out), {1000 + std::log(2.0), -INFINITY, INFINITY, NAN}, 1e-6, 0, "lse rows");
  }
  auto yt = array({1000.0f, -INFINITY, INFINITY, NAN, 1000.0f, -INFINITY, 1.0f, 1.0f}, {2, 4});
  expect_close(to_doubles(logsumexp(yt, 0, false, s)), {1000 + std::log(2.0), -INFINITY, INFINITY, NAN},
               1e-6, 0, "lse columns");
  // a long row
  auto big = sample_values(300000, float32, 9);
  expect_close(to_doubles(logsumexp(make_array(big, {300000}, float32), s)),
               ref_logsumexp(big, {300000}, {0}), 1e-5, 0, "lse long");
}

LUMEN_DEVICE_TEST(Reduction, Softmax) {
  Shape shape{3, 4, 5};
  for (Dtype d : {float32, float16, bfloat16, float64, int32}) {
    if (on_gpu && cpu_only(d)) continue;
    auto v = sample_values(numel(shape), d, 8);
    auto x = make_array(v, shape, d);
    for (auto& axes : kAxesOf3d) {
      if (axes.empty()) continue;
      for (bool precise : {false, true}) {
        std::string label = dtype_to_string(d) + " axes " + join_text(axes) +
                            (precise ? " precise" : "");
        auto out = softmax(x, axes, precise, s);
        auto lse = ref_logsumexp(v, shape, axes);
        auto m = reduce_map(shape, axes);
        std::vector<double> want(v.size());
        for (size_t i = 0; i < v.size(); ++i) want[i] = std::exp(v[i] - lse[m.out_of[i]]);
        bool last_axis = axes.size() == 1 && (axes[0] == 2 || axes[0] == -1);
        if (d == int32 && !last_axis) {
          // MLX's composition casts the result back to the input's dtype
          EXPECT_EQ(out.dtype(), int32) << label;
          continue;
        }
        Dtype want_dtype = d == int32 ? float32 : d;
        EXPECT_EQ(out.dtype(), want_dtype) << label;
        EXPECT_EQ(out.shape(), shape) << label;
        double tol = std::max(rtol_of(want_dtype), 2e-6);
        expect_close(to_doubles(out), want, tol, tol, label);
      }
    }
  }
  EXPECT_EQ(primitive_counts({softmax(ones({2, 3}, float32, s), -1, false, s)})["Softmax"], 1);
  // huge logits are stable
  auto y = softmax(array({1000.0f, 1000.0f, -1000.0f}), 0, false, s);
  expect_close(to_doubles(y), {0.5, 0.5, 0}, 1e-6, 1e-30);
  // an empty array is returned as is
  EXPECT_EQ(softmax(zeros({0, 3}, float32, s), -1, false, s).shape(), (Shape{0, 3}));
  // rows of a long, wide softmax each sum to one
  auto wide = softmax(make_array(sample_values(200000, float32, 2), {4, 50000}, float32), -1, false, s);
  expect_close(to_doubles(sum(wide, -1, false, s)), {1, 1, 1, 1}, 1e-5);
}

LUMEN_DEVICE_TEST(Reduction, TransposedAndSlicedInputs) {
  // Views read through their strides, each (3, 4, 5): a transpose of a slice,
  // a stepped slice, and a slice walking backwards.
  for (Dtype d : {float32, int16, bfloat16, uint64}) {
    auto base = make_array(sample_values(5 * 9 * 11, d, 13), {5, 9, 11}, d);
    std::vector<std::pair<std::string, array>> views{
        {"transposed", transpose(slice(base, {0, 0, 0}, {4, 5, 3}, s), {2, 0, 1}, s)},
        {"stepped", slice(base, {1, 0, 0}, {4, 8, 10}, {1, 2, 2}, s)},
        {"backwards", slice(base, {4, 5, 7}, {1, 1, 2}, {-1, -1, -1}, s)}};
    for (auto& [name, x] : views) {
      ASSERT_EQ(x.shape(), (Shape{3, 4, 5})) << name;
      auto xv = to_doubles(x);
      check_reduce_cases(x, xv, {3, 4, 5}, name, s);
      for (int axis : {0, 1, 2}) {
        expect_close(to_doubles(argmax(x, axis, false, s)), ref_arg_axis(xv, {3, 4, 5}, axis, true),
                     0, 0, "argmax " + name);
        expect_close(to_doubles(argmin(x, axis, true, s)), ref_arg_axis(xv, {3, 4, 5}, axis, false),
                     0, 0, "argmin " + name);
      }
      if (is_float_type(d)) {
        expect_close(to_doubles(logsumexp(x, -1, false, s)), ref_logsumexp(xv, {3, 4, 5}, {-1}),
                     rtol_of(d), rtol_of(d), "logsumexp " + name);
        expect_close(to_doubles(sum(softmax(x, -1, false, s), -1, false, s)),
                     std::vector<double>(12, 1.0), 4 * rtol_of(d), 0, "softmax " + name);
      }
    }
  }
  // a transposed 1000 x 1000 view: the column walk over a row-major layout
  auto v = sample_values(1000000, float32, 17, true);
  auto big = transpose(make_array(v, {1000, 1000}, float32), s);
  auto bv = to_doubles(big);
  for (int axis : {0, 1}) {
    expect_close(to_doubles(sum(big, axis, false, s)),
                 ref_reduce(bv, {1000, 1000}, {axis}, std::plus<double>(), 0.0), 2e-6, 0,
                 "transposed 1000x1000");
    expect_close(to_doubles(argmax(big, axis, false, s)), ref_arg_axis(bv, {1000, 1000}, axis, true),
                 0, 0, "argmax transposed 1000x1000");
  }
}

// ---- count_nonzero, allclose, array_equal ----

LUMEN_DEVICE_TEST(Reduction, CountNonzero) {
  auto x = array({0.0f, 1.0f, -0.0f, NAN, 2.0f, 0.0f}, {2, 3});
  EXPECT_EQ(count_nonzero(x, false, s).item<int32_t>(), 3);
  EXPECT_EQ(count_nonzero(x, false, s).dtype(), int32);
  expect_close(to_doubles(count_nonzero(x, 0, false, s)), {1, 2, 0});
  expect_close(to_doubles(count_nonzero(x, std::vector<int>{1}, true, s)), {1, 2});
  EXPECT_EQ(count_nonzero(x, std::vector<int>{1}, true, s).shape(), (Shape{2, 1}));
  EXPECT_EQ(count_nonzero(array({0, 3, 0, 7}, int8), false, s).item<int32_t>(), 2);
}

LUMEN_DEVICE_TEST(Reduction, IsCloseAllCloseArrayEqual) {
  auto a = array({1.0f, 2.0f, INFINITY, -INFINITY, NAN, 1e-9f});
  auto b = array({1.0f + 1e-6f, 2.1f, INFINITY, INFINITY, NAN, 0.0f});
  EXPECT_FALSE(allclose(a, b, 1e-5, 1e-8, false, s).item<bool>());
  EXPECT_EQ(allclose(a, b, 1e-5, 1e-8, false, s).shape(), Shape{});
  // the pairs close except for NaN, then with equal_nan
  std::vector<int> close{0, 2, 4, 5};
  auto pick = [&](const array& x) {
    auto v = to_doubles(x);
    std::vector<double> out;
    for (int i : close) out.push_back(v[i]);
    return array(out.begin(), {4}, float32);
  };
  EXPECT_FALSE(allclose(pick(a), pick(b), 1e-5, 1e-8, false, s).item<bool>());
  EXPECT_TRUE(allclose(pick(a), pick(b), 1e-5, 1e-8, true, s).item<bool>());
  EXPECT_FALSE(allclose(array({INFINITY}), array({-INFINITY}), 1e-5, 1e-8, true, s).item<bool>());
  EXPECT_TRUE(allclose(array({1.0f, 2.0f}), array({1.0f, 2.00001f}), 1e-5, 1e-8, false, s).item<bool>());
  EXPECT_TRUE(allclose(array({1.0f, 2.0f}), array({1.05f, 2.0f}), 0.1, 0.0, false, s).item<bool>());
  // broadcasting and dtype promotion
  EXPECT_TRUE(allclose(full({3, 2}, 1, int32, s), array({1.0f, 1.0f}), 1e-5, 1e-8, false, s).item<bool>());
  EXPECT_TRUE(array_equal(array({1, 2, 3}, int32), array({1.0f, 2.0f, 3.0f}), s).item<bool>());
  EXPECT_FALSE(array_equal(array({1, 2, 3}, int32), array({1, 2, 4}, int32), s).item<bool>());
  EXPECT_FALSE(array_equal(array({1, 2}, int32), array({1, 2}, {2, 1}, int32), s).item<bool>());
  auto n = array({1.0f, NAN});
  EXPECT_FALSE(array_equal(n, n, s).item<bool>());
  EXPECT_TRUE(array_equal(n, n, true, s).item<bool>());
  EXPECT_TRUE(array_equal(astype(n, float16, s), n, true, s).item<bool>());
  EXPECT_EQ(array_equal(n, n, true, s).shape(), Shape{});
}

// ---- label `large`: Release builds, 2^31+ elements ----

// 46341 x 46341 uint8 (2.1 GB, over 2^31 elements) with x[i, j] = 1 where
// (i + j) % 3 == 0: 64-bit offsets in the row and column walks.
TEST(ReductionLarge, Over2To31Elements) {
#ifndef NDEBUG
  GTEST_SKIP() << "large: 4.3 GB of memory, Release builds only";
#endif
  const int n = 46341;
  auto s = default_stream(Device::cpu);
  // (i % 3 + j % 3) % 3 in uint8 keeps every intermediate at 2.1 GB
  auto mod3 = astype(remainder(arange(n, int32, s), array(3), s), uint8, s);
  auto sum3 = add(reshape(mod3, {n, 1}, s), reshape(mod3, {1, n}, s), s);
  auto x = astype(equal(remainder(sum3, array(3, uint8), s), array(0, uint8), s), uint8, s);
  x.eval();
  ASSERT_GT(x.size(), size_t{1} << 31);
  // ones in line k (row or column alike): the m in [0, n) with m = -k mod 3
  auto ones_in = [&](int64_t k) {
    int64_t first = (3 - k % 3) % 3;
    return (n - 1 - first) / 3 + 1;
  };
  int64_t total = 0;
  for (int64_t k = 0; k < n; ++k) total += ones_in(k);
  EXPECT_EQ(sum(x, s).item<uint32_t>(), static_cast<uint32_t>(total));
  for (int axis : {0, 1}) {
    auto per_line = to_vector<uint32_t>(sum(x, axis, false, s));
    auto first_one = to_vector<uint32_t>(argmax(x, axis, false, s));
    for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{n / 2}, int64_t{n - 1}}) {
      EXPECT_EQ(per_line[k], static_cast<uint32_t>(ones_in(k))) << "axis " << axis << " line " << k;
      EXPECT_EQ(first_one[k], static_cast<uint32_t>((3 - k % 3) % 3)) << "axis " << axis << " line " << k;
    }
  }
  EXPECT_TRUE(any(x, s).item<bool>());
  EXPECT_FALSE(all(x, s).item<bool>());
  // the last row's running count, through 64-bit offsets of the scan
  auto last = to_vector<uint8_t>(slice(cumsum(x, 1, false, true, s), {n - 1, 0}, {n, n}, s));
  EXPECT_EQ(last.back(), static_cast<uint8_t>(ones_in(n - 1) % 256));
}
