// fast::scaled_dot_product_attention(_with_lse) against a float64 reference
// written here (softmax(scale * Q K^T + mask) V, the logsumexp of the same
// scores), its transforms (vjp through the lse against finite differences and
// against the plain composition's vjp, jvp, vmap), the KV-chunked path and
// the memory of a long causal prefill.
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <sstream>

#include <lumen/attention_primitives.h>
#include <lumen/fast.h>

#include "float_op_util.h"
#include "test_util.h"
#ifdef LUMEN_HAS_VULKAN
#include "../backends/vulkan/debug.h"
#endif

using namespace lumen;
using namespace lumen::test;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Case {
  int B = 1, Hq = 2, Hkv = 2, Lq = 5, Lk = 70, D = 64, Dv = -1;  // Dv -1: D
  int dv() const { return Dv < 0 ? D : Dv; }
};

struct Inputs {
  array q, k, v;
};

Inputs make_inputs(const Case& c, Dtype d, uint32_t seed) {
  return {random_array({c.B, c.Hq, c.Lq, c.D}, d, seed),
          random_array({c.B, c.Hkv, c.Lk, c.D}, d, seed + 1),
          random_array({c.B, c.Hkv, c.Lk, c.dv()}, d, seed + 2)};
}

struct Reference {
  std::vector<double> out, lse;
};

// The reference on the inputs' values: mask as [B, H_q, L_q, L_k] doubles
// (bool: nonzero keeps; additive: added), sinks one logit per head.
Reference reference(const Inputs& in, float scale, bool causal, const std::optional<array>& mask,
                    const std::optional<array>& sinks) {
  const int B = in.q.shape(0), Hq = in.q.shape(1), Lq = in.q.shape(2), D = in.q.shape(3);
  const int Hkv = in.k.shape(1), Lk = in.k.shape(2), Dv = in.v.shape(3);
  const auto q = to_doubles(in.q), k = to_doubles(in.k), v = to_doubles(in.v);
  std::vector<double> m, sk;
  bool bool_mask = false;
  if (mask) {
    bool_mask = mask->dtype() == bool_;
    m = to_doubles(broadcast_to(*mask, {B, Hq, Lq, Lk}));
  }
  if (sinks) sk = to_doubles(*sinks);
  Reference r;
  r.out.assign(static_cast<size_t>(B) * Hq * Lq * Dv, 0.0);
  r.lse.assign(static_cast<size_t>(B) * Hq * Lq, -kInf);
  std::vector<double> score(Lk);
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < Hq; ++h) {
      const int hk = h / (Hq / Hkv);
      for (int i = 0; i < Lq; ++i) {
        const size_t row = (static_cast<size_t>(b) * Hq + h) * Lq + i;
        double mx = sinks ? sk[h] : -kInf;
        for (int j = 0; j < Lk; ++j) {
          double s = 0;
          for (int d = 0; d < D; ++d) {
            s += q[row * D + d] * k[((static_cast<size_t>(b) * Hkv + hk) * Lk + j) * D + d];
          }
          s *= scale;
          if (causal && j > i + Lk - Lq) s = -kInf;
          if (mask) {
            const double mv = m[row * Lk + j];
            if (bool_mask) {
              if (mv == 0) s = -kInf;
            } else {
              s += mv;
            }
          }
          score[j] = s;
          mx = std::max(mx, s);
        }
        if (mx == -kInf) continue;  // nothing visible: 0 and -inf
        double z = sinks ? std::exp(sk[h] - mx) : 0.0;
        for (int j = 0; j < Lk; ++j) z += std::exp(score[j] - mx);
        for (int j = 0; j < Lk; ++j) {
          const double p = std::exp(score[j] - mx) / z;
          for (int e = 0; e < Dv; ++e) {
            r.out[row * Dv + e] += p * v[((static_cast<size_t>(b) * Hkv + hk) * Lk + j) * Dv + e];
          }
        }
        r.lse[row] = mx + std::log(z);
      }
    }
  }
  return r;
}

// Output tolerances: float32 accumulation, one rounding to the dtype.
Tol out_tol(Dtype d) {
  switch (d) {
    case float64: return {1e-10, 1e-12};
    case float16: return {2e-3, 1e-3};
    case bfloat16: return {1e-2, 8e-3};
    default: return {1e-5, 2e-6};
  }
}
// lse: 1e-5 relative (float32 output) for every input dtype.
constexpr double kLseRtol = 1e-5, kLseAtol = 1e-6;

std::string shape_text(const Shape& shape) {
  std::ostringstream os;
  os << shape;
  return os.str();
}

std::string what(Dtype d, const Case& c, const std::string& extra) {
  std::ostringstream os;
  os << dtype_to_string(d) << " B" << c.B << " Hq" << c.Hq << " Hkv" << c.Hkv << " Lq" << c.Lq
     << " Lk" << c.Lk << " D" << c.D << " Dv" << c.dv() << " " << extra;
  return os.str();
}

// Runs with_lse and the plain op, checks both against the reference, the
// output bits equal, and no NaN anywhere.
void check_attention(const Inputs& in, Dtype d, const Case& c, float scale,
                     const std::string& mode, const std::optional<array>& mask,
                     const std::optional<array>& sinks, const std::string& label,
                     const Stream& s) {
  auto [out, lse] =
      fast::scaled_dot_product_attention_with_lse(in.q, in.k, in.v, scale, mode, mask, sinks,
                                                  false, s);
  auto plain = fast::scaled_dot_product_attention(in.q, in.k, in.v, scale, mode, mask, sinks,
                                                  false, s);
  ASSERT_EQ(out.shape(), (Shape{c.B, c.Hq, c.Lq, c.dv()}));
  ASSERT_EQ(lse.shape(), (Shape{c.B, c.Hq, c.Lq}));
  EXPECT_EQ(out.dtype(), d);
  EXPECT_EQ(lse.dtype(), float32);
  const auto ref = reference(in, scale, mode == "causal", mask, sinks);
  const auto got = to_doubles(out);
  for (double x : got) ASSERT_FALSE(std::isnan(x)) << what(d, c, label);
  const Tol t = out_tol(d);
  expect_close(got, ref.out, t.rtol, t.atol, what(d, c, label + " out"));
  expect_close(to_doubles(lse), ref.lse, kLseRtol, kLseAtol, what(d, c, label + " lse"));
  EXPECT_EQ(got, to_doubles(plain)) << what(d, c, label + " with_lse output != plain output");
}

// Restores the KV chunk size at scope exit.
struct ChunkSize {
  int old;
  explicit ChunkSize(int keys) : old(detail::set_attention_kv_chunk_size(keys)) {}
  ~ChunkSize() { detail::set_attention_kv_chunk_size(old); }
};

std::vector<Dtype> dtypes_for(bool on_gpu) {
  std::vector<Dtype> ds{float16, bfloat16, float32};
  if (!on_gpu) ds.push_back(float64);
  return ds;
}

}  // namespace

LUMEN_DEVICE_SUITE(Attention);

LUMEN_DEVICE_TEST(Attention, EveryDtypeAndHeadDim) {
  uint32_t seed = 1;
  for (Dtype d : dtypes_for(on_gpu)) {
    for (int D : {64, 80, 96, 128, 256, 24}) {
      Case c;
      c.D = D;
      auto in = make_inputs(c, d, seed += 3);
      check_attention(in, d, c, 1.0f / std::sqrt(static_cast<float>(D)), "", {}, {}, "", s);
    }
  }
}

LUMEN_DEVICE_TEST(Attention, CausalWithUnequalLengths) {
  uint32_t seed = 100;
  for (Dtype d : {float16, float32}) {
    for (auto [lq, lk] : {std::pair{3, 9}, {70, 70}, {9, 3}, {40, 130}, {1, 200}}) {
      Case c;
      c.Lq = lq;
      c.Lk = lk;
      c.D = 32;
      auto in = make_inputs(c, d, seed += 3);
      // Lq > Lk leaves the first Lq - Lk queries seeing nothing: 0 and -inf.
      check_attention(in, d, c, 0.3f, "causal", {}, {}, "causal", s);
    }
  }
}

LUMEN_DEVICE_TEST(Attention, BoolAndAdditiveMasksBroadcast) {
  Case c;
  c.B = 2;
  c.Lq = 6;
  c.Lk = 67;
  c.D = 16;
  uint32_t seed = 200;
  for (Dtype d : {bfloat16, float32}) {
    auto in = make_inputs(c, d, seed += 3);
    for (Shape ms : {Shape{c.Lq, c.Lk}, Shape{1, c.Hq, 1, c.Lk}, Shape{c.B, 1, c.Lq, c.Lk},
                     Shape{c.Lk}}) {
      auto keep = greater(random_array(ms, float32, seed++), array(-0.4f), s);
      check_attention(in, d, c, 0.25f, "array", keep, {}, "bool mask " + shape_text(ms), s);
      auto additive = random_array(ms, d, seed++, -2.0f, 1.0f);
      check_attention(in, d, c, 0.25f, "array", additive, {},
                      "additive mask " + shape_text(ms), s);
    }
    // Fully masked rows (row 1 by a bool mask, row 2 by -inf): 0 and -inf, other rows intact.
    std::vector<float> add(c.Lq * c.Lk, 0.0f);
    std::vector<uint8_t> keep(c.Lq * c.Lk, 1);
    for (int j = 0; j < c.Lk; ++j) {
      keep[1 * c.Lk + j] = 0;
      add[2 * c.Lk + j] = -std::numeric_limits<float>::infinity();
    }
    array keep_arr(keep.begin(), {c.Lq, c.Lk}, bool_);
    array add_arr(add.begin(), {c.Lq, c.Lk}, d);
    check_attention(in, d, c, 0.25f, "array", keep_arr, {}, "fully masked bool row", s);
    check_attention(in, d, c, 0.25f, "array", add_arr, {}, "fully masked -inf row", s);
    auto [out, lse] = fast::scaled_dot_product_attention_with_lse(in.q, in.k, in.v, 0.25f, "array",
                                                                  keep_arr, {}, false, s);
    auto l = to_doubles(lse);
    EXPECT_EQ(l[1], -kInf);
    auto o = to_doubles(out);
    for (int e = 0; e < c.D; ++e) EXPECT_EQ(o[1 * c.D + e], 0.0);
  }
}

LUMEN_DEVICE_TEST(Attention, Sinks) {
  Case c;
  c.Hq = 4;
  c.Hkv = 2;
  c.Lq = 7;
  c.Lk = 90;
  c.D = 32;
  uint32_t seed = 300;
  for (Dtype d : dtypes_for(on_gpu)) {
    auto in = make_inputs(c, d, seed += 4);
    auto sinks = random_array({c.Hq}, d, seed + 3, -1.0f, 3.0f);
    check_attention(in, d, c, 0.2f, "", {}, sinks, "sinks", s);
    check_attention(in, d, c, 0.2f, "causal", {}, sinks, "sinks causal", s);
    // A fully masked row with sinks: output 0, lse = the sink's logit.
    std::vector<uint8_t> keep(c.Lq * c.Lk, 1);
    for (int j = 0; j < c.Lk; ++j) keep[3 * c.Lk + j] = 0;
    check_attention(in, d, c, 0.2f, "array", array(keep.begin(), {c.Lq, c.Lk}, bool_), sinks,
                    "sinks fully masked row", s);
  }
}

// Decode shapes (L_q <= 8) with many keys: on the GPU the split-K kernel cuts
// the keys into dozens of chunks and merges them through their logsumexps;
// 16-byte loads (contiguous K/V, D a multiple of 8) and element loads
// (transposed keys, D = 20), GQA groups split over several row groups (L_q 8),
// wide heads; each 16-bit type's conversion of the loaded words. Where the
// device has the mma fragment layouts (the H100), float16 and bfloat16 with
// head dims 64, 80 and 128 take the tensor-core decode (groups of 8 rows: 4,
// 12 and 32 rows per kv head here), the others the scalar one.
LUMEN_DEVICE_TEST(Attention, DecodeMergesKeyChunksThroughLse) {
  uint32_t seed = 350;
  for (Dtype d : {bfloat16, float16, float32}) {
    for (auto [lq, D] : {std::pair{1, 128}, {3, 72}, {8, 20}, {8, 64}, {3, 80}}) {
      Case c;
      c.Hq = 8;
      c.Hkv = 2;
      c.Lq = lq;
      c.Lk = 1500;
      c.D = D;
      auto in = make_inputs(c, d, seed += 5);
      const float scale = 1.0f / std::sqrt(static_cast<float>(D));
      check_attention(in, d, c, scale, "", {}, {}, "decode", s);
      check_attention(in, d, c, scale, "causal", {}, {}, "decode causal", s);
      auto sinks = random_array({c.Hq}, d, seed + 1, -1.0f, 3.0f);
      auto keep = greater(random_array({c.B, c.Hq, c.Lq, c.Lk}, float32, seed + 2), array(-0.5f), s);
      check_attention(in, d, c, scale, "array", keep, sinks, "decode bool mask sinks", s);
      auto additive = random_array({c.Lk}, d, seed + 3, -3.0f, 1.0f);
      check_attention(in, d, c, scale, "array", additive, {}, "decode additive mask", s);
      // Scores rising along the keys: the running maxima move by more than
      // e^8 many times within a chunk.
      std::vector<float> ramp(c.Lk);
      for (int j = 0; j < c.Lk; ++j) ramp[j] = 0.05f * static_cast<float>(j) - 30.0f;
      check_attention(in, d, c, scale, "array", array(ramp.begin(), {c.Lk}, d), {}, "decode rising scores", s);
      // Keys seen only in the last chunk, and a row seeing nothing.
      std::vector<uint8_t> late(static_cast<size_t>(c.Lq) * c.Lk, 0);
      for (int i = 1; i < c.Lq; ++i) late[static_cast<size_t>(i) * c.Lk + c.Lk - i] = 1;
      late[c.Lk - 1] = c.Lq == 1;
      check_attention(in, d, c, scale, "array", array(late.begin(), {c.Lq, c.Lk}, bool_), {},
                      "decode sparse mask", s);
    }
    Case c;
    c.Hq = 4;
    c.Hkv = 4;
    c.Lq = 2;
    c.Lk = 700;
    c.D = 64;
    Inputs in{random_array({c.B, c.Hq, c.Lq, c.D}, d, seed + 6),
              swapaxes(random_array({c.B, c.Lk, c.Hkv, c.D}, d, seed + 7), 1, 2, s),
              random_array({c.B, c.Hkv, c.Lk, c.D}, d, seed + 8)};
    check_attention(in, d, c, 0.125f, "", {}, {}, "decode transposed keys", s);
    // Wide heads, D != D_v: several 8-feature segments per invocation.
    Case w;
    w.Hq = 2;
    w.Hkv = 1;
    w.Lq = 1;
    w.Lk = 300;
    w.D = 512;
    w.Dv = 320;
    check_attention(make_inputs(w, d, seed + 9), d, w, 0.05f, "", {}, {}, "decode wide head", s);
  }
}

LUMEN_DEVICE_TEST(Attention, GroupedQueryMultiQueryCrossAttentionAndBatch) {
  uint32_t seed = 400;
  for (Dtype d : {float16, float32}) {
    for (auto [hq, hkv] : {std::pair{6, 2}, {6, 1}, {3, 3}}) {
      Case c;
      c.B = 3;
      c.Hq = hq;
      c.Hkv = hkv;
      c.Lq = 4;
      c.Lk = 33;
      c.D = 32;
      c.Dv = 48;  // values may have their own head dim
      auto in = make_inputs(c, d, seed += 3);
      check_attention(in, d, c, 0.18f, "", {}, {}, "gqa", s);
      check_attention(in, d, c, 0.18f, "causal", {}, {}, "gqa causal", s);
      // A mask per query head, which the grouping must keep apart.
      auto keep = greater(random_array({c.B, c.Hq, c.Lq, c.Lk}, float32, seed++), array(0.0f), s);
      check_attention(in, d, c, 0.18f, "array", keep, {}, "gqa per-head mask", s);
    }
  }
}

LUMEN_DEVICE_TEST(Attention, StridedAndPromotedInputs) {
  // q, k, v in [B, L, H, D] layout viewed as [B, H, L, D]; v sliced.
  Case c;
  c.B = 2;
  c.Lq = 9;
  c.Lk = 20;
  c.D = 16;
  Inputs in{swapaxes(random_array({c.B, c.Lq, c.Hq, c.D}, float32, 500), 1, 2, s),
            swapaxes(random_array({c.B, c.Lk, c.Hkv, c.D}, float32, 501), 1, 2, s),
            slice(random_array({c.B, c.Hkv, c.Lk, 2 * c.D}, float32, 502), {0, 0, 0, 0},
                  {c.B, c.Hkv, c.Lk, 2 * c.D}, {1, 1, 1, 2}, s)};
  check_attention(in, float32, c, 0.3f, "causal", {}, {}, "strided", s);
  // float16 queries with float32 keys and values promote to float32
  Inputs mixed{random_array({c.B, c.Hq, c.Lq, c.D}, float16, 503), in.k, in.v};
  auto out = fast::scaled_dot_product_attention(mixed.q, mixed.k, mixed.v, 0.3f, "", {}, {},
                                                false, s);
  EXPECT_EQ(out.dtype(), float32);
  auto ref = reference(mixed, 0.3f, false, {}, {});
  expect_close(to_doubles(out), ref.out, 1e-5, 2e-6, "promoted");
}

LUMEN_DEVICE_TEST(Attention, BadArguments) {
  auto q = zeros({1, 4, 3, 8}, float32, s), k = zeros({1, 2, 5, 8}, float32, s),
       v = zeros({1, 2, 5, 8}, float32, s);
  using fast::scaled_dot_product_attention;
  expect_invalid_message([&] { scaled_dot_product_attention(zeros({4, 3, 8}, float32, s), k, v, 1.0f); },
                         {"[scaled_dot_product_attention]", "(4, 3, 8)", "rank 4"});
  expect_invalid_message([&] { scaled_dot_product_attention(q, k, v, 1.0f, "sliding"); },
                         {"[scaled_dot_product_attention]", "sliding"});
  expect_invalid_message(
      [&] { scaled_dot_product_attention(q, k, v, 1.0f, "causal", zeros({3, 5}, bool_, s)); },
      {"[scaled_dot_product_attention]", "causal"});
  expect_invalid_message(
      [&] { scaled_dot_product_attention(q, zeros({1, 2, 5, 7}, float32, s), v, 1.0f); },
      {"[scaled_dot_product_attention]", "(1, 2, 5, 7)"});
  expect_invalid_message(
      [&] { scaled_dot_product_attention(q, zeros({1, 3, 5, 8}, float32, s), zeros({1, 3, 5, 8}, float32, s), 1.0f); },
      {"[scaled_dot_product_attention]", "multiple"});
  expect_invalid_message(
      [&] { scaled_dot_product_attention(q, k, zeros({1, 1, 5, 8}, float32, s), 1.0f); },
      {"[scaled_dot_product_attention]", "n_kv_heads"});
  expect_invalid_message(
      [&] { scaled_dot_product_attention(q, zeros({2, 2, 5, 8}, float32, s), v, 1.0f); },
      {"[scaled_dot_product_attention]", "batch"});
  expect_invalid_message(
      [&] {
        scaled_dot_product_attention(astype(q, int32, s), astype(k, int32, s), astype(v, int32, s),
                                     1.0f);
      },
      {"[scaled_dot_product_attention]", "int32"});
  expect_invalid_message(
      [&] { scaled_dot_product_attention(q, k, v, 1.0f, "array", zeros({1, 1, 1, 3, 5}, bool_, s)); },
      {"[scaled_dot_product_attention]", "rank 4"});
  expect_invalid_message(
      [&] { scaled_dot_product_attention(q, k, v, 1.0f, "array", zeros({3, 5}, float64, s)); },
      {"[scaled_dot_product_attention]", "float64"});
  expect_invalid_message(
      [&] { scaled_dot_product_attention(q, k, v, 1.0f, "", {}, zeros({2}, float32, s)); },
      {"[scaled_dot_product_attention]", "sinks", "(2)"});
  EXPECT_THROW(scaled_dot_product_attention(q, k, v, 1.0f, "array", zeros({4, 5}, bool_, s)),
               std::invalid_argument);  // does not broadcast to [1, 4, 3, 5]
}

LUMEN_DEVICE_TEST(Attention, ChunkedKeysMergeThroughLse) {
  uint32_t seed = 600;
  for (Dtype d : {float16, float32}) {
    Case c;
    c.Hq = 4;
    c.Hkv = 2;
    c.Lq = 37;
    c.Lk = 150;
    c.D = 32;
    auto in = make_inputs(c, d, seed += 4);
    auto sinks = random_array({c.Hq}, d, seed + 3);
    auto keep = greater(random_array({c.Lq, c.Lk}, float32, seed + 5), array(-0.5f), s);
    struct Mode {
      std::string mode;
      std::optional<array> mask, sinks;
      std::string label;
    };
    for (const auto& m : {Mode{"", {}, {}, "plain"}, Mode{"causal", {}, sinks, "causal sinks"},
                          Mode{"array", keep, {}, "bool mask"}}) {
      std::pair<array, array> whole{array(0.0f), array(0.0f)};
      {
        detail::TracingGuard tracing;  // the un-chunked primitive
        whole = fast::scaled_dot_product_attention_with_lse(in.q, in.k, in.v, 0.2f, m.mode,
                                                            m.mask, m.sinks, false, s);
      }
      EXPECT_EQ(primitive_counts({whole.first})["ScaledDotProductAttention"], 1) << m.label;
      ChunkSize chunked(32);  // 5 chunks
      auto [out, lse] = fast::scaled_dot_product_attention_with_lse(in.q, in.k, in.v, 0.2f, m.mode,
                                                                    m.mask, m.sinks, false, s);
      EXPECT_GE(primitive_counts({out})["ScaledDotProductAttention"], 2) << m.label;
      const Tol t = out_tol(d);
      expect_close(to_doubles(out), to_doubles(whole.first), std::max(1e-3, t.rtol), t.atol,
                   what(d, c, m.label + " chunked vs whole"));
      expect_close(to_doubles(lse), to_doubles(whole.second), 1e-5, 1e-6,
                   what(d, c, m.label + " chunked lse"));
      check_attention(in, d, c, 0.2f, m.mode, m.mask, m.sinks, m.label + " chunked", s);
    }
  }
}

LUMEN_DEVICE_TEST(Attention, TransformsSeeTheUnchunkedPrimitive) {
  Case c;
  c.Lq = 8;
  c.Lk = 96;
  c.D = 16;
  auto in = make_inputs(c, float32, 700);
  ChunkSize chunked(32);
  auto attend = [&](const std::vector<array>& xs) {
    return fast::scaled_dot_product_attention(xs[0], xs[1], xs[2], 0.25f, "causal", {}, {}, false,
                                              s);
  };
  EXPECT_EQ(primitive_counts({attend({in.q, in.k, in.v})})["ScaledDotProductAttention"], 3);
  std::map<std::string, int> under_grad, under_vmap, under_compile;
  auto grads = grad(
      [&](const std::vector<array>& xs) {
        auto out = attend(xs);
        under_grad = primitive_counts({out});
        return sum(out, false, s);
      },
      {0, 1, 2})({in.q, in.k, in.v});
  EXPECT_EQ(under_grad["ScaledDotProductAttention"], 1);
  EXPECT_EQ(under_grad.count("Concatenate"), 0u);
  auto grad_graph = primitive_counts(grads);
  EXPECT_EQ(grad_graph["ScaledDotProductAttentionVJP"], 1);
  EXPECT_EQ(grad_graph.count("Softmax"), 0u);
  auto mapped = vmap(
      [&](const std::vector<array>& xs) {
        auto out = attend(xs);
        under_vmap = primitive_counts({out});
        return std::vector<array>{out};
      },
      {0, -1, -1})({stack({in.q, in.q}, 0, s), in.k, in.v});
  EXPECT_EQ(under_vmap["ScaledDotProductAttention"], 1);
  EXPECT_EQ(primitive_counts(mapped)["ScaledDotProductAttention"], 1);  // folded into the batch
  auto compiled = compile([&](const std::vector<array>& xs) {
    auto out = attend(xs);
    under_compile = primitive_counts({out});
    return std::vector<array>{out};
  })({in.q, in.k, in.v});
  EXPECT_EQ(under_compile["ScaledDotProductAttention"], 1);
  auto want = attend({in.q, in.k, in.v});
  expect_close(to_doubles(compiled[0]), to_doubles(want), 1e-5, 1e-6, "compiled");
  expect_close(to_doubles(mapped[0]), to_doubles(stack({want, want}, 0, s)), 1e-5, 1e-6,
               "vmapped");
}

namespace {

// The plain composition in ops, written here: softmax(scale q k^T + mask) v
// and the logsumexp of the scores, with grouped heads by repetition.
std::vector<array> plain_attention(const std::vector<array>& xs, float scale, bool causal,
                                   const std::optional<array>& sinks_of, const Stream& s) {
  auto q = xs[0], k = xs[1], v = xs[2];
  const int rep = q.shape(1) / k.shape(1);
  k = repeat(k, rep, 1, s);
  v = repeat(v, rep, 1, s);
  auto scores = multiply(matmul(q, swapaxes(k, -1, -2, s), s), array(scale, q.dtype()), s);
  const int lq = q.shape(2), lk = k.shape(2);
  if (causal) {
    auto keep = greater_equal(expand_dims(arange(lk - lq, lk, s), 1, s),
                              expand_dims(arange(0, lk, s), 0, s), s);
    scores = where(keep, scores, array(-std::numeric_limits<float>::infinity(), q.dtype()), s);
  }
  if (sinks_of) {
    Shape col = scores.shape();
    col.back() = 1;
    scores = concatenate(
        {broadcast_to(reshape(*sinks_of, {1, q.shape(1), 1, 1}, s), col, s), scores}, -1, s);
  }
  auto probs = softmax(scores, std::vector<int>{-1}, true, s);
  if (sinks_of) probs = slice(probs, {0, 0, 0, 1}, probs.shape(), s);
  return {matmul(probs, v, s), logsumexp(scores, -1, false, s)};
}

}  // namespace

LUMEN_DEVICE_TEST(Attention, VjpMatchesFiniteDifferencesAndPlainComposition) {
  if (on_gpu) GTEST_SKIP() << "float64 finite differences run on the CPU";
  Case c;
  c.B = 2;
  c.Hq = 4;
  c.Hkv = 2;
  c.Lq = 5;
  c.Lk = 7;
  c.D = 6;
  c.Dv = 5;
  for (bool causal : {false, true}) {
    auto in = make_inputs(c, float64, causal ? 800 : 810);
    auto sinks = random_array({c.Hq}, float64, 820);
    auto w_out = random_array({c.B, c.Hq, c.Lq, c.dv()}, float64, 821);
    auto w_lse = random_array({c.B, c.Hq, c.Lq}, float64, 822);
    const std::string mode = causal ? "causal" : "";
    // Finite differences of sum(out * w_out) in float64 (the float32 lse would
    // put rounding noise into a difference quotient; its cotangent is checked
    // against the plain composition below).
    auto loss = [&](const std::vector<array>& xs) {
      auto out = fast::scaled_dot_product_attention(xs[0], xs[1], xs[2], 0.4f, mode, {}, xs[3],
                                                    false, s);
      return sum(multiply(out, w_out, s), false, s);
    };
    std::vector<array> primals{in.q, in.k, in.v, sinks};
    auto grads = grad(loss, {0, 1, 2, 3})(primals);
    EXPECT_EQ(primitive_counts(grads)["ScaledDotProductAttentionVJP"], 1);
    const double eps = 1e-6;
    for (int a = 0; a < 4; ++a) {
      auto base = to_doubles(primals[a]);
      std::vector<double> fd(base.size());
      for (size_t e = 0; e < base.size(); ++e) {
        auto shifted = [&](double delta) {
          auto vals = base;
          vals[e] += delta;
          auto xs = primals;
          xs[a] = array(vals.begin(), primals[a].shape(), float64);
          return to_doubles(loss(xs))[0];
        };
        fd[e] = (shifted(eps) - shifted(-eps)) / (2 * eps);
      }
      // lse is float32, so the probabilities carry its rounding (~1e-7).
      expect_close(to_doubles(grads[a]), fd, 1e-5, 1e-6,
                   "finite differences, argument " + std::to_string(a) + (causal ? " causal" : ""));
    }
    // Both cotangents (out and lse) against the plain composition's vjp, float32.
    std::vector<array> f32;
    for (auto& p : primals) f32.push_back(astype(p, float32, s));
    auto w32 = astype(w_out, float32, s), l32 = astype(w_lse, float32, s);
    auto fused = grad(
        [&](const std::vector<array>& xs) {
          auto [out, lse] = fast::scaled_dot_product_attention_with_lse(
              xs[0], xs[1], xs[2], 0.4f, mode, {}, xs[3], false, s);
          return add(sum(multiply(out, w32, s), false, s), sum(multiply(lse, l32, s), false, s), s);
        },
        {0, 1, 2, 3})(f32);
    auto plain = grad(
        [&](const std::vector<array>& xs) {
          auto outs = plain_attention(xs, 0.4f, causal, xs[3], s);
          return add(sum(multiply(outs[0], w32, s), false, s),
                     sum(multiply(outs[1], l32, s), false, s), s);
        },
        {0, 1, 2, 3})(f32);
    for (int a = 0; a < 4; ++a) {
      expect_close(to_doubles(fused[a]), to_doubles(plain[a]), 1e-4, 1e-5,
                   "vs plain vjp, argument " + std::to_string(a));
    }
  }
}

// The fused vjp (both cotangents) against the plain composition's on every
// device, float32: causal with L_q != L_k, sinks, grouped heads, batch 2, a
// decode-shaped query block and a value head dim of its own.
LUMEN_DEVICE_TEST(Attention, VjpMatchesPlainCompositionOnEveryDevice) {
  uint32_t seed = 850;
  for (auto [lq, lk] : {std::pair{9, 37}, {3, 300}}) {
    Case c;
    c.B = 2;
    c.Hq = 6;
    c.Hkv = 2;
    c.Lq = lq;
    c.Lk = lk;
    c.D = 24;
    c.Dv = 40;
    for (bool causal : {false, true}) {
      auto in = make_inputs(c, float32, seed += 4);
      auto sinks = random_array({c.Hq}, float32, seed + 1);
      auto w_out = random_array({c.B, c.Hq, c.Lq, c.dv()}, float32, seed + 2);
      auto w_lse = random_array({c.B, c.Hq, c.Lq}, float32, seed + 3);
      const std::string mode = causal ? "causal" : "";
      std::vector<array> primals{in.q, in.k, in.v, sinks};
      auto fused = grad(
          [&](const std::vector<array>& xs) {
            auto [out, lse] = fast::scaled_dot_product_attention_with_lse(
                xs[0], xs[1], xs[2], 0.2f, mode, {}, xs[3], false, s);
            return add(sum(multiply(out, w_out, s), false, s), sum(multiply(lse, w_lse, s), false, s), s);
          },
          {0, 1, 2, 3})(primals);
      EXPECT_EQ(primitive_counts(fused)["ScaledDotProductAttentionVJP"], 1);
      auto plain = grad(
          [&](const std::vector<array>& xs) {
            auto outs = plain_attention(xs, 0.2f, causal, xs[3], s);
            return add(sum(multiply(outs[0], w_out, s), false, s),
                       sum(multiply(outs[1], w_lse, s), false, s), s);
          },
          {0, 1, 2, 3})(primals);
      for (int a = 0; a < 4; ++a) {
        expect_close(to_doubles(fused[a]), to_doubles(plain[a]), 1e-4, 1e-5,
                     "vs plain vjp, argument " + std::to_string(a) + " Lq " + std::to_string(lq) +
                         (causal ? " causal" : ""));
      }
    }
  }
}

LUMEN_DEVICE_TEST(Attention, VjpWithMasksAndHalfTypes) {
  Case c;
  c.Hq = 4;
  c.Hkv = 1;
  c.Lq = 6;
  c.Lk = 40;
  c.D = 16;
  uint32_t seed = 900;
  for (Dtype d : {bfloat16, float32}) {
    auto in = make_inputs(c, d, seed += 4);
    auto keep = greater(random_array({c.Lq, c.Lk}, float32, seed + 3), array(-0.3f), s);
    // Row 0 fully masked: its output is the constant 0, so it adds nothing to
    // any gradient (and no NaN). The plain reference lets row 0 see keys and
    // multiplies its output by 0 instead.
    std::vector<uint8_t> k0(c.Lq * c.Lk, 1);
    for (int j = 0; j < c.Lk; ++j) k0[j] = 0;
    auto keep0 = logical_and(keep, array(k0.begin(), {c.Lq, c.Lk}, bool_), s);
    std::vector<double> rows(c.Lq, 1.0);
    rows[0] = 0.0;
    const array row_alive(rows.begin(), {c.Lq, 1}, float64);
    auto additive = random_array({1, c.Hq, c.Lq, c.Lk}, d, seed + 5, -1.0f, 1.0f);
    for (bool is_bool : {true, false}) {
      const array mask = is_bool ? keep0 : additive;
      auto fused = grad(
          [&](const std::vector<array>& xs) {
            return sum(astype(fast::scaled_dot_product_attention(xs[0], xs[1], xs[2], 0.3f,
                                                                 "array", mask, {}, false, s),
                              float32, s),
                       false, s);
          },
          {0, 1, 2})({in.q, in.k, in.v});
      // The same function in float64 ops, bool masks as -inf.
      auto m64 = is_bool
                     ? where(keep, array(0.0), array(-std::numeric_limits<double>::infinity()), s)
                     : astype(additive, float64, s);
      auto plain = grad(
          [&](const std::vector<array>& xs) {
            auto keys_t = swapaxes(repeat(xs[1], c.Hq, 1, s), -1, -2, s);
            auto scores = add(multiply(matmul(xs[0], keys_t, s), array(0.3), s), m64, s);
            auto probs = softmax(scores, std::vector<int>{-1}, true, s);
            auto out = matmul(probs, repeat(xs[2], c.Hq, 1, s), s);
            if (is_bool) out = multiply(out, row_alive, s);
            return sum(out, false, s);
          },
          {0, 1, 2})({astype(in.q, float64, s), astype(in.k, float64, s), astype(in.v, float64, s)});
      const double tol = d == float32 ? 1e-4 : 2e-2;
      for (int a = 0; a < 3; ++a) {
        auto g = to_doubles(fused[a]);
        for (double x : g) ASSERT_FALSE(std::isnan(x));
        expect_close(g, to_doubles(plain[a]), tol, tol,
                     dtype_to_string(d) + " masked vjp, argument " + std::to_string(a));
      }
    }
  }
}

// The tensor-core prefill (GPUs with VK_NV_cooperative_matrix; skipped
// elsewhere): float16 and bfloat16, every head dim it takes, partial query
// and key tiles, causal with L_q != L_k (rows that see nothing included),
// masks, sinks, grouped heads. Its P is float16, inside the output
// tolerances; scores and the lse stay float32.
LUMEN_DEVICE_TEST(Attention, CooperativeMatrixPrefill) {
#ifdef LUMEN_HAS_VULKAN
  if (!on_gpu || !vulkan::attention_uses_cooperative_matrix(s)) {
    GTEST_SKIP() << "the device has no cooperative matrices";
  }
#else
  GTEST_SKIP() << "built without Vulkan";
#endif
  uint32_t seed = 1100;
  for (Dtype d : {float16, bfloat16}) {
    for (int D : {64, 80, 128, 256}) {
      Case c;
      c.B = 2;
      c.Hq = 4;
      c.Hkv = 2;
      c.Lq = 200;
      c.Lk = 333;
      c.D = D;
      auto in = make_inputs(c, d, seed += 3);
      const float scale = 1.0f / std::sqrt(static_cast<float>(D));
      check_attention(in, d, c, scale, "", {}, {}, "coopmat", s);
      check_attention(in, d, c, scale, "causal", {}, {}, "coopmat causal", s);
    }
    Case c;
    c.Hq = 4;
    c.Hkv = 1;
    c.Lq = 150;
    c.Lk = 130;
    c.D = 128;
    auto in = make_inputs(c, d, seed += 3);
    check_attention(in, d, c, 0.09f, "causal", {}, {}, "coopmat causal Lq > Lk", s);
    auto sinks = random_array({c.Hq}, d, seed + 1, -1.0f, 3.0f);
    auto keep = greater(random_array({c.B, c.Hq, c.Lq, c.Lk}, float32, seed + 2), array(-0.5f), s);
    check_attention(in, d, c, 0.09f, "array", keep, sinks, "coopmat bool mask sinks", s);
    auto additive = random_array({c.Lq, c.Lk}, d, seed + 3, -3.0f, 1.0f);
    check_attention(in, d, c, 0.09f, "array", additive, {}, "coopmat additive mask", s);
    // Scores rising along the keys (12.8 per tile of 32 keys): the running max moves by
    // more than e^8 several times, which rescales the lazy variant's output.
    std::vector<float> ramp(c.Lk);
    for (int j = 0; j < c.Lk; ++j) ramp[j] = 0.4f * static_cast<float>(j) - 8.0f;
    check_attention(in, d, c, 0.09f, "array", array(ramp.begin(), {c.Lk}, d), {},
                    "coopmat rising scores", s);
    std::vector<uint8_t> keep1(static_cast<size_t>(c.Lq) * c.Lk, 1);
    for (int j = 0; j < c.Lk; ++j) keep1[static_cast<size_t>(17) * c.Lk + j] = 0;
    check_attention(in, d, c, 0.09f, "array", array(keep1.begin(), {c.Lq, c.Lk}, bool_), {},
                    "coopmat fully masked row", s);
  }
}

#ifdef LUMEN_HAS_VULKAN
// The tensor-core prefill's reading of a fragment layout (runs on any build
// with Vulkan; the layouts are written here, not read from a device).
TEST(Attention, FragmentLayoutReading) {
  // Per invocation 8 entries (row * 16 + column), then the length.
  auto layout = [](auto entry) {
    std::vector<uint32_t> e(32 * 8 + 1);
    for (uint32_t lane = 0; lane < 32; ++lane) {
      for (uint32_t i = 0; i < 8; ++i) e[lane * 8 + i] = entry(lane, i);
    }
    e[256] = 8;
    return e;
  };
  // PTX's m16n8k16 accumulator, two 8-column halves: c0 c1 in row g, c2 c3 in
  // row g + 8, columns 2t, 2t + 1 (+ 8 in the second half).
  auto mma = layout([](uint32_t lane, uint32_t i) {
    uint32_t g = lane / 4, t = lane % 4;
    return (g + (i / 2 % 2) * 8) * 16 + (i / 4) * 8 + 2 * t + i % 2;
  });
  EXPECT_EQ(vulkan::attention_fragment_second_row(mma), std::optional<uint32_t>(0xccu));
  // The same elements, each invocation's first row first.
  auto rows_first = layout([](uint32_t lane, uint32_t i) {
    uint32_t g = lane / 4, t = lane % 4;
    return (g + (i / 4) * 8) * 16 + (i / 2 % 2) * 8 + 2 * t + i % 2;
  });
  EXPECT_EQ(vulkan::attention_fragment_second_row(rows_first), std::optional<uint32_t>(0xf0u));
  // Row-major runs of 8 per invocation: a row is shared by 2 invocations.
  auto runs = layout([](uint32_t lane, uint32_t i) { return lane * 8 + i; });
  EXPECT_FALSE(vulkan::attention_fragment_second_row(runs).has_value());
  // Neighbouring pairs swapped: 2i and 2i + 1 are not in column order.
  auto swapped = layout([&](uint32_t lane, uint32_t i) { return mma[lane * 8 + (i ^ 1u)]; });
  EXPECT_FALSE(vulkan::attention_fragment_second_row(swapped).has_value());
  // One invocation's rows in the other order: the mask is not common.
  auto mixed = mma;
  for (uint32_t i = 0; i < 8; ++i) mixed[5 * 8 + i] = rows_first[5 * 8 + i];
  EXPECT_FALSE(vulkan::attention_fragment_second_row(mixed).has_value());
  auto shorter = mma;
  shorter[256] = 4;
  EXPECT_FALSE(vulkan::attention_fragment_second_row(shorter).has_value());
}
#endif

LUMEN_DEVICE_TEST(Attention, JvpAndVmapRules) {
  Case c;
  c.Hq = 4;
  c.Hkv = 2;
  c.Lq = 5;
  c.Lk = 12;
  c.D = 8;
  auto in = make_inputs(c, float32, 1000);
  auto tq = random_array(in.q.shape(), float32, 1001), tk = random_array(in.k.shape(), float32, 1002),
       tv = random_array(in.v.shape(), float32, 1003);
  auto sinks = random_array({c.Hq}, float32, 1004);
  auto fused = jvp(
      [&](const std::vector<array>& xs) {
        auto [o, l] = fast::scaled_dot_product_attention_with_lse(xs[0], xs[1], xs[2], 0.3f,
                                                                  "causal", {}, sinks, false, s);
        return std::vector<array>{o, l};
      },
      {in.q, in.k, in.v}, {tq, tk, tv});
  auto plain = jvp([&](const std::vector<array>& xs) { return plain_attention({xs[0], xs[1], xs[2]}, 0.3f, true, sinks, s); },
                   {in.q, in.k, in.v}, {tq, tk, tv});
  for (int o = 0; o < 2; ++o) {
    expect_close(to_doubles(fused.second[o]), to_doubles(plain.second[o]), 1e-4, 1e-5,
                 "jvp output " + std::to_string(o));
  }
  // vmap over an axis of q and k (axis 2 of k), and over sinks (the plain composition).
  const int n = 3;
  auto qs = random_array({n, c.B, c.Hq, c.Lq, c.D}, float32, 1005);
  auto ks = random_array({c.B, c.Hkv, n, c.Lk, c.D}, float32, 1006);
  auto ss = random_array({n, c.Hq}, float32, 1007);
  auto mapped = vmap(
      [&](const std::vector<array>& xs) {
        auto [o, l] = fast::scaled_dot_product_attention_with_lse(xs[0], xs[1], xs[2], 0.3f, "", {},
                                                                  xs[3], false, s);
        return std::vector<array>{o, l};
      },
      {0, 2, -1, 0})({qs, ks, in.v, ss});
  for (int i = 0; i < n; ++i) {
    auto qi = squeeze(slice(qs, {i, 0, 0, 0, 0}, {i + 1, c.B, c.Hq, c.Lq, c.D}, s), 0, s);
    auto ki = squeeze(slice(ks, {0, 0, i, 0, 0}, {c.B, c.Hkv, i + 1, c.Lk, c.D}, s), 2, s);
    auto si = squeeze(slice(ss, {i, 0}, {i + 1, c.Hq}, s), 0, s);
    auto ref = reference({qi, ki, in.v}, 0.3f, false, {}, si);
    auto oi = slice(mapped[0], {i, 0, 0, 0, 0}, {i + 1, c.B, c.Hq, c.Lq, c.D}, s);
    auto li = slice(mapped[1], {i, 0, 0, 0}, {i + 1, c.B, c.Hq, c.Lq}, s);
    expect_close(to_doubles(oi), ref.out, 1e-4, 1e-5, "vmap out " + std::to_string(i));
    expect_close(to_doubles(li), ref.lse, 1e-4, 1e-5, "vmap lse " + std::to_string(i));
  }
}

// Long causal prefills: 8K keys on the CPU and on GPUs without tensor cores
// (lavapipe: head dim 16, the portable kernel), 32K on GPUs with them (the
// H100: bfloat16, head dim 128, the flash kernel). The [L, L] score matrix
// (256 MiB at 8K, 4 GiB at 32K in float32) never exists: the peak stays a
// few copies of one [L, D] tensor. Rows across the sequence are checked
// against float64 loops over host copies.
LUMEN_DEVICE_TEST(Attention, LongCausalPrefillMemoryIsLinear) {
  bool tensor_cores = false;
#ifdef LUMEN_HAS_VULKAN
  tensor_cores = on_gpu && vulkan::attention_uses_cooperative_matrix(s);
#endif
  const int L = tensor_cores ? 32768 : 8192, D = tensor_cores ? 128 : (on_gpu ? 16 : 64);
  const Dtype dt = tensor_cores ? bfloat16 : float32;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  auto q = random_array({1, 1, L, D}, dt, 1100);
  auto k = random_array({1, 1, L, D}, dt, 1101);
  auto v = random_array({1, 1, L, D}, dt, 1102);
  eval(q, k, v);
  synchronize(s);
  const size_t base = get_active_memory();
  reset_peak_memory();
  auto out = fast::scaled_dot_product_attention(q, k, v, scale, "causal", {}, {}, false, s);
  eval(out);
  synchronize(s);
  const size_t peak = get_peak_memory() - base;
  const size_t io = size_t(L) * D * size_of(dt);  // one [L, D] tensor
  // the output, copies of the inputs for the device, the tensor-core kernel's
  // float16 copies of K and V, and some slack; far below L^2
  EXPECT_LE(peak, 6 * io + (size_t(4) << 20)) << "peak " << peak;
  // Rows against the reference, from host copies (query `row` sees keys 0..row).
  const auto hq = to_doubles(q), hk = to_doubles(k), hv = to_doubles(v), ho = to_doubles(out);
  for (int row : {0, 1000, L / 2 + 3, L - 1}) {
    std::vector<double> scores(row + 1), want(D, 0.0), got(ho.begin() + int64_t(row) * D,
                                                          ho.begin() + int64_t(row + 1) * D);
    double mx = -kInf, z = 0;
    for (int j = 0; j <= row; ++j) {
      double dot = 0;
      for (int d = 0; d < D; ++d) dot += hq[int64_t(row) * D + d] * hk[int64_t(j) * D + d];
      scores[j] = scale * dot;
      mx = std::max(mx, scores[j]);
    }
    for (int j = 0; j <= row; ++j) z += std::exp(scores[j] - mx);
    for (int j = 0; j <= row; ++j) {
      for (int d = 0; d < D; ++d) want[d] += std::exp(scores[j] - mx) / z * hv[int64_t(j) * D + d];
    }
    // bfloat16 output: its rounding (2^-9 relative) and float16 P in the kernel.
    if (dt == bfloat16) expect_close(got, want, 1e-2, 2e-4, "row " + std::to_string(row));
    else expect_close(got, want, 1e-4, 1e-6, "row " + std::to_string(row));
  }
}
