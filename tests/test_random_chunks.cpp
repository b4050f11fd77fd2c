// random: the chunked path (half-precision requests no fused primitive
// covers, in pieces along axis 0 through threefry counter offsets). Small
// chunk policies exercise it on small arrays; suite RandomChunksLarge
// (label `large`) crosses the real 512 MB threshold.
#include <functional>

#include "../ops/detail/random_chunks.h"
#include "random_test_helpers.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(RandomChunks);

namespace {

// Sets a chunk policy for a scope.
class PolicyScope {
 public:
  explicit PolicyScope(random::detail::ChunkPolicy p)
      : prev_(random::detail::set_chunk_policy(p)) {}
  ~PolicyScope() { random::detail::set_chunk_policy(prev_); }

 private:
  random::detail::ChunkPolicy prev_;
};

// make() chunked under `policy` against make() inside tracing (never chunked):
// `pieces` RandomBits windows written by as many SliceUpdates, same bytes.
void expect_chunked_equals_whole(const std::function<array()>& make, int pieces,
                                 const std::string& what) {
  array chunked;
  {
    PolicyScope scope({1, 64});
    chunked = make();
  }
  array whole;
  {
    detail::TracingGuard tracing;
    whole = make();
  }
  auto c = primitive_counts({chunked});
  EXPECT_EQ(c["RandomBits"], pieces) << what;
  EXPECT_EQ(c["SliceUpdate"], pieces) << what;
  EXPECT_EQ(primitive_counts({whole})["RandomBits"], 1) << what;
  EXPECT_EQ(chunked.shape(), whole.shape()) << what;
  EXPECT_EQ(chunked.dtype(), whole.dtype()) << what;
  ASSERT_EQ(bytes_of(chunked), bytes_of(whole)) << what;
}

}  // namespace

TEST(RandomChunkPolicy, PieceCounts) {
  using random::detail::chunk_count;
  // at and above 512 MiB of float32-equivalent bytes, 4 to 256 pieces of ~256 MiB
  EXPECT_EQ(chunk_count({8192, 16384}, bfloat16), 4);    // exactly 512 MiB: K = 2 -> 4
  EXPECT_EQ(chunk_count({8192, 16383}, bfloat16), 1);    // just under
  EXPECT_EQ(chunk_count({46341, 46341}, bfloat16), 33);  // 8.59 GB: ceil(32.0001)
  EXPECT_EQ(chunk_count({65536, 65536}, float16), 64);
  EXPECT_EQ(chunk_count({1 << 20, 1 << 20}, bfloat16), 256);  // clamped
  EXPECT_EQ(chunk_count({6, 1 << 27}, bfloat16), 6);          // at most one piece per row
  EXPECT_EQ(chunk_count({3, 1 << 28}, bfloat16), 1);          // axis 0 < 4
  EXPECT_EQ(chunk_count({1 << 28}, float32), 1);              // half precision only
  EXPECT_EQ(chunk_count({}, bfloat16), 1);
  EXPECT_EQ(chunk_count({0, 1 << 30}, bfloat16), 1);
}

LUMEN_DEVICE_TEST(RandomChunks, PiecesEqualTheWholeRequest) {
  // every chunked family, odd row counts, K not dividing the rows, more dims;
  // policy {1 byte, 64 bytes}: K = clamp(4 * size / 64, 4, 256), <= rows
  auto key = random::key(77);
  for (Dtype dt : {float16, bfloat16}) {
    for (const Shape& shape : {Shape{7, 5}, Shape{13}, Shape{9, 4, 3}, Shape{257, 3}}) {
      int rows = shape[0];
      int64_t size = 1;
      for (auto d : shape) size *= d;
      int k = std::min<int64_t>(std::clamp<int64_t>((4 * size + 63) / 64, 4, 256), rows);
      std::string what = dtype_to_string(dt) + " rows " + std::to_string(rows);
      // bounds per row (broadcast along the other axes) and per element
      Shape col(shape.size(), 1);
      col[0] = rows;
      auto lo_rows = reshape(arange(rows, float32, s), col, s) * array(-0.5f);
      auto hi_all =
          full(shape, 3.0f, float32, s) + random::uniform(shape, float32, random::key(5), s);
      EXPECT_EQ(random::detail::chunk_count(shape, dt), 1) << "default policy: not chunked";
      expect_chunked_equals_whole(
          [&] { return random::uniform(lo_rows, hi_all, shape, dt, key, s); }, k,
          "uniform " + what);
      expect_chunked_equals_whole(
          [&] { return random::normal(shape, dt, lo_rows, hi_all, key, s); }, k, "normal " + what);
      expect_chunked_equals_whole(
          [&] { return random::truncated_normal(lo_rows, hi_all, shape, dt, key, s); }, k,
          "truncated_normal " + what);
      expect_chunked_equals_whole([&] { return random::laplace(shape, dt, 0.5f, 2.0f, key, s); }, k,
                                  "laplace " + what);
    }
  }
}

LUMEN_DEVICE_TEST(RandomChunks, FusedAndTracedRequestsAreNotChunked) {
  PolicyScope scope({1, 64});
  auto key = random::key(78);
  // scalar parameters: the fused primitives cover them
  auto u = random::uniform({64, 8}, bfloat16, key, s);
  EXPECT_EQ(primitive_counts({u}).count("SliceUpdate"), 0u);
  EXPECT_EQ(primitive_counts({random::normal({64, 8}, float16, key, s)}).count("SliceUpdate"), 0u);
  auto t = random::truncated_normal(array(-1.0f), array(1.0f), {64, 8}, bfloat16, key, s);
  EXPECT_EQ(primitive_counts({t}).count("SliceUpdate"), 0u);
  // float32 is never chunked
  auto f = random::laplace({64, 8}, float32, key, s);
  EXPECT_EQ(primitive_counts({f}).count("SliceUpdate"), 0u);
  // inside tracing: the plain composition only
  detail::TracingGuard tracing;
  auto l = random::laplace({64, 8}, bfloat16, key, s);
  EXPECT_EQ(primitive_counts({l}).count("SliceUpdate"), 0u);
  EXPECT_EQ(primitive_counts({l})["RandomBits"], 1);
}

LUMEN_DEVICE_TEST(RandomChunks, PeaksOfThePieces) {
  // 2048 x 1024 bfloat16 (4 MiB) in K = 16 pieces of 512 KiB of float32: the
  // output, plus one piece's float32 stage and its bfloat16 cast (3x / K);
  // laplace holds two float32 arrays per piece (4x / K). Unchunked: 3x+.
  PolicyScope scope({int64_t(1) << 20, int64_t(1) << 19});
  const Shape shape = {2048, 1024};
  const size_t x = size_t(2048) * 1024 * 2;
  const int k = random::detail::chunk_count(shape, bfloat16);
  ASSERT_EQ(k, 16);
  auto key = random::key(79);
  auto lo = reshape(arange(2048, float32, s), {2048, 1}, s) * array(1e-3f);
  eval(key, lo);
  struct Case {
    const char* name;
    std::function<array()> make;
    size_t per_piece;  // float32-equivalent transient, in multiples of x / K
  };
  std::vector<Case> cases = {
      {"uniform", [&] { return random::uniform(lo, array(2.0f), shape, bfloat16, key, s); }, 3},
      {"normal", [&] { return random::normal(shape, bfloat16, lo, std::nullopt, key, s); }, 3},
      {"truncated_normal",
       [&] { return random::truncated_normal(lo, array(3.0f), shape, bfloat16, key, s); }, 3},
      {"laplace", [&] { return random::laplace(shape, bfloat16, key, s); }, 4},
  };
  for (auto& c : cases) {
    for (bool chunked : {true, false}) {
      synchronize(s);
      size_t base = get_active_memory();
      reset_peak_memory();
      array out;
      if (chunked) {
        out = c.make();
      } else {
        detail::TracingGuard tracing;
        out = c.make();
      }
      eval(out);
      size_t peak = get_peak_memory() - base;
      if (chunked) {
        EXPECT_LE(peak, x + c.per_piece * x / k + (size_t(1) << 20)) << c.name << " " << peak;
      } else {
        EXPECT_GE(peak, 3 * x) << c.name << " unchunked " << peak;
      }
    }
  }
}

// ---- label `large`: the real threshold ----

LUMEN_DEVICE_SUITE(RandomChunksLarge);

LUMEN_DEVICE_TEST(RandomChunksLarge, ThresholdCrossingUniformWithArrayBounds) {
#ifndef NDEBUG
  GTEST_SKIP() << "Release only";
#endif
  if (on_gpu) GTEST_SKIP() << "over lavapipe's budget; CPU in CI";
  // 8192 x 16384 bfloat16: 512 MiB of float32-equivalent bytes, K = 4
  const Shape shape = {8192, 16384};
  const size_t out_bytes = size_t(8192) * 16384 * 2;
  const int k = random::detail::chunk_count(shape, bfloat16);
  ASSERT_EQ(k, 4);
  auto key = random::key(2024);
  auto lo =
      astype(reshape(arange(8192, float32), {8192, 1}, s), bfloat16, s) * array(0.001f, bfloat16);
  auto hi = array(10.0f);
  eval(key, lo);
  synchronize(s);
  size_t base = get_active_memory();
  reset_peak_memory();
  auto chunked = random::uniform(lo, hi, shape, bfloat16, key, s);
  EXPECT_EQ(primitive_counts({chunked})["SliceUpdate"], k);
  eval(chunked);
  size_t peak = get_peak_memory() - base;
  // the output plus one piece's float32 bits and its bfloat16 cast
  EXPECT_LE(peak, out_bytes + 3 * out_bytes / k + (size_t(1) << 20)) << "peak " << peak;
  auto got = bytes_of(chunked);
  chunked = array();
  array whole;
  {
    detail::TracingGuard tracing;
    whole = random::uniform(lo, hi, shape, bfloat16, key, s);
  }
  EXPECT_EQ(got, bytes_of(whole));
}
