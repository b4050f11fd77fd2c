// The Vulkan elementwise kernels against the CPU backend: every op on every
// dtype its op allows, with inputs contiguous, misaligned, transposed,
// broadcast and scalar. Exactly specified math (integers, conversions,
// add/subtract/multiply/divide, sqrt, rounding, remainder, min/max, ...)
// must match bit for bit; transcendental functions within the tolerances
// stated in docs/backends.md.
#include "test_util.h"

#include <algorithm>

#include <cstring>
#include <iomanip>
#include <random>
#include <sstream>

#include <lumen/elementwise_primitives.h>

#if LUMEN_HAS_VULKAN

using namespace lumen;
using namespace lumen::test;

namespace {

// Streams its arguments into a string (messages).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  os << std::setprecision(17);
  (os << ... << args);
  return os.str();
}

// Whether the GPU computes float64 (graphs using it are refused otherwise).
bool gpu_has_float64() {
  try {
    astype(array(1.0f), float64, Device::gpu);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

// Every dtype the GPU computes.
std::vector<Dtype> gpu_dtypes() {
  std::vector<Dtype> all = {bool_, uint8,   uint16,  uint32,  uint64,   int8,     int16,
                            int32, int64,   float16, float32, float64,  bfloat16, complex64};
  if (!gpu_has_float64()) std::erase(all, float64);
  return all;
}

bool is_float(Dtype d) { return d == float16 || d == float32 || d == float64 || d == bfloat16; }

// An array on the CPU holding `bytes` as `dtype`.
array from_bytes(std::vector<uint8_t> bytes, Shape shape, Dtype dtype) {
  auto* owned = new std::vector<uint8_t>(std::move(bytes));
  return array(owned->data(), std::move(shape), dtype, [owned](void*) { delete owned; });
}

template <typename T>
void put(std::vector<uint8_t>& bytes, size_t i, T v) {
  std::memcpy(bytes.data() + i * sizeof(T), &v, sizeof(T));
}

// A value of a floating dtype from a double, in that dtype's bits.
void put_float(std::vector<uint8_t>& b, Dtype dt, size_t i, double v) {
  if (dt == float16) put(b, i, float16_t(static_cast<float>(v)).bits);
  else if (dt == bfloat16) put(b, i, bfloat16_t(static_cast<float>(v)).bits);
  else if (dt == float32) put(b, i, static_cast<float>(v));
  else put(b, i, v);
}

// n values of `dt`: edge cases first, then pseudo-random ones in [lo, hi]
// (floats) or over all bit patterns (integers). Float32/64 values are never
// subnormal (devices may flush those in arithmetic).
array sample(Dtype dt, size_t n, uint32_t seed, double lo = -10, double hi = 10, bool specials = true) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(lo, hi);
  std::vector<uint8_t> b(n * size_of(dt));
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> float_specials = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.0,
                                              inf, -inf, NAN, 1e-3, 100.0, -7.25, 65504.0, 65520.0};
  const std::vector<int64_t> int_specials = {0, 1, -1, 2, 7, -8, 127, -128, 255, 32767, -32768,
                                             INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < n; ++i) {
    if (dt == bool_) {
      put<uint8_t>(b, i, rng() & 1);
    } else if (dt == complex64) {
      double re = specials && i < float_specials.size() ? float_specials[i] : uni(rng);
      put(b, 2 * i, static_cast<float>(re));
      put(b, 2 * i + 1, static_cast<float>(uni(rng)));
    } else if (is_float(dt)) {
      put_float(b, dt, i, specials && i < float_specials.size() ? float_specials[i] : uni(rng));
    } else {
      uint64_t v = specials && i < int_specials.size() ? static_cast<uint64_t>(int_specials[i]) : rng();
      std::memcpy(b.data() + i * size_of(dt), &v, size_of(dt));  // truncates (little endian)
    }
  }
  return from_bytes(std::move(b), {static_cast<int>(n)}, dt);
}

// How an input is laid out in memory.
enum class Layout { contiguous, misaligned, transposed, broadcast, scalar };
constexpr int R = 37, C = 29;  // an odd element count exercises the vector path's tail

// A view with explicit strides and element offset over an evaluated array's buffer.
array view_of(const array& base, Shape shape, Strides strides, int64_t offset) {
  array v(std::move(shape), base.dtype(), nullptr, {});
  v.copy_shared_buffer(base, strides, array::Flags{false, false, false}, base.data_size(),
                       offset * static_cast<int64_t>(base.itemsize()));
  return v;
}

// The [R, C] input with `layout`, on `s`'s device, from the first values of
// `data` (a 1-D CPU array with at least R * C + 1 elements).
array arrange(const array& data, Layout layout, const Stream& s) {
  array base = s.device == Device::cpu ? data : copy(data, s);
  base.eval();
  switch (layout) {
    case Layout::contiguous: return view_of(base, {R, C}, {C, 1}, 0);
    case Layout::misaligned: return view_of(base, {R, C}, {C, 1}, 1);
    case Layout::transposed: return view_of(base, {R, C}, {1, R}, 0);
    case Layout::broadcast: return broadcast_to(view_of(base, {R, 1}, {1, 1}, 0), {R, C}, s);
    case Layout::scalar: return broadcast_to(view_of(base, {}, {}, 3), {R, C}, s);
  }
  return base;
}

// The bits of an evaluated array, row-major.
std::vector<uint8_t> bits_of(const array& a) {
  auto c = copy(a, Device::cpu);
  c.eval();
  auto* p = c.data<uint8_t>();
  return std::vector<uint8_t>(p, p + c.nbytes());
}

// Distance in ulps between two floats of `dt` given as bit patterns.
uint64_t ulp_distance(Dtype dt, uint64_t a, uint64_t b) {
  int bits = static_cast<int>(size_of(dt)) * 8;
  auto ordered = [&](uint64_t x) -> int64_t {
    uint64_t sign = uint64_t(1) << (bits - 1);
    uint64_t mag = x & (sign - 1);
    return (x & sign) ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  };
  int64_t d = ordered(a) - ordered(b);
  return static_cast<uint64_t>(d < 0 ? -d : d);
}

double as_double(Dtype dt, uint64_t bits) {
  if (dt == float16) return float16_t::from_bits(static_cast<uint16_t>(bits));
  if (dt == bfloat16) return bfloat16_t::from_bits(static_cast<uint16_t>(bits));
  if (dt == float32) {
    float f;
    uint32_t u = static_cast<uint32_t>(bits);
    std::memcpy(&f, &u, 4);
    return f;
  }
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

// How close GPU results must be to the CPU's.
struct Tolerance {
  uint64_t ulps = 0;         // floats: ulps of the dtype (0: the same bits)
  double complex_rtol = 0;   // complex64: |got - want| <= rtol * |want| (0: same bits)
  double rtol = 0, atol = 0;  // floats, also accepted: |got - want| <= atol + rtol * |want|
};

// Devices without shaderFloat64 compute float transcendental functions with
// the driver's built-ins, which Vulkan specifies loosely (sin and cos to 2^-11
// absolute, for instance).
Tolerance builtin_tolerance() {
  Tolerance t;
  t.ulps = 2;
  t.rtol = 2e-3;
  t.atol = 1e-3;
  return t;
}

// Compares two evaluated arrays of one dtype and shape; NaNs match NaNs.
void expect_match(const array& got, const array& want, Tolerance tol, const std::string& what) {
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto g = bits_of(got), w = bits_of(want);
  Dtype dt = got.dtype();
  size_t item = size_of(dt);
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 5; ++i) {
    bool ok;
    std::string shown;
    if (dt == complex64) {
      float gz[2], wz[2];
      std::memcpy(gz, g.data() + i * 8, 8);
      std::memcpy(wz, w.data() + i * 8, 8);
      bool same = std::memcmp(gz, wz, 8) == 0;
      bool nan = (std::isnan(gz[0]) || std::isnan(gz[1])) && (std::isnan(wz[0]) || std::isnan(wz[1]));
      double err = std::hypot(double(gz[0]) - wz[0], double(gz[1]) - wz[1]);
      double mag = std::hypot(double(wz[0]), double(wz[1]));
      ok = same || nan || (tol.complex_rtol > 0 && err <= tol.complex_rtol * mag + 1e-30);
      shown = cat("(", gz[0], ", ", gz[1], ") vs (", wz[0], ", ", wz[1], ")");
    } else {
      uint64_t gb = 0, wb = 0;
      std::memcpy(&gb, g.data() + i * item, item);
      std::memcpy(&wb, w.data() + i * item, item);
      if (is_float(dt)) {
        double gd = as_double(dt, gb), wd = as_double(dt, wb);
        bool numbers = !std::isnan(gd) && !std::isnan(wd);
        ok = gb == wb || (std::isnan(gd) && std::isnan(wd)) ||
             (tol.ulps > 0 && numbers && ulp_distance(dt, gb, wb) <= tol.ulps) ||
             (tol.rtol > 0 && numbers && std::abs(gd - wd) <= tol.atol + tol.rtol * std::abs(wd));
        shown = cat(gd, " vs ", wd, " (", ulp_distance(dt, gb, wb), " ulp)");
      } else {
        ok = gb == wb;
        shown = cat(std::hex, gb, " vs ", wb);
      }
    }
    if (!ok) {
      ++failures;
      ADD_FAILURE() << what << " element " << i << ": gpu " << shown << " (cpu reference)";
    }
  }
}

std::string name_of(Dtype d) { return dtype_to_string(d); }

// ---- unary ----

bool unary_allows(UnaryOp op, Dtype dt) { return dtype_in(dt, accepted_dtypes(op)); }

bool is_transcendental(UnaryOp op) {
  switch (op) {
    case UnaryOp::Abs:
    case UnaryOp::Ceil:
    case UnaryOp::Floor:
    case UnaryOp::Round:
    case UnaryOp::Negative:
    case UnaryOp::Sign:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt:
    case UnaryOp::Square:
    case UnaryOp::LogicalNot:
    case UnaryOp::BitwiseInvert:
    case UnaryOp::Real:
    case UnaryOp::Imag:
    case UnaryOp::Conjugate:
    case UnaryOp::Copy:
    case UnaryOp::StopGradient: return false;
    default: return true;
  }
}

// Ops computed with MLX's float32 algorithms on both devices.
bool is_mlx_float(UnaryOp op) { return op == UnaryOp::Exp || op == UnaryOp::Erf || op == UnaryOp::ErfInv; }

// Devices without shaderFloat64 use GLSL's built-in functions for float.
bool float64_math() { return gpu_has_float64(); }

Tolerance unary_tolerance(UnaryOp op, Dtype dt) {
  Tolerance t;
  if (dt == complex64) {
    // Only add/subtract/multiply-free ops are exact on complex.
    bool exact = op == UnaryOp::Negative || op == UnaryOp::Conjugate || op == UnaryOp::Copy ||
                 op == UnaryOp::StopGradient || op == UnaryOp::Square || op == UnaryOp::Real ||
                 op == UnaryOp::Imag || op == UnaryOp::Round;
    if (!exact) t.complex_rtol = float64_math() ? 2e-6 : 1e-4;
    return t;
  }
  if (!is_transcendental(op)) return t;
  // MLX's float algorithms run the same operations on both devices (erfinv's
  // log may differ in the last bit).
  if (is_mlx_float(op) && dt != float64) {
    t.ulps = 2;
    return t;
  }
  if (!float64_math()) return builtin_tolerance();
  // float32: the CPU's float libm is itself within an ulp or so.
  // erfinv near +-1 magnifies erf's last-bit differences (its slope is large).
  if (dt == float64) t.ulps = op == UnaryOp::ErfInv ? 256 : 8;
  else if (dt == float32) t.ulps = 2;
  else t.ulps = 1;
  return t;
}

// Inputs inside each function's domain plus the specials (NaN results
// outside it must agree too).
array unary_input(UnaryOp op, Dtype dt) {
  size_t n = R * C + 8;
  // Complex infinities: the GPU follows the formulas, not C99's Annex G.
  if (dt == complex64 && is_transcendental(op)) return sample(dt, n, 15, -4, 4, false);
  switch (op) {
    case UnaryOp::ArcSin:
    case UnaryOp::ArcCos:
    case UnaryOp::ArcTanh:
    case UnaryOp::ErfInv: return sample(dt, n, 11, -1.0, 1.0);
    case UnaryOp::ArcCosh: return sample(dt, n, 12, 1.0, 20.0);
    case UnaryOp::Log:
    case UnaryOp::Log2:
    case UnaryOp::Log10:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt: return sample(dt, n, 13, 0.0, 1000.0);
    default: return sample(dt, n, 14);
  }
}

array run_unary(UnaryOp op, const array& x, Dtype out, const Stream& s) {
  return array(x.shape(), out, std::make_shared<Unary>(s, op), {x});
}

Dtype unary_out_dtype(UnaryOp op, Dtype dt) {
  return (op == UnaryOp::Real || op == UnaryOp::Imag) ? float32 : dt;
}

#define LUMEN_LIST_UNARY(name, set) UnaryOp::name,
const std::vector<UnaryOp> kUnaryOps = {LUMEN_UNARY_OPS(LUMEN_LIST_UNARY)};
#undef LUMEN_LIST_UNARY
#define LUMEN_LIST_BINARY(name, set) BinaryOp::name,
const std::vector<BinaryOp> kBinaryOps = {LUMEN_BINARY_OPS(LUMEN_LIST_BINARY)};
#undef LUMEN_LIST_BINARY

void check_unary(UnaryOp op, Dtype dt, Layout layout) {
  auto cpu = default_stream(Device::cpu), gpu = default_stream(Device::gpu);
  array data = unary_input(op, dt);
  Dtype out = unary_out_dtype(op, dt);
  auto want = run_unary(op, arrange(data, layout, cpu), out, cpu);
  auto got = run_unary(op, arrange(data, layout, gpu), out, gpu);
  eval(want, got);
  expect_match(got, want, unary_tolerance(op, dt),
               cat(op_name(op), " on ", name_of(dt), " (layout ", static_cast<int>(layout), ")"));
}

// ---- binary ----

bool binary_allows(BinaryOp op, Dtype dt) { return dtype_in(dt, accepted_dtypes(op)); }

Tolerance binary_tolerance(BinaryOp op, Dtype dt) {
  Tolerance t;
  bool transcendental = op == BinaryOp::Power || op == BinaryOp::ArcTan2 || op == BinaryOp::LogAddExp;
  if (dt == complex64) {
    if (op == BinaryOp::Divide || op == BinaryOp::Power || op == BinaryOp::LogAddExp) {
      t.complex_rtol = float64_math() ? 1e-5 : 1e-4;
    }
    return t;
  }
  if (!transcendental || !is_float(dt)) return t;
  if (!float64_math()) return builtin_tolerance();
  if (dt == float64) t.ulps = op == BinaryOp::Power ? 4096 : 8;
  else if (dt == float32) t.ulps = 2;
  else t.ulps = 1;
  return t;
}

array binary_input(BinaryOp op, Dtype dt, int which) {
  size_t n = R * C + 8;
  uint32_t seed = 100 + which;
  // Complex infinities: the GPU follows the formulas, not C99's Annex G.
  if (dt == complex64 && (op == BinaryOp::Divide || op == BinaryOp::Power || op == BinaryOp::LogAddExp)) {
    return sample(dt, n, seed, -4, 4, false);
  }
  if (op == BinaryOp::Power && dt != complex64) {
    // Bases and exponents whose powers stay in range.
    if (issubdtype(dt, integer)) return sample(dt, n, seed);  // wraps like the CPU's
    return which == 0 ? sample(dt, n, seed, -4, 4) : sample(dt, n, seed, -6, 6);
  }
  if ((op == BinaryOp::LeftShift || op == BinaryOp::RightShift) && which == 1) {
    // Shift counts around the width, negative ones included.
    std::vector<uint8_t> b(n * size_of(dt));
    for (size_t i = 0; i < n; ++i) {
      int64_t v = static_cast<int64_t>(i % 80) - 8;
      std::memcpy(b.data() + i * size_of(dt), &v, size_of(dt));
    }
    return from_bytes(std::move(b), {static_cast<int>(n)}, dt);
  }
  return sample(dt, n, seed);
}

array run_binary(BinaryOp op, const array& a, const array& b, const Stream& s) {
  Dtype out = is_comparison(op) ? bool_ : a.dtype();
  return array(a.shape(), out, std::make_shared<Binary>(s, op), {a, b});
}

void check_binary(BinaryOp op, Dtype dt, Layout la, Layout lb) {
  auto cpu = default_stream(Device::cpu), gpu = default_stream(Device::gpu);
  array da = binary_input(op, dt, 0);
  array db = binary_input(op, dt, 1);
  auto want = run_binary(op, arrange(da, la, cpu), arrange(db, lb, cpu), cpu);
  auto got = run_binary(op, arrange(da, la, gpu), arrange(db, lb, gpu), gpu);
  eval(want, got);
  expect_match(got, want, binary_tolerance(op, dt),
               cat(op_name(op), " on ", name_of(dt), " (layouts ", static_cast<int>(la), ", ",
                   static_cast<int>(lb), ")"));
}

}  // namespace

TEST(VulkanElementwise, UnaryEveryOpEveryDtype) {
  REQUIRE_GPU();
  for (auto op : kUnaryOps) {
    for (auto dt : gpu_dtypes()) {
      if (unary_allows(op, dt)) check_unary(op, dt, Layout::contiguous);
    }
  }
}

TEST(VulkanElementwise, UnaryEveryLayout) {
  REQUIRE_GPU();
  for (auto layout : {Layout::misaligned, Layout::transposed, Layout::broadcast, Layout::scalar}) {
    for (auto dt : {float32, float16, int8, int64, complex64}) {
      check_unary(UnaryOp::Negative, dt, layout);
      check_unary(UnaryOp::Copy, dt, layout);
    }
    check_unary(UnaryOp::Exp, bfloat16, layout);
    if (gpu_has_float64()) check_unary(UnaryOp::Sqrt, float64, layout);
  }
}

TEST(VulkanElementwise, BinaryEveryOpEveryDtype) {
  REQUIRE_GPU();
  for (auto op : kBinaryOps) {
    for (auto dt : gpu_dtypes()) {
      if (binary_allows(op, dt)) check_binary(op, dt, Layout::contiguous, Layout::contiguous);
    }
  }
}

TEST(VulkanElementwise, BinaryMixedLayouts) {
  REQUIRE_GPU();
  const std::vector<std::pair<Layout, Layout>> combos = {
      {Layout::contiguous, Layout::broadcast}, {Layout::scalar, Layout::transposed},
      {Layout::misaligned, Layout::scalar},    {Layout::transposed, Layout::transposed},
      {Layout::broadcast, Layout::misaligned}, {Layout::scalar, Layout::scalar}};
  for (auto [la, lb] : combos) {
    for (auto dt : {float32, bfloat16, int32, uint8, float64}) {
      if (dt == float64 && !gpu_has_float64()) continue;
      check_binary(BinaryOp::Add, dt, la, lb);
      check_binary(BinaryOp::Divide, dt, la, lb);
      check_binary(BinaryOp::Less, dt, la, lb);
    }
  }
}

TEST(VulkanElementwise, SelectEveryDtypeAndLayout) {
  REQUIRE_GPU();
  auto cpu = default_stream(Device::cpu), gpu = default_stream(Device::gpu);
  size_t n = R * C + 8;
  for (auto dt : gpu_dtypes()) {
    for (auto layouts : std::vector<std::array<Layout, 3>>{
             {Layout::contiguous, Layout::contiguous, Layout::contiguous},
             {Layout::transposed, Layout::scalar, Layout::broadcast},
             {Layout::broadcast, Layout::misaligned, Layout::transposed}}) {
      array c = sample(bool_, n, 1), x = sample(dt, n, 2), y = sample(dt, n, 3);
      auto run = [&](const Stream& s) {
        auto cc = arrange(c, layouts[0], s), xx = arrange(x, layouts[1], s), yy = arrange(y, layouts[2], s);
        return array(cc.shape(), dt, std::make_shared<Select>(s), {cc, xx, yy});
      };
      auto want = run(cpu), got = run(gpu);
      eval(want, got);
      expect_match(got, want, {}, "select on " + name_of(dt));
    }
  }
}

TEST(VulkanElementwise, AsTypeEveryPair) {
  REQUIRE_GPU();
  auto cpu = default_stream(Device::cpu), gpu = default_stream(Device::gpu);
  size_t n = R * C + 8;
  for (auto from : gpu_dtypes()) {
    for (auto to : gpu_dtypes()) {
      // Wide float ranges: conversions to integers saturate (NaN gives 0).
      array data = sample(from, n, 7, -1e6, 1e6);
      auto run = [&](const Stream& s) {
        auto x = arrange(data, Layout::contiguous, s);
        return array(x.shape(), to, std::make_shared<AsType>(s, to), {x});
      };
      auto want = run(cpu), got = run(gpu);
      eval(want, got);
      expect_match(got, want, {}, cat("astype ", name_of(from), " -> ", name_of(to)));
    }
  }
}

TEST(VulkanElementwise, HalfConversionsRoundToNearestEvenEverywhere) {
  REQUIRE_GPU();
  // Every float16 and bfloat16 bit pattern through float32 and back, and
  // float32 values at every rounding boundary (ties, subnormals, overflow).
  auto cpu = default_stream(Device::cpu), gpu = default_stream(Device::gpu);
  std::vector<uint8_t> all16(65536 * 2);
  for (uint32_t i = 0; i < 65536; ++i) put<uint16_t>(all16, i, static_cast<uint16_t>(i));
  std::vector<uint8_t> edges(65536 * 4);
  std::mt19937 rng(5);
  for (uint32_t i = 0; i < 65536; ++i) {
    uint32_t u;
    if (i < 32768) {
      // Every pattern of the low 15 bits (bfloat16's rounding bits, ties
      // included) under random signs and exponents.
      u = (rng() & 0xffff8000u) | i;
    } else {
      // Exponents around float16's subnormal and overflow thresholds.
      uint32_t e = (i & 1) ? 98 + rng() % 18 : 140 + rng() % 3;
      u = ((rng() & 1u) << 31) | (e << 23) | (rng() & 0x7fffffu);
      if (i & 2) u = (u & ~0x1fffu) | 0x1000u;  // a tie at float16's precision
    }
    put<uint32_t>(edges, i, u);
  }
  for (auto half : {float16, bfloat16}) {
    auto bits = from_bytes(all16, {65536}, half);
    auto floats = from_bytes(edges, {65536}, float32);
    for (auto& [src, to] : std::vector<std::pair<array, Dtype>>{{bits, float32}, {floats, half}}) {
      auto run = [&, to = to, src = src](const Stream& s) {
        auto x = s.device == Device::cpu ? src : copy(src, s);
        return array(x.shape(), to, std::make_shared<AsType>(s, to), {x});
      };
      auto want = run(cpu), got = run(gpu);
      eval(want, got);
      expect_match(got, want, {}, cat("astype ", name_of(src.dtype()), " -> ", name_of(to)));
    }
  }
}

TEST(VulkanElementwise, StridedCopyOfHighRankViews) {
  REQUIRE_GPU();
  // A rank-6 permuted view with an offset: the general copy walks it.
  auto cpu = default_stream(Device::cpu), gpu = default_stream(Device::gpu);
  Shape shape = {2, 3, 4, 5, 3, 2};
  Strides strides = {1, 2, 6, 24, 120, 360};  // the reverse of row-major, so nothing merges
  for (auto dt : {uint8, int16, float32, complex64}) {
    array data = sample(dt, 720 + 5, 9);
    auto run = [&](const Stream& s) {
      array base = s.device == Device::cpu ? data : copy(data, s);
      base.eval();
      return copy(view_of(base, shape, strides, 5), s);
    };
    auto want = run(cpu), got = run(gpu);
    eval(want, got);
    expect_match(got, want, {}, "strided copy of " + name_of(dt));
  }
}

TEST(VulkanElementwise, Float64RefusedWhenTheDeviceLacksIt) {
  REQUIRE_GPU();
  if (gpu_has_float64()) GTEST_SKIP() << "the device has shaderFloat64 (test_vulkan.cpp runs this without)";
  auto x = astype(array({1.0f, 2.0f}), float64, Device::cpu);
  try {
    add(x, x, Device::gpu);
    ADD_FAILURE() << "float64 accepted";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("float64"), std::string::npos) << msg;
    EXPECT_NE(msg.find("shaderFloat64"), std::string::npos) << msg;
  }
  EXPECT_THROW(astype(array(1.0f), float64, Device::gpu), std::invalid_argument);
  EXPECT_THROW(astype(x, float32, Device::gpu), std::invalid_argument);
  // float32 still runs.
  expect_close(to_doubles(add(array({1.0f}), array({2.0f}), Device::gpu)), {3.0});
}

#endif  // LUMEN_HAS_VULKAN
