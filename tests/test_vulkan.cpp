// The Vulkan backend's infrastructure: tensors past maxStorageBufferRange,
// thousands of dispatches in bounded memory, barriers only between dependent
// dispatches, the validation layer, device selection and the environment
// switches (no loader, no device, LUMEN_DEVICE, staging instead of mapping,
// no float64). Environment cases run this binary again as a child process.
#include "test_util.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <lumen/backend.h>

#if LUMEN_HAS_VULKAN

#include "../backends/vulkan/debug.h"

using namespace lumen;
using namespace lumen::test;

namespace {

// Any validation message fails the test process (ctest runs every test in
// its own process with LUMEN_VULKAN_VALIDATION=1).
class ValidationCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!vulkan::validation_enabled()) return;
    EXPECT_EQ(vulkan::validation_message_count(), 0u)
        << "last validation message: " << vulkan::last_validation_message();
  }
};
[[maybe_unused]] const auto* const validation_check =
    ::testing::AddGlobalTestEnvironment(new ValidationCheck);

struct ChildResult {
  int status = -1;
  std::string output;
};

// Runs this test binary again with `env` (a list of NAME=VALUE or -u NAME for
// env(1)) and a gtest filter; returns its exit status and output.
ChildResult run_child(const std::string& env, const std::string& filter) {
  static const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string cmd = "env " + env + " '" + self + "' --gtest_filter='" + filter + "' 2>&1";
  ChildResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The child passed and ran (did not skip) its tests.
void expect_child_passed(const ChildResult& r, const std::string& what) {
  EXPECT_EQ(r.status, 0) << what << "\n" << r.output;
  EXPECT_NE(r.output.find("[  PASSED  ]"), std::string::npos) << what << "\n" << r.output;
  EXPECT_EQ(r.output.find("[  SKIPPED ]"), std::string::npos) << what << "\n" << r.output;
  EXPECT_EQ(r.output.find("0 tests from"), std::string::npos) << what << "\n" << r.output;
}

// A view with explicit strides over an evaluated array's buffer.
array view_of(const array& base, Shape shape, Strides strides, int64_t offset) {
  array v(std::move(shape), base.dtype(), nullptr, {});
  v.copy_shared_buffer(base, strides, array::Flags{false, false, false}, base.data_size(),
                       offset * static_cast<int64_t>(base.itemsize()));
  return v;
}

}  // namespace

// What child processes check, from LUMEN_TEST_EXPECT: "no_gpu", "gpu_default"
// or "cpu_default". Skipped (by design) when run directly.
TEST(VulkanEnvironmentChild, Expectation) {
  const char* expect = std::getenv("LUMEN_TEST_EXPECT");
  if (!expect) GTEST_SKIP() << "runs as a child of VulkanEnvironment tests";
  std::string e = expect;
  if (e == "no_gpu") {
    EXPECT_EQ(device_count(Device::gpu), 0);
    EXPECT_FALSE(is_available(Device::gpu));
    EXPECT_EQ(default_device(), Device(Device::cpu));
    EXPECT_THROW(default_stream(Device::gpu), std::invalid_argument);
    // The CPU works.
    EXPECT_EQ((array(2.0f) * array(3.0f)).item<float>(), 6.0f);
  } else if (e == "gpu_default") {
    EXPECT_EQ(default_device(), Device(Device::gpu));
    EXPECT_EQ((array(2.0f) * array(3.0f)).item<float>(), 6.0f);
  } else if (e == "cpu_default") {
    EXPECT_EQ(default_device(), Device(Device::cpu));
  } else {
    FAIL() << "unknown LUMEN_TEST_EXPECT=" << e;
  }
}

TEST(VulkanEnvironment, NoLoaderMeansTheCpu) {
  auto r = run_child("LUMEN_TEST_EXPECT=no_gpu LUMEN_LOG_LEVEL=info LUMEN_VULKAN_LOADER=/nonexistent/libvulkan.so.1",
                     "VulkanEnvironmentChild.Expectation");
  expect_child_passed(r, "without a Vulkan loader");
  // One info line says why.
  EXPECT_NE(r.output.find("Vulkan backend unavailable"), std::string::npos) << r.output;
}

TEST(VulkanEnvironment, NoDeviceMeansTheCpu) {
  auto r = run_child(
      "LUMEN_TEST_EXPECT=no_gpu VK_ICD_FILENAMES=/nonexistent.json VK_DRIVER_FILES=/nonexistent.json",
      "VulkanEnvironmentChild.Expectation");
  expect_child_passed(r, "without a Vulkan driver");
}

TEST(VulkanEnvironment, LumenDeviceChoosesTheDefault) {
  REQUIRE_GPU();
  expect_child_passed(run_child("LUMEN_TEST_EXPECT=gpu_default LUMEN_DEVICE=gpu", "VulkanEnvironmentChild.Expectation"),
                      "LUMEN_DEVICE=gpu");
  expect_child_passed(run_child("LUMEN_TEST_EXPECT=cpu_default LUMEN_DEVICE=cpu", "VulkanEnvironmentChild.Expectation"),
                      "LUMEN_DEVICE=cpu");
  // Unset: the GPU only when it is not a CPU implementation (lavapipe).
  std::string expect = backend::preferred_gpu_available() ? "gpu_default" : "cpu_default";
  expect_child_passed(run_child("-u LUMEN_DEVICE LUMEN_TEST_EXPECT=" + expect, "VulkanEnvironmentChild.Expectation"),
                      "LUMEN_DEVICE unset");
}

TEST(VulkanEnvironment, CapabilitiesAreLoggedAtDebugLevel) {
  REQUIRE_GPU();
  auto r = run_child("LUMEN_TEST_EXPECT=cpu_default LUMEN_DEVICE=cpu LUMEN_LOG_LEVEL=debug",
                     "VulkanEnvironmentChild.Expectation");
  expect_child_passed(r, "debug log");
  for (const char* what : {"subgroup size", "shaderFloat64", "shaderInt64", "16-bit storage", "bfloat16 extension",
                           "VK_NV_cooperative_matrix", "memory budget", "maxStorageBufferRange", "heap 0"}) {
    EXPECT_NE(r.output.find(what), std::string::npos) << "no '" << what << "' in\n" << r.output;
  }
}

TEST(VulkanEnvironment, StagingPathWhenMemoryIsNotMapped) {
  REQUIRE_GPU();
  // LUMEN_VULKAN_HOST_MAP=0: tensors in memory the host does not map; host
  // reads and writes go through staging copies.
  expect_child_passed(run_child("LUMEN_VULKAN_HOST_MAP=0",
                                "VulkanElementwise.UnaryEveryLayout:VulkanBackend.TensorLarger*:"
                                "Devices/Memory.*gpu:Scheduler.CrossDeviceInputsAreCopied"),
                      "staging");
}

TEST(VulkanEnvironment, DevicesWithoutFloat64) {
  REQUIRE_GPU();
  // The f32 shader variants and the graph-build error for float64.
  expect_child_passed(run_child("LUMEN_VULKAN_NO_FLOAT64=1",
                                "VulkanElementwise.Float64Refused*:VulkanElementwise.UnaryEveryLayout"),
                      "no float64");
}

TEST(VulkanEnvironment, ValidationLayerReportsNothing) {
  REQUIRE_GPU();
  const char* asked = std::getenv("LUMEN_VULKAN_VALIDATION");
  if (!vulkan::validation_enabled() && asked && std::string(asked) == "1") {
    GTEST_SKIP() << "the Khronos validation layer is not installed";
  }
  if (vulkan::validation_enabled()) {
    // This process runs validated: do GPU work and check the count.
    auto s = default_stream(Device::gpu);
    auto x = astype(exp(zeros({1000}, float32, s), s), float16, s);
    eval(x);
    auto y = copy(view_of(x, {20, 50}, {1, 20}, 0), s);
    eval(y);
    synchronize(s);
    EXPECT_EQ(vulkan::validation_message_count(), 0u) << vulkan::last_validation_message();
    return;
  }
  auto r = run_child("LUMEN_VULKAN_VALIDATION=1", "VulkanEnvironment.ValidationLayerReportsNothing:Devices/Core.AddBroadcast/gpu");
  if (r.output.find("validation layer is not installed") != std::string::npos) {
    GTEST_SKIP() << "the Khronos validation layer is not installed";
  }
  expect_child_passed(r, "validated run");
}

TEST(VulkanBackend, DeviceIndices) {
  REQUIRE_GPU();
  int n = device_count(Device::gpu);
  EXPECT_TRUE(is_available(Device(Device::gpu, n - 1)));
  EXPECT_FALSE(is_available(Device(Device::gpu, n)));
  EXPECT_THROW(new_stream(Device(Device::gpu, n)), std::invalid_argument);
  EXPECT_THROW(set_default_device(Device(Device::gpu, n)), std::invalid_argument);
}

TEST(VulkanBackend, TensorLargerThanMaxStorageBufferRange) {
  REQUIRE_GPU();
  // 17408 x 1024 int64 = 136 MiB, past lavapipe's 128 MiB storage range:
  // shaders address it through 64-bit device addresses.
  auto s = default_stream(Device::gpu);
  const int rows = 17408, cols = 1024;
  std::vector<int64_t> r(rows), c(cols);
  for (int i = 0; i < rows; ++i) r[i] = i;
  for (int j = 0; j < cols; ++j) c[j] = int64_t(j) << 32;
  auto col = array(r.data(), {rows, 1}, int64);
  auto row = array(c.data(), {1, cols}, int64);
  auto x = add(col, row, s);  // dense [rows, cols], from two broadcast inputs
  eval(x);
  auto y = multiply(x, array(3, int64), s);
  // A transposed read across the whole buffer (the general strided copy).
  auto xt = copy(view_of(x, {cols, rows}, {1, cols}, 0), s);
  eval(y, xt);
  ASSERT_GT(x.nbytes(), size_t(128) << 20);
  const int64_t* px = x.data<int64_t>();
  const int64_t* py = y.data<int64_t>();
  const int64_t* pt = xt.data<int64_t>();
  size_t bad = 0;
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) {
      int64_t want = i + (int64_t(j) << 32);
      size_t k = static_cast<size_t>(i) * cols + j;
      bad += px[k] != want;
      bad += py[k] != 3 * want;
      bad += pt[static_cast<size_t>(j) * rows + i] != want;
    }
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(py[size_t(rows) * cols - 1], 3 * ((rows - 1) + (int64_t(cols - 1) << 32)));
}

TEST(VulkanBackend, ThousandsOfDispatchesInBoundedMemory) {
  REQUIRE_GPU();
  auto s = new_stream(Device::gpu);
  const int n = 1 << 14;
  const size_t bytes = size_t(n) * 4;
  auto x = exp(zeros({n}, float32, s), s);  // ones
  eval(x);
  synchronize(s);
  clear_cache(Device::gpu);
  size_t base = get_active_memory(Device::gpu);
  reset_peak_memory();
  auto before = vulkan::stream_stats(s);
  const int steps = 2500;
  auto y = x;
  for (int i = 0; i < steps; ++i) y = add(multiply(y, array(0.5f), s), array(1.0f), s);
  x = array();
  eval(y);
  auto after = vulkan::stream_stats(s);
  uint64_t dispatches = after.dispatches - before.dispatches;
  EXPECT_GE(dispatches, uint64_t(2 * steps));
  // Batched: many dispatches per submission.
  EXPECT_LE(after.submissions - before.submissions, dispatches / 256 + 2);
  // Each step's output takes the dying input's buffer: a couple of buffers
  // (and the scalars) at any time, whatever the graph's length.
  EXPECT_LE(get_peak_memory(Device::gpu) - base, 2 * bytes + (1 << 20));
  EXPECT_LE(get_cache_memory(Device::gpu), 8 * bytes + (8 << 20));
  // y = y / 2 + 1 converges to 2.
  auto v = to_vector<float>(y);
  EXPECT_EQ(v.front(), 2.0f);
  EXPECT_EQ(v.back(), 2.0f);
}

// Evaluations that end while the GPU is busy share one submission (each
// costs the GPU ~12 us on NVIDIA); their work still starts without anyone
// waiting for it (the idle submitter), and waits and reads see all of it.
TEST(VulkanBackend, EvaluationsWhileTheGpuIsBusyShareASubmission) {
  REQUIRE_GPU();
  auto s = new_stream(Device::gpu);
  const int n = 1 << 26;  // 256 MB a pass: longer on any GPU than a few small evaluations take to record
  auto big = full({n}, 1.0f, float32, s);
  eval(big);
  auto small = full({64}, 2.0f, float32, s);
  eval(small);
  synchronize(s);
  auto before = vulkan::stream_stats(s);
  auto busy = sum(exp(multiply(exp(big, s), big, s), s), s);
  async_eval(busy);
  const int evaluations = 4;
  std::vector<array> outs;
  for (int i = 0; i < evaluations; ++i) {
    outs.push_back(add(small, array(static_cast<float>(i)), s));
    async_eval(outs.back());
  }
  auto after = vulkan::stream_stats(s);
  // The busy evaluation's batch, then at most one for the small ones.
  EXPECT_LE(after.submissions - before.submissions, 2u);
  // Nobody waits: the deferred batch still runs once the GPU is idle.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!outs.back().is_available() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(outs.back().is_available());
  EXPECT_GE(vulkan::stream_stats(s).submissions - before.submissions, 2u);
  for (int i = 0; i < evaluations; ++i) EXPECT_EQ(to_vector<float>(outs[i]), std::vector<float>(64, 2.0f + i));
  // e^(e * 1) summed in float32 over 2^26 elements.
  EXPECT_NEAR(busy.item<float>(), std::exp(std::exp(1.0)) * n, 1e-3 * std::exp(std::exp(1.0)) * n);
}

TEST(VulkanBackend, BarriersOnlyBetweenDependentDispatches) {
  REQUIRE_GPU();
  auto s = new_stream(Device::gpu);
  const int count = 64;
  std::vector<array> inputs;
  for (int i = 0; i < count; ++i) inputs.push_back(exp(full({256}, static_cast<float>(i), float32, s), s));
  eval(inputs);
  synchronize(s);

  // Independent: 64 dispatches, barriers only when the tracker fills up.
  auto before = vulkan::stream_stats(s);
  std::vector<array> outs;
  for (auto& in : inputs) outs.push_back(negative(in, s));
  eval(outs);
  auto mid = vulkan::stream_stats(s);
  uint64_t independent = mid.barriers - before.barriers;
  EXPECT_EQ(mid.dispatches - before.dispatches, uint64_t(count));
  EXPECT_LE(independent, uint64_t(count / 8));

  // A chain: each dispatch reads the previous one's output.
  auto y = inputs[0];
  for (int i = 0; i < count; ++i) y = negative(y, s);
  eval(y);
  auto end = vulkan::stream_stats(s);
  EXPECT_GE(end.barriers - mid.barriers, uint64_t(count - 1));
  expect_close(to_doubles(y), to_doubles(inputs[0]));
  for (int i = 0; i < count; i += 9) {
    // exp is MLX's float32 polynomial on both devices (random's known answers
    // need its bits); its log2(e) is rounded to 1.442695, an error that grows
    // with x: about 3e-6 relative at x = 63.
    expect_close(to_doubles(outs[i]), std::vector<double>(256, -std::exp(double(i))), 5e-6, 0);
  }
}

TEST(VulkanBackend, CpuViewsAreImportedWithTheirLayout) {
  REQUIRE_GPU();
  // A transposed CPU view read by a GPU op (imported as is), and the GPU
  // result read back by a CPU op.
  std::vector<int32_t> data(12);
  for (int i = 0; i < 12; ++i) data[i] = i;
  auto base = array(data.data(), {3, 4}, int32);
  auto t = view_of(base, {4, 3}, {1, 4}, 0);
  auto g = add(t, array(100), Device::gpu);
  auto c = multiply(g, array(2), Device::cpu);
  std::vector<int32_t> want;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) want.push_back(2 * (data[j * 4 + i] + 100));
  }
  EXPECT_EQ(to_vector<int32_t>(c), want);
}

#endif  // LUMEN_HAS_VULKAN
