// The GPU paths of reductions, softmax, scans and sorts (backends/vulkan/
// kernels/{reduce,arg_reduce,softmax,scan,sort}.cpp), against double loops:
// shapes chosen so that every path runs (workgroup and thread spreads,
// passes over partial results, rows held in registers and streamed, merge
// passes of long sorts), with strided and broadcast inputs, the
// shared-memory fallback of the subgroup variants, and float64/complex64
// where the device computes them. Tests the shared suites leave to the CPU
// run here only on the GPU.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <functional>
#include <numeric>

#include "reference_values.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

using Fold = std::function<double(double, double)>;

// Lines along one axis of a row-major shape: element t of line l.
struct Lines {
  int64_t n, inner, count;
  Lines(const Shape& shape, int axis) {
    n = shape[axis];
    inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    count = n == 0 ? 0 : numel(shape) / n;
  }
  int64_t at(int64_t l, int64_t t) const { return l / inner * n * inner + l % inner + t * inner; }
  std::vector<double> get(const std::vector<double>& x, int64_t l) const {
    std::vector<double> v(n);
    for (int64_t t = 0; t < n; ++t) v[t] = x[at(l, t)];
    return v;
  }
};

// Folds x over `axes` (the output keeps every dim, reduced ones as 1).
std::vector<double> ref_reduce(const std::vector<double>& x, const Shape& shape, const std::vector<int>& axes,
                               const Fold& f, double init) {
  const int nd = static_cast<int>(shape.size());
  std::vector<bool> red(nd, false);
  for (int a : axes) red[a] = true;
  // Output stride of each input dim (0 where reduced).
  std::vector<int64_t> ostride(nd, 0);
  int64_t n_out = 1;
  for (int d = nd - 1; d >= 0; --d) {
    if (red[d]) continue;
    ostride[d] = n_out;
    n_out *= shape[d];
  }
  std::vector<double> out(n_out, init);
  std::vector<int64_t> idx(nd, 0);
  int64_t o = 0;
  for (double v : x) {
    out[o] = f(out[o], v);
    for (int d = nd - 1; d >= 0; --d) {
      o += ostride[d];
      if (++idx[d] < shape[d]) break;
      o -= ostride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }

double rtol_of(Dtype d) {
  if (d == float16) return 2e-3;
  if (d == bfloat16) return 1.6e-2;
  if (d == float32) return 2e-6;
  return 1e-12;
}

// Values rounded to a float dtype (infinite past its range).
std::vector<double> rounded(const std::vector<double>& v, Dtype d) {
  return to_doubles(make_array(v, {static_cast<int>(v.size())}, d));
}

bool gpu_computes(Dtype d, const Device& dev) {
  // float64 needs shaderFloat64, refused when the graph is built otherwise.
  if (d != float64) return true;
  try {
    sum(array({1.0}, float64), {0}, true, dev);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

// Runs `body` on `dtypes` with the subgroup variants on, then on the float
// dtypes among them (the only ones with such variants) with them forced off.
void with_and_without_subgroups(const std::vector<Dtype>& dtypes,
                                const std::function<void(Dtype, const std::string&)>& body) {
  for (Dtype d : dtypes) body(d, "subgroups");
  setenv("LUMEN_VULKAN_SUBGROUPS", "0", 1);
  for (Dtype d : {float32, float16}) {
    if (std::find(dtypes.begin(), dtypes.end(), d) != dtypes.end()) body(d, "shared memory");
  }
  unsetenv("LUMEN_VULKAN_SUBGROUPS");
}

// Inputs made on the CPU (the GPU kernels read them through their strides):
// dense, transposed, and broadcast along axis 1.
std::vector<std::pair<std::string, array>> layouts(const std::vector<double>& v, const Shape& shape,
                                                   Dtype d) {
  auto dense = make_array(v, shape, d);
  Shape rev(shape.rbegin(), shape.rend());
  std::vector<int> perm(shape.size());
  std::iota(perm.rbegin(), perm.rend(), 0);
  auto transposed = transpose(make_array(v, rev, d), perm, Device::cpu);
  Shape one = shape;
  one[1] = 1;
  auto broadcast = broadcast_to(make_array(std::vector<double>(v.begin(), v.begin() + numel(one)), one, d),
                                shape, Device::cpu);
  eval({transposed, broadcast});
  return {{"dense", dense}, {"transposed", transposed}, {"broadcast", broadcast}};
}

}  // namespace

LUMEN_DEVICE_SUITE(GpuReduction);

LUMEN_DEVICE_TEST(GpuReduction, ReducePaths) {
  if (!on_gpu) GTEST_SKIP() << "GPU paths";
  struct Case {
    Shape shape;
    std::vector<int> axes;
  };
  // Long rows (workgroups, partial passes), few long columns (threads,
  // partial passes), an all-reduce, two reduced dims apart, short rows
  // (a thread each), rows of 100 (a subgroup each on lavapipe) and of 700
  // (lane groups of 64, four rows to a workgroup).
  std::vector<Case> cases{{{3, 40000, 2}, {1}},
                          {{20000, 3, 2}, {0}},
                          {{60, 50, 40}, {0, 1, 2}},
                          {{30, 7, 50}, {0, 2}},
                          {{2000, 5, 1}, {1}},
                          {{300, 100, 1}, {1}},
                          {{9, 700, 1}, {1}}};
  with_and_without_subgroups(
      {float32, bfloat16, float16, int32, int8, uint64, bool_, float64},
      [&](Dtype d, const std::string& how) {
        if (!gpu_computes(d, dev)) return;
        for (auto& c : cases) {
          auto v = sample_values(numel(c.shape), d, 13);
          for (auto& [name, x] : layouts(v, c.shape, d)) {
            auto xv = to_doubles(x);
            std::string label = how + " " + name + " " + dtype_to_string(d) + " shape " + join_text(c.shape) +
                                " axes " + join_text(c.axes);
            auto want_sum = ref_reduce(xv, c.shape, c.axes, std::plus<double>(), 0);
            if (issubdtype(d, floating)) want_sum = rounded(want_sum, d);
            expect_close(to_doubles(sum(x, c.axes, true, s)), want_sum,
                         issubdtype(d, floating) ? rtol_of(d) : 0, 0, "sum " + label);
            expect_close(to_doubles(max(x, c.axes, true, s)),
                         ref_reduce(xv, c.shape, c.axes, nan_max, -INFINITY), 0, 0, "max " + label);
            expect_close(to_doubles(min(x, c.axes, true, s)),
                         ref_reduce(xv, c.shape, c.axes, nan_min, INFINITY), 0, 0, "min " + label);
            auto truth = [](double a, double b) { return double(a != 0 && b != 0); };
            auto either = [](double a, double b) { return double(a != 0 || b != 0); };
            expect_close(to_doubles(all(x, c.axes, true, s)), ref_reduce(xv, c.shape, c.axes, truth, 1), 0, 0,
                         "all " + label);
            expect_close(to_doubles(any(x, c.axes, true, s)), ref_reduce(xv, c.shape, c.axes, either, 0), 0,
                         0, "any " + label);
          }
        }
      });
}

LUMEN_DEVICE_TEST(GpuReduction, ProductsAndWrappingSums) {
  if (!on_gpu) GTEST_SKIP() << "GPU paths";
  // Values in {1, -1, 2, 1/2}: products stay exact in float32.
  Shape shape{50, 3000};
  std::vector<double> v(numel(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = (i % 97 == 0) ? 2 : (i % 89 == 0 ? 0.5 : (i % 3 ? 1 : -1));
  for (int axis : {0, 1}) {
    auto want = ref_reduce(v, shape, {axis}, std::multiplies<double>(), 1);
    expect_close(to_doubles(prod(make_array(v, shape, float32), {axis}, true, s)), want, 1e-6, 0, "prod");
  }
  // int32 sums wrap; int16 sums accumulate in int32; uint8 in uint32.
  auto big = full({70000}, 40000, int32, Device::cpu);
  EXPECT_EQ(sum(big, {0}, true, s).item<int32_t>(),
            static_cast<int32_t>(int64_t{70000} * 40000 - (int64_t{1} << 32)));
  EXPECT_EQ(sum(full({70000}, 30000, int16, Device::cpu), {0}, true, s).item<int32_t>(), 2100000000);
  EXPECT_EQ(sum(full({70000}, 200, uint8, Device::cpu), {0}, true, s).item<uint32_t>(), 14000000u);
  // empty reductions give identities
  auto e = zeros({0, 3}, float32, Device::cpu);
  expect_close(to_doubles(prod(e, {0}, true, s)), {1, 1, 1});
  expect_close(to_doubles(all(e, {0}, true, s)), {1, 1, 1});
  // the first NaN anywhere in a long reduction wins
  auto w = sample_values(300000, float32, 3);
  w[123457] = NAN;
  EXPECT_TRUE(std::isnan(max(make_array(w, {300000}, float32), {0}, true, s).item<float>()));
  EXPECT_TRUE(std::isnan(to_doubles(sum(make_array(w, {300000}, bfloat16), {0}, true, s))[0]));
}

LUMEN_DEVICE_TEST(GpuReduction, ArgReducePaths) {
  if (!on_gpu) GTEST_SKIP() << "GPU paths";
  for (Dtype d : {float32, float16, int16, uint32, bool_, float64}) {
    if (!gpu_computes(d, dev)) continue;
    for (Shape shape : {Shape{3, 5000}, Shape{5000, 3}, Shape{3000, 40}, Shape{7, 9}}) {
      auto v = sample_values(numel(shape), d, 17);  // many ties
      if (issubdtype(d, floating)) v[numel(shape) / 2] = NAN;
      for (auto& [name, x] : layouts(v, shape, d)) {
        auto xv = to_doubles(x);
        for (int axis : {0, 1}) {
          Lines ls(shape, axis);
          std::vector<double> want_max, want_min;
          for (int64_t l = 0; l < ls.count; ++l) {
            auto line = ls.get(xv, l);
            int64_t bmax = 0, bmin = 0;
            for (int64_t t = 1; t < ls.n; ++t) {
              if (!std::isnan(line[bmax]) && (std::isnan(line[t]) || line[t] > line[bmax])) bmax = t;
              if (!std::isnan(line[bmin]) && (std::isnan(line[t]) || line[t] < line[bmin])) bmin = t;
            }
            want_max.push_back(bmax);
            want_min.push_back(bmin);
          }
          // outputs in line order: kept dims row-major
          std::string label = name + " " + dtype_to_string(d) + " shape " + join_text(shape) + " axis " +
                              std::to_string(axis);
          expect_close(to_doubles(argmax(x, axis, true, s)), want_max, 0, 0, "argmax " + label);
          expect_close(to_doubles(argmin(x, axis, true, s)), want_min, 0, 0, "argmin " + label);
        }
      }
    }
  }
}

LUMEN_DEVICE_TEST(GpuReduction, SoftmaxAndLogSumExpRows) {
  if (!on_gpu) GTEST_SKIP() << "GPU paths";
  // Rows held in registers (short, 1000, 8000 float32) and streamed (40000).
  with_and_without_subgroups({float32, bfloat16, float16, float64}, [&](Dtype d, const std::string& how) {
    if (!gpu_computes(d, dev)) return;
    for (Shape shape : {Shape{6, 7}, Shape{5, 1000}, Shape{3, 8000}, Shape{2, 40000}}) {
      auto v = sample_values(numel(shape), d, 29);
      v[3] = 1000;  // stability
      for (auto& [name, x] : layouts(v, shape, d)) {
        auto xv = to_doubles(x);
        Lines ls(shape, 1);
        std::vector<double> want_sm(xv.size()), want_lse;
        for (int64_t l = 0; l < ls.count; ++l) {
          auto line = ls.get(xv, l);
          double m = *std::max_element(line.begin(), line.end());
          double total = 0;
          for (double t : line) total += std::exp(t - m);
          want_lse.push_back(std::log(total) + m);
          for (int64_t t = 0; t < ls.n; ++t) want_sm[ls.at(l, t)] = std::exp(line[t] - m) / total;
        }
        std::string label = how + " " + name + " " + dtype_to_string(d) + " shape " + join_text(shape);
        double tol = std::max(rtol_of(d), 2e-6);
        expect_close(to_doubles(softmax(x, {1}, false, s)), want_sm, tol, tol, "softmax " + label);
        expect_close(to_doubles(logsumexp(x, {1}, true, s)), want_lse, tol, tol, "logsumexp " + label);
      }
    }
  });
  // NaN rows, -inf rows, +inf rows
  auto y = array({1.0f, NAN, 2.0f, -INFINITY, -INFINITY, -INFINITY, INFINITY, 1.0f, 0.0f}, {3, 3});
  expect_close(to_doubles(logsumexp(y, {1}, true, s)), {NAN, -INFINITY, INFINITY});
  auto sm = to_doubles(softmax(y, {1}, false, s));
  for (double t : sm) EXPECT_TRUE(std::isnan(t) || t == 0 || t == 1);
  EXPECT_TRUE(std::isnan(sm[0]) && std::isnan(sm[3]));
}

LUMEN_DEVICE_TEST(GpuReduction, ScanPaths) {
  if (!on_gpu) GTEST_SKIP() << "GPU paths";
  auto ref_scan = [](const std::vector<double>& x, const Shape& shape, int axis, bool reverse, bool inclusive,
                     const Fold& f, double init) {
    Lines ls(shape, axis);
    std::vector<double> out(x.size());
    for (int64_t l = 0; l < ls.count; ++l) {
      double acc = init;
      for (int64_t t = 0; t < ls.n; ++t) {
        int64_t i = ls.at(l, reverse ? ls.n - 1 - t : t);
        double next = t == 0 ? x[i] : f(acc, x[i]);
        out[i] = inclusive ? next : acc;
        acc = next;
      }
    }
    return out;
  };
  auto log_add_exp = [](double a, double b) {
    double hi = std::max(a, b), lo = std::min(a, b);
    return lo == -INFINITY ? hi : hi + std::log1p(std::exp(lo - hi));
  };
  // One workgroup per line (long lines, few lines), a thread per line (many lines).
  with_and_without_subgroups(
      {float32, bfloat16, int32, int8, uint16, bool_, float64}, [&](Dtype d, const std::string& how) {
        if (!gpu_computes(d, dev)) return;
        for (Shape shape : {Shape{3, 5000}, Shape{5000, 3}, Shape{4100, 2}}) {
          auto v = sample_values(numel(shape), d, 37, true);
          for (auto& [name, x] : layouts(v, shape, d)) {
            auto xv = to_doubles(x);
            for (int axis : {0, 1}) {
              for (bool reverse : {false, true}) {
                for (bool inclusive : {true, false}) {
                  std::string label = how + " " + name + " " + dtype_to_string(d) + " shape " +
                                      join_text(shape) + " axis " + std::to_string(axis) +
                                      (reverse ? " reverse" : "") + (inclusive ? "" : " exclusive");
                  auto want = ref_scan(xv, shape, axis, reverse, inclusive, std::plus<double>(), 0);
                  if (d == int8 || d == uint16) {  // these wrap
                    for (auto& w : want) {
                      w = d == int8 ? double(static_cast<int8_t>(static_cast<int64_t>(w)))
                                    : double(static_cast<uint16_t>(static_cast<int64_t>(w)));
                    }
                  }
                  expect_close(to_doubles(cumsum(x, axis, reverse, inclusive, std::nullopt, s)), want,
                               issubdtype(d, floating) ? rtol_of(d) : 0, 0, "cumsum " + label);
                  double lowest = d == int8 ? -128 : (issubdtype(d, floating) ? -INFINITY : 0);
                  if (d == int32) lowest = -2147483648.0;
                  expect_close(to_doubles(cummax(x, axis, reverse, inclusive, s)),
                               ref_scan(xv, shape, axis, reverse, inclusive, nan_max, lowest), 0, 0,
                               "cummax " + label);
                  if (issubdtype(d, floating)) {
                    double tol = std::max(rtol_of(d), 1e-5);
                    expect_close(to_doubles(logcumsumexp(x, axis, reverse, inclusive, s)),
                                 ref_scan(xv, shape, axis, reverse, inclusive, log_add_exp, -INFINITY), tol,
                                 tol, "logcumsumexp " + label);
                  }
                }
              }
            }
          }
        }
      });
  // -0.0 survives an inclusive sum; a NaN propagates from where it is
  EXPECT_TRUE(std::signbit(cumsum(array({-0.0f}), 0, false, true, std::nullopt, s).item<float>()));
  auto n = sample_values(3000, float32, 5);
  n[1500] = NAN;
  auto m = to_doubles(cummin(make_array(n, {3000}, float32), 0, false, true, s));
  EXPECT_FALSE(std::isnan(m[1499]));
  EXPECT_TRUE(std::isnan(m[1500]) && std::isnan(m.back()));
}

LUMEN_DEVICE_TEST(GpuReduction, SortPaths) {
  if (!on_gpu) GTEST_SKIP() << "GPU paths";
  auto nan_last_less = [](double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); };
  // Lines in one tile, several lines to a tile, long lines merged over
  // chunks (5000: three chunks, 2049: one element past a chunk).
  for (Dtype d : {float32, float16, bfloat16, int32, int64, uint8, bool_, float64}) {
    if (!gpu_computes(d, dev)) continue;
    for (Shape shape : {Shape{3, 5000}, Shape{2049, 2}, Shape{40, 33}, Shape{7, 1}, Shape{1000, 3}}) {
      auto v = sample_values(numel(shape), d, 43);  // many ties: stability shows
      if (issubdtype(d, floating)) {
        for (size_t i = 0; i < v.size(); i += 37) v[i] = NAN;
        v[1] = -0.0;
        v[2] = INFINITY;
      }
      for (auto& [name, x] : layouts(v, shape, d)) {
        auto xv = to_doubles(x);
        for (int axis : {0, 1}) {
          Lines ls(shape, axis);
          std::vector<double> sorted(xv.size()), order(xv.size());
          for (int64_t l = 0; l < ls.count; ++l) {
            auto line = ls.get(xv, l);
            std::vector<int64_t> idx(ls.n);
            std::iota(idx.begin(), idx.end(), 0);
            std::stable_sort(idx.begin(), idx.end(),
                             [&](int64_t a, int64_t b) { return nan_last_less(line[a], line[b]); });
            for (int64_t t = 0; t < ls.n; ++t) {
              sorted[ls.at(l, t)] = line[idx[t]];
              order[ls.at(l, t)] = static_cast<double>(idx[t]);
            }
          }
          std::string label = name + " " + dtype_to_string(d) + " shape " + join_text(shape) + " axis " +
                              std::to_string(axis);
          expect_close(to_doubles(sort(x, axis, s)), sorted, 0, 0, "sort " + label);
          expect_close(to_doubles(argsort(x, axis, s)), order, 0, 0, "argsort " + label);
          expect_close(to_doubles(partition(x, ls.n / 2, axis, s)), sorted, 0, 0, "partition " + label);
          expect_close(to_doubles(argpartition(x, 0, axis, s)), order, 0, 0, "argpartition " + label);
        }
      }
    }
  }
  // -0.0 and 0.0 tie and keep their order
  auto z = to_vector<float>(sort(array({0.0f, -0.0f, 0.0f, -1.0f}), 0, s));
  EXPECT_EQ(z[0], -1.0f);
  EXPECT_FALSE(std::signbit(z[1]));
  EXPECT_TRUE(std::signbit(z[2]));
}

LUMEN_DEVICE_TEST(GpuReduction, Complex) {
  if (!on_gpu) GTEST_SKIP() << "GPU paths";
  std::vector<std::complex<float>> v;
  for (int i = 0; i < 3 * 700; ++i) v.emplace_back(0.25f * (i % 5) - 0.5f, 0.25f * (i % 3) - 0.25f);
  auto x = array(v.begin(), {3, 700}, complex64);
  auto less = [](std::complex<double> a, std::complex<double> b) {
    return a.real() < b.real() || (a.real() == b.real() && a.imag() < b.imag());
  };
  for (int axis : {0, 1}) {
    Lines ls({3, 700}, axis);
    std::vector<double> sum_re, sum_im, max_re, max_im, arg;
    std::vector<double> cs_re(v.size()), cs_im(v.size()), order(v.size());
    for (int64_t l = 0; l < ls.count; ++l) {
      std::complex<double> total = 0, best = 0;
      int64_t bi = 0;
      std::vector<int64_t> idx(ls.n);
      std::iota(idx.begin(), idx.end(), 0);
      auto z = [&](int64_t t) {
        auto c = v[ls.at(l, t)];
        return std::complex<double>(c.real(), c.imag());
      };
      for (int64_t t = 0; t < ls.n; ++t) {
        total += z(t);
        cs_re[ls.at(l, t)] = total.real();
        cs_im[ls.at(l, t)] = total.imag();
        if (t == 0 || less(best, z(t))) {
          best = z(t);
          bi = t;
        }
      }
      std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return less(z(a), z(b)); });
      for (int64_t t = 0; t < ls.n; ++t) order[ls.at(l, t)] = static_cast<double>(idx[t]);
      sum_re.push_back(total.real());
      sum_im.push_back(total.imag());
      max_re.push_back(best.real());
      max_im.push_back(best.imag());
      arg.push_back(static_cast<double>(bi));
    }
    auto check = [&](const array& got, const std::vector<double>& re, const std::vector<double>& im,
                     const std::string& what) {
      auto g = to_vector<std::complex<float>>(got);
      std::vector<double> gre, gim;
      for (auto c : g) {
        gre.push_back(c.real());
        gim.push_back(c.imag());
      }
      expect_close(gre, re, 1e-6, 1e-6, what + " real");
      expect_close(gim, im, 1e-6, 1e-6, what + " imag");
    };
    std::string label = " axis " + std::to_string(axis);
    check(sum(x, {axis}, true, s), sum_re, sum_im, "sum" + label);
    check(max(x, {axis}, true, s), max_re, max_im, "max" + label);
    check(cumsum(x, axis, false, true, std::nullopt, s), cs_re, cs_im, "cumsum" + label);
    expect_close(to_doubles(argmax(x, axis, true, s)), arg, 0, 0, "argmax" + label);
    expect_close(to_doubles(argsort(x, axis, s)), order, 0, 0, "argsort" + label);
  }
}
