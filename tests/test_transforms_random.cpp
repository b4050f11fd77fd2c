// The tracing flag: under grad, vmap and compile the random ops build their
// plain chains (no fused RandomUniform/RandomNormal, no chunked pieces),
// which give the same values as the fused and chunked paths outside.
#include <typeindex>

#include <lumen/backend.h>
#include <lumen/compile.h>
#include <lumen/random.h>
#include <lumen/random_primitives.h>
#include <lumen/transforms_primitives.h>
#include <lumen/transforms.h>

#include "../ops/detail/random_chunks.h"
#include "random_test_helpers.h"
#include "test_transforms_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

bool has_kernel(const Device& d, const std::type_info& t) {
  return backend::find_kernel(d.type, std::type_index(t)) != nullptr;
}

// No fused or chunked random primitive in the graph of `outs`.
void expect_plain(const std::vector<array>& outs, const std::string& what) {
  auto c = primitive_counts(outs);
  EXPECT_EQ(c.count("RandomUniform"), 0u) << what;
  EXPECT_EQ(c.count("RandomNormal"), 0u) << what;
  EXPECT_EQ(c.count("SliceUpdate"), 0u) << what;
  // the plain chain's bits: a RandomBits node, or one fused into a Compiled
  int bits = 0;
  for (auto& [name, n] : c) bits += name.find("RandomBits") != std::string::npos ? n : 0;
  EXPECT_GE(bits, 1) << what;
}

class ChunkPolicyScope {
 public:
  explicit ChunkPolicyScope(random::detail::ChunkPolicy p)
      : prev_(random::detail::set_chunk_policy(p)) {}
  ~ChunkPolicyScope() { random::detail::set_chunk_policy(prev_); }

 private:
  random::detail::ChunkPolicy prev_;
};

}  // namespace

LUMEN_DEVICE_SUITE(TransformsRandom);

LUMEN_DEVICE_TEST(TransformsRandom, UnderGradTheChainIsPlainWithTheSameValues) {
  auto key = random::key(11);
  for (Dtype d : {float32, float16, bfloat16}) {
    auto fused_u = random::uniform(-1.0f, 2.0f, {4, 5}, d, key, s);
    auto fused_n = random::normal({4, 5}, d, array(0.5f, d), array(2.0f, d), key, s);
    if (has_kernel(dev, typeid(RandomUniform))) {
      EXPECT_EQ(primitive_counts({fused_u}).count("RandomUniform"), 1u);
      EXPECT_EQ(primitive_counts({fused_n}).count("RandomNormal"), 1u);
    }
    // d/dx sum(x * u + x * n) = u + n, built inside the trace.
    auto f = [&](const array& x) {
      auto u = random::uniform(-1.0f, 2.0f, {4, 5}, d, key, s);
      auto n = random::normal({4, 5}, d, array(0.5f, d), array(2.0f, d), key, s);
      auto y = add(multiply(x, u, s), multiply(x, n, s), s);
      return sum(astype(y, float32, s), false, s);
    };
    auto [val, g] = value_and_grad(std::function<array(const array&)>(f))(ones({4, 5}, d, s));
    expect_plain({g}, "grad " + dtype_to_string(d));
    expect_close(to_doubles(g), to_doubles(add(fused_u, fused_n, s)), 0, 0,
                 "grad " + dtype_to_string(d));
  }
}

LUMEN_DEVICE_TEST(TransformsRandom, UnderVmapEachKeyGivesItsOwnStream) {
  auto keys = random::split(random::key(5), 3, s);
  std::function<array(const array&)> f = [&](const array& k) {
    return random::uniform(0.0f, 1.0f, {7}, bfloat16, k, s);
  };
  auto out = vmap(f)(keys);
  expect_plain({out}, "vmap");
  ASSERT_EQ(out.shape(), (Shape{3, 7}));
  for (int b = 0; b < 3; ++b) {
    auto fused = f(example(keys, 0, b, s));  // outside any trace
    EXPECT_EQ(bytes_of(contiguous(example(out, 0, b, s))), bytes_of(fused)) << "key " << b;
  }
  // Keys batched along their last axis but one: the pair axis stays last.
  auto keys_t = transpose(keys, s);  // (2, 3): batch along axis 1
  std::function<array(const array&)> g = [&](const array& k) {
    return random::normal({5}, float32, std::nullopt, std::nullopt, k, s);
  };
  auto out_t = vmap(g, 1, 0)(keys_t);
  for (int b = 0; b < 3; ++b) {
    EXPECT_EQ(bytes_of(contiguous(example(out_t, 0, b, s))), bytes_of(g(example(keys, 0, b, s))));
  }
}

LUMEN_DEVICE_TEST(TransformsRandom, CompiledChainsMatchTheFusedPrimitives) {
  auto key = random::key(3);
  for (Dtype d : {float32, float16, bfloat16}) {
    std::function<std::vector<array>(const std::vector<array>&)> f =
        [&](const std::vector<array>& in) {
          return std::vector<array>{
              random::uniform(-2.0f, 3.0f, {33, 17}, d, in[0], s),
              random::normal({33, 17}, d, array(1.0f, d), array(0.5f, d), in[0], s)};
        };
    auto compiled = compile(f)({key});
    expect_plain(compiled, "compile " + dtype_to_string(d));
    auto fused = f({key});
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(bytes_of(compiled[i]), bytes_of(fused[i])) << dtype_to_string(d) << " output " << i;
    }
  }
}

LUMEN_DEVICE_TEST(TransformsRandom, NoChunkingUnderTransforms) {
  ChunkPolicyScope small({1, 64});
  auto key = random::key(9);
  auto make = [&](const array& k) { return random::laplace({64, 8}, bfloat16, 0.5f, 2.0f, k, s); };
  auto chunked = make(key);
  EXPECT_GE(primitive_counts({chunked})["SliceUpdate"], 2);
  std::function<std::vector<array>(const std::vector<array>&)> f =
      [&](const std::vector<array>& in) { return std::vector<array>{make(in[0])}; };
  auto compiled = compile(f)({key});
  expect_plain(compiled, "compile");
  EXPECT_EQ(bytes_of(compiled[0]), bytes_of(chunked));
  auto mapped = vmap(f)({expand_dims(key, 0, s)});
  expect_plain(mapped, "vmap");
  EXPECT_EQ(bytes_of(contiguous(squeeze(mapped[0], 0, s))), bytes_of(chunked));
  auto [out, tangent] = jvp(
      [&](const array& x) { return multiply(x, astype(make(key), float32, s), s); },
      ones({64, 8}, float32, s), ones({64, 8}, float32, s));
  expect_plain({tangent}, "jvp");
  EXPECT_EQ(bytes_of(astype(tangent, bfloat16, s)), bytes_of(chunked));
}

namespace {

// The plain chain compiled into one kernel that draws its bits itself:
// nothing but the output is allocated, as with the fused primitives.
void expect_compiled_random_peak(int n, const Device& dev, const Stream& s) {
  if (!has_kernel(dev, typeid(Compiled))) GTEST_SKIP() << "no fused kernels on this device";
  auto key = random::key(21);
  const Shape shape{n, n};
  const size_t out_bytes = size_t(n) * n * 2;
  for (bool normal : {false, true}) {
    std::function<std::vector<array>(const std::vector<array>&)> f =
        [&](const std::vector<array>& in) {
          return std::vector<array>{normal ? random::normal(shape, bfloat16, 0.0f, 1.0f, in[0], s)
                                           : random::uniform(0.0f, 1.0f, shape, bfloat16, in[0], s)};
        };
    auto cf = compile(f);
    auto probe = cf({key});
    auto c = primitive_counts(probe);
    EXPECT_EQ(c.size(), 1u) << "one Compiled node, bits included";
    EXPECT_EQ(c.count("RandomBits"), 0u);
    probe.clear();
    synchronize(s);
    size_t base = get_active_memory();
    reset_peak_memory();
    auto out = cf({key});
    eval(out);
    size_t peak = get_peak_memory() - base;
    EXPECT_LE(peak, out_bytes + (size_t(1) << 20)) << (normal ? "normal" : "uniform");
    EXPECT_EQ(bytes_of(out[0]), bytes_of(f({key})[0])) << (normal ? "normal" : "uniform");
  }
}

}  // namespace

LUMEN_DEVICE_TEST(TransformsRandom, CompiledChainsReachTheFusedPeak) {
  expect_compiled_random_peak(1024, dev, s);
}

// The size (label `large`: Release builds only).
LUMEN_DEVICE_SUITE(TransformsRandomLarge);
LUMEN_DEVICE_TEST(TransformsRandomLarge, CompiledChainsReachTheFusedPeakAt4096Squared) {
#ifndef NDEBUG
  GTEST_SKIP() << "Release only";
#endif
  expect_compiled_random_peak(4096, dev, s);
}
