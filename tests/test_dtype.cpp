// Dtypes: MLX's promotion table and categories, and float16/bfloat16
// conversions checked against a rounding reference computed in double.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "test_util.h"

using namespace lumen;

namespace {

// MLX's promotion table (mlx/dtype.cpp, JAX's lattice), rows and columns in
// enum order: bool u8 u16 u32 u64 i8 i16 i32 i64 f16 f32 f64 bf16 c64.
constexpr const char* kPromotion[14][14] = {
    {"bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"uint8", "uint8", "uint16", "uint32", "uint64", "int16", "int16", "int32", "int64", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"uint16", "uint16", "uint16", "uint32", "uint64", "int32", "int32", "int32", "int64", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"uint32", "uint32", "uint32", "uint32", "uint64", "int64", "int64", "int64", "int64", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"uint64", "uint64", "uint64", "uint64", "uint64", "float32", "float32", "float32", "float32", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"int8", "int16", "int32", "int64", "float32", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"int16", "int16", "int32", "int64", "float32", "int16", "int16", "int32", "int64", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"int32", "int32", "int32", "int64", "float32", "int32", "int32", "int32", "int64", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"int64", "int64", "int64", "int64", "float32", "int64", "int64", "int64", "int64", "float16", "float32", "float64", "bfloat16", "complex64"},
    {"float16", "float16", "float16", "float16", "float16", "float16", "float16", "float16", "float16", "float16", "float32", "float64", "float32", "complex64"},
    {"float32", "float32", "float32", "float32", "float32", "float32", "float32", "float32", "float32", "float32", "float32", "float64", "float32", "complex64"},
    {"float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "complex64"},
    {"bfloat16", "bfloat16", "bfloat16", "bfloat16", "bfloat16", "bfloat16", "bfloat16", "bfloat16", "bfloat16", "float32", "float32", "float64", "bfloat16", "complex64"},
    {"complex64", "complex64", "complex64", "complex64", "complex64", "complex64", "complex64", "complex64", "complex64", "complex64", "complex64", "complex64", "complex64", "complex64"},
};

constexpr const char* kNames[14] = {"bool",  "uint8",   "uint16",  "uint32",  "uint64",
                                    "int8",  "int16",   "int32",   "int64",   "float16",
                                    "float32", "float64", "bfloat16", "complex64"};
constexpr int kSizes[14] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 2, 8};

TEST(Dtype, NamesSizesAndOrder) {
  for (int i = 0; i < num_dtypes; ++i) {
    Dtype d = dtype_from_index(i);
    EXPECT_EQ(dtype_to_string(d), kNames[i]);
    EXPECT_EQ(size_of(d), kSizes[i]) << kNames[i];
    EXPECT_EQ(static_cast<int>(d.val()), i);
  }
  EXPECT_THROW(dtype_from_index(14), std::out_of_range);
}

TEST(Dtype, PromotionTableAllPairs) {
  for (int i = 0; i < num_dtypes; ++i) {
    for (int j = 0; j < num_dtypes; ++j) {
      Dtype r = promote_types(dtype_from_index(i), dtype_from_index(j));
      EXPECT_EQ(dtype_to_string(r), kPromotion[i][j]) << kNames[i] << " with " << kNames[j];
    }
  }
}

TEST(Dtype, ResultDtypeOfAddMatchesTable) {
  // the op applies the table (checked on a sample of pairs, building only)
  for (int i = 0; i < num_dtypes; ++i) {
    for (int j = 0; j < num_dtypes; j += 3) {
      auto a = zeros({2}, dtype_from_index(i));
      auto b = zeros({2}, dtype_from_index(j));
      EXPECT_EQ(dtype_to_string(add(a, b).dtype()), kPromotion[i][j]);
    }
  }
}

TEST(Dtype, KindsAndCategories) {
  using K = Dtype::Kind;
  const K kinds[14] = {K::b, K::u, K::u, K::u, K::u, K::i, K::i, K::i, K::i, K::f, K::f, K::f, K::V, K::c};
  for (int i = 0; i < num_dtypes; ++i) EXPECT_EQ(kindof(dtype_from_index(i)), kinds[i]) << kNames[i];

  EXPECT_TRUE(issubdtype(float32, floating));
  EXPECT_TRUE(issubdtype(bfloat16, floating));
  EXPECT_TRUE(issubdtype(float16, inexact));
  EXPECT_TRUE(issubdtype(complex64, inexact));
  EXPECT_FALSE(issubdtype(complex64, floating));
  EXPECT_TRUE(issubdtype(int8, signedinteger));
  EXPECT_TRUE(issubdtype(uint64, unsignedinteger));
  EXPECT_TRUE(issubdtype(uint64, integer));
  EXPECT_TRUE(issubdtype(int64, number));
  EXPECT_FALSE(issubdtype(bool_, number));
  EXPECT_FALSE(issubdtype(bool_, integer));
  EXPECT_TRUE(issubdtype(bool_, generic));
  EXPECT_FALSE(issubdtype(float32, integer));
  EXPECT_TRUE(issubdtype(floating, inexact));
  EXPECT_TRUE(issubdtype(signedinteger, integer));
  EXPECT_FALSE(issubdtype(inexact, floating));
  EXPECT_FALSE(issubdtype(integer, floating));
  EXPECT_TRUE(issubdtype(float32, float32));
  EXPECT_FALSE(issubdtype(float32, float16));
  EXPECT_FALSE(issubdtype(floating, float32));  // a category is never within a dtype
}

TEST(Dtype, CppTypesMapToMlxDtypes) {
  EXPECT_EQ(Dtype(TypeToDtype<double>()), float32);  // as MLX: C++ doubles make float32
  EXPECT_EQ(Dtype(TypeToDtype<float16_t>()), float16);
  EXPECT_EQ(Dtype(TypeToDtype<bfloat16_t>()), bfloat16);
  EXPECT_EQ(Dtype(TypeToDtype<int64_t>()), int64);
  EXPECT_EQ(Dtype(TypeToDtype<uint16_t>()), uint16);
  EXPECT_EQ(Dtype(TypeToDtype<bool>()), bool_);
  EXPECT_EQ(Dtype(TypeToDtype<complex64_t>()), complex64);
}

// ---- float16 / bfloat16 ----

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The nearest value to x (finite, >= 0) with `mant_bits` fraction bits and
// exponents down to `min_exp` (subnormals below), ties to even, or +inf past
// `max_finite` (rounding in double: every float and every candidate is exact).
double round_reference(double x, int mant_bits, int min_exp, double max_finite) {
  if (x == 0 || std::isinf(x)) return x;
  int e = std::max(std::ilogb(x), min_exp);  // floor(log2 x), exact
  double ulp = std::ldexp(1.0, e - mant_bits);
  double q = x / ulp;  // exact: a power-of-two scale
  double lo = std::floor(q);
  double frac = q - lo;
  double n = frac > 0.5 ? lo + 1 : frac < 0.5 ? lo : (std::fmod(lo, 2.0) == 0 ? lo : lo + 1);
  double r = n * ulp;
  return r > max_finite ? INFINITY : r;
}

double half_reference(float f) { return round_reference(std::fabs(f), 10, -14, 65504.0); }
double bfloat_reference(float f) {
  return round_reference(std::fabs(f), 7, -126, std::ldexp(255.0, 120));  // (2 - 2^-7) * 2^127
}

template <typename H>
void check_conversion(float f, double (*reference)(float), const char* what) {
  H h(f);
  float back = static_cast<float>(h);
  if (std::isnan(f)) {
    ASSERT_TRUE(std::isnan(back)) << what << " of NaN bits " << std::hex << bits_of(f);
    return;
  }
  double want = reference(f);
  ASSERT_EQ(static_cast<double>(std::fabs(back)), want)
      << what << " of " << f << " (bits " << std::hex << bits_of(f) << ")";
  ASSERT_EQ(std::signbit(back), std::signbit(f)) << what << " sign of " << f;
}

// Every float near a representable boundary of format H: all H values as
// floats, the midpoints between neighbours (ties), and one float ulp either
// side of each midpoint.
template <typename H>
std::vector<float> boundary_floats() {
  std::vector<float> out;
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float v = static_cast<float>(H::from_bits(static_cast<uint16_t>(b)));
    if (std::isnan(v) || std::isinf(v)) continue;
    out.push_back(v);
    float next = static_cast<float>(H::from_bits(static_cast<uint16_t>(b + 1)));
    if ((b & 0x7fff) == 0x7fff || !std::isfinite(next)) continue;
    double mid = (static_cast<double>(v) + static_cast<double>(next)) / 2;  // exact in double
    float m = static_cast<float>(mid);
    if (static_cast<double>(m) != mid) continue;  // not a float: no tie to test
    out.push_back(m);
    out.push_back(std::nextafter(m, INFINITY));
    out.push_back(std::nextafter(m, -INFINITY));
  }
  return out;
}

std::vector<float> edge_floats() {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::quiet_NaN(), float_of(0x7f800001u),
                          float_of(0xffc12345u), std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::lowest(), std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::denorm_min(), 65504.0f, 65519.99f, 65520.0f,
                          65536.0f, 1e10f, 5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f,
                          6.1035156e-05f, 6.1035152e-05f, 1.0f / 3.0f, 0.1f, 3.0e38f};
  for (float x : std::vector<float>(v)) v.push_back(-x);
  return v;
}

TEST(Half, AllBitPatternsRoundTrip) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    auto h = float16_t::from_bits(static_cast<uint16_t>(b));
    float f = h;
    float16_t back(f);
    bool is_nan = (b & 0x7c00) == 0x7c00 && (b & 0x3ff) != 0;
    if (is_nan) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << b;
      ASSERT_TRUE((back.bits & 0x7c00) == 0x7c00 && (back.bits & 0x3ff) != 0) << std::hex << b;
      ASSERT_EQ(back.bits & 0x8000, b & 0x8000) << "NaN keeps its sign " << std::hex << b;
    } else {
      ASSERT_EQ(back.bits, b) << std::hex << b;
      // decoding is exact: check the value from the fields in double
      int e = (b >> 10) & 0x1f;
      double m = b & 0x3ff;
      double v = e == 0 ? std::ldexp(m, -24) : e == 31 ? INFINITY : std::ldexp(1024 + m, e - 25);
      ASSERT_EQ(static_cast<double>(std::fabs(f)), v) << std::hex << b;
    }
  }
}

TEST(Bfloat, AllBitPatternsRoundTrip) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    auto h = bfloat16_t::from_bits(static_cast<uint16_t>(b));
    float f = h;
    ASSERT_EQ(bits_of(f), b << 16) << std::hex << b;
    bfloat16_t back(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(static_cast<float>(back))) << std::hex << b;
      ASSERT_EQ(back.bits & 0x8000, b & 0x8000) << std::hex << b;
    } else {
      ASSERT_EQ(back.bits, b) << std::hex << b;
    }
  }
}

TEST(Half, RoundsToNearestEvenAtEveryBoundary) {
  for (float f : boundary_floats<float16_t>()) check_conversion<float16_t>(f, half_reference, "half");
  for (float f : edge_floats()) check_conversion<float16_t>(f, half_reference, "half");
}

TEST(Bfloat, RoundsToNearestEvenAtEveryBoundary) {
  for (float f : boundary_floats<bfloat16_t>()) {
    check_conversion<bfloat16_t>(f, bfloat_reference, "bfloat16");
  }
  for (float f : edge_floats()) check_conversion<bfloat16_t>(f, bfloat_reference, "bfloat16");
}

TEST(Half, RandomFloats) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<uint32_t> any_bits;
  // half's range in float: exponents 102..143 cover subnormals to overflow
  std::uniform_int_distribution<uint32_t> exp_bits(102, 143), mant(0, (1u << 23) - 1), sign(0, 1);
  for (int i = 0; i < 300000; ++i) {
    float a = float_of(any_bits(rng));
    check_conversion<float16_t>(a, half_reference, "half");
    check_conversion<bfloat16_t>(a, bfloat_reference, "bfloat16");
    float b = float_of((sign(rng) << 31) | (exp_bits(rng) << 23) | mant(rng));
    check_conversion<float16_t>(b, half_reference, "half");
  }
}

TEST(Half, ConversionsFromOtherTypesGoThroughFloat) {
  EXPECT_EQ(float16_t(2049).bits, float16_t(2048.0f).bits);  // ties to even
  EXPECT_EQ(float16_t(2051).bits, float16_t(2052.0f).bits);
  EXPECT_EQ(float16_t(int64_t(70000)).bits, 0x7c00);  // overflow to inf
  EXPECT_EQ(float16_t(-1.0).bits, 0xbc00);
  EXPECT_EQ(bfloat16_t(257).bits, bfloat16_t(256.0f).bits);
  EXPECT_EQ(bfloat16_t(259u).bits, bfloat16_t(260.0f).bits);
  EXPECT_EQ(bfloat16_t(1.0).bits, 0x3f80);
  // arithmetic mixes in float32
  float16_t a(1.5f), b(2.25f);
  EXPECT_EQ(a + b, 3.75f);
  EXPECT_EQ(a * b, 3.375f);
}

TEST(Half, NumericLimits) {
  using HL = std::numeric_limits<float16_t>;
  using BL = std::numeric_limits<bfloat16_t>;
  EXPECT_EQ(static_cast<float>(HL::max()), 65504.0f);
  EXPECT_EQ(static_cast<float>(HL::lowest()), -65504.0f);
  EXPECT_EQ(static_cast<float>(HL::min()), std::ldexp(1.0f, -14));
  EXPECT_EQ(static_cast<float>(HL::epsilon()), std::ldexp(1.0f, -10));
  EXPECT_EQ(static_cast<float>(HL::denorm_min()), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(static_cast<float>(HL::infinity())));
  EXPECT_TRUE(std::isnan(static_cast<float>(HL::quiet_NaN())));
  EXPECT_EQ(static_cast<double>(static_cast<float>(BL::max())), std::ldexp(255.0, 120));
  EXPECT_EQ(static_cast<float>(BL::min()), std::numeric_limits<float>::min());
  EXPECT_EQ(static_cast<float>(BL::epsilon()), std::ldexp(1.0f, -7));
  EXPECT_EQ(static_cast<float>(BL::denorm_min()), std::ldexp(1.0f, -133));
  EXPECT_TRUE(std::isnan(static_cast<float>(BL::quiet_NaN())));
}

TEST(Dtype, ScalarConversionRules) {
  using detail::convert_scalar;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // float to integer: truncate, saturate, NaN -> 0
  EXPECT_EQ((convert_scalar<int32_t>(2.9f)), 2);
  EXPECT_EQ((convert_scalar<int32_t>(-2.9f)), -2);
  EXPECT_EQ((convert_scalar<int32_t>(nan)), 0);
  EXPECT_EQ((convert_scalar<int32_t>(inf)), std::numeric_limits<int32_t>::max());
  EXPECT_EQ((convert_scalar<int32_t>(-inf)), std::numeric_limits<int32_t>::min());
  EXPECT_EQ((convert_scalar<int32_t>(3e9f)), std::numeric_limits<int32_t>::max());
  EXPECT_EQ((convert_scalar<int8_t>(300.0)), 127);
  EXPECT_EQ((convert_scalar<int8_t>(-300.0)), -128);
  EXPECT_EQ((convert_scalar<uint8_t>(-1.5f)), 0);
  EXPECT_EQ((convert_scalar<uint8_t>(255.9f)), 255);
  EXPECT_EQ((convert_scalar<uint64_t>(1e30)), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ((convert_scalar<int64_t>(-9.3e18)), std::numeric_limits<int64_t>::min());
  EXPECT_EQ((convert_scalar<int64_t>(9.2e18)), int64_t(9.2e18));
  EXPECT_EQ((convert_scalar<uint32_t>(float16_t(65504.0f))), 65504u);
  // to bool: nonzero (NaN included)
  EXPECT_TRUE((convert_scalar<bool>(nan)));
  EXPECT_FALSE((convert_scalar<bool>(-0.0)));
  EXPECT_TRUE((convert_scalar<bool>(bfloat16_t(0.5f))));
  // complex: the real part either way
  EXPECT_EQ((convert_scalar<float>(complex64_t(2.5f, -1.0f))), 2.5f);
  EXPECT_FALSE((convert_scalar<bool>(complex64_t(0.0f, 1.0f))));
  EXPECT_EQ((convert_scalar<complex64_t>(int16_t(-3))), complex64_t(-3.0f, 0.0f));
  // integers wrap into narrower integers
  EXPECT_EQ((convert_scalar<int8_t>(int32_t(200))), -56);
  EXPECT_EQ((convert_scalar<uint16_t>(int64_t(-1))), 65535);
}

}  // namespace
