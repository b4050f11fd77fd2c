// sample(): the fused GumbelSample primitive against the plain composition
// (bit-exact ids), the sampled distribution against softmax(logits / T)
// restricted by top-k / top-p (chi-square), temperature 0, seeds, NaN logits,
// bad input, and which graph each context builds.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <typeindex>

#include <lumen/backend.h>
#include <lumen/sampling_primitives.h>

#include "test_util.h"
#ifdef LUMEN_HAS_VULKAN
#include "../backends/vulkan/debug.h"
#endif

namespace lumen::test {
namespace {

// The plain composition, as transforms see it.
template <typename F>
array plain(F&& build) {
  array out = [&] {
    detail::TracingGuard tracing;
    return build();
  }();
  out.eval();
  return out;
}

bool has_fused(const Device& d) {
  return backend::find_kernel(d.type, std::type_index(typeid(GumbelSample))) != nullptr;
}

int gumbel_nodes(const array& a) {
  auto c = primitive_counts({a});
  return c.count("GumbelSample") ? c["GumbelSample"] : 0;
}

// One row of a [B] temperature cycling through the values.
array row_temperatures(int rows) {
  const float cycle[4] = {0.7f, 1.0f, 2.0f, 0.0f};
  std::vector<float> t(rows);
  for (int r = 0; r < rows; ++r) t[r] = cycle[r % 4];
  return array(t.data(), {rows}, float32);
}

struct Filter {
  const char* name;
  std::function<array(const array&, const array&, const array&)> draw;  // logits, T, key
};

std::vector<Filter> filters(int vocab, const Stream& s) {
  const int k = std::max(1, std::min(vocab - 1, vocab / 5));
  return {
      {"none", [&s](const array& x, const array& t,
                    const array& key) { return sample(x, t, 0, 1.0f, key, s); }},
      {"top_k", [&s, k](const array& x, const array& t,
                        const array& key) { return sample(x, t, k, 1.0f, key, s); }},
      {"top_p", [&s](const array& x, const array& t,
                     const array& key) { return sample(x, t, 0, 0.9f, key, s); }},
      {"top_k+top_p (per row)",
       [&s, k](const array& x, const array& t, const array& key) {
         const int rows = x.ndim() == 2 ? x.shape(0) : 1;
         std::vector<int32_t> ks(rows);
         std::vector<float> ps(rows);
         for (int r = 0; r < rows; ++r) {
           ks[r] = (r % 3 == 0) ? 0 : k + r;
           ps[r] = (r % 2 == 0) ? 0.5f : 0.97f;
         }
         return sample(x, t, array(ks.data(), {rows}, int32), array(ps.data(), {rows}, float32),
                       key, s);
       }},
  };
}

// Logits of one dtype: standard normal * 4, so rows hold a few likely tokens,
// a long tail and (in float16 / bfloat16) many ties.
array make_logits(int rows, int vocab, Dtype d, uint64_t seed, const Stream& s) {
  auto x = multiply(random::normal({rows, vocab}, float32, random::key(seed), s), array(4.0f), s);
  x = astype(x, d, s);
  x.eval();
  return x;
}

void expect_fused_is_plain(const array& x, const array& t, const Filter& f, const array& key,
                           const std::string& what, const Stream& s) {
  auto fused = f.draw(x, t, key);
  EXPECT_EQ(gumbel_nodes(fused) > 0, has_fused(s.device)) << what;
  fused.eval();
  auto reference = plain([&] { return f.draw(x, t, key); });
  ASSERT_EQ(fused.dtype(), int32);
  EXPECT_EQ(to_vector<int32_t>(fused), to_vector<int32_t>(reference)) << what << " " << f.name;
}

// One (dtype, B, V) case: every filter; B = 1 at each of the issue's
// temperatures, larger B with the temperatures cycling over the rows.
void fused_is_plain_case(Dtype d, int rows, int vocab, const Stream& s) {
  auto key = random::key(2024);
  auto x = make_logits(rows, vocab, d, 7 + vocab + rows, s);
  std::string what = dtype_to_string(d) + " B=" + std::to_string(rows) + " V=" + std::to_string(vocab);
  for (const auto& f : filters(vocab, s)) {
    if (rows == 1) {
      for (float t : {0.0f, 0.7f, 1.0f, 2.0f}) {
        expect_fused_is_plain(x, array(t), f, key, what + " T=" + std::to_string(t), s);
      }
    } else {
      expect_fused_is_plain(x, row_temperatures(rows), f, key, what + " T per row", s);
    }
  }
}

void fused_is_plain_for(const std::vector<int>& vocabs, const Stream& s) {
  for (Dtype d : {float32, float16, bfloat16}) {
    for (int vocab : vocabs) {
      for (int rows : {1, 3, 32}) fused_is_plain_case(d, rows, vocab, s);
    }
  }
}

}  // namespace

LUMEN_DEVICE_SUITE(Sampling);

LUMEN_DEVICE_TEST(Sampling, FusedIsPlainSmallVocabularies) { fused_is_plain_for({7, 1000}, s); }

LUMEN_DEVICE_TEST(Sampling, FusedIsPlainLargeVocabularies) {
  bool whole = !on_gpu;
#ifdef LUMEN_HAS_VULKAN
  whole = whole || vulkan::hardware_gpu(s);
#endif
  if (whole) {
    fused_is_plain_for({128256, 262144}, s);
    return;
  }
  // On lavapipe the plain path's sorts of [32, 262144] rows take many
  // minutes: one B and dtype per vocabulary there (rows split across many
  // workgroups either way; a hardware GPU runs every case); FusedIsPlainSplitRows
  // covers the rest of the GPU's paths at smaller sizes.
  fused_is_plain_case(bfloat16, 1, 128256, s);
  fused_is_plain_case(float32, 3, 262144, s);
}

// Vocabularies between the whole-row threshold search (one workgroup per
// row) and the large ones: the GPU splits these rows across workgroups (of
// 1024 elements, and of 4096 where rows * chunks is large, the last case).
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainSplitRows) {
  fused_is_plain_case(float32, 1, 5000, s);
  fused_is_plain_case(float16, 3, 20000, s);
  fused_is_plain_case(bfloat16, 32, 9000, s);
  fused_is_plain_case(float32, 256, 4500, s);
}

// Many rows of a vocabulary split across the GPU's threshold workgroups in
// their long chunks (rows * ceil(V / 4096) >= 512: 4096 tokens where top-k
// may be on, 16384 for calls without top-k), top-k and top-p on float32 and
// bfloat16 (ties).
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainForLongChunks) {
  const int rows = 128, vocab = 17000;
  auto key = random::key(19);
  auto t = row_temperatures(rows);
  for (Dtype d : {float32, bfloat16}) {
    auto x = make_logits(rows, vocab, d, 23, s);
    for (const auto& f : filters(vocab, s)) {
      if (std::string(f.name) == "none") continue;
      expect_fused_is_plain(x, t, f, key, dtype_to_string(d) + " long chunks", s);
    }
  }
}

// The thresholds show in the ids only through the tokens at the cut: with
// nearly flat distributions (a large T) and small top-k / top-p sets, a token
// wrongly kept or dropped changes many of the 32 rows' ids. Whole rows
// (V = 1000) and rows split across workgroups (V = 5000) on the GPU; bfloat16
// puts ties at the cut.
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainAtTheCut) {
  struct Case {
    int k;
    float p;
  };
  auto key = random::key(12);
  for (Dtype d : {float32, bfloat16}) {
    for (int vocab : {1000, 5000}) {
      auto x = make_logits(32, vocab, d, 5 + vocab, s);
      for (auto c : {Case{1, 1.0f}, Case{7, 1.0f}, Case{0, 0.0005f}, Case{0, 0.004f}, Case{5, 0.002f}}) {
        Filter f{"cut", [&s, c](const array& x, const array& t, const array& key) {
                   return sample(x, t, c.k, c.p, key, s);
                 }};
        expect_fused_is_plain(x, array(20.0f), f, key,
                              dtype_to_string(d) + " V " + std::to_string(vocab) + " k " +
                                  std::to_string(c.k) + " p " + std::to_string(c.p),
                              s);
      }
    }
  }
}

// Tokens far under a row's best still win at times: draws of rows whose
// first token is at 0 and the others g lower, so that a kernel skipping
// hopeless tokens with too small a bound on the noise shows. Rows of 32
// (one row per GPU invocation; at g = 10 about 6 of 4096 rows draw a lower
// token), of 2000 (a workgroup's chunk; about 80 of 1024 rows at g = 10) and
// of 5000 (chunks combined by the row's last workgroup, which may evaluate
// the chunks' candidates; about 50 of 256 rows at g = 10).
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainForFarTokens) {
  auto key = random::key(3);
  for (int vocab : {32, 2000, 5000}) {
    const int rows = vocab == 32 ? 4096 : (vocab == 2000 ? 1024 : 256);
    for (float g : {6.0f, 10.0f}) {
      std::vector<float> v(vocab, -g);
      v[0] = 0.0f;
      auto x = broadcast_to(array(v.data(), {1, vocab}, float32), {rows, vocab}, s);
      Filter f{"far", [&s](const array& x, const array& t, const array& key) {
                 return sample(x, t, 0, 1.0f, key, s);
               }};
      std::string what = "V " + std::to_string(vocab) + " g " + std::to_string(g);
      expect_fused_is_plain(x, array(1.0f), f, key, what, s);
      auto ids = to_vector<int32_t>(f.draw(x, array(1.0f), key));
      EXPECT_GT(std::count_if(ids.begin(), ids.end(), [](int id) { return id != 0; }), 0) << what;
    }
  }
}

// Rows whose thresholds sit on ties and extremes, with rows split across
// workgroups on the GPU: all equal, a few levels repeated across the whole
// row, -inf tails, a +inf, one dominant token; top-k 1 and V - 1, top-p tiny
// and near 1; zeros of both signs.
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainForHardRows) {
  const int rows = 6, vocab = 9000;
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v(static_cast<size_t>(rows) * vocab);
  for (int i = 0; i < vocab; ++i) {
    v[0 * vocab + i] = 1.5f;
    v[1 * vocab + i] = static_cast<float>((i * 7919) % 5) * 0.25f;
    v[2 * vocab + i] = i % 3 == 0 ? -inf : static_cast<float>(i % 11);
    v[3 * vocab + i] = i == 6001 ? inf : static_cast<float>(i % 13) - 3.0f;
    v[4 * vocab + i] = i == 4321 ? 30.0f : -static_cast<float>(i % 17) * 0.01f;
    v[5 * vocab + i] = i % 2 == 0 ? 0.0f : -0.0f;
  }
  auto x = array(v.data(), {rows, vocab}, float32);
  auto key = random::key(41);
  struct Case {
    int k;
    float p;
  };
  for (auto c : {Case{1, 1.0f}, Case{vocab - 1, 1.0f}, Case{700, 1.0f}, Case{0, 0.01f},
                 Case{0, 0.999f}, Case{0, 0.5f}, Case{3000, 0.3f}}) {
    Filter f{"hard", [&s, c](const array& x, const array& t, const array& key) {
               return sample(x, t, c.k, c.p, key, s);
             }};
    for (float t : {0.7f, 1.0f}) {
      expect_fused_is_plain(x, array(t), f, key,
                            "k " + std::to_string(c.k) + " p " + std::to_string(c.p) + " T " + std::to_string(t), s);
    }
  }
}

// The top-p cut, token by token: rows of a tight cluster of likely tokens
// over a far tail, with the cut's value (found here in float64 from the
// documented rule) placed at the token of the row's largest noise (it must
// win: the noise's lead over the cluster's dwarfs the cluster's spread),
// then the next lower value placed there instead (it must not). A cut one
// token off on either side changes the ids. Rows are split across GPU
// workgroups; a cluster too dense for the GPU's list of candidates (the
// whole-row search) and float16 ties too.
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainForTokensAtTheTopPCut) {
  const int rows = 8, vocab = 20000;
  auto key = random::key(77);
  auto noise = to_vector<float>(random::gumbel({rows, vocab}, float32, key, s));
  struct Case {
    int cluster;   // tokens in the cluster
    float spread;  // its width in s
    float p;
    Dtype d;
  };
  for (auto c : {Case{400, 0.3f, 0.5f, float32}, Case{400, 0.3f, 0.2f, float32}, Case{3000, 0.2f, 0.6f, float32},
                 Case{6000, 0.01f, 0.5f, float32}, Case{400, 0.3f, 0.5f, float16}}) {
    for (bool kept : {true, false}) {
      std::vector<float> v(static_cast<size_t>(rows) * vocab);
      std::vector<int32_t> want(rows);
      for (int r = 0; r < rows; ++r) {
        float* x = v.data() + static_cast<size_t>(r) * vocab;
        for (int i = 0; i < vocab; ++i) {
          // the cluster at s in [2, 2 + spread), the tail in [-6, -2)
          double f = static_cast<double>((i * 7919 + r * 131) % vocab) / vocab;
          x[i] = static_cast<float>(i < c.cluster ? 2.0 + c.spread * (i + 0.5) / c.cluster : -6.0 + 4.0 * f);
          if (c.d == float16) x[i] = static_cast<float>(static_cast<float16_t>(x[i]));
        }
        // the rule: sorted descending, the smallest value whose mass above it
        // is < p * total, masses floor(exp(s - max) * 2^32)
        std::vector<float> sorted(x, x + vocab);
        std::sort(sorted.begin(), sorted.end(), std::greater<float>());
        std::vector<double> mass(vocab);
        double total = 0;
        for (int i = 0; i < vocab; ++i) total += mass[i] = std::floor(std::exp(double(sorted[i]) - sorted[0]) * 4294967296.0);
        double above = 0;
        int at = 0;
        for (int i = 0; i < vocab; ++i) {
          if (sorted[i] != sorted[at] && above < c.p * total) at = i;
          above += mass[i];
        }
        float cut = sorted[at];
        float next = *std::find_if(sorted.begin() + at, sorted.end(), [&](float y) { return y < cut; });
        const float* g = noise.data() + static_cast<size_t>(r) * vocab;
        const int best = static_cast<int>(std::max_element(g, g + vocab) - g);
        const float placed = kept ? cut : next;
        std::swap(x[best], *std::find(x, x + vocab, placed));
        want[r] = best;
      }
      auto x = astype(array(v.data(), {rows, vocab}, float32), c.d, s);
      Filter f{"top_p cut", [&s, c](const array& x, const array& t, const array& key) {
                 return sample(x, t, 0, c.p, key, s);
               }};
      std::string what = "cluster " + std::to_string(c.cluster) + " p " + std::to_string(c.p) + " " +
                         dtype_to_string(c.d) + (kept ? " cut token" : " next token");
      expect_fused_is_plain(x, array(1.0f), f, key, what, s);
      auto ids = to_vector<int32_t>(f.draw(x, array(1.0f), key));
      int hits = 0;
      for (int r = 0; r < rows; ++r) hits += ids[r] == want[r];
      // the arrangement works: the placed token wins where kept, never where not
      EXPECT_EQ(hits, kept ? rows : 0) << what;
    }
  }
}

// Small top-k on rows split across workgroups, the GPU's candidates path
// (a lower bound from group maxima, the tokens over it sorted): k from 1 to
// a few hundred, per-row k with rows left unfiltered, temperature 0 rows,
// bfloat16 ties at the cut, and rows of a few levels or all equal (more
// candidates than the path holds: the radix search takes them).
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainForSmallTopK) {
  const int rows = 8, vocab = 20000;
  auto key = random::key(77);
  std::vector<float> levels(static_cast<size_t>(rows) * vocab);
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < vocab; ++i) {
      levels[static_cast<size_t>(r) * vocab + i] = r % 2 == 0 ? 0.5f : static_cast<float>((i * 31) % 4);
    }
  }
  std::vector<std::pair<std::string, array>> inputs{
      {"float32", make_logits(rows, vocab, float32, 91, s)},
      {"bfloat16", make_logits(rows, vocab, bfloat16, 92, s)},
      {"levels", array(levels.data(), {rows, vocab}, float32)}};
  for (const auto& [name, x] : inputs) {
    for (int k : {1, 50, 300}) {
      Filter f{"top_k", [&s, k](const array& x, const array& t, const array& key) {
                 return sample(x, t, k, 1.0f, key, s);
               }};
      expect_fused_is_plain(x, array(0.7f), f, key, name + " k " + std::to_string(k), s);
      expect_fused_is_plain(x, row_temperatures(rows), f, key, name + " k " + std::to_string(k) + " T per row", s);
    }
    Filter per_row{"top_k per row", [&s](const array& x, const array& t, const array& key) {
                     std::vector<int32_t> ks{50, 0, 1, 7, 50, 20000, 3, 50};
                     return sample(x, t, array(ks.data(), {rows}, int32), array(1.0f), key, s);
                   }};
    expect_fused_is_plain(x, row_temperatures(rows), per_row, key, name + " k per row", s);
  }
}

// Rows of more than 65535 tokens whose cut sits on a tie of most of the row
// (all equal, or two levels): the GPU's fast paths list too many candidates
// and search the whole row in one workgroup; top-k and top-p.
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainForLongTiedRows) {
  const int rows = 8, vocab = 70000;  // the GPU's top-k candidates path needs 8 rows
  std::vector<float> v(static_cast<size_t>(rows) * vocab, 1.0f);
  for (int r = 1; r < rows; r += 2) {
    for (int i = 0; i < vocab; i += 7) v[static_cast<size_t>(r) * vocab + i] = 2.0f;
  }
  auto x = array(v.data(), {rows, vocab}, float32);
  auto key = random::key(8);
  for (auto [k, p] : {std::pair{50, 1.0f}, std::pair{0, 0.3f}}) {
    Filter f{"tied", [&s, k = k, p = p](const array& x, const array& t, const array& key) {
               return sample(x, t, k, p, key, s);
             }};
    expect_fused_is_plain(x, array(0.7f), f, key, "k " + std::to_string(k) + " p " + std::to_string(p), s);
  }
}

// Rows whose tokens crowd a narrow band (s within 0.03 of the largest): the
// GPU's top-p levels put more of them in one coarse bin than its candidate
// list holds, split that bin into fine ones and resolve the cut from one of
// those (float32), or find ties filling a fine bin and search the whole row
// (bfloat16); a dominant token above the band in one row.
LUMEN_DEVICE_TEST(Sampling, FusedIsPlainForDenseRows) {
  const int rows = 4, vocab = 40000;
  const float width[rows] = {0.01f, 0.003f, 0.02f, 0.01f};
  std::vector<float> v(static_cast<size_t>(rows) * vocab);
  uint32_t state = 12345u;
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < vocab; ++i) {
      state = state * 1664525u + 1013904223u;
      v[static_cast<size_t>(r) * vocab + i] = width[r] * static_cast<float>(state >> 8) / 16777216.0f;
    }
  }
  v[3 * static_cast<size_t>(vocab) + 123] = 4.0f;
  auto key = random::key(31);
  for (Dtype d : {float32, bfloat16}) {
    auto x = astype(array(v.data(), {rows, vocab}, float32), d, s);
    for (float p : {0.3f, 0.9f, 0.999f}) {
      Filter f{"dense", [&s, p](const array& x, const array& t, const array& key) {
                 return sample(x, t, 0, p, key, s);
               }};
      for (float t : {0.7f, 1.0f}) {
        expect_fused_is_plain(x, array(t), f, key,
                              dtype_to_string(d) + " p " + std::to_string(p) + " T " + std::to_string(t), s);
      }
    }
  }
}

LUMEN_DEVICE_TEST(Sampling, FusedIsPlainForViews) {
  auto key = random::key(5);
  auto t = row_temperatures(6);
  // transposed: strides (1, 6); broadcast rows: stride 0; a slice with an offset
  auto base = make_logits(1000, 6, float32, 11, s);
  auto transposed = transpose(base, s);
  auto broadcast = broadcast_to(slice(base, {0, 0}, {1000, 1}, s), {1000, 6}, s);
  auto row = make_logits(1, 3000, bfloat16, 12, s);
  auto rows = broadcast_to(slice(row, {0, 1000}, {1, 2000}, s), {6, 1000}, s);
  for (const auto& f : filters(1000, s)) {
    expect_fused_is_plain(transposed, t, f, key, "transposed", s);
    expect_fused_is_plain(reshape(broadcast, {6, 1000}, s), t, f, key, "reshaped broadcast", s);
    expect_fused_is_plain(rows, t, f, key, "broadcast sliced rows", s);
  }
}

LUMEN_DEVICE_TEST(Sampling, OneDimensionalLogitsGiveAScalar) {
  auto x = make_logits(1, 50, float32, 3, s);
  auto x1 = reshape(x, {50}, s);
  auto key = random::key(8);
  auto id = sample(x1, array(1.0f), 10, 0.8f, key, s);
  EXPECT_EQ(id.shape(), Shape{});
  EXPECT_EQ(to_vector<int32_t>(id)[0], to_vector<int32_t>(sample(x, array(1.0f), 10, 0.8f, key, s))[0]);
}

// Temperature 1 without filtering is random::categorical for the same key.
LUMEN_DEVICE_TEST(Sampling, TemperatureOneIsCategorical) {
  auto key = random::key(99);
  for (Dtype d : {float32, bfloat16}) {
    auto x = make_logits(5, 300, d, 4, s);
    EXPECT_EQ(to_vector<int32_t>(sample(x, array(1.0f), 0, 1.0f, key, s)),
              to_vector<int32_t>(astype(random::categorical(x, -1, key, s), int32, s)))
        << dtype_to_string(d);
  }
}

// T = 0 is argmax, the lowest index among ties, whatever the key, top-k or
// top-p; other rows of the same call still sample.
LUMEN_DEVICE_TEST(Sampling, ZeroTemperatureIsArgmax) {
  const int rows = 4, vocab = 9;
  std::vector<float> v = {1, 5, 2, 5, 0, -1, 3, 5, 4,  // ties at 1, 3, 7
                          -2, -2, -2, -2, -2, -2, -2, -2, -2,  // all tied
                          0, 0, 0, 0, 0, 0, 0, 0, 9,  // last
                          7, 1, 1, 1, 1, 1, 1, 1, 1};
  auto x = array(v.data(), {rows, vocab}, float32);
  const std::vector<int32_t> want = {1, 0, 8, 0};
  for (int seed = 0; seed < 3; ++seed) {
    auto key = random::key(seed);
    EXPECT_EQ(to_vector<int32_t>(sample(x, array(0.0f), 0, 1.0f, key, s)), want);
    EXPECT_EQ(to_vector<int32_t>(sample(x, array(0.0f), 2, 0.3f, key, s)), want);
    EXPECT_EQ(to_vector<int32_t>(sample(astype(x, float16, s), array(0.0f), 0, 1.0f, key, s)),
              want);
  }
  // per row: rows 0 and 2 at T = 0; rows 1 and 3 sample (row 1 is uniform)
  float t[rows] = {0.0f, 1.0f, 0.0f, 1.0f};
  std::vector<int> seen(vocab, 0);
  for (int seed = 0; seed < 200; ++seed) {
    auto ids = to_vector<int32_t>(sample(x, array(t, {rows}, float32), 0, 1.0f, random::key(seed), s));
    EXPECT_EQ(ids[0], 1);
    EXPECT_EQ(ids[2], 8);
    seen[ids[1]] += 1;
  }
  for (int i = 0; i < vocab; ++i) EXPECT_GT(seen[i], 0) << "token " << i << " never drawn at T = 1";
}

LUMEN_DEVICE_TEST(Sampling, FixedSeedReproduces) {
  auto x = make_logits(8, 500, float32, 21, s);
  auto t = array(0.8f);
  auto a = to_vector<int32_t>(sample(x, t, 40, 0.95f, random::key(17), s));
  auto b = to_vector<int32_t>(sample(x, t, 40, 0.95f, random::key(17), s));
  auto c = to_vector<int32_t>(sample(x, t, 40, 0.95f, random::key(18), s));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  random::seed(123);
  auto d = to_vector<int32_t>(sample(x, t, 0, 1.0f, std::nullopt, s));
  auto e = to_vector<int32_t>(sample(x, t, 0, 1.0f, std::nullopt, s));
  random::seed(123);
  auto f = to_vector<int32_t>(sample(x, t, 0, 1.0f, std::nullopt, s));
  EXPECT_EQ(d, f) << "the global seed reproduces";
  EXPECT_NE(d, e) << "the global key sequence moves on";
}

namespace {

// chi-square quantiles at upper tail 1e-4, by degrees of freedom 1..7
constexpr double kChi2Critical[8] = {0,       15.1367, 18.4207, 21.1075,
                                     23.5127, 25.7448, 27.8563, 29.8775};

// softmax(logits / T) restricted to top-k and top-p (renormalized), in double.
std::vector<double> restricted_softmax(const std::vector<double>& logits, double t, int top_k,
                                       double top_p) {
  const size_t n = logits.size();
  double m = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(n);
  double z = 0;
  for (size_t i = 0; i < n; ++i) z += p[i] = std::exp((logits[i] - m) / t);
  for (auto& v : p) v /= z;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  std::vector<bool> keep(n, false);
  double mass = 0;
  for (size_t r = 0; r < n; ++r) {
    bool by_k = top_k == 0 || static_cast<int>(r) < top_k;
    bool by_p = mass < top_p;
    keep[order[r]] = by_k && by_p;
    mass += p[order[r]];
  }
  double kept = 0;
  for (size_t i = 0; i < n; ++i) kept += keep[i] ? p[i] : 0;
  for (size_t i = 0; i < n; ++i) p[i] = keep[i] ? p[i] / kept : 0;
  return p;
}

}  // namespace

// 200k draws of one distribution (the logits broadcast to 200k rows) against
// the restricted softmax, by a chi-square test at p >= 1e-4.
LUMEN_DEVICE_TEST(Sampling, DistributionMatchesRestrictedSoftmax) {
  const int draws = 200000;
  const std::vector<double> logits = {1.0, 2.5, 0.3, -1.0, 2.0, 0.9, -0.4};
  std::vector<float> lf(logits.begin(), logits.end());
  auto x = broadcast_to(array(lf.data(), {1, 7}, float32), {draws, 7}, s);
  struct Case {
    float t;
    int k;
    float p;
  };
  // masses sorted at T = 1: 0.39 0.24 0.10 0.08 0.05 0.03 0.01 (far from the cuts)
  const Case cases[] = {{1.0f, 0, 1.0f}, {0.5f, 0, 1.0f}, {2.0f, 0, 1.0f}, {1.0f, 3, 1.0f},
                        {1.0f, 0, 0.75f}, {2.0f, 4, 0.8f}, {0.7f, 5, 0.7f}};
  uint64_t seed = 1;
  for (const auto& c : cases) {
    auto want = restricted_softmax(logits, c.t, c.k, c.p);
    auto ids = to_vector<int32_t>(sample(x, array(c.t), c.k, c.p, random::key(seed++), s));
    std::vector<double> count(7, 0);
    for (int id : ids) count.at(id) += 1;
    double chi2 = 0;
    int df = -1;
    for (int i = 0; i < 7; ++i) {
      if (want[i] == 0) {
        EXPECT_EQ(count[i], 0) << "token " << i << " is filtered out (T " << c.t << " k " << c.k
                               << " p " << c.p << ")";
        continue;
      }
      double e = want[i] * draws;
      chi2 += (count[i] - e) * (count[i] - e) / e;
      df += 1;
    }
    ASSERT_GE(df, 1);
    EXPECT_LT(chi2, kChi2Critical[df]) << "T " << c.t << " k " << c.k << " p " << c.p;
  }
}

// A row with a NaN logit samples its first NaN (argmax's rule), at any
// temperature and filter; other rows are unaffected; fused and plain agree.
LUMEN_DEVICE_TEST(Sampling, NaNLogitsSampleTheFirstNaN) {
  const float nan = std::nanf("");
  std::vector<float> v = {0.5f, 3.0f, nan, 1.0f, nan, 2.0f,  // first NaN at 2
                          1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  auto x = array(v.data(), {2, 6}, float32);
  for (const auto& f : filters(6, s)) {
    for (float t : {0.0f, 0.5f, 1.0f}) {
      auto ids = to_vector<int32_t>(f.draw(x, array(t), random::key(3)));
      EXPECT_EQ(ids[0], 2) << f.name << " T " << t;
      if (t == 0.0f) {
        EXPECT_EQ(ids[1], 5);
      }
      expect_fused_is_plain(x, array(t), f, random::key(3), "NaN", s);
    }
  }
}

LUMEN_DEVICE_TEST(Sampling, BadInputThrows) {
  auto x = make_logits(2, 10, float32, 1, s);
  auto t = array(1.0f);
  auto key = random::key(0);
  EXPECT_THROW(sample(astype(x, int32, s), t, 0, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(astype(x, float64, s), t, 0, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(reshape(x, {2, 5, 2}, s), t, 0, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(array(1.0f), t, 0, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(zeros({2, 0}, float32, s), t, 0, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, array(-0.5f), 0, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, array({1.0f, -1.0f}), 0, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, array(1), 0, 1.0f, key, s), std::invalid_argument);  // integer T
  EXPECT_THROW(sample(x, ones({3}, float32, s), 0, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, t, -1, 1.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, t, 0, 0.0f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, t, 0, 1.5f, key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, t, 0, std::nanf(""), key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, t, array(1.5f), array(0.5f), key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, t, array(2), array(1), key, s), std::invalid_argument);
  EXPECT_THROW(sample(x, t, 0, 1.0f, array({1u, 2u, 3u}), s), std::invalid_argument);
  // values known only when evaluated (computed on the device): the fused
  // kernels check them and eval throws (the GPU's through the stream's error
  // record), also for one bad row among good ones and for a sliced
  // parameter; the device stays usable
  if (has_fused(dev)) {
    auto lazy_t = negative(array(0.5f), s);
    EXPECT_THROW(sample(x, lazy_t, 0, 1.0f, key, s).eval(), std::invalid_argument);
    auto lazy_ts = multiply(array({1.0f, -1.0f}), array(2.0f), s);
    EXPECT_THROW(sample(x, lazy_ts, 3, 0.5f, key, s).eval(), std::invalid_argument);
    auto lazy_k = negative(array(2), s);
    EXPECT_THROW(sample(x, t, lazy_k, array(0.5f), key, s).eval(), std::invalid_argument);
    auto lazy_ks = slice(subtract(array({3, 4, -1}), array(0), s), {1}, {3}, s);
    EXPECT_THROW(sample(x, t, lazy_ks, array(0.5f), key, s).eval(), std::invalid_argument);
    auto lazy_p = add(array(0.5f), array(0.75f), s);
    EXPECT_THROW(sample(x, t, array(3), lazy_p, key, s).eval(), std::invalid_argument);
    auto lazy_p0 = multiply(array({0.5f, 0.0f}), array(1.0f), s);
    EXPECT_THROW(sample(x, t, array(3), lazy_p0, key, s).eval(), std::invalid_argument);
    auto nan_p = divide(array(0.0f), array(0.0f), s);
    EXPECT_THROW(sample(x, t, array(3), nan_p, key, s).eval(), std::invalid_argument);
    try {
      sample(x, multiply(array({1.0f, -1.0f}), array(2.0f), s), 0, 1.0f, key, s).eval();
      ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("temperature must be >= 0"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
    }
    EXPECT_EQ(to_vector<int32_t>(sample(x, array(0.0f), 0, 1.0f, key, s)).size(), 2u)
        << "usable after an error";
    auto good_t = add(array(0.5f), array(0.25f), s);
    EXPECT_EQ(to_vector<int32_t>(sample(x, good_t, 3, 0.5f, key, s)).size(), 2u)
        << "good lazy values do not throw";
  }
}

// The GPU kernel's variants (threshold stage, draw chunks of 4 or 16 per
// thread, rows in a grid-stride loop) against the CPU kernel on the same
// logits and key. Where the GPU's float steps give the CPU's bits (division
// and add always; log and exp as math.glsl computes them), the ids agree;
// a differing last bit of the noise could only flip a near tie.
LUMEN_DEVICE_TEST(Sampling, GpuKernelMatchesCpuKernel) {
  if (!on_gpu || !has_fused(dev) || !has_fused(Device::cpu)) GTEST_SKIP() << "GPU kernel only";
  const Stream cpu = default_stream(Device::cpu);
  auto key = random::key(77);
  struct Case {
    int rows, vocab;
    Dtype dtype;
  };
  for (const Case& c : {Case{1, 7, float32}, Case{3, 1000, bfloat16}, Case{32, 5000, float16},
                        Case{600, 300, float32}, Case{2, 70000, float32}}) {
    auto x = make_logits(c.rows, c.vocab, c.dtype, 31 + c.vocab, cpu);
    auto xg = copy(x, s);
    auto t = row_temperatures(c.rows);
    std::string what = std::to_string(c.rows) + "x" + std::to_string(c.vocab);
    for (const auto& f : filters(c.vocab, cpu)) {
      auto want = to_vector<int32_t>(f.draw(x, t, key));
      for (const auto& g : filters(c.vocab, s)) {
        if (std::string(g.name) != f.name) continue;
        auto got = to_vector<int32_t>(g.draw(xg, t, key));
        int differ = 0;
        for (size_t i = 0; i < got.size(); ++i) differ += got[i] != want[i];
        EXPECT_LE(differ, c.rows / 100) << what << " " << f.name;
      }
    }
  }
}

// The fused primitive's hint for kernels: top-k known to be off in every
// row (an int 0, or an evaluated array of zeros), else not.
LUMEN_DEVICE_TEST(Sampling, FusedPrimitiveKnowsWhenTopKIsOff) {
  if (!has_fused(dev)) GTEST_SKIP() << "no fused kernel";
  auto x = make_logits(3, 50, float32, 4, s);
  auto key = random::key(1);
  auto no_top_k = [](const array& ids) {
    auto& p = dynamic_cast<GumbelSample&>(ids.primitive());
    EXPECT_TRUE(p.filtered());
    return p.no_top_k();
  };
  const std::vector<int32_t> zeros{0, 0, 0}, mixed{0, 4, 0};
  EXPECT_TRUE(no_top_k(sample(x, array(1.0f), 0, 0.9f, key, s)));
  EXPECT_FALSE(no_top_k(sample(x, array(1.0f), 5, 0.9f, key, s)));
  EXPECT_TRUE(no_top_k(sample(x, array(1.0f), array(zeros.data(), {3}, int32), array(0.5f), key, s)));
  EXPECT_FALSE(no_top_k(sample(x, array(1.0f), array(mixed.data(), {3}, int32), array(0.5f), key, s)));
}

// Outside transforms: one GumbelSample; under compile, vmap and grad the
// plain composition (RandomBits, elementwise, sort, cumsum, argmax), with the
// same ids.
LUMEN_DEVICE_TEST(Sampling, TransformsSeeThePlainComposition) {
  auto x = make_logits(4, 64, float32, 2, s);
  auto key = random::key(6);
  auto t = array(0.9f);
  auto direct = sample(x, t, 8, 0.9f, key, s);
  if (has_fused(dev)) {
    EXPECT_EQ(gumbel_nodes(direct), 1);
  }
  auto expect_plain_graph = [](const array& out, const std::string& what) {
    auto c = primitive_counts({out});
    EXPECT_EQ(c.count("GumbelSample"), 0u) << what;
    EXPECT_EQ(c.count("RandomBits"), 1u) << what;
    EXPECT_EQ(c.count("ArgReduce"), 1u) << what;
    EXPECT_EQ(c.count("Sort"), 1u) << what;
    EXPECT_EQ(c.count("CumSum"), 1u) << what;
  };
  array traced = x;
  std::function<std::vector<array>(const std::vector<array>&)> f =
      [&](const std::vector<array>& in) {
        traced = sample(in[0], t, 8, 0.9f, key, s);
        return std::vector<array>{traced};
      };
  auto compiled = compile(f)({x});
  EXPECT_EQ(to_vector<int32_t>(compiled[0]), to_vector<int32_t>(direct)) << "compile";
  auto mapped = vmap(f)({expand_dims(x, 0, s)});
  expect_plain_graph(traced, "vmap");
  EXPECT_EQ(to_vector<int32_t>(squeeze(mapped[0], 0, s)), to_vector<int32_t>(direct)) << "vmap";
  std::function<array(const array&)> picked_sum = [&](const array& y) {
    auto ids = sample(y, t, 8, 0.9f, key, s);
    expect_plain_graph(ids, "grad");
    auto picked = take_along_axis(y, expand_dims(ids, -1, s), -1, s);
    return sum(picked, s);
  };
  auto g = grad(picked_sum)(x);
  // d/dy of sum(y[ids]) is one-hot at the sampled ids
  auto gv = to_vector<float>(g);
  auto ids = to_vector<int32_t>(direct);
  for (int r = 0; r < 4; ++r) {
    for (int i = 0; i < 64; ++i) EXPECT_EQ(gv[r * 64 + i], i == ids[r] ? 1.0f : 0.0f);
  }
}

}  // namespace lumen::test
