#include "test_util.h"

#include <cstdlib>

#include <lumen/backend.h>

namespace lumen::test {

std::vector<Device> test_devices() {
  std::vector<Device> d{Device::cpu};
  // LUMEN_TEST_DEVICES=cpu restricts the run (the sanitizer build uses it).
  const char* only = std::getenv("LUMEN_TEST_DEVICES");
  if (only && std::string(only) == "cpu") return d;
  if (device_count(Device::gpu) > 0) d.push_back(Device::gpu);
  return d;
}

std::string device_name(const ::testing::TestParamInfo<Device>& info) {
  return info.param.type == Device::cpu ? "cpu" : "gpu";
}

void run_or_skip(const Device& d, const std::function<void()>& body) {
  try {
    body();
  } catch (const no_kernel_error& e) {
    if (d.type != Device::gpu) throw;
    GTEST_SKIP() << e.what();
  }
}

array contiguous_copy(const array& a) {
  // A row-major copy on the CPU: copy() always writes a fresh dense output.
  return copy(a, Device::cpu);
}

std::vector<double> to_doubles(array a) {
  auto c = astype(contiguous_copy(a), float64, Device::cpu);
  c.eval();
  const double* p = c.data<double>();
  return std::vector<double>(p, p + c.size());
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                  double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    bool ok = (std::isnan(got[i]) && std::isnan(want[i])) || got[i] == want[i] ||
              std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i]);
    if (!ok && reported++ < 8) {
      ADD_FAILURE() << what << " at " << i << ": got " << got[i] << ", want " << want[i];
    }
  }
}

}  // namespace lumen::test
