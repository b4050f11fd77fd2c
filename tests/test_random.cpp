// random: threefry bits (MLX's key format and layout), keys and splitting, and
// every distribution against MLX's known answers (exact bytes on CPU).
#include <functional>
#include <algorithm>
#include <limits>
#include <map>
#include <thread>

#include "random_test_helpers.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(Random);

namespace {

// A RandomBits node for several keys at once (what vmap builds; the public
// bits() takes one key, as MLX's).
array multi_key_bits(const array& keys, const Shape& shape, int width, const Stream& s,
                     std::optional<RandomBits::Window> window = std::nullopt) {
  Dtype dt = width == 4 ? uint32 : (width == 2 ? uint16 : uint8);
  return array(shape, dt, std::make_shared<RandomBits>(s, shape, width, window), {keys});
}

}  // namespace

LUMEN_DEVICE_TEST(Random, KeyFormat) {
  auto k = random::key(0x0123456789abcdefull);
  EXPECT_EQ(k.dtype(), uint32);
  EXPECT_EQ(k.shape(), (Shape{2}));
  auto v = to_vector<uint32_t>(k);
  EXPECT_EQ(v[0], 0x01234567u);
  EXPECT_EQ(v[1], 0x89abcdefu);
}

LUMEN_DEVICE_TEST(Random, KnownValuesOfTheIssue) {
  auto k = random::key(0);
  EXPECT_EQ(to_vector<uint32_t>(random::bits({}, 4, k, s))[0], 1797259609u);
  EXPECT_EQ(to_vector<uint16_t>(random::bits({1}, 2, k, s))[0], 345u);
  EXPECT_EQ(to_vector<uint8_t>(random::bits({1}, 1, k, s))[0], 89u);
  auto [a, b] = random::split(k, s);
  EXPECT_EQ(to_vector<uint32_t>(a), (std::vector<uint32_t>{4146024105u, 967050713u}));
  EXPECT_EQ(to_vector<uint32_t>(b), (std::vector<uint32_t>{2718843009u, 1272950319u}));
  EXPECT_EQ(a.shape(), (Shape{2}));
}

LUMEN_DEVICE_TEST(Random, BitsMatchTheReferenceLayout) {
  // widths 1, 2, 4; even and odd word counts; sizes that end mid-word
  for (int width : {1, 2, 4}) {
    for (int n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64, 255, 1001, 4099}) {
      auto key = random::key(1000u + n);
      auto got = bytes_of(random::bits({n}, width, key, s));
      auto want = ref_stream_bytes(0, 1000u + n, uint64_t(n) * width, 0, uint64_t(n) * width);
      ASSERT_EQ(got, want) << "width " << width << " n " << n;
    }
  }
}

LUMEN_DEVICE_TEST(Random, BitsShapesAndDtypes) {
  auto key = random::key(7);
  EXPECT_EQ(random::bits({2, 3}, 1, key, s).dtype(), uint8);
  EXPECT_EQ(random::bits({2, 3}, 2, key, s).dtype(), uint16);
  EXPECT_EQ(random::bits({2, 3}, key, s).dtype(), uint32);
  // the stream depends on the total size only: (6,) and (2, 3) hold the same values
  EXPECT_EQ(bytes_of(random::bits({2, 3}, 4, key, s)), bytes_of(random::bits({6}, 4, key, s)));
  for (const Shape& shape : {Shape{0}, Shape{3, 0}, Shape{0, 5, 2}}) {
    auto z = random::bits(shape, 4, key, s);
    EXPECT_EQ(z.shape(), shape);
    z.eval();
    EXPECT_EQ(z.size(), 0u);
  }
}

LUMEN_DEVICE_TEST(Random, SeveralKeysAtOnce) {
  // keys (3, 2), one block per key, equal to each key's own bits; keys read
  // through strides (a transposed (2, 3) array, a broadcast of one key)
  std::vector<uint32_t> kv = {1, 4, 2, 5, 3, 6};
  std::vector<uint32_t> kv_t = {1, 2, 3, 4, 5, 6};  // kv's columns as rows
  auto distinct = transpose(array(kv_t.begin(), {2, 3}, uint32), s);
  ASSERT_EQ(distinct.shape(), (Shape{3, 2}));
  auto repeated = broadcast_to(array({9u, 8u}), {3, 2}, s);
  for (int width : {1, 2, 4}) {
    auto all = bytes_of(multi_key_bits(distinct, {3, 7}, width, s));
    auto same = bytes_of(multi_key_bits(repeated, {3, 7}, width, s));
    auto nine = bytes_of(random::bits({7}, width, array({9u, 8u}), s));
    size_t block = 7 * width;
    ASSERT_EQ(all.size(), 3 * block);
    for (int i = 0; i < 3; ++i) {
      auto one = bytes_of(random::bits({7}, width, array({kv[2 * i], kv[2 * i + 1]}), s));
      auto part = [&](const std::vector<uint8_t>& v) {
        return std::vector<uint8_t>(v.begin() + i * block, v.begin() + (i + 1) * block);
      };
      EXPECT_EQ(part(all), one) << "key " << i << " width " << width;
      EXPECT_EQ(part(same), nine) << "key " << i << " width " << width;
    }
  }
}

LUMEN_DEVICE_TEST(Random, WindowsPastTwoToThe31) {
  // A block of a stream longer than 2^32 bytes, starting past 2^31 elements:
  // indices and counters must be 64-bit up to the hash (which takes 32-bit
  // counter words, as MLX's).
  const int64_t stream = (int64_t(1) << 32) + 3;
  for (int width : {1, 2, 4}) {
    for (int64_t offset : {(int64_t(1) << 31) + 7, (int64_t(1) << 32) - 5, stream - 11}) {
      auto key = random::key(99);
      auto got = bytes_of(multi_key_bits(key, {11}, width, s, RandomBits::Window{stream, offset}));
      auto want =
          ref_stream_bytes(0, 99, uint64_t(stream) * width, uint64_t(offset) * width, 11 * width);
      EXPECT_EQ(got, want) << "width " << width << " offset " << offset;
    }
  }
}

LUMEN_DEVICE_TEST(Random, WindowsTileTheStream) {
  // consecutive windows of any size give the whole request's bytes
  auto key = random::key(5);
  for (int width : {1, 2, 4}) {
    for (int n : {9, 10, 31, 64, 101}) {
      auto whole = bytes_of(random::bits({n}, width, key, s));
      std::vector<uint8_t> joined;
      for (int first = 0; first < n;) {
        int len = std::min(n - first, 1 + (first * 7 + n) % 13);
        auto part = bytes_of(multi_key_bits(key, {len}, width, s, RandomBits::Window{n, first}));
        joined.insert(joined.end(), part.begin(), part.end());
        first += len;
      }
      EXPECT_EQ(joined, whole) << "width " << width << " n " << n;
    }
  }
}

LUMEN_DEVICE_TEST(Random, BadKeysAndArguments) {
  EXPECT_THROW(random::bits({3}, 4, array({1, 2}, int32), s), std::invalid_argument);
  EXPECT_THROW(random::bits({3}, 4, array({1u, 2u, 3u}), s), std::invalid_argument);
  EXPECT_THROW(random::bits({3}, 4, reshape(array({1u, 2u, 3u, 4u}), {2, 2}), s),
               std::invalid_argument);
  EXPECT_THROW(random::bits({3}, 3, random::key(0), s), std::invalid_argument);
  EXPECT_THROW(random::bits({-1}, 4, random::key(0), s), std::invalid_argument);
  EXPECT_THROW(random::split(array({1.0f, 2.0f}), 2, s), std::invalid_argument);
  EXPECT_THROW(random::uniform({3}, float32, array({1, 2}, int32), s), std::invalid_argument);
  EXPECT_THROW(random::normal({3}, float32, array({1u}), s), std::invalid_argument);
  EXPECT_THROW(random::uniform({3}, int32, random::key(0), s), std::invalid_argument);
  EXPECT_THROW(random::uniform({3}, float64, random::key(0), s), std::invalid_argument);
  EXPECT_THROW(random::uniform(array({0.0f, 1.0f}), array(2.0f), {3}, float32, random::key(0), s),
               std::invalid_argument);
  EXPECT_THROW(random::normal({3}, int32, random::key(0), s), std::invalid_argument);
  EXPECT_THROW(random::randint(0, 5, {3}, float32, random::key(0), s), std::invalid_argument);
  EXPECT_THROW(random::bernoulli(array(1), {3}, random::key(0), s), std::invalid_argument);
  EXPECT_THROW(random::bernoulli(array({0.5f, 0.5f}), {3}, random::key(0), s),
               std::invalid_argument);
  EXPECT_THROW(random::truncated_normal(array(0.0f), array(1.0f), {3}, int32, random::key(0), s),
               std::invalid_argument);
  EXPECT_THROW(random::laplace({3}, int32, random::key(0), s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Random, GlobalSeedAndKeySequence) {
  // seed(k) then implicit keys == split chain from key(k), as MLX's KeySequence
  random::seed(42);
  auto a = random::bits({5}, std::nullopt, s);
  auto b = random::bits({5}, std::nullopt, s);
  auto k = random::key(42);
  auto [k1, sub1] = random::split(k, s);
  auto [k2, sub2] = random::split(k1, s);
  EXPECT_EQ(bytes_of(a), bytes_of(random::bits({5}, sub1, s)));
  EXPECT_EQ(bytes_of(b), bytes_of(random::bits({5}, sub2, s)));
  EXPECT_NE(bytes_of(a), bytes_of(b));
  random::seed(42);
  EXPECT_EQ(bytes_of(random::bits({5}, std::nullopt, s)), bytes_of(a));
  // each thread has its own sequence
  std::vector<uint8_t> other;
  std::thread t([&] {
    random::seed(42);
    other = bytes_of(random::bits({5}, std::nullopt, s));
  });
  t.join();
  EXPECT_EQ(other, bytes_of(a));
}

// ---- MLX's known answers ----

namespace {

struct RefCase {
  std::string file;
  std::function<array(const array& key, const Stream& s)> make;
};

std::vector<RefCase> ref_cases(int k) {
  std::vector<RefCase> cases;
  auto ks = "_k" + std::to_string(k);
  cases.push_back({"bits_w4" + ks, [](auto& key, auto& s) {
                     return random::bits({5, 3}, 4, key, s);
                   }});
  cases.push_back(
      {"bits_w2" + ks, [](auto& key, auto& s) { return random::bits({9}, 2, key, s); }});
  cases.push_back(
      {"bits_w1" + ks, [](auto& key, auto& s) { return random::bits({11}, 1, key, s); }});
  cases.push_back({"split3" + ks, [](auto& key, auto& s) { return random::split(key, 3, s); }});
  for (auto [dt, name] : {std::pair{float32, "f32"}, {float16, "f16"}, {bfloat16, "bf16"}}) {
    auto sfx = std::string("_") + name + ks;
    Dtype d = dt;
    cases.push_back({"uniform" + sfx, [d](auto& key, auto& s) {
                       return random::uniform({33, 3}, d, key, s);
                     }});
    cases.push_back({"uniform_lohi" + sfx, [d](auto& key, auto& s) {
                       return random::uniform(array(-2.0f), array(7.0f), {17}, d, key, s);
                     }});
    cases.push_back({"normal" + sfx, [d](auto& key, auto& s) {
                       return random::normal({33, 3}, d, key, s);
                     }});
    cases.push_back({"normal_ls" + sfx, [d](auto& key, auto& s) {
                       return random::normal({17}, d, 2.0f, 0.5f, key, s);
                     }});
    cases.push_back({"truncnorm" + sfx, [d](auto& key, auto& s) {
                       return random::truncated_normal(array(-1.0f), array(1.5f), {17}, d, key, s);
                     }});
    cases.push_back(
        {"gumbel" + sfx, [d](auto& key, auto& s) { return random::gumbel({17}, d, key, s); }});
    cases.push_back({"laplace" + sfx, [d](auto& key, auto& s) {
                       return random::laplace({17}, d, 0.0f, 1.0f, key, s);
                     }});
  }
  cases.push_back({"bernoulli" + ks, [](auto& key, auto& s) {
                     return random::bernoulli(array(0.6f), {29}, key, s);
                   }});
  cases.push_back({"randint" + ks, [](auto& key, auto& s) {
                     return random::randint(array(0), array(10), {29}, int32, key, s);
                   }});
  cases.push_back({"categorical" + ks, [](auto& key, auto& s) {
                     auto logits = sin(reshape(arange(600, float32, s), {3, 200}, s), s);
                     return random::categorical(logits, -1, key, s);
                   }});
  cases.push_back(
      {"permutation" + ks, [](auto& key, auto& s) { return random::permutation(20, key, s); }});
  return cases;
}

// Families that pass through a transcendental function (DESIGN, "Settled
// details"): on the GPU within 1 ulp of MLX's CPU bytes; everything else and
// every family on the CPU: exact.
bool transcendental(const std::string& file) {
  for (const char* f : {"normal", "truncnorm", "gumbel", "laplace"}) {
    if (file.rfind(f, 0) == 0) return true;
  }
  return false;
}

void check_known_answers(const Stream& s, bool on_gpu) {
  for (int k : {11, 12}) {
    for (auto& c : ref_cases(k)) {
      auto want = read_ref(c.file);
      auto out = c.make(random::key(k), s);
      auto got = bytes_of(out);
      ASSERT_EQ(got.size(), want.size()) << c.file;
      if (on_gpu && transcendental(c.file)) {
        EXPECT_LE(max_ulp_distance(got, want, static_cast<int>(out.itemsize())), 1) << c.file;
      } else {
        EXPECT_EQ(got, want) << c.file;
      }
    }
  }
}

}  // namespace

LUMEN_DEVICE_TEST(Random, KnownAnswersOfMLX) { check_known_answers(s, on_gpu); }

LUMEN_DEVICE_TEST(Random, KnownAnswersOfMLXPlainChain) {
  // inside tracing only the plain composition is built: same bytes
  detail::TracingGuard tracing;
  check_known_answers(s, on_gpu);
}

LUMEN_DEVICE_TEST(Random, CategoricalBothSamplers) {
  auto key = random::key(61);
  // one distribution and a shape of samples: MLX's inverse-CDF sampler
  std::vector<double> p = {0.1, 0.2, 0.7};
  auto logits = log(array({0.1f, 0.2f, 0.7f}), s);
  const int n = 200000;
  auto one_d = random::categorical(logits, 0, Shape{n}, key, s);
  EXPECT_EQ(one_d.dtype(), uint32);
  auto counts_of = [&](const array& a, int k) {
    std::vector<int> c(k, 0);
    for (double v : to_doubles(a)) c.at(static_cast<int>(v))++;
    return c;
  };
  auto c = counts_of(one_d, 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_LT(std::abs(c[i] - n * p[i]), 5 * std::sqrt(n * p[i] * (1 - p[i])));
  // rows of logits: Gumbel-max along the axis
  auto rows = broadcast_to(reshape(logits, {1, 3}, s), {n, 3}, s);
  auto g = random::categorical(rows, -1, key, s);
  EXPECT_EQ(g.shape(), (Shape{n}));
  c = counts_of(g, 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_LT(std::abs(c[i] - n * p[i]), 5 * std::sqrt(n * p[i] * (1 - p[i])));
  // num_samples per row, axis 0 of a (3, 2) table
  auto t = random::categorical(transpose(broadcast_to(reshape(logits, {1, 3}, s), {2, 3}, s), s), 0,
                               5, key, s);
  EXPECT_EQ(t.shape(), (Shape{2, 5}));
  // infinite logits: only the maximal entries, uniformly
  float inf = std::numeric_limits<float>::infinity();
  auto ninf = random::categorical(array({-inf, 0.0f, 0.0f}), 0, Shape{1000}, key, s);
  c = counts_of(ninf, 3);
  EXPECT_EQ(c[0], 0);
  auto pinf = random::categorical(array({inf, 0.0f, inf}), 0, Shape{1000}, key, s);
  c = counts_of(pinf, 3);
  EXPECT_EQ(c[1], 0);
  EXPECT_GT(c[0], 400);
  EXPECT_GT(c[2], 400);
  EXPECT_THROW(random::categorical(logits, 1, key, s), std::invalid_argument);
  EXPECT_THROW(random::categorical(rows, -1, Shape{7}, key, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Random, PermutationOfAnAxis) {
  auto key = random::key(62);
  auto perm = to_vector<uint32_t>(random::permutation(50, key, s));
  std::vector<uint32_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (uint32_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  // rows of a (50, 3) array moved whole, by the same permutation
  auto x = reshape(arange(150, float32, s), {50, 3}, s);
  auto px = to_doubles(random::permutation(x, 0, key, s));
  for (int r = 0; r < 50; ++r) {
    for (int k = 0; k < 3; ++k) EXPECT_EQ(px[3 * r + k], 3.0 * perm[r] + k);
  }
  // along axis 1
  auto py = random::permutation(x, 1, key, s);
  EXPECT_EQ(py.shape(), (Shape{50, 3}));
}

LUMEN_DEVICE_TEST(Random, VmapOverKeys) {
  // one block per key, equal to each key's own request (bits, and the plain
  // uniform chain that vmap traces)
  auto keys = random::split(random::key(63), 5, s);
  auto bits_of = vmap([&](const array& k) { return random::bits({3, 2}, 2, k, s); });
  auto uniform_of = vmap([&](const array& k) { return random::uniform({7}, bfloat16, k, s); });
  auto keys_t = transpose(keys, s);  // batch along the last axis: the rule moves it
  auto by_col = vmap([&](const array& k) { return random::bits({4}, 4, k, s); }, 1, 0);
  auto b = bits_of(keys);
  auto u = uniform_of(keys);
  auto c = by_col(keys_t);
  EXPECT_EQ(b.shape(), (Shape{5, 3, 2}));
  EXPECT_EQ(u.shape(), (Shape{5, 7}));
  EXPECT_EQ(c.shape(), (Shape{5, 4}));
  auto bb = bytes_of(b), ub = bytes_of(u), cb = bytes_of(c);
  for (int i = 0; i < 5; ++i) {
    auto k = reshape(slice(keys, {i, 0}, {i + 1, 2}, s), {2}, s);
    auto one_b = bytes_of(random::bits({3, 2}, 2, k, s));
    auto one_u = bytes_of(random::uniform({7}, bfloat16, k, s));
    auto one_c = bytes_of(random::bits({4}, 4, k, s));
    EXPECT_EQ(std::vector<uint8_t>(bb.begin() + 12 * i, bb.begin() + 12 * (i + 1)), one_b);
    EXPECT_EQ(std::vector<uint8_t>(ub.begin() + 14 * i, ub.begin() + 14 * (i + 1)), one_u);
    EXPECT_EQ(std::vector<uint8_t>(cb.begin() + 16 * i, cb.begin() + 16 * (i + 1)), one_c);
  }
}
