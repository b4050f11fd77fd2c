// eval, async_eval, streams and devices (issue 3 item 3).
#include "test_util.h"

#include <thread>

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(Scheduler);

LUMEN_DEVICE_TEST(Scheduler, LazyUntilEval) {
  auto x = array({1.0f, 4.0f, 9.0f});
  auto y = sqrt(x, s);
  EXPECT_TRUE(y.has_primitive());
  EXPECT_EQ(y.status(), array::Status::unscheduled);
  eval(y);
  EXPECT_FALSE(y.has_primitive());
  expect_close(to_doubles(y), {1, 2, 3});
}

LUMEN_DEVICE_TEST(Scheduler, AsyncEvalThenWait) {
  auto x = exp(zeros({1 << 16}, float32, s), s);
  auto y = x * 3.0f;
  async_eval(y);
  // Host work can proceed; wait() or data access blocks until done.
  y.wait();
  EXPECT_TRUE(y.is_available());
  auto v = to_doubles(y);
  EXPECT_EQ(v.size(), size_t(1) << 16);
  EXPECT_EQ(v[123], 3.0);
}

LUMEN_DEVICE_TEST(Scheduler, NewStreamAndSynchronize) {
  auto s2 = new_stream(dev);
  EXPECT_NE(s2.index, s.index);
  auto a = add(array({1, 2, 3}), array(1), s2);
  async_eval(a);
  synchronize(s2);
  EXPECT_TRUE(a.is_available());
  EXPECT_EQ(to_vector<int32_t>(a), (std::vector<int32_t>{2, 3, 4}));
}

LUMEN_DEVICE_TEST(Scheduler, SharedSubgraphEvaluatedOnce) {
  auto x = array({1.0f, 2.0f});
  auto e = exp(x, s);
  auto a = e + array(1.0f);
  auto b = e * array(2.0f);
  eval(a, b);
  expect_close(to_doubles(a), {std::exp(1.0) + 1, std::exp(2.0) + 1}, 1e-6);
  expect_close(to_doubles(b), {2 * std::exp(1.0), 2 * std::exp(2.0)}, 1e-6);
}

LUMEN_DEVICE_TEST(Scheduler, ManyThreadsEvaluateIndependentGraphs) {
  std::vector<std::thread> ts;
  std::vector<float> got(4);
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      auto v = array(static_cast<float>(t));
      for (int i = 0; i < 100; ++i) v = v + array(1.0f);
      got[t] = v.item<float>();
    });
  }
  for (auto& t : ts) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(got[t], t + 100.0f);
}

TEST(Scheduler, DefaultDeviceAndStreams) {
  EXPECT_TRUE(is_available(Device::cpu));
  EXPECT_FALSE(is_available(Device(Device::cpu, 1)));
  auto prev = default_device();
  set_default_device(Device::cpu);
  EXPECT_EQ(default_device(), Device(Device::cpu));
  auto x = array(2.0f) * array(3.0f);
  EXPECT_EQ(x.stream().device, Device(Device::cpu));
  EXPECT_EQ(x.item<float>(), 6.0f);
  set_default_device(prev);
  EXPECT_THROW(set_default_device(Device(Device::gpu, 99)), std::invalid_argument);
  EXPECT_THROW(new_stream(Device(Device::cpu, 3)), std::invalid_argument);
}

TEST(Scheduler, CrossDeviceInputsAreCopied) {
  if (device_count(Device::gpu) == 0) GTEST_SKIP() << "no Vulkan device";
  run_or_skip(Device::gpu, [] {
    auto a = exp(array({0.0f, 1.0f}), Device::gpu);
    auto b = add(a, array(1.0f), Device::cpu);  // GPU result read by a CPU op
    expect_close(to_doubles(b), {2.0, std::exp(1.0) + 1}, 1e-6);
  });
}

// GPU work scheduled by earlier async_evals (on two GPU streams) and still
// running when a later evaluation reads it: a CPU op, directly and through a
// view made in that evaluation, waits for it; a GPU op on the other stream
// is ordered after it.
TEST(Scheduler, CpuReadsGpuResultsOfEarlierAsyncEvals) {
  if (device_count(Device::gpu) == 0) GTEST_SKIP() << "no Vulkan device";
  run_or_skip(Device::gpu, [] {
    const Stream g1 = default_stream(Device::gpu), g2 = new_stream(Device::gpu);
    const int n = 1 << 18;
    auto chain = [n](const Stream& s, float start) {
      auto x = full({n}, start, float32, s);
      for (int i = 0; i < 8; ++i) x = add(sqrt(multiply(x, x, s), s), array(1.0f), s);  // |x| + 1
      return x;
    };
    auto a = chain(g1, 1.0f), b = chain(g2, -2.0f);
    async_eval(a);
    async_eval(b);
    auto sum_cpu = add(a, flatten(reshape(b, {2, n / 2}, g1), g1), Device::cpu);
    auto v = to_doubles(sum_cpu);
    ASSERT_EQ(v.size(), static_cast<size_t>(n));
    for (int i : {0, n / 2, n - 1}) EXPECT_EQ(v[i], 9.0 + 10.0) << i;
    auto c = chain(g1, 3.0f), d = chain(g2, 0.0f);
    async_eval(c);
    auto cd = to_doubles(add(d, c, g2));  // c read on g2 while g1 may still run it
    for (int i : {0, n / 2, n - 1}) EXPECT_EQ(cd[i], 8.0 + 11.0) << i;
  });
}
