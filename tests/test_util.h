// Shared test helpers: one test body runs on every available device.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <lumen/lumen.h>

namespace lumen::test {

// CPU always; the GPU when a Vulkan device is usable (lavapipe in CI, where
// tests ask for it with LUMEN_DEVICE=gpu or by naming Device::gpu).
std::vector<Device> test_devices();
std::string device_name(const ::testing::TestParamInfo<Device>& info);

// A fixture whose parameter is the device; `s()` is its default stream.
class DeviceTest : public ::testing::TestWithParam<Device> {
 protected:
  Device dev() const { return GetParam(); }
  Stream s() const { return default_stream(GetParam()); }
  bool on_gpu() const { return GetParam().type == Device::gpu; }
};

// Values of any array as doubles (row-major, through the strides).
std::vector<double> to_doubles(array a);
array contiguous_copy(const array& a);
template <typename T>
std::vector<T> to_vector(array a) {
  a = contiguous_copy(a);
  a.eval();
  const T* p = a.data<T>();
  return std::vector<T>(p, p + a.size());
}

// Expect elementwise closeness |a - b| <= atol + rtol * |b|, NaNs equal.
void expect_close(const std::vector<double>& got, const std::vector<double>& want,
                  double rtol = 1e-6, double atol = 1e-6, const std::string& what = "");

}  // namespace lumen::test

namespace lumen::test {
// Whether the tests may use a GPU (LUMEN_TEST_DEVICES=cpu keeps them to the CPU).
inline bool has_gpu() {
  auto d = test_devices();
  for (const auto& x : d) {
    if (x.type == Device::gpu) return true;
  }
  return false;
}
}  // namespace lumen::test

// In a plain TEST: skip when there is no GPU to test.
#define REQUIRE_GPU() \
  if (!::lumen::test::has_gpu()) GTEST_SKIP() << "no Vulkan device"

namespace lumen::test {
// Runs a test body; on the GPU, a primitive the Vulkan backend has no kernel
// for yet skips the test (reported as skipped, with the message).
void run_or_skip(const Device& d, const std::function<void()>& body);
}  // namespace lumen::test

// A suite whose tests run once per device:
//   LUMEN_DEVICE_SUITE(Elementwise);
//   LUMEN_DEVICE_TEST(Elementwise, Add) { auto x = ones({3}, float32, s); ... }
// Inside a body: `dev` (Device), `s` (its default stream), `on_gpu` (bool).
#define LUMEN_DEVICE_SUITE(Suite)                                                            \
  class Suite : public ::lumen::test::DeviceTest {};                                         \
  INSTANTIATE_TEST_SUITE_P(Devices, Suite, ::testing::ValuesIn(::lumen::test::test_devices()), \
                           ::lumen::test::device_name)

#define LUMEN_DEVICE_TEST(Suite, Name)                                                        \
  static void Suite##_##Name##_body([[maybe_unused]] const ::lumen::Device& dev,              \
                                    [[maybe_unused]] const ::lumen::Stream& s,                \
                                    [[maybe_unused]] bool on_gpu);                            \
  TEST_P(Suite, Name) {                                                                       \
    ::lumen::test::run_or_skip(GetParam(), [&] {                                              \
      Suite##_##Name##_body(GetParam(), ::lumen::default_stream(GetParam()),                  \
                            GetParam().type == ::lumen::Device::gpu);                         \
    });                                                                                       \
  }                                                                                           \
  static void Suite##_##Name##_body([[maybe_unused]] const ::lumen::Device& dev,              \
                                    [[maybe_unused]] const ::lumen::Stream& s,                \
                                    [[maybe_unused]] bool on_gpu)
