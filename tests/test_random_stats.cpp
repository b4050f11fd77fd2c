// random: statistical checks of the distributions (independent closed forms):
// mean and variance within 5 sigma / sqrt(N), the resolution of bfloat16
// uniforms, and Kolmogorov-Smirnov bounds for the normal in every dtype.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "random_test_helpers.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(RandomStats);

namespace {

constexpr int kN = 1 << 20;

struct Moments {
  double mean, var;
};

Moments moments(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= v.size();
  double s2 = 0;
  for (double x : v) s2 += (x - m) * (x - m);
  return {m, s2 / (v.size() - 1)};
}

// Sample mean and variance against the distribution's mean, variance and
// fourth central moment: |error| < 5 standard errors.
void expect_moments(const std::vector<double>& v, double mean, double var, double mu4,
                    const std::string& what) {
  auto m = moments(v);
  double n = static_cast<double>(v.size());
  EXPECT_LT(std::abs(m.mean - mean), 5 * std::sqrt(var / n)) << what << " mean " << m.mean;
  EXPECT_LT(std::abs(m.var - var), 5 * std::sqrt((mu4 - var * var) / n))
      << what << " var " << m.var;
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

// The value of dtype `dt` just above v (v representable in dt).
double next_up(double v, Dtype dt) {
  float f = static_cast<float>(v);
  if (dt == float32) return std::nextafter(f, INFINITY);
  auto step = [&](auto t) {
    using T = decltype(t);
    T h(f);
    uint16_t b = h.bits;
    if (b == 0x8000) b = 0;  // -0: the next value is the smallest positive one
    if (b & 0x8000)
      b = static_cast<uint16_t>(b - 1);
    else
      b = static_cast<uint16_t>(b + 1);
    return static_cast<double>(static_cast<float>(T::from_bits(b)));
  };
  return dt == float16 ? step(float16_t{}) : step(bfloat16_t{});
}

// Kolmogorov-Smirnov distance of samples rounded to dtype `dt` from N(0, 1)
// rounded to nearest: the reference CDF at a value v is Phi of the midpoint
// to the next value. Returns the distance and the largest reference atom.
std::pair<double, double> ks_rounded_normal(std::vector<double> v, Dtype dt) {
  std::sort(v.begin(), v.end());
  double n = static_cast<double>(v.size());
  double d = 0, atom = 0, prev_ref = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j] == v[i]) ++j;
    double ref = normal_cdf(0.5 * (v[i] + next_up(v[i], dt)));
    double below = i / n, upto = j / n;
    d = std::max({d, std::abs(upto - ref), std::abs(below - prev_ref)});
    atom = std::max(atom, ref - prev_ref);
    prev_ref = ref;
    i = j;
  }
  return {d, atom};
}

// KS critical value at significance 1e-6.
double ks_critical(size_t n) { return std::sqrt(std::log(2.0 / 1e-6) / (2.0 * n)); }

const std::vector<Dtype>& float_dtypes() {
  static const std::vector<Dtype> v = {float32, float16, bfloat16};
  return v;
}

}  // namespace

LUMEN_DEVICE_TEST(RandomStats, UniformMomentsAndRange) {
  for (Dtype dt : float_dtypes()) {
    auto v = to_doubles(random::uniform({kN}, dt, random::key(31), s));
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    EXPECT_GE(*lo, 0.0);
    EXPECT_LT(*hi, 1.0);
    expect_moments(v, 0.5, 1.0 / 12, 1.0 / 80, "uniform " + dtype_to_string(dt));
    // an affine range: U(-3, 5)
    auto w = to_doubles(random::uniform(-3.0f, 5.0f, {kN}, dt, random::key(32), s));
    expect_moments(w, 1.0, 64.0 / 12, 4096.0 / 80, "uniform(-3, 5) " + dtype_to_string(dt));
  }
}

LUMEN_DEVICE_TEST(RandomStats, Bfloat16UniformResolution) {
  // MLX's method (float32 uniform rounded to bfloat16) reaches every bfloat16
  // value in [0, 1) with its rounding interval's probability. The expected
  // number of distinct values in 1M samples is sum_v 1 - (1 - p_v)^N, about
  // 1697 (128 values per binade, ~13 binades reached): the ">= 2000"
  // cannot hold with MLX's bits, so the bound is the expectation - 5 sd.
  const int n = 1000000;
  auto v = to_doubles(random::uniform({n}, bfloat16, random::key(33), s));
  std::set<double> distinct(v.begin(), v.end());
  std::vector<double> grid;
  for (uint32_t b = 0; b < 0x3F80; ++b)
    grid.push_back(static_cast<float>(bfloat16_t::from_bits(b)));
  double expect = 0, var = 0;
  for (size_t i = 0; i < grid.size(); ++i) {
    double lo = i == 0 ? 0.0 : 0.5 * (grid[i - 1] + grid[i]);
    double hi = i + 1 == grid.size() ? 1.0 : 0.5 * (grid[i] + grid[i + 1]);
    double q = -std::expm1(n * std::log1p(-(hi - lo)));
    expect += q;
    var += q * (1 - q);
  }
  EXPECT_GT(expect, 1650.0);
  EXPECT_GE(static_cast<double>(distinct.size()), expect - 5 * std::sqrt(var))
      << "expected about " << expect;
  // every sample is a bfloat16 value in [0, 1) and the bottom binades are hit
  EXPECT_LT(*distinct.begin(), std::ldexp(1.0, -12));
}

LUMEN_DEVICE_TEST(RandomStats, NormalMomentsAndKolmogorovSmirnov) {
  for (Dtype dt : float_dtypes()) {
    auto v = to_doubles(random::normal({kN}, dt, random::key(34), s));
    expect_moments(v, 0.0, 1.0, 3.0, "normal " + dtype_to_string(dt));
    auto [d, atom] = ks_rounded_normal(v, dt);
    // rounding twice (erfinv to dtype, then the sqrt(2) product) moves mass
    // by at most one atom
    EXPECT_LT(d, ks_critical(v.size()) + atom) << "KS distance, " << dt;
    // loc and scale: N(2, 0.5^2)
    auto w = to_doubles(random::normal({kN}, dt, 2.0f, 0.5f, random::key(35), s));
    expect_moments(w, 2.0, 0.25, 3 * 0.0625, "normal(2, 0.5) " + dtype_to_string(dt));
  }
}

LUMEN_DEVICE_TEST(RandomStats, OtherFamilies) {
  const double pi2 = std::numbers::pi * std::numbers::pi;
  auto g = to_doubles(random::gumbel({kN}, float32, random::key(36), s));
  expect_moments(g, std::numbers::egamma, pi2 / 6, 5.4 * (pi2 / 6) * (pi2 / 6), "gumbel");

  auto l = to_doubles(random::laplace({kN}, float32, 0.5f, 2.0f, random::key(37), s));
  expect_moments(l, 0.5, 8.0, 6 * 64.0, "laplace(0.5, 2)");

  auto b = to_doubles(random::bernoulli(array(0.3f), {kN}, random::key(38), s));
  expect_moments(b, 0.3, 0.21, 0.3 * 0.7 * (1 - 3 * 0.3 * 0.7), "bernoulli(0.3)");
  EXPECT_EQ(to_doubles(random::bernoulli(array(1.0f), {1000}, random::key(38), s)),
            std::vector<double>(1000, 1.0));
  EXPECT_EQ(to_doubles(random::bernoulli(array(0.0f), {1000}, random::key(38), s)),
            std::vector<double>(1000, 0.0));

  // integers uniform on [-3, 7): every value, nothing outside
  auto r = to_doubles(random::randint(-3, 7, {kN}, int32, random::key(39), s));
  std::vector<int> counts(10, 0);
  for (double x : r) {
    ASSERT_TRUE(x >= -3 && x < 7) << x;
    counts[static_cast<int>(x) + 3]++;
  }
  double p = 0.1, sd = std::sqrt(kN * p * (1 - p));
  for (int c : counts) EXPECT_LT(std::abs(c - kN * p), 5 * sd);
  expect_moments(r, 1.5, 99.0 / 12, 99.0 * 293 / 240, "randint(-3, 7)");

  // truncated normal on [-1, 1.5]: moments by numerical integration
  const double a = -1.0, bnd = 1.5;
  auto pdf = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); };
  double z = normal_cdf(bnd) - normal_cdf(a);
  auto integrate = [&](auto f) {
    const int steps = 20000;
    double h = (bnd - a) / steps, sum = f(a) + f(bnd);
    for (int i = 1; i < steps; ++i) sum += (i % 2 ? 4 : 2) * f(a + i * h);
    return sum * h / 3 / z;
  };
  double mu = integrate([&](double x) { return x * pdf(x); });
  double var = integrate([&](double x) { return (x - mu) * (x - mu) * pdf(x); });
  double mu4 = integrate([&](double x) { return std::pow(x - mu, 4) * pdf(x); });
  auto t =
      to_doubles(random::truncated_normal(array(a), array(bnd), {kN}, float32, random::key(40), s));
  auto [tmin, tmax] = std::minmax_element(t.begin(), t.end());
  EXPECT_GE(*tmin, a);
  EXPECT_LE(*tmax, bnd);
  expect_moments(t, mu, var, mu4, "truncated_normal(-1, 1.5)");
}
