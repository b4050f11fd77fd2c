// The Vulkan random kernels against the CPU backend and against the GPU's
// own plain chains: RandomBits exact (widths 1, 2, 4, several keys, keys read
// through strides, windows of streams past 2^32 bytes), the fused
// RandomUniform exact and RandomNormal within 1 ulp of the CPU (MLX's rule
// for transcendental families), fused == plain bit for bit on the GPU at the
// sizes that switch the shader between its vector and scalar stores, and the
// fused peaks measured on the GPU alone.
#include <algorithm>

#include "random_test_helpers.h"

#if LUMEN_HAS_VULKAN

using namespace lumen;
using namespace lumen::test;

namespace {

const Stream& gpu() {
  static const Stream s = default_stream(Device::gpu);
  return s;
}
const Stream& cpu() {
  static const Stream s = default_stream(Device::cpu);
  return s;
}

array bits_node(const array& keys, const Shape& shape, int width, const Stream& s,
                std::optional<RandomBits::Window> window = std::nullopt) {
  Dtype dt = width == 4 ? uint32 : (width == 2 ? uint16 : uint8);
  return array(shape, dt, std::make_shared<RandomBits>(s, shape, width, window), {keys});
}

// Sizes around the fused shader's runs of 8 counter pairs: the second half
// of the stream starts 16-byte aligned or not, runs end mid-vector, odd
// streams have a middle word, several workgroups.
const std::vector<int>& fused_sizes() {
  static const std::vector<int> v = {1, 2, 3, 15, 16, 17, 18, 24, 31, 32, 40, 4095, 4096, 4097, 4098, 4104, 70001};
  return v;
}

const std::vector<Dtype>& float_dtypes() {
  static const std::vector<Dtype> v = {float32, float16, bfloat16};
  return v;
}

std::string what(const char* op, Dtype dt, int n) { return std::string(op) + " " + dtype_to_string(dt) + " n " + std::to_string(n); }

}  // namespace

TEST(VulkanRandom, BitsMatchTheCpu) {
  REQUIRE_GPU();
  for (int width : {1, 2, 4}) {
    for (int n : {1, 2, 3, 4, 5, 7, 9, 16, 17, 33, 1000, 4097, 65537}) {
      auto key = random::key(5000u + n);
      auto g = bytes_of(random::bits({n}, width, key, gpu()));
      auto c = bytes_of(random::bits({n}, width, key, cpu()));
      ASSERT_EQ(g, c) << "width " << width << " n " << n;
    }
  }
}

TEST(VulkanRandom, SeveralKeysAndStridedKeys) {
  REQUIRE_GPU();
  // distinct keys (4, 2); one key broadcast to (3, 2) on the GPU (stride 0
  // between keys); a key whose two words are one broadcast value (step 0)
  std::vector<uint32_t> kv = {1, 2, 3, 4, 5, 6, 7, 8};
  auto distinct = array(kv.begin(), {4, 2}, uint32);
  auto one = array({9u, 8u});
  auto repeated = broadcast_to(one, {3, 2}, gpu());
  auto same_words = broadcast_to(array({5u}), {2}, gpu());
  for (int width : {1, 2, 4}) {
    for (int per_key : {1, 3, 7, 64}) {
      auto w = "width " + std::to_string(width) + " per key " + std::to_string(per_key);
      EXPECT_EQ(bytes_of(bits_node(distinct, {4, per_key}, width, gpu())),
                bytes_of(bits_node(distinct, {4, per_key}, width, cpu())))
          << w;
      auto rep = bytes_of(bits_node(repeated, {3, per_key}, width, gpu()));
      auto single = bytes_of(random::bits({per_key}, width, one, cpu()));
      for (int i = 0; i < 3; ++i) {
        std::vector<uint8_t> block(rep.begin() + i * single.size(), rep.begin() + (i + 1) * single.size());
        EXPECT_EQ(block, single) << w << " key " << i;
      }
      EXPECT_EQ(bytes_of(random::bits({per_key}, width, same_words, gpu())),
                bytes_of(random::bits({per_key}, width, array({5u, 5u}), cpu())))
          << w;
    }
  }
}

TEST(VulkanRandom, WindowsMatchTheCpu) {
  REQUIRE_GPU();
  // windows starting mid-word, in the second half of the stream, across
  // the middle word of odd streams, and past 2^31 elements and 2^32 bytes
  const int64_t big = (int64_t(1) << 32) + 3;
  struct Case {
    int64_t stream, offset;
    int len;
  };
  std::vector<Case> cases = {{9, 0, 9},   {9, 1, 5},    {9, 4, 5},    {101, 50, 1}, {101, 13, 77},
                             {64, 31, 33}, {1001, 0, 1000}, {big, (int64_t(1) << 31) + 7, 11},
                             {big, big - 11, 11},            {big, (int64_t(1) << 32) - 5, 300}};
  for (int width : {1, 2, 4}) {
    for (auto& c : cases) {
      auto key = random::key(uint64_t(c.stream * 7 + c.offset));
      RandomBits::Window win{c.stream, c.offset};
      EXPECT_EQ(bytes_of(bits_node(key, {c.len}, width, gpu(), win)),
                bytes_of(bits_node(key, {c.len}, width, cpu(), win)))
          << "width " << width << " stream " << c.stream << " offset " << c.offset << " len " << c.len;
    }
  }
}

TEST(VulkanRandom, FusedUniformMatchesTheCpuExactly) {
  REQUIRE_GPU();
  int key_no = 0;
  for (Dtype dt : float_dtypes()) {
    for (int n : fused_sizes()) {
      auto key = random::key(key_no++);
      auto g = random::uniform(array(-1.5f), array(4.0f), {n}, dt, key, gpu());
      ASSERT_EQ(primitive_counts({g})["RandomUniform"], 1);
      EXPECT_EQ(bytes_of(g), bytes_of(random::uniform(array(-1.5f), array(4.0f), {n}, dt, key, cpu())))
          << what("uniform", dt, n);
    }
  }
}

TEST(VulkanRandom, FusedNormalWithinOneUlpOfTheCpu) {
  REQUIRE_GPU();
  int key_no = 100;
  for (Dtype dt : float_dtypes()) {
    for (int n : fused_sizes()) {
      auto key = random::key(key_no++);
      auto g = random::normal({n}, dt, 0.25f, 3.0f, key, gpu());
      ASSERT_EQ(primitive_counts({g})["RandomNormal"], 1);
      auto c = random::normal({n}, dt, 0.25f, 3.0f, key, cpu());
      EXPECT_LE(max_ulp_distance(bytes_of(g), bytes_of(c), static_cast<int>(dt.size())), 1)
          << what("normal", dt, n);
    }
  }
}

TEST(VulkanRandom, FusedEqualsPlainOnTheGpu) {
  REQUIRE_GPU();
  int key_no = 200;
  for (Dtype dt : float_dtypes()) {
    for (int n : fused_sizes()) {
      auto key = random::key(key_no++);
      std::vector<std::function<array()>> makes = {
          [&] { return random::uniform(array(0.5f), array(-3.0f), {n}, dt, key, gpu()); },
          [&] { return random::normal({n}, dt, key, gpu()); },
          [&] { return random::normal({n}, dt, array(-2.0f), array(0.125f), key, gpu()); }};
      for (auto& make : makes) {
        array fused = make();
        array plain;
        {
          detail::TracingGuard tracing;
          plain = make();
        }
        EXPECT_EQ(primitive_counts({plain}).count("RandomUniform") + primitive_counts({plain}).count("RandomNormal"),
                  0u);
        EXPECT_EQ(bytes_of(fused), bytes_of(plain)) << what("fused vs plain", dt, n);
      }
    }
  }
}

TEST(VulkanRandom, FusedPeaksAtTheOutputOnTheGpu) {
  REQUIRE_GPU();
  // measured with the GPU's own counters: the output and nothing else
  // (keys and parameters are a few bytes); the plain chain holds the uint32
  // bits and the cast besides
  const Shape shape = {2048, 1536};
  const size_t out_bytes = size_t(2048) * 1536 * 2;
  auto key = random::key(31);
  auto peak_of = [&](const std::function<array()>& make, bool plain) {
    synchronize(gpu());
    size_t base = get_active_memory(Device::gpu);
    reset_peak_memory(Device::gpu);
    array out;
    if (plain) {
      detail::TracingGuard tracing;
      out = make();
    } else {
      out = make();
    }
    eval(out);
    size_t peak = get_peak_memory(Device::gpu) - base;
    out = array();
    synchronize(gpu());
    return peak;
  };
  std::vector<std::function<array()>> makes = {[&] { return random::uniform(shape, bfloat16, key, gpu()); },
                                                [&] { return random::normal(shape, float16, key, gpu()); }};
  for (auto& make : makes) {
    size_t fused = peak_of(make, false);
    EXPECT_GE(fused, out_bytes);
    EXPECT_LE(fused, out_bytes + (size_t(1) << 20)) << "fused peak " << fused;
    EXPECT_GE(peak_of(make, true), 3 * out_bytes);
  }
}

#endif  // LUMEN_HAS_VULKAN
