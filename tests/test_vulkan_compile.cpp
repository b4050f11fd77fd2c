// compile's fused kernels on the GPU (backends/vulkan/kernels/compiled.cpp,
// codegen/): the input modes (contiguous with vector accesses, scalar,
// broadcast, strided, misaligned), several outputs, several transcendental
// ops in one kernel, and RandomBits steps drawing MLX's threefry words per
// element. Fused results must equal the unfused GPU kernels' bit for bit.
#include "test_util.h"

#include <algorithm>
#include <cstring>

#include <lumen/compile.h>
#include <lumen/elementwise_primitives.h>
#include <lumen/random_primitives.h>
#include <lumen/transforms_primitives.h>

#include "../backends/vulkan/debug.h"
#include "random_test_helpers.h"
#include "test_transforms_util.h"

#if LUMEN_HAS_VULKAN

using namespace lumen;
using namespace lumen::test;

namespace {

using Fn = std::function<std::vector<array>(const std::vector<array>&)>;

int compiled_nodes(const std::vector<array>& outs, int* others = nullptr) {
  int fused = 0, rest = 0;
  for (auto& [name, n] : primitive_counts(outs)) (name.rfind("Compiled", 0) == 0 ? fused : rest) += n;
  if (others) *others = rest;
  return fused;
}

array values(Dtype d, Shape shape, uint64_t seed, double lo = -3, double hi = 3) {
  auto v = uniform_values(shape_size(shape), lo, hi, seed);
  if (!issubdtype(d, floating)) {
    for (auto& x : v) x = std::floor(x);
  }
  return array(v.begin(), shape, d);
}

void expect_same_bits(array got, array want, const std::string& what) {
  got = contiguous_copy(got);
  want = contiguous_copy(want);
  eval(got, want);
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  EXPECT_EQ(std::memcmp(got.data<char>(), want.data<char>(), got.nbytes()), 0) << what;
}

// Compiled once on the GPU: one fused node, and the unfused GPU result bit
// for bit on every output.
void expect_fused_equals_unfused(const Fn& f, const std::vector<array>& inputs, const std::string& what) {
  auto fused = compile(f)(inputs);
  auto plain = f(inputs);
  int others = 0;
  EXPECT_EQ(compiled_nodes(fused, &others), 1) << what;
  EXPECT_EQ(others, 0) << what;
  ASSERT_EQ(fused.size(), plain.size());
  for (size_t i = 0; i < fused.size(); ++i) expect_same_bits(fused[i], plain[i], what + " output " + std::to_string(i));
}

}  // namespace

// x * w + b through gelu, with a broadcast row, a scalar and a broadcast
// column (read strided); row lengths that are and are not multiples of the
// four elements a thread moves. (Transposed and sliced views need GPU view
// kernels that main does not have yet; the strided path is the same.)
TEST(VulkanCompile, InputModesAndSeveralOutputs) {
  REQUIRE_GPU();
  auto s = default_stream(Device::gpu);
  for (Dtype d : {float32, bfloat16, float16}) {
    for (int cols : {32, 33}) {
      Fn f = [&](const std::vector<array>& in) {
        auto z = add(multiply(in[0], in[1], s), in[2], s);  // (64, cols) * (1, cols) + scalar
        auto half = array(0.5f, d);
        auto g = multiply(multiply(z, half, s), add(array(1.0f, d), erf(multiply(z, array(0.70710678f, d), s), s), s), s);
        auto t = subtract(g, multiply(in[3], in[4], s), s);  // column, broadcast view
        return std::vector<array>{t, z};
      };
      auto x = values(d, {64, cols}, 1);
      auto w = values(d, {1, cols}, 2);
      auto b = values(d, {}, 3);
      auto column = values(d, {64, 1}, 4);
      auto view = broadcast_to(values(d, {1, cols}, 5), {64, cols}, s);  // strides (0, 1)
      eval(view);  // an input with data, not a Broadcast node of the graph
      expect_fused_equals_unfused(f, {x, w, b, column, view}, dtype_to_string(d) + " cols " + std::to_string(cols));
      // All contiguous and aligned: the vector path.
      expect_fused_equals_unfused(f, {x, x, x, x, x}, "contiguous " + dtype_to_string(d));
    }
  }
}

// One kernel holding several transcendental ops of several classes (each
// is a module of its own unfused).
TEST(VulkanCompile, SeveralTranscendentalOpsInOneKernel) {
  REQUIRE_GPU();
  auto s = default_stream(Device::gpu);
  for (Dtype d : {float32, bfloat16}) {
    Fn f = [&](const std::vector<array>& in) {
      auto a = add(exp(in[0], s), sin(in[1], s), s);
      auto b = logaddexp(tanh(a, s), power(abs(in[1], s), in[0], s), s);
      auto c = astype(exp(astype(in[0], complex64, s), s), float32, s);  // complex exp, real part
      return std::vector<array>{add(b, astype(c, d, s), s)};
    };
    expect_fused_equals_unfused(f, {values(d, {7, 19}, 7, -2, 2), values(d, {7, 19}, 8, -2, 2)},
                                "math " + dtype_to_string(d));
  }
  // Integers, bool and casts in between.
  Fn g = [&](const std::vector<array>& in) {
    auto m = multiply(in[0], in[1], s);
    auto mask = logical_not(greater(m, array(3, int16), s), s);
    auto r = where(mask, left_shift(m, array(1, int16), s), negative(m, s), s);
    return std::vector<array>{astype(r, float16, s)};
  };
  expect_fused_equals_unfused(g, {values(int16, {9, 13}, 9, -20, 20), values(int16, {1, 13}, 10, -5, 5)},
                              "integers");
}

// Many elements: several workgroups per thread and a tail.
TEST(VulkanCompile, ManyElements) {
  REQUIRE_GPU();
  auto s = default_stream(Device::gpu);
  Fn f = [&](const std::vector<array>& in) {
    return std::vector<array>{multiply(sigmoid(in[0], s), add(in[0], array(1.0f, bfloat16), s), s)};
  };
  expect_fused_equals_unfused(f, {values(bfloat16, {(1 << 20) + 3}, 11)}, "2^20 + 3");
}

// What a call of compiled gelu costs on the GPU: one dispatch, and its fused
// kernel is generated on the first call only (later calls only evaluate).
// The constants live on the GPU, so no copy of them enters the count.
TEST(VulkanCompile, CompiledGeluIsOneDispatchAndItsKernelIsMadeOnce) {
  REQUIRE_GPU();
  auto s = default_stream(Device::gpu);
  for (Dtype d : {float32, bfloat16}) {
    auto on_gpu = [&](float v) {
      array a = copy(array(v, d), s);
      a.eval();
      return a;
    };
    array half = on_gpu(0.5f), one = on_gpu(1.0f), inv_sqrt2 = on_gpu(0.70710678f);
    Fn f = [&](const std::vector<array>& in) {
      const array& x = in[0];
      return std::vector<array>{multiply(multiply(x, half, s), add(one, erf(multiply(x, inv_sqrt2, s), s), s), s)};
    };
    auto cf = compile(f);
    array x = copy(values(d, {64, 40}, 13), s);
    x.eval();
    const size_t generated = vulkan::fused_kernels_generated();
    auto first = cf({x});
    eval(first);
    EXPECT_EQ(vulkan::fused_kernels_generated(), generated + 1) << dtype_to_string(d);
    for (int call = 0; call < 3; ++call) {
      auto out = cf({x});
      EXPECT_EQ(compiled_nodes(out), 1);
      const uint64_t dispatches = vulkan::stream_stats(s).dispatches;
      eval(out);
      EXPECT_EQ(vulkan::stream_stats(s).dispatches - dispatches, 1u) << dtype_to_string(d);
      expect_same_bits(out[0], f({x})[0], "gelu " + dtype_to_string(d));
    }
    EXPECT_EQ(vulkan::fused_kernels_generated(), generated + 1) << dtype_to_string(d);
  }
}

TEST(VulkanCompile, DisabledCompileRunsUnfusedOnTheGpu) {
  REQUIRE_GPU();
  auto s = default_stream(Device::gpu);
  Fn f = [&](const std::vector<array>& in) { return std::vector<array>{exp(exp(in[0], s), s)}; };
  auto cf = compile(f);
  disable_compile();
  auto out = cf({values(float32, {5}, 12)});
  enable_compile();
  EXPECT_EQ(compiled_nodes(out), 0);
  EXPECT_EQ(primitive_counts(out)["Exp"], 2);
  EXPECT_EQ(compiled_nodes(cf({values(float32, {5}, 12)})), 1);
}

namespace {

// A Compiled node on the GPU made by hand: bits = RandomBits(keys), and
// ~bits (a computing step, so the bits are consumed in registers); outputs
// both. (Built directly so that it runs whether or not the GPU has an
// unfused RandomBits kernel.)
std::vector<array> fused_bits(const array& keys, const Shape& shape,
                              std::optional<RandomBits::Window> window = std::nullopt) {
  auto s = default_stream(Device::gpu);
  std::vector<Compiled::Step> steps;
  steps.push_back({std::make_shared<RandomBits>(s, shape, 4, window), {0}, uint32});
  steps.push_back({std::make_shared<Unary>(s, UnaryOp::BitwiseInvert), {1}, uint32});
  auto prim = std::make_shared<Compiled>(s, std::vector<Dtype>{uint32}, std::move(steps), std::vector<int>{2, 1});
  return array::make_arrays({shape, shape}, {uint32, uint32}, prim, {keys});
}

// The words the independent reference (random_test_helpers.h) gives key
// k's stream of `words` words from word `first` on.
void expect_mlx_words(const std::vector<array>& outs, const std::vector<std::pair<uint32_t, uint32_t>>& keys,
                      uint64_t words, uint64_t first, const std::string& what) {
  auto inverted = to_vector<uint32_t>(outs[0]);
  auto bits = to_vector<uint32_t>(outs[1]);
  size_t per_key = bits.size() / keys.size();
  for (size_t e = 0; e < bits.size(); ++e) {
    auto [k0, k1] = keys[e / per_key];
    uint32_t want = ref_word(k0, k1, words, first + e % per_key);
    ASSERT_EQ(bits[e], want) << what << " element " << e;
    ASSERT_EQ(inverted[e], ~want) << what << " element " << e;
  }
}

}  // namespace

TEST(VulkanCompile, GeneratorStepsDrawMlxThreefryWords) {
  REQUIRE_GPU();
  auto s = default_stream(Device::gpu);
  const std::vector<std::pair<uint32_t, uint32_t>> one{{0u, 42u}};
  auto key = array({0u, 42u}, {2}, uint32);
  for (Shape shape : {Shape{5, 7}, Shape{4, 8}, Shape{1}, Shape{3, 333}}) {  // odd and even streams
    int64_t n = shape_size(shape);
    expect_mlx_words(fused_bits(key, shape), one, n, 0, "shape of " + std::to_string(n));
  }
  // A window of a longer stream (chunked generation's pieces).
  expect_mlx_words(fused_bits(key, {20}, RandomBits::Window{101, 37}), one, 101, 37, "window");
  // Three keys, each its own stream; then the same keys read through strides.
  const std::vector<std::pair<uint32_t, uint32_t>> three{{1u, 2u}, {0xdeadbeefu, 7u}, {5u, 0xffffffffu}};
  auto keys = array({1u, 2u, 0xdeadbeefu, 7u, 5u, 0xffffffffu}, {3, 2}, uint32);
  expect_mlx_words(fused_bits(keys, {3, 11}), three, 11, 0, "three keys");
  // Keys read through strides: one key broadcast to three (strides 0, 1).
  auto keys_b = broadcast_to(array({1u, 2u}, {1, 2}, uint32), {3, 2}, s);
  expect_mlx_words(fused_bits(keys_b, {3, 11}), {three[0], three[0], three[0]}, 11, 0, "strided keys");
}

// A random chain fused with its bits (RandomBits -> float32 -> scale ->
// bfloat16, as the plain uniform chain starts) allocates nothing but its
// output: the bits live in registers.
TEST(VulkanCompile, GeneratorChainAllocatesOnlyTheOutput) {
  REQUIRE_GPU();
  auto s = default_stream(Device::gpu);
  const Shape shape{1024, 1024};
  auto key = array({3u, 9u}, {2}, uint32);
  auto scale = array(1.0f / 4294967295.0f);
  eval(key, scale);
  std::vector<Compiled::Step> steps;
  steps.push_back({std::make_shared<RandomBits>(s, shape, 4), {0}, uint32});
  steps.push_back({std::make_shared<AsType>(s, float32), {2}, float32});
  steps.push_back({std::make_shared<Binary>(s, BinaryOp::Multiply), {3, 1}, float32});
  steps.push_back({std::make_shared<AsType>(s, bfloat16), {4}, bfloat16});
  auto prim = std::make_shared<Compiled>(s, std::vector<Dtype>{uint32, float32}, std::move(steps),
                                         std::vector<int>{5});
  auto run = [&] { return array::make_arrays({shape}, {bfloat16}, prim, {key, scale})[0]; };
  eval(run());  // compiles the shader and warms the allocator
  synchronize(s);
  size_t base = get_active_memory();
  reset_peak_memory();
  auto out = run();
  eval(out);
  const size_t out_bytes = size_t(1024) * 1024 * 2;
  EXPECT_LE(get_peak_memory() - base, out_bytes + (size_t(1) << 20));
  // Spot-check values against the reference words.
  auto got = to_doubles(out);
  for (size_t e : {size_t(0), size_t(1), size_t(524287), size_t(524288), size_t(1048575)}) {
    float want = static_cast<float>(ref_word(3u, 9u, 1u << 20, e)) * (1.0f / 4294967295.0f);
    uint32_t b;
    std::memcpy(&b, &want, 4);
    b = (b + 0x7fffu + ((b >> 16) & 1u)) & 0xffff0000u;  // to bfloat16, nearest even
    float rounded;
    std::memcpy(&rounded, &b, 4);
    EXPECT_EQ(got[e], static_cast<double>(rounded)) << "element " << e;
  }
}

#endif  // LUMEN_HAS_VULKAN
