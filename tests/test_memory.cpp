// Memory statistics, limits and peaks (issue 3 item 5).
#include "test_util.h"

#include <stdexcept>

using namespace lumen;
using namespace lumen::test;

namespace {
// A dense float32 array (exp of a broadcast, so it owns n * 4 bytes).
array dense(int n, const Stream& s) { return exp(zeros({n}, float32, s), s); }
}  // namespace

LUMEN_DEVICE_SUITE(Memory);

LUMEN_DEVICE_TEST(Memory, ExpExpExpPeaksAtTwiceTheInput) {
  const int n = 1 << 22;  // 16 MiB of float32
  const size_t bytes = size_t(n) * 4;
  auto x = dense(n, s);
  eval(x);
  synchronize(s);
  size_t base = get_active_memory();
  reset_peak_memory();
  {
    auto y = exp(exp(exp(x, s), s), s);
    eval(y);
    size_t peak = get_peak_memory() - base;
    // x stays alive (the test holds it); the chain needs one new buffer for
    // the first exp, then donates it down the chain: 2x overall with x.
    EXPECT_LE(peak, bytes + (1 << 20)) << "peak over baseline " << peak;
    EXPECT_GE(peak, bytes);
  }
  // The output died with its scope: back to the baseline.
  EXPECT_EQ(get_active_memory(), base);
}

LUMEN_DEVICE_TEST(Memory, DyingInputIsDonated) {
  const int n = 1 << 22;
  const size_t bytes = size_t(n) * 4;
  size_t base = get_active_memory();
  reset_peak_memory();
  {
    auto y = exp(exp(exp(dense(n, s), s), s), s);
    eval(y);
    EXPECT_LE(get_peak_memory() - base, bytes + (1 << 20));
  }
  EXPECT_EQ(get_active_memory(), base);
}

LUMEN_DEVICE_TEST(Memory, LimitThrowsClearErrorAndLibraryStaysUsable) {
  const int n = 1 << 22;
  size_t prev = set_memory_limit(get_active_memory() + 8 * size_t(n));  // room for two buffers
  try {
    auto a = dense(n, s);
    auto b = dense(n, s);
    auto c = dense(n, s);
    auto sum = add(add(a, b, s), c, s);  // a, b, c alive together: 3 buffers
    try {
      eval(sum);
      ADD_FAILURE() << "expected the memory limit error";
    } catch (const std::runtime_error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("memory limit"), std::string::npos) << msg;
      EXPECT_NE(msg.find(std::to_string(size_t(n) * 4)), std::string::npos) << msg;
      EXPECT_NE(msg.find("active"), std::string::npos) << msg;
    }
  } catch (...) {
    set_memory_limit(prev);
    throw;
  }
  set_memory_limit(prev);
  // The next evaluation works.
  auto ok = add(dense(16, s), array(1.0f), s);
  expect_close(to_doubles(ok), std::vector<double>(16, 2.0));
}

// The limit bounds active bytes whether a request is served from the cache
// or not: two cached buffers do not let two requests pass a 1.5-buffer limit.
LUMEN_DEVICE_TEST(Memory, LimitCountsBuffersServedFromTheCache) {
  const int n = 1 << 22;
  const size_t bytes = size_t(n) * 4;
  synchronize(s);
  const size_t base = get_active_memory();
  {
    auto a = dense(n, s);
    auto b = dense(n, s);
    eval(a, b);
    synchronize(s);
  }
  ASSERT_GE(get_cache_memory(dev), 2 * bytes);
  size_t prev = set_memory_limit(base + bytes * 3 / 2);
  try {
    auto c = dense(n, s);
    auto d = dense(n, s);
    eval(c, d);
    ADD_FAILURE() << "expected the memory limit error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("memory limit"), std::string::npos) << e.what();
  }
  set_memory_limit(prev);
  auto ok = add(dense(16, s), array(1.0f), s);
  expect_close(to_doubles(ok), std::vector<double>(16, 2.0));
}

LUMEN_DEVICE_TEST(Memory, CacheAndLimitsRoundTrip) {
  {
    auto x = dense(1 << 20, s);
    eval(x);
    synchronize(s);
  }
  // A freed buffer sits in the cache until cleared.
  EXPECT_GT(get_cache_memory(dev), 0u);
  clear_cache();
  EXPECT_EQ(get_cache_memory(dev), 0u);
  size_t old = set_cache_limit(0);
  {
    auto x = dense(1 << 20, s);
    eval(x);
    synchronize(s);
  }
  EXPECT_EQ(get_cache_memory(dev), 0u);
  set_cache_limit(old);
  size_t prev = set_memory_limit(dev, 123456789);
  EXPECT_EQ(get_memory_limit(dev), 123456789u);
  set_memory_limit(dev, prev);
  EXPECT_EQ(get_memory_limit(dev), prev);
}

TEST(Memory, PeakCountsAllDevicesTogether) {
  auto s = default_stream(Device::cpu);
  size_t base = get_active_memory();
  reset_peak_memory();
  {
    auto x = dense(1 << 20, s);
    eval(x);
    EXPECT_EQ(get_active_memory(), base + (size_t(1) << 22));
    EXPECT_EQ(get_active_memory(Device::cpu), get_active_memory(Device::cpu));
    EXPECT_GE(get_peak_memory(), base + (size_t(1) << 22));
  }
  EXPECT_EQ(get_active_memory(), base);
}

// A donated buffer is laid out in the output's own shape: a dying [1] input
// of a [1, 1] result (plain elementwise and compiled) must not lend its
// rank-1 strides, or the next op reads the result wrongly.
LUMEN_DEVICE_TEST(Memory, DonatedBufferTakesTheOutputsLayout) {
  auto check = [&](const array& y, double want, const char* what) {
    eval(y);
    ASSERT_EQ(y.shape(), (Shape{1, 1})) << what;
    EXPECT_EQ(y.strides(), (Strides{1, 1})) << what;
    auto z = matmul(y, full({1, 3}, 1.0f, s), s);  // [1, 1] @ [1, 3]
    eval(z);
    ASSERT_EQ(z.shape(), (Shape{1, 3})) << what;
    for (double v : to_doubles(z)) EXPECT_NEAR(v, want, 1e-5 * want) << what;
  };
  // (each result is built in its own statement: the inputs' temporaries
  // must be gone when it is evaluated, or nothing is donated)
  auto plain = add(exp(array({1.0f}), s), array({2.0f}, {1, 1}), s);
  check(plain, std::exp(1.0) + 2.0, "add");
  auto f = [s](const std::vector<array>& in) { return std::vector<array>{add(exp(in[0], s), in[1], s)}; };
  auto fused = compile(f)({exp(array({1.0f}), s), array({2.0f}, {1, 1})})[0];
  check(fused, std::exp(std::exp(1.0)) + 2.0, "compiled");
}
