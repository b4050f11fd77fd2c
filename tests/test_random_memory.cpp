// random: memory peaks of the fused and plain paths measured with the memory
// API, the limit error of the plain chain, and (suite RandomLarge, ctest
// label `large`, Release only) the 46341 x 46341 bfloat16 normal canary.
#include <functional>

#include "random_test_helpers.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(RandomMemory);

namespace {

constexpr size_t kMiB = size_t(1) << 20;

// Peak over the baseline while evaluating make(), built outside or inside
// tracing (fused or plain), with the result dropped afterwards.
size_t peak_of(const std::function<array()>& make, bool plain, const Stream& s) {
  synchronize(s);
  size_t base = get_active_memory();
  reset_peak_memory();
  array out;
  if (plain) {
    detail::TracingGuard tracing;
    out = make();
  } else {
    out = make();
  }
  eval(out);
  size_t peak = get_peak_memory() - base;
  out = array();
  synchronize(s);
  EXPECT_EQ(get_active_memory(), base);
  return peak;
}

// Runs `body` with the total memory limit set to `limit` bytes over what is
// active now, restoring the old limit afterwards.
void with_limit(size_t limit, const std::function<void()>& body) {
  clear_cache();  // blocks reused from the cache are not checked against the limit
  size_t prev = set_memory_limit(get_active_memory() + limit);
  try {
    body();
  } catch (...) {
    set_memory_limit(prev);
    throw;
  }
  set_memory_limit(prev);
}

void expect_limit_error(const std::function<void()>& f) {
  try {
    f();
    ADD_FAILURE() << "expected the memory limit error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("memory limit"), std::string::npos) << e.what();
  }
}

}  // namespace

LUMEN_DEVICE_TEST(RandomMemory, FusedUniformAndNormalPeakAtTheOutput) {
  const Shape shape = {4096, 4096};
  const size_t out_bytes = size_t(4096) * 4096 * 2;
  auto key = random::key(21);
  eval(key);
  std::vector<std::function<array()>> requests = {
      [&] { return random::uniform(shape, bfloat16, key, s); },
      [&] { return random::normal(shape, bfloat16, key, s); }};
  for (auto& make : requests) {
    size_t fused = peak_of(make, false, s);
    size_t plain = peak_of(make, true, s);
    EXPECT_LE(fused, out_bytes + kMiB) << "fused peak " << fused;
    EXPECT_GE(fused, out_bytes);
    // the plain chain holds uint32 bits (2x) and then the bfloat16 cast (1x)
    EXPECT_GE(plain, 3 * out_bytes) << "plain peak " << plain;
  }
}

LUMEN_DEVICE_TEST(RandomMemory, PlainChainPassesALimitTheFusedPathMeets) {
  // The same contrast as the large canary at 32 MiB: a limit of 1.5x the
  // output admits the fused normal and stops the plain chain with the clear
  // limit error, after which the library works as before.
  const Shape shape = {4096, 4096};
  const size_t out_bytes = size_t(4096) * 4096 * 2;
  auto key = random::key(22);
  eval(key);
  array fused;
  with_limit(out_bytes + out_bytes / 2, [&] {
    fused = random::normal(shape, bfloat16, key, s);
    eval(fused);
    fused = array();
    expect_limit_error([&] {
      array plain;
      {
        detail::TracingGuard tracing;
        plain = random::normal(shape, bfloat16, key, s);
      }
      eval(plain);
    });
  });
  auto again = random::normal({64}, bfloat16, key, s);
  array plain_again;
  {
    detail::TracingGuard tracing;
    plain_again = random::normal({64}, bfloat16, key, s);
  }
  EXPECT_EQ(bytes_of(again), bytes_of(plain_again));
}

// ---- label `large`: Release builds, big memory ----

LUMEN_DEVICE_SUITE(RandomLarge);

LUMEN_DEVICE_TEST(RandomLarge, Normal46341SquaredBf16UnderSixGB) {
#ifndef NDEBUG
  GTEST_SKIP() << "Release only (about 2^31 elements)";
#endif
  if (on_gpu) GTEST_SKIP() << "over 4 GiB: CPU in CI, the H100 in the device bench";
  const Shape shape = {46341, 46341};
  const size_t out_bytes = size_t(46341) * 46341 * 2;  // 4.29 GB
  const size_t limit = size_t(6) * 1000 * 1000 * 1000;
  auto key = random::key(46341);
  eval(key);
  synchronize(s);
  size_t base = get_active_memory();
  reset_peak_memory();
  clear_cache();
  size_t prev = set_memory_limit(limit);
  try {
    auto out = random::normal(shape, bfloat16, key, s);
    eval(out);
    EXPECT_LE(get_peak_memory() - base, out_bytes + kMiB);
    // a standard normal all through: moments of a strided sample
    const bfloat16_t* p = out.data<bfloat16_t>();
    double sum = 0, sum2 = 0;
    const int64_t n = int64_t(out.size());
    const int64_t step = 9973;  // a prime stride over the whole output
    int64_t count = 0;
    for (int64_t i = 0; i < n; i += step, ++count) {
      double v = static_cast<float>(p[i]);
      sum += v;
      sum2 += v * v;
    }
    double mean = sum / count, var = sum2 / count - mean * mean;
    EXPECT_LT(std::abs(mean), 5.0 / std::sqrt(double(count)));
    EXPECT_LT(std::abs(var - 1.0), 5.0 * std::sqrt(2.0 / count) + 0.01);
    out = array();
    synchronize(s);
    // the plain chain needs ~12.9 GB: the clear limit error, then usable
    expect_limit_error([&] {
      array plain;
      {
        detail::TracingGuard tracing;
        plain = random::normal(shape, bfloat16, key, s);
      }
      eval(plain);
    });
    synchronize(s);  // the failed tape is released on the worker thread
    EXPECT_EQ(get_active_memory(), base);
    auto small = random::normal({3}, bfloat16, key, s);
    EXPECT_EQ(bytes_of(small).size(), 6u);
  } catch (...) {
    set_memory_limit(prev);
    throw;
  }
  set_memory_limit(prev);
}

LUMEN_DEVICE_TEST(RandomLarge, BitsPastTwoToThe31Elements) {
#ifndef NDEBUG
  GTEST_SKIP() << "Release only (2^31 + 5 bytes)";
#endif
  if (on_gpu) GTEST_SKIP() << "over lavapipe's budget; CPU in CI";
  // uint8 keeps an array of more than 2^31 elements at 2.1 GB (dims are
  // 32-bit: two rows of 2^30 + 3)
  const int64_t n = 2 * ((int64_t(1) << 30) + 3);
  auto key = random::key(31);
  auto b = random::bits({2, (1 << 30) + 3}, 1, key, s);
  eval(b);
  ASSERT_EQ(b.size(), static_cast<size_t>(n));
  const uint8_t* p = b.data<uint8_t>();
  for (int64_t i : {int64_t(0), int64_t(3), (n - 1) / 2, (n - 1) / 2 + 1, int64_t(1) << 31, n - 5,
                    n - 2, n - 1}) {
    auto want = ref_stream_bytes(0, 31, uint64_t(n), uint64_t(i), 1)[0];
    EXPECT_EQ(p[i], want) << "byte " << i;
  }
  // the whole stream: a byte histogram close to flat
  std::vector<int64_t> counts(256, 0);
  for (int64_t i = 0; i < n; ++i) counts[p[i]]++;
  double expect = double(n) / 256, sd = std::sqrt(expect);
  for (int v = 0; v < 256; ++v)
    EXPECT_LT(std::abs(counts[v] - expect), 6 * sd) << "byte value " << v;
}
