// Sub-1-bit weights: the packed format decoded by the test itself, the
// clustering's defining properties, scales, and binary_matmul (both kernels,
// both orientations, every format and x dtype) against float64 products.
#include <bit>
#include <cmath>
#include <cstdlib>
#include <random>

#include "reference_values.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

struct Format {
  int group, vector, bits;
  int k;  // an input dimension the format divides
};

// v = 8, b = 6 (0.75); v = 16, b = 12 (0.75); v = 10, b = 8 (0.8, vectors
// straddle the 128-element groups); the plain 1-bit format.
const std::vector<Format> kFormats = {{128, 8, 6, 256}, {64, 16, 12, 192}, {128, 10, 8, 640}, {128, 1, 1, 384}};

std::vector<double> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

template <typename T>
std::vector<T> host(const array& a) {
  return to_vector<T>(a);
}

// The format decoded independently (docs/quantized.md): a row's indices
// are a bit stream from bit 0 of its word 0 up; its word w lies in tile
// w / 12, which holds 12 words of each of the n rows in row order.
uint32_t word_at(const std::vector<uint32_t>& words, int64_t n, int64_t r, int64_t w) {
  return words[(w / 12 * n + r) * 12 + w % 12];
}

uint32_t index_at(const std::vector<uint32_t>& words, int64_t n, int64_t r, int64_t j, int bits) {
  uint32_t v = 0;
  for (int b = 0; b < bits; ++b) {
    const int64_t bit = j * bits + b;
    v |= ((word_at(words, n, r, bit / 32) >> (bit % 32)) & 1u) << b;
  }
  return v;
}

// Row r's scale of group g: tiles of 4 groups of each of the n rows.
double scale_at(const std::vector<double>& scales, int64_t n, int64_t r, int64_t g) {
  return scales[(g / 4 * n + r) * 4 + g % 4];
}

struct Decoded {
  std::vector<double> w;             // scale * sign, [N, K]
  std::vector<uint32_t> pattern_of;  // chosen codeword pattern per vector
};

Decoded decode(const BinaryWeights& q) {
  const int64_t n = q.shape[0], k = q.shape[1], v = q.vector_size;
  const int64_t vectors = k / v;
  auto idx = host<uint32_t>(q.indices);
  auto codebook = host<uint32_t>(q.codebook);
  auto scales = to_doubles(q.scales);
  Decoded d{std::vector<double>(n * k), std::vector<uint32_t>(n * vectors)};
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t j = 0; j < vectors; ++j) {
      const uint32_t c = index_at(idx, n, r, j, q.index_bits);
      EXPECT_LT(c, codebook.size());
      d.pattern_of[r * vectors + j] = codebook[c];
      for (int64_t i = 0; i < v; ++i) {
        const double sign = (codebook[c] >> i) & 1u ? 1.0 : -1.0;
        d.w[r * k + j * v + i] = scale_at(scales, n, r, (j * v + i) / q.group_size) * sign;
      }
    }
  }
  return d;
}

uint32_t pattern(const std::vector<double>& w, int64_t r, int64_t k, int64_t j, int v) {
  uint32_t p = 0;
  for (int i = 0; i < v; ++i) p |= (w[r * k + j * v + i] >= 0 ? 1u : 0u) << i;
  return p;
}

// The tolerance of a result in `dtype` against a float64 value: 1e-3 of the
// row's largest magnitude (float32 accumulation) plus the output's rounding.
double tolerance(double ref, double row_max, Dtype dtype) {
  const double ulp = dtype == bfloat16 ? std::ldexp(1.0, -8) : dtype == float16 ? std::ldexp(1.0, -11) : 0.0;
  return 1e-3 * row_max + ulp * std::abs(ref);
}

// got [rows, cols] against x [rows, inner] @ m, where m(i, j) is the float64 matrix.
template <typename M>
void expect_product(const array& got, const std::vector<double>& x, int64_t rows, int64_t inner, int64_t cols,
                    M m, const std::string& what) {
  auto g = to_doubles(got);
  ASSERT_EQ(static_cast<int64_t>(g.size()), rows * cols) << what;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> ref(cols, 0.0);
    double row_max = 1e-30;
    for (int64_t c = 0; c < cols; ++c) {
      for (int64_t i = 0; i < inner; ++i) ref[c] += x[r * inner + i] * m(i, c);
      row_max = std::max(row_max, std::abs(ref[c]));
    }
    for (int64_t c = 0; c < cols; ++c) {
      ASSERT_NEAR(g[r * cols + c], ref[c], tolerance(ref[c], row_max, got.dtype()))
          << what << " at [" << r << ", " << c << "]";
    }
  }
}

}  // namespace

LUMEN_DEVICE_SUITE(BinaryQuant);

LUMEN_DEVICE_TEST(BinaryQuant, FormatFieldsAndBitsPerWeight) {
  const int n = 40;
  for (const auto& f : kFormats) {
    auto w = array(gaussian(int64_t(n) * f.k, 1).begin(), Shape{n, f.k}, float32);
    auto q = binary_quantize(w, f.group, f.vector, f.bits, s);
    // Tiles of 12 words (and of 4 scales), the last one padded with zeros.
    const int64_t words = (int64_t(f.k / f.vector) * f.bits + 31) / 32, tiles = (words + 11) / 12;
    const int64_t groups = f.k / f.group, scale_tiles = (groups + 3) / 4;
    EXPECT_EQ(q.indices.dtype(), uint32);
    EXPECT_EQ(q.indices.shape(), (Shape{static_cast<int>(tiles), n, 12}));
    EXPECT_EQ(q.codebook.shape(), (Shape{1 << f.bits}));
    EXPECT_EQ(q.scales.dtype(), float16);
    EXPECT_EQ(q.scales.shape(), (Shape{static_cast<int>(scale_tiles), n, 4}));
    EXPECT_EQ(q.shape, (Shape{n, f.k}));
    EXPECT_DOUBLE_EQ(q.index_bits_per_weight(), double(f.bits) / f.vector);
    const double total = 8.0 * (n * tiles * 48 + (1 << f.bits) * 4 + n * scale_tiles * 8) / (double(n) * f.k);
    EXPECT_DOUBLE_EQ(q.total_bits_per_weight(), total);
    const auto idx = host<uint32_t>(q.indices);
    const auto sc = to_doubles(q.scales);
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t w = words; w < tiles * 12; ++w) EXPECT_EQ(word_at(idx, n, r, w), 0u) << w;
      for (int64_t g = groups; g < scale_tiles * 4; ++g) EXPECT_EQ(scale_at(sc, n, r, g), 0.0) << g;
      // The last index's bits end inside word words - 1; the rest of it is zero.
      const int64_t used = int64_t(f.k / f.vector) * f.bits - (words - 1) * 32;
      if (used < 32) {
        EXPECT_EQ(word_at(idx, n, r, words - 1) >> used, 0u);
      }
    }
  }
  // The default format (g = 128, v = 8, b = 6) stays under one bit in total on a large matrix.
  auto big = binary_quantize(array(gaussian(512 * 1024, 2).begin(), Shape{512, 1024}, float32), 128, 8, 6, s);
  EXPECT_EQ(big.index_bits_per_weight(), 0.75);
  EXPECT_LT(big.total_bits_per_weight(), 0.9);
}

LUMEN_DEVICE_TEST(BinaryQuant, NearestCodewordsAndOptimalScales) {
  const int n = 48;
  for (const auto& f : kFormats) {
    const auto wv = gaussian(int64_t(n) * f.k, 3);
    for (Dtype dt : {float32, float16, bfloat16}) {
      auto w = array(wv.begin(), Shape{n, f.k}, dt);
      auto wd = to_doubles(w);  // the values the quantizer saw
      auto q = binary_quantize(w, f.group, f.vector, f.bits, s);
      auto d = decode(q);
      auto codebook = host<uint32_t>(q.codebook);
      const int64_t vectors = f.k / f.vector;
      for (int64_t r = 0; r < n; ++r) {
        for (int64_t j = 0; j < vectors; ++j) {
          const uint32_t p = pattern(wd, r, f.k, j, f.vector);
          // the chosen codeword is the lowest-index nearest one in Hamming distance
          int best = 99;
          uint32_t best_pattern = 0;
          for (uint32_t c : codebook) {
            if (std::popcount(c ^ p) < best) {
              best = std::popcount(c ^ p);
              best_pattern = c;
            }
          }
          ASSERT_EQ(d.pattern_of[r * vectors + j], best_pattern) << f.vector << "/" << f.bits;
        }
        // scale = mean(w * sign) over the group, rounded to float16
        for (int64_t g = 0; g < f.k / f.group; ++g) {
          double mean = 0;
          for (int64_t i = g * f.group; i < (g + 1) * f.group; ++i) {
            const double sign = d.w[r * f.k + i] >= 0 ? 1.0 : -1.0;
            mean += wd[r * f.k + i] * sign;
          }
          mean /= f.group;
          const double stored = std::abs(d.w[r * f.k + g * f.group]);
          ASSERT_NEAR(stored, std::abs(mean), std::ldexp(std::abs(mean), -10) + 1e-7);  // one float16 ulp
        }
      }
      // the plain 1-bit format keeps every sign and its scale is mean |w|
      if (f.vector == 1) {
        for (int64_t i = 0; i < n * f.k; ++i) ASSERT_EQ(d.w[i] >= 0, wd[i] >= 0) << i;
      }
      // dequantize gives exactly scale * sign
      auto deq = binary_dequantize(q, s);
      EXPECT_EQ(deq.dtype(), float32);
      EXPECT_EQ(to_doubles(deq), d.w);
    }
  }
  // Vectors of 3 elements, an odd number of them per row (the GPU decodes
  // runs of 2: the last one of a row is short).
  auto q3 = binary_quantize(array(gaussian(5 * 189, 4).begin(), Shape{5, 189}, float32), 63, 3, 3, s);
  EXPECT_EQ(to_doubles(binary_dequantize(q3, s)), decode(q3).w);
}

LUMEN_DEVICE_TEST(BinaryQuant, FewPatternsAreKeptExactlyAndQuantizingIsDeterministic) {
  // Rows built from at most 2^b distinct sign patterns lose no sign.
  const int n = 32, k = 256, v = 8, b = 6;
  std::mt19937 gen(7);
  std::vector<uint32_t> palette(40);
  for (auto& p : palette) p = gen() & 0xffu;
  std::vector<double> wv(n * k);
  auto mags = gaussian(n * k, 8);
  for (int r = 0; r < n; ++r) {
    for (int j = 0; j < k / v; ++j) {
      const uint32_t p = palette[gen() % palette.size()];
      for (int i = 0; i < v; ++i) wv[r * k + j * v + i] = ((p >> i) & 1u ? 1 : -1) * (0.1 + std::abs(mags[r * k + j * v + i]));
    }
  }
  auto w = array(wv.begin(), Shape{n, k}, float32);
  auto q1 = binary_quantize(w, 128, v, b, s);
  auto q2 = binary_quantize(w, 128, v, b, s);
  auto d = decode(q1);
  for (int64_t i = 0; i < n * k; ++i) ASSERT_EQ(d.w[i] > 0, wv[i] > 0) << i;
  EXPECT_EQ(host<uint32_t>(q1.indices), host<uint32_t>(q2.indices));
  EXPECT_EQ(host<uint32_t>(q1.codebook), host<uint32_t>(q2.codebook));
  EXPECT_EQ(to_doubles(q1.scales), to_doubles(q2.scales));
}

LUMEN_DEVICE_TEST(BinaryQuant, MatmulMatchesTheDequantizedProduct) {
  const int n = 47;
  for (const auto& f : kFormats) {
    auto w = array(gaussian(int64_t(n) * f.k, 11).begin(), Shape{n, f.k}, float32);
    auto q = binary_quantize(w, f.group, f.vector, f.bits, s);
    const auto wq = decode(q).w;
    for (Dtype dt : {float32, float16, bfloat16}) {
      for (int rows : {1, 3, 8, 9, 33}) {  // GEMV (<= 8 rows) and GEMM kernels
        const std::string what = std::to_string(f.vector) + "/" + std::to_string(f.bits) + " " +
                                 dtype_to_string(dt) + " rows " + std::to_string(rows);
        auto x = array(gaussian(int64_t(rows) * f.k, rows).begin(), Shape{rows, f.k}, dt);
        auto y = binary_matmul(x, q, true, s);
        EXPECT_EQ(y.dtype(), dt);
        EXPECT_EQ(y.shape(), (Shape{rows, n}));
        expect_product(y, to_doubles(x), rows, f.k, n, [&](int64_t i, int64_t c) { return wq[c * f.k + i]; }, what);
        // x @ W (the orientation of the vjp)
        auto xt = array(gaussian(int64_t(rows) * n, 100 + rows).begin(), Shape{rows, n}, dt);
        auto yt = binary_matmul(xt, q, false, s);
        EXPECT_EQ(yt.shape(), (Shape{rows, f.k}));
        expect_product(yt, to_doubles(xt), rows, n, f.k, [&](int64_t i, int64_t c) { return wq[i * f.k + c]; },
                       what + " (not transposed)");
      }
    }
  }
}

// Sizes that take every kernel path: x @ W^T with 1 to 8 rows (the GEMVs; on
// the GPU they cut the packed rows into slices whose partial sums are added
// afterwards; the rotated table GEMV takes 6-bit indices and 1-bit signs up
// to 16 rows, 2 at a time; the chunked one 10-element vectors and 12-bit
// indices up to 8)
// and more (tiles, the contraction split into pieces when the tiles are few,
// the last piece and the last slice of a piece shorter), rows of indices not
// a multiple of 16 bytes (33 words), a codebook too large for shared
// memory (4096 codewords), output columns past one 64-wide tile, and x @ W
// contracting over enough rows of W to be split.
LUMEN_DEVICE_TEST(BinaryQuant, KernelPathsAndSplitContractions) {
  const std::vector<Format> formats = {
      {128, 8, 6, 1408}, {128, 8, 6, 1536}, {128, 10, 8, 1280}, {128, 1, 1, 1408}, {64, 16, 12, 1536}};
  const int n = 70;
  for (const auto& f : formats) {
    auto q = binary_quantize(array(gaussian(int64_t(n) * f.k, 61).begin(), Shape{n, f.k}, float32), f.group,
                             f.vector, f.bits, s);
    const auto wq = decode(q).w;
    for (int rows : {1, 4, 5, 8, 9, 16, 17}) {
      const Dtype dt = rows % 2 == 1 ? float32 : rows == 8 ? bfloat16 : float16;
      const std::string what = std::to_string(f.vector) + "/" + std::to_string(f.bits) + " K " +
                               std::to_string(f.k) + " rows " + std::to_string(rows);
      auto x = array(gaussian(int64_t(rows) * f.k, 70 + rows).begin(), Shape{rows, f.k}, dt);
      expect_product(binary_matmul(x, q, true, s), to_doubles(x), rows, f.k, n,
                     [&](int64_t i, int64_t c) { return wq[c * f.k + i]; }, what);
    }
  }
  const auto& f = formats[2];
  const int tall = 520;
  auto q = binary_quantize(array(gaussian(int64_t(tall) * f.k, 62).begin(), Shape{tall, f.k}, float32), f.group,
                           f.vector, f.bits, s);
  const auto wq = decode(q).w;
  for (int rows : {2, 9}) {
    auto x = array(gaussian(int64_t(rows) * tall, 80 + rows).begin(), Shape{rows, tall}, float32);
    expect_product(binary_matmul(x, q, false, s), to_doubles(x), rows, tall, f.k,
                   [&](int64_t i, int64_t c) { return wq[i * f.k + c]; }, "x @ W rows " + std::to_string(rows));
  }
}

// Environment variables set for a scope (the GPU kernels read them per call;
// the CPU ignores them).
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::vector<std::pair<std::string, std::string>>& vars) {
    for (const auto& [name, value] : vars) {
      ::setenv(name.c_str(), value.c_str(), 1);
      names_.push_back(name);
    }
  }
  ~ScopedEnv() {
    for (const auto& name : names_) ::unsetenv(name.c_str());
  }

 private:
  std::vector<std::string> names_;
};

using KnobSets = std::vector<std::vector<std::pair<std::string, std::string>>>;

// For each format, n rows of quantized random weights as views 0 and 1 row
// into n + 1 (strided views of the tiled arrays: binary_matmul reads dense
// copies of them), under each knob
// setting: body(format, weights, their float64 values, knob setting, a
// description).
template <typename Body>
void for_each_view_and_knobs(const std::vector<Format>& formats, int n, uint32_t seed, const KnobSets& knobs,
                             const Stream& stream, Body body) {
  for (const auto& f : formats) {
    auto full = binary_quantize(array(gaussian(int64_t(n + 1) * f.k, seed).begin(), Shape{n + 1, f.k}, float32),
                                f.group, f.vector, f.bits, stream);
    for (int first : {0, 1}) {
      BinaryWeights q = full;
      // (rows of the tiled arrays: strided views, made dense by binary_matmul)
      q.indices = slice(full.indices, {0, first, 0}, {full.indices.shape(0), first + n, 12}, stream);
      q.scales = slice(full.scales, {0, first, 0}, {full.scales.shape(0), first + n, 4}, stream);
      q.shape = Shape{n, f.k};
      const auto wq = decode(q).w;
      for (size_t v = 0; v < knobs.size(); ++v) {
        ScopedEnv env(knobs[v]);
        const std::string what = std::to_string(f.vector) + "/" + std::to_string(f.bits) + " K " +
                                 std::to_string(f.k) + (first ? " offset" : "") + " knobs " + std::to_string(v);
        body(f, q, wq, v, what);
      }
    }
  }
}

// The GPU's table GEMVs (1 to 4 rows of x, at most 256 codewords): the
// rotated one (LUMEN_VULKAN_BINARY_GEMV unset; where it applies: 1 or 2 rows,
// 6-bit and folded 1-bit indices here) and binary_gemv_table.comp
// (LUMEN_VULKAN_BINARY_GEMV=table, and where the rotated one does not apply)
// under each of the latter's knobs: units of 1, 3, 5 and 7 words, folded
// indices (1-bit signs read 4 at a time, or 8 with
// LUMEN_VULKAN_BINARY_TABLE_BITS=8; 2-bit ones 2 or 4 at a time; 4-bit ones 2
// at a time into 10-element vectors with 8), a row's last unit cut short
// (64-element groups: K / 8 vectors of 6 bits end mid-unit), the last slice
// of a row shorter than the others, one invocation or two per weight row
// reading one or two units each, workgroups walking several steps of rows
// (more than the steps whose loads are in flight at once: 1 or 2 of them),
// the staggered table layout (6 bits with 128-element groups, 2 bits folded
// to 8) with 4 and 8 rows of a subgroup per lane and without it, the slices'
// sums added by the GEMV's last workgroups (LUMEN_VULKAN_BINARY_FINISH=1);
// and the chunked kernel they replace (LUMEN_VULKAN_BINARY_GEMV=chunk).
LUMEN_DEVICE_TEST(BinaryQuant, TableGemvFormatsTailsAndKnobs) {
  const std::vector<Format> formats = {{128, 8, 6, 1536}, {64, 8, 6, 1472}, {128, 8, 5, 1280}, {128, 8, 7, 768},
                                       {128, 1, 1, 1408}, {64, 4, 2, 320},  {64, 4, 3, 448}, {80, 5, 4, 320}};
  const std::vector<std::vector<std::pair<std::string, std::string>>> knobs = {
      {},
      {{"LUMEN_VULKAN_BINARY_GEMV", "table"}},
      {{"LUMEN_VULKAN_BINARY_GEMV", "table"}, {"LUMEN_VULKAN_BINARY_ROW_LANES", "2"},
       {"LUMEN_VULKAN_BINARY_LANE_UNITS", "2"}},
      {{"LUMEN_VULKAN_BINARY_GEMV", "table"}, {"LUMEN_VULKAN_BINARY_ROW_LANES", "1"},
       {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "3"}},
      {{"LUMEN_VULKAN_BINARY_TABLE_BITS", "8"}, {"LUMEN_VULKAN_BINARY_ROW_LANES", "8"},
       {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "1"}, {"LUMEN_VULKAN_BINARY_DEPTH", "2"}},
      {{"LUMEN_VULKAN_BINARY_GEMV", "table"}, {"LUMEN_VULKAN_BINARY_DEPTH", "1"},
       {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "1"}},
      {{"LUMEN_VULKAN_BINARY_GEMV", "table"}, {"LUMEN_VULKAN_BINARY_FINISH", "1"}},
      {{"LUMEN_VULKAN_BINARY_GEMV", "table"}, {"LUMEN_VULKAN_BINARY_FINISH", "1"},
       {"LUMEN_VULKAN_BINARY_ROW_LANES", "8"}, {"LUMEN_VULKAN_BINARY_DEPTH", "1"}},
      {{"LUMEN_VULKAN_BINARY_GEMV", "table"}, {"LUMEN_VULKAN_BINARY_ROW_LANES", "4"}},
      {{"LUMEN_VULKAN_BINARY_GEMV", "table"}, {"LUMEN_VULKAN_BINARY_STAGGER", "0"}},
      {{"LUMEN_VULKAN_BINARY_GEMV", "chunk"}}};
  const int n = 75;
  for (const auto& f : formats) {
    auto q = binary_quantize(array(gaussian(int64_t(n) * f.k, 63).begin(), Shape{n, f.k}, float32), f.group,
                             f.vector, f.bits, s);
    const auto wq = decode(q).w;
    for (size_t v = 0; v < knobs.size(); ++v) {
      ScopedEnv env(knobs[v]);
      // Every row count of x under the defaults, one per other knob setting
      // (each setting and row count is a pipeline of its own to compile).
      const std::vector<int> row_counts = v == 0 ? std::vector<int>{1, 2, 3, 4} : std::vector<int>{1 + int(v % 4)};
      for (int rows : row_counts) {
        const Dtype dt = std::vector<Dtype>{float32, float16, bfloat16}[(rows + v) % 3];
        const std::string what = std::to_string(f.vector) + "/" + std::to_string(f.bits) + " K " +
                                 std::to_string(f.k) + " knobs " + std::to_string(v) + " rows " +
                                 std::to_string(rows) + " " + dtype_to_string(dt);
        auto x = array(gaussian(int64_t(rows) * f.k, 90 + rows).begin(), Shape{rows, f.k}, dt);
        expect_product(binary_matmul(x, q, true, s), to_doubles(x), rows, f.k, n,
                       [&](int64_t i, int64_t c) { return wq[c * f.k + i]; }, what);
      }
    }
  }
}

// The GPU's rotated table GEMV (2 rows of x at a time, up to 16; 6-bit and
// 4-bit indices and 1-bit signs folded 4 at a time, units of 16 vectors) over
// more weight rows than
// one step of a workgroup (600: the last step partly past N), with one or two
// workgroups per slice walking several steps (more than the 1 to 3 steps
// whose loads are in flight), 2, 4 or 8 units per invocation where shared
// memory holds their table, loads of 2 and 4 words, scales read 1, 2 or 4
// at a time, weights that are views of rows of larger arrays, the table
// without repeated entries
// (LUMEN_VULKAN_BINARY_COMPACT=1), and 2, 4 or 8 invocations per weight row
// (LUMEN_VULKAN_BINARY_SPLIT) reading 2 or 4 units each (where a slice of
// that many units fits: 16 units only for 1-bit signs on lavapipe), and
// whole rows per workgroup (LUMEN_VULKAN_BINARY_WHOLE=1: every slice of a
// step, 1 to 4 slices' loads in flight, one workgroup walking every step,
// fewer rows per workgroup than invocations: LUMEN_VULKAN_BINARY_STEP_ROWS),
// and the table of 8-element vectors built from half sums
// (LUMEN_VULKAN_BINARY_NIBBLE=1; other vectors ignore it).
LUMEN_DEVICE_TEST(BinaryQuant, RotatedGemvStepsUnitsAndOffsets) {
  // (One row of float16 or bfloat16 x would take the float16-table GEMV.)
  const ScopedEnv rotated(std::vector<std::pair<std::string, std::string>>{{"LUMEN_VULKAN_BINARY_GEMV", "rotated"}});
  const std::vector<Format> formats = {
      {128, 8, 6, 1280}, {128, 8, 6, 2048}, {128, 1, 1, 1024}, {128, 1, 1, 2048}, {128, 8, 4, 2048}};
  const KnobSets knobs = {
      {},
      {{"LUMEN_VULKAN_BINARY_UNITS", "4"}},
      {{"LUMEN_VULKAN_BINARY_UNITS", "8"}, {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "1"}},
      {{"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "1"}, {"LUMEN_VULKAN_BINARY_DEPTH", "1"}},
      {{"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "2"}, {"LUMEN_VULKAN_BINARY_DEPTH", "3"}},
      {{"LUMEN_VULKAN_BINARY_COMPACT", "1"}},
      {{"LUMEN_VULKAN_BINARY_COMPACT", "1"}, {"LUMEN_VULKAN_BINARY_UNITS", "2"},
       {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "1"}, {"LUMEN_VULKAN_BINARY_DEPTH", "2"}},
      {{"LUMEN_VULKAN_BINARY_SPLIT", "2"}},
      {{"LUMEN_VULKAN_BINARY_SPLIT", "2"}, {"LUMEN_VULKAN_BINARY_COMPACT", "1"}, {"LUMEN_VULKAN_BINARY_UNITS", "4"}},
      {{"LUMEN_VULKAN_BINARY_SPLIT", "4"}, {"LUMEN_VULKAN_BINARY_COMPACT", "1"}, {"LUMEN_VULKAN_BINARY_UNITS", "8"}},
      {{"LUMEN_VULKAN_BINARY_SPLIT", "2"}, {"LUMEN_VULKAN_BINARY_UNITS", "4"}, {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "1"},
       {"LUMEN_VULKAN_BINARY_DEPTH", "2"}},
      {{"LUMEN_VULKAN_BINARY_SPLIT", "8"}, {"LUMEN_VULKAN_BINARY_COMPACT", "1"}, {"LUMEN_VULKAN_BINARY_UNITS", "16"}},
      {{"LUMEN_VULKAN_BINARY_WHOLE", "1"}},
      {{"LUMEN_VULKAN_BINARY_WHOLE", "1"}, {"LUMEN_VULKAN_BINARY_SPLIT", "2"}, {"LUMEN_VULKAN_BINARY_DEPTH", "2"}},
      {{"LUMEN_VULKAN_BINARY_WHOLE", "1"}, {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "1"}, {"LUMEN_VULKAN_BINARY_DEPTH", "3"}},
      {{"LUMEN_VULKAN_BINARY_WHOLE", "1"}, {"LUMEN_VULKAN_BINARY_COMPACT", "1"}, {"LUMEN_VULKAN_BINARY_UNITS", "4"},
       {"LUMEN_VULKAN_BINARY_DEPTH", "4"}},
      {{"LUMEN_VULKAN_BINARY_NIBBLE", "1"}},
      {{"LUMEN_VULKAN_BINARY_NIBBLE", "1"}, {"LUMEN_VULKAN_BINARY_WHOLE", "1"}, {"LUMEN_VULKAN_BINARY_SPLIT", "2"}},
      {{"LUMEN_VULKAN_BINARY_WHOLE", "1"}, {"LUMEN_VULKAN_BINARY_STEP_ROWS", "96"}},
      {{"LUMEN_VULKAN_BINARY_WHOLE", "1"}, {"LUMEN_VULKAN_BINARY_STEP_ROWS", "40"}, {"LUMEN_VULKAN_BINARY_SPLIT", "4"},
       {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "5"}},
      {{"LUMEN_VULKAN_BINARY_NIBBLE", "1"}, {"LUMEN_VULKAN_BINARY_COMPACT", "1"}}};
  const int n = 600;
  for_each_view_and_knobs(formats, n, 64, knobs, s, [&](const Format& f, const BinaryWeights& q,
                                                        const std::vector<double>& wq, size_t v,
                                                        const std::string& what) {
    // More rows go 2 at a time (the last pass of 9 rows has 1).
    for (int rows : v == 0 ? std::vector<int>{1, 2, 9, 16} : std::vector<int>{1, 2}) {
      const Dtype dt = std::vector<Dtype>{float32, float16, bfloat16}[(rows + v) % 3];
      auto x = array(gaussian(int64_t(rows) * f.k, 95 + rows).begin(), Shape{rows, f.k}, dt);
      expect_product(binary_matmul(x, q, true, s), to_doubles(x), rows, f.k, n,
                     [&](int64_t i, int64_t c) { return wq[c * f.k + i]; },
                     what + " rows " + std::to_string(rows) + " " + dtype_to_string(dt));
    }
  });
}

// The GPU's float16-table GEMV (one row of float16 or bfloat16 x; by default
// for 6-bit indices, and with LUMEN_VULKAN_BINARY_GEMV=half, set throughout,
// for 4-bit ones of 8-element vectors and 1-bit signs folded 4 at a time)
// over more weight rows than a workgroup's step (600: the last step partly
// past N), weights that are views of rows of larger arrays, one slice
// (the output written directly) or several, their sums added by float
// atomics into one float per row and stored by the GEMV's last workgroup of
// each run of steps (the default where the device has float atomics; runs of
// 1 step, of 2 and 1, of all 3; up to 32 slices), added from partial sums in
// slice order by those workgroups (LUMEN_VULKAN_BINARY_HALF_FINISH=1), or by
// the finish pass (=0), two products in one evaluation (the stream's row sums
// and counters used in turn),
// slices of 1 to 12 units and 10 or 5 (rows of 10 units), units loaded 1, 2,
// 4 or 8 at a time, 1 to 3 chunks in flight, one workgroup per slice walking
// every step; and x of every magnitude the table's power-of-two scaling has
// to carry: bfloat16 near 1e30 (float16 entries would overflow) and 1e-30
// (they would flush to zero), float16 near 1e-4 (subnormal halves).
LUMEN_DEVICE_TEST(BinaryQuant, HalfTableGemvSlicesChunksAndMagnitudes) {
  const ScopedEnv half(std::vector<std::pair<std::string, std::string>>{{"LUMEN_VULKAN_BINARY_GEMV", "half"}});
  const std::vector<Format> formats = {{128, 8, 6, 2048}, {128, 8, 6, 1280}, {128, 1, 1, 2048}, {256, 8, 4, 1536}};
  const KnobSets knobs = {
      {},
      {{"LUMEN_VULKAN_BINARY_UNITS", "12"}, {"LUMEN_VULKAN_BINARY_DEPTH", "2"}},
      {{"LUMEN_VULKAN_BINARY_UNITS", "2"}, {"LUMEN_VULKAN_BINARY_CHUNK", "1"}},
      {{"LUMEN_VULKAN_BINARY_UNITS", "8"}, {"LUMEN_VULKAN_BINARY_CHUNK", "2"}, {"LUMEN_VULKAN_BINARY_DEPTH", "3"}},
      {{"LUMEN_VULKAN_BINARY_UNITS", "16"}, {"LUMEN_VULKAN_BINARY_CHUNK", "8"}},
      {{"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "1"}},
      {{"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "3"}, {"LUMEN_VULKAN_BINARY_DEPTH", "2"}},
      {{"LUMEN_VULKAN_BINARY_HALF_FINISH", "0"}},
      {{"LUMEN_VULKAN_BINARY_HALF_FINISH", "0"}, {"LUMEN_VULKAN_BINARY_UNITS", "2"}, {"LUMEN_VULKAN_BINARY_CHUNK", "1"}},
      {{"LUMEN_VULKAN_BINARY_HALF_FINISH", "1"}},
      {{"LUMEN_VULKAN_BINARY_HALF_FINISH", "1"}, {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "3"}},
      {{"LUMEN_VULKAN_BINARY_UNITS", "1"}, {"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "3"}},
      {{"LUMEN_VULKAN_BINARY_GEMV_GROUPS", "8"}}};
  struct Scale {
    Dtype dtype;
    double magnitude;
  };
  const std::vector<Scale> scales = {{float16, 1.0}, {bfloat16, 1.0}, {bfloat16, 1e30}, {bfloat16, 1e-30},
                                     {float16, 1e-4}};
  const int n = 600;
  for_each_view_and_knobs(formats, n, 65, knobs, s, [&](const Format& f, const BinaryWeights& q,
                                                        const std::vector<double>& wq, size_t v,
                                                        const std::string& what) {
    for (size_t m = 0; m < scales.size(); ++m) {
      if (v != 0 && m > 1) continue;  // every magnitude under the defaults
      auto values = gaussian(f.k, 97 + static_cast<uint32_t>(m));
      for (auto& e : values) e *= scales[m].magnitude;
      auto x = array(values.begin(), Shape{1, f.k}, scales[m].dtype);
      expect_product(binary_matmul(x, q, true, s), to_doubles(x), 1, f.k, n,
                     [&](int64_t i, int64_t c) { return wq[c * f.k + i]; },
                     what + " x " + dtype_to_string(scales[m].dtype) + " ~" + std::to_string(scales[m].magnitude));
    }
    if (v == 0) {
      auto x1 = array(gaussian(f.k, 98).begin(), Shape{1, f.k}, float16);
      auto x2 = array(gaussian(f.k, 99).begin(), Shape{1, f.k}, bfloat16);
      auto y1 = binary_matmul(x1, q, true, s), y2 = binary_matmul(x2, q, true, s);
      eval(y1, y2);
      for (const auto& [x, y] : {std::pair{x1, y1}, std::pair{x2, y2}}) {
        expect_product(y, to_doubles(x), 1, f.k, n, [&](int64_t i, int64_t c) { return wq[c * f.k + i]; },
                       what + " two in one evaluation");
      }
    }
  });
}

// The GPU's route for float16 x on devices with tensor cores (W dequantized
// to float16, then the float16 matmul kernels: 130 rows are enough work for
// the tensor-core kernel), forced on any device by
// LUMEN_VULKAN_BINARY_DENSE=1 (on lavapipe the product is the portable
// kernel; the CPU ignores the variable).
LUMEN_DEVICE_TEST(BinaryQuant, Float16WeightsRoute) {
  struct Forced {
    Forced() { ::setenv("LUMEN_VULKAN_BINARY_DENSE", "1", 1); }
    ~Forced() { ::unsetenv("LUMEN_VULKAN_BINARY_DENSE"); }
  } forced;
  const int n = 70;
  for (const auto& f : {kFormats[0], kFormats[2]}) {
    auto q = binary_quantize(array(gaussian(int64_t(n) * f.k, 91).begin(), Shape{n, f.k}, float32), f.group,
                             f.vector, f.bits, s);
    const auto wq = decode(q).w;
    for (int rows : {3, 130}) {
      auto x = array(gaussian(int64_t(rows) * f.k, 92 + rows).begin(), Shape{rows, f.k}, float16);
      expect_product(binary_matmul(x, q, true, s), to_doubles(x), rows, f.k, n,
                     [&](int64_t i, int64_t c) { return wq[c * f.k + i]; }, "dense rows " + std::to_string(rows));
      auto xt = array(gaussian(int64_t(rows) * n, 93 + rows).begin(), Shape{rows, n}, float16);
      expect_product(binary_matmul(xt, q, false, s), to_doubles(xt), rows, n, f.k,
                     [&](int64_t i, int64_t c) { return wq[i * f.k + c]; }, "dense x @ W rows " + std::to_string(rows));
    }
  }
}

// The GPU's fused tensor-core product (devices with cooperative matrices:
// float16 x from 3 to 63 rows, 2 with LUMEN_VULKAN_BINARY_COOP_ROWS=2, 64
// and more with LUMEN_VULKAN_BINARY_COOP_WIDE=1; W's tiles decoded into
// shared memory as float16): formats whose runs of 8 weights are at most 8
// index bits (6-bit codewords of 8, 4-bit of 8 in 256-element groups, 2-bit
// of 4, 2-bit of 2, plain 1-bit signs, 5-bit in 64-element groups, 7-bit:
// runs starting at any bit), 16-row tiles (2 to 16 rows; slices of 128, or
// 64 where 128 does not divide the groups or K) and 128-row ones with slices
// of 64 (17 and 130 rows: the tile partly past M), weight rows past one tile
// and partly past N (200), several slices along K with 1, 2 or 3 of them in
// flight (LUMEN_VULKAN_BINARY_COOP_DEPTH; the last round partial), the
// contraction split in 2 or 3 pieces (LUMEN_VULKAN_BINARY_COOP_SPLITS; the
// last one shorter, or a single slice), x staged 4 slices at a time with
// subgroups decoding their own rows (LUMEN_VULKAN_BINARY_COOP_XCHUNK: a
// partial last chunk where K is not a multiple) and decoding by the sign
// table (_COOP_SIGN_TABLE); in the tensor-core build also the subgroups
// split in 2, 4 or 8 groups of each slice (_COOP_KSPLIT; 4 and 8: 64- and
// 32-row tiles, with slices of 128 and of 64), stream-K (_COOP_STREAM: 5 or
// 7 workgroups taking uneven runs of the tiles' slices, pieces added by the
// finish pass; the default, off where split-K is asked for), double-buffered
// tiles (_COOP_STAGES=2: the tensor-core build only, 41 KiB), one chain of
// accumulators instead of two (_COOP_ACC2=0, tensor-core build), and the decoding
// invocations laid out part-fastest (_COOP_ROW_LANES=0); and x not
// 16-byte aligned (a view 1 element in: another kernel); then all of it again
// through the kernel's portable build (LUMEN_VULKAN_BINARY_COOP_PORTABLE=1,
// any device: lavapipe checks the decoder; 128-row tiles for the first format
// only). Elsewhere the same products take the other kernels.
LUMEN_DEVICE_TEST(BinaryQuant, TensorCoreGemmFormatsTilesAndTails) {
  const std::vector<Format> formats = {
      {128, 8, 6, 512}, {256, 8, 4, 768}, {128, 4, 2, 384}, {128, 2, 2, 256}, {128, 1, 1, 640},
      {64, 8, 5, 320},  {128, 8, 7, 384}};
  const int n = 200;
  using Vars = std::vector<std::pair<std::string, std::string>>;
  for (bool portable : {false, true}) {
    ScopedEnv kernel(portable ? Vars{{"LUMEN_VULKAN_BINARY_COOP_PORTABLE", "1"}} : Vars{});
    for (const auto& f : formats) {
      auto q = binary_quantize(array(gaussian(int64_t(n) * f.k, 65).begin(), Shape{n, f.k}, float32), f.group,
                               f.vector, f.bits, s);
      const auto wq = decode(q).w;
      // (The portable build's 128-row tiles take lavapipe ~10 s each to
      // compile: the first format only.)
      const bool wide = !portable || &f == &formats[0];
      for (int rows : wide ? std::vector<int>{2, 3, 5, 6, 7, 8, 9, 11, 12, 13, 14, 16, 17, 130}
                           : std::vector<int>{2, 3, 5, 7, 9, 16}) {
        ScopedEnv env(rows == 2    ? Vars{{"LUMEN_VULKAN_BINARY_COOP_ROWS", "2"}}
                      : rows == 3  ? Vars{{"LUMEN_VULKAN_BINARY_COOP_SPLITS", "3"}, {"LUMEN_VULKAN_BINARY_COOP_STREAM", "0"}}
                      : rows == 5  ? Vars{{"LUMEN_VULKAN_BINARY_COOP_XCHUNK", "4"}, {"LUMEN_VULKAN_BINARY_COOP_SIGN_TABLE", "1"}}
                      : rows == 6  ? Vars{{"LUMEN_VULKAN_BINARY_COOP_STAGES", "2"}, {"LUMEN_VULKAN_BINARY_COOP_ACC2", "1"},
                                          {"LUMEN_VULKAN_BINARY_COOP_STREAM", "0"}}
                      : rows == 7  ? Vars{{"LUMEN_VULKAN_BINARY_COOP_STREAM", "5"}}
                      : rows == 8  ? Vars{{"LUMEN_VULKAN_BINARY_COOP_STAGES", "2"}, {"LUMEN_VULKAN_BINARY_COOP_STREAM", "3"}}
                      : rows == 9  ? Vars{{"LUMEN_VULKAN_BINARY_COOP_XCHUNK", "1"}, {"LUMEN_VULKAN_BINARY_COOP_BK", "64"},
                                          {"LUMEN_VULKAN_BINARY_COOP_DEPTH", "1"}, {"LUMEN_VULKAN_BINARY_COOP_SPLITS", "2"},
                                          {"LUMEN_VULKAN_BINARY_COOP_KSPLIT", "2"}}
                      : rows == 11 ? Vars{{"LUMEN_VULKAN_BINARY_COOP_KSPLIT", "4"}, {"LUMEN_VULKAN_BINARY_COOP_XCHUNK", "2"}}
                      : rows == 12 ? Vars{{"LUMEN_VULKAN_BINARY_COOP_XCHUNK", "2"}, {"LUMEN_VULKAN_BINARY_COOP_ROW_LANES", "0"}}
                      : rows == 13 ? Vars{{"LUMEN_VULKAN_BINARY_COOP_KSPLIT", "4"}, {"LUMEN_VULKAN_BINARY_COOP_BK", "64"}}
                      : rows == 14 ? Vars{{"LUMEN_VULKAN_BINARY_COOP_KSPLIT", "8"}, {"LUMEN_VULKAN_BINARY_COOP_XCHUNK", "2"}}
                      : rows == 16 ? Vars{{"LUMEN_VULKAN_BINARY_COOP_DEPTH", "1"}, {"LUMEN_VULKAN_BINARY_COOP_ACC2", "0"}}
                      : rows == 17 ? Vars{{"LUMEN_VULKAN_BINARY_COOP_DEPTH", "3"}, {"LUMEN_VULKAN_BINARY_COOP_SPLITS", "2"},
                                          {"LUMEN_VULKAN_BINARY_COOP_STREAM", "0"}}
                                   : Vars{{"LUMEN_VULKAN_BINARY_COOP_WIDE", "1"}, {"LUMEN_VULKAN_BINARY_COOP_STREAM", "7"}});
        const std::string what = std::to_string(f.vector) + "/" + std::to_string(f.bits) + " K " +
                                 std::to_string(f.k) + " rows " + std::to_string(rows) +
                                 (portable ? " (portable build)" : "");
        auto x = array(gaussian(int64_t(rows) * f.k, 96 + rows).begin(), Shape{rows, f.k}, float16);
        expect_product(binary_matmul(x, q, true, s), to_doubles(x), rows, f.k, n,
                       [&](int64_t i, int64_t c) { return wq[c * f.k + i]; }, what);
      }
    }
  }
  // x a view one element into a larger array: not 16-byte aligned.
  const auto& f = formats[0];
  auto q = binary_quantize(array(gaussian(int64_t(n) * f.k, 66).begin(), Shape{n, f.k}, float32), f.group, f.vector,
                           f.bits, s);
  const auto wq = decode(q).w;
  const int rows = 5;
  auto flat = array(gaussian(int64_t(rows) * f.k + 1, 97).begin(), Shape{rows * f.k + 1}, float16);
  auto x = reshape(slice(flat, {1}, {rows * f.k + 1}, s), {rows, f.k}, s);
  expect_product(binary_matmul(x, q, true, s), to_doubles(x), rows, f.k, n,
                 [&](int64_t i, int64_t c) { return wq[c * f.k + i]; }, "x offset by one element");
}

LUMEN_DEVICE_TEST(BinaryQuant, BatchedAndStridedInputs) {
  const auto& f = kFormats[0];
  const int n = 24;
  auto q = binary_quantize(array(gaussian(int64_t(n) * f.k, 21).begin(), Shape{n, f.k}, float32), f.group,
                           f.vector, f.bits, s);
  const auto wq = decode(q).w;
  // [2, 3, K] and a transposed [K, 5] view used as [5, K]
  auto x3 = array(gaussian(6 * f.k, 22).begin(), Shape{2, 3, f.k}, float32);
  auto y3 = binary_matmul(x3, q, true, s);
  EXPECT_EQ(y3.shape(), (Shape{2, 3, n}));
  expect_product(y3, to_doubles(x3), 6, f.k, n, [&](int64_t i, int64_t c) { return wq[c * f.k + i]; }, "batched");
  auto xt = transpose(array(gaussian(5 * f.k, 23).begin(), Shape{f.k, 5}, float32), s);
  expect_product(binary_matmul(xt, q, true, s), to_doubles(xt), 5, f.k, n,
                 [&](int64_t i, int64_t c) { return wq[c * f.k + i]; }, "transposed view");
}

LUMEN_DEVICE_TEST(BinaryQuant, GradientWithRespectToX) {
  const auto& f = kFormats[2];  // straddling vectors
  const int n = 19, rows = 4;
  auto q = binary_quantize(array(gaussian(int64_t(n) * f.k, 31).begin(), Shape{n, f.k}, float32), f.group,
                           f.vector, f.bits, s);
  const auto wq = decode(q).w;
  auto x = array(gaussian(int64_t(rows) * f.k, 32).begin(), Shape{rows, f.k}, float32);
  const auto cv = gaussian(int64_t(rows) * n, 33);
  auto c = array(cv.begin(), Shape{rows, n}, float32);
  auto [out, dx] = vjp([&](const array& a) { return binary_matmul(a, q, true, s); }, x, c);
  // d/dx sum(c * (x W^T)) = c W
  expect_product(dx, cv, rows, n, f.k, [&](int64_t i, int64_t k) { return wq[i * f.k + k]; }, "vjp");
  // jvp: the tangent goes through the same product
  auto t = array(gaussian(int64_t(rows) * f.k, 34).begin(), Shape{rows, f.k}, float32);
  auto [o2, tangent] = jvp([&](const array& a) { return binary_matmul(a, q, true, s); }, x, t);
  expect_product(tangent, to_doubles(t), rows, f.k, n, [&](int64_t i, int64_t k) { return wq[k * f.k + i]; },
                 "jvp");
}

LUMEN_DEVICE_TEST(BinaryQuant, VmapOverAnAxisOfX) {
  const auto& f = kFormats[0];
  const int n = 13, batch = 3, rows = 2;
  auto q = binary_quantize(array(gaussian(int64_t(n) * f.k, 51).begin(), Shape{n, f.k}, float32), f.group,
                           f.vector, f.bits, s);
  // x [rows, batch, K] mapped over axis 1: each slice [rows, K] -> [rows, n], stacked at axis 0
  auto x = array(gaussian(int64_t(rows) * batch * f.k, 52).begin(), Shape{rows, batch, f.k}, float32);
  auto mapped = vmap([&](const array& a) { return binary_matmul(a, q, true, s); }, 1, 0)(x);
  EXPECT_EQ(mapped.shape(), (Shape{batch, rows, n}));
  auto got = to_doubles(mapped);
  for (int b = 0; b < batch; ++b) {
    auto slice_b = to_doubles(binary_matmul(take(x, array(b), 1, s), q, true, s));
    // The mapped call has rows * batch rows of x, so the GPU may take another
    // kernel (another summation order) than for one slice: float32 rounding apart.
    for (int i = 0; i < rows * n; ++i) {
      ASSERT_NEAR(got[b * rows * n + i], slice_b[i], 1e-5 * (1 + std::abs(slice_b[i]))) << b << " " << i;
    }
  }
}

LUMEN_DEVICE_TEST(BinaryQuant, BadInputs) {
  auto w = array(gaussian(16 * 256, 41).begin(), Shape{16, 256}, float32);
  EXPECT_THROW_NAMING(binary_quantize(w, 100, 8, 6, s), std::invalid_argument, "[binary_quantize] the input dimension K = 256");
  EXPECT_THROW_NAMING(binary_quantize(w, 128, 10, 6, s), std::invalid_argument, "divisible");
  EXPECT_THROW_NAMING(binary_quantize(w, 128, 1, 2, s), std::invalid_argument, "index_bits");
  EXPECT_THROW_NAMING(binary_quantize(w, 128, 8, 9, s), std::invalid_argument, "index_bits");
  EXPECT_THROW_NAMING(binary_quantize(w, 128, 32, 8, s), std::invalid_argument, "vector_size");
  EXPECT_THROW_NAMING(binary_quantize(w, 0, 8, 6, s), std::invalid_argument, "group_size");
  EXPECT_THROW_NAMING(binary_quantize(astype(w, int32, s), 128, 8, 6, s), std::invalid_argument, "real floating");
  EXPECT_THROW_NAMING(binary_quantize(reshape(w, {16, 16, 16}, s), 128, 8, 6, s), std::invalid_argument, "[N, K]");
  auto q = binary_quantize(w, 128, 8, 6, s);
  auto x = array(gaussian(3 * 255, 42).begin(), Shape{3, 255}, float32);
  EXPECT_THROW_NAMING(binary_matmul(x, q, true, s), std::invalid_argument, "[binary_matmul] the last dimension");
  EXPECT_THROW_NAMING(binary_matmul(array({1, 2, 3}, int32), q, true, s), std::invalid_argument, "float32, float16");
  auto broken = q;
  broken.scales = astype(q.scales, float32, s);
  EXPECT_THROW_NAMING(binary_matmul(x, broken, true, s), std::invalid_argument, "scales must be float16");
  // Indices as untiled rows [N, words]: the tiled shape is asked for.
  broken = q;
  broken.indices = reshape(q.indices, {16, 12}, s);
  EXPECT_THROW_NAMING(binary_matmul(x, broken, true, s), std::invalid_argument,
                      "indices must be uint32 of shape (1, 16, 12)");
  // still usable
  auto ok = binary_matmul(array(gaussian(256, 43).begin(), Shape{1, 256}, float32), q, true, s);
  EXPECT_EQ(ok.shape(), (Shape{1, 16}));
  eval(ok);
}
