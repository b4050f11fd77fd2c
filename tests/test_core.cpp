// array basics, the scheduler and memory statistics.
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(Core);

LUMEN_DEVICE_TEST(Core, AddBroadcast) {
  array a({1.0f, 2.0f, 3.0f}, {3, 1});
  array b({10.0f, 20.0f}, {1, 2});
  auto c = add(a, b, s);
  EXPECT_EQ(c.shape(), (Shape{3, 2}));
  expect_close(to_doubles(c), {11, 21, 12, 22, 13, 23});
}

LUMEN_DEVICE_TEST(Core, ChainOfAMillionAdds) {
  if (on_gpu) GTEST_SKIP() << "the million-node chain runs on the CPU (DESIGN: CI budget)";
  auto x = array(0.0f);
  auto one = array(1.0f);
  for (int i = 0; i < 1000000; ++i) x = add(x, one, s);
  EXPECT_EQ(x.item<float>(), 1000000.0f);
}
