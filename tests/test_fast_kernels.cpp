// fast::rms_norm, layer_norm and rope kernels on the layouts they accept:
// rows longer than a workgroup, x transposed or broadcast (views made on the
// CPU, so they reach the device's kernel as views), strided weights, per-batch
// offsets and explicit frequencies.
#include <lumen/fast.h>

#include "fast_reference.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

const Device host = Device::cpu;
const std::vector<Dtype> kKernelTypes = {float16, bfloat16, float32};

}  // namespace

LUMEN_DEVICE_SUITE(FastKernels);

LUMEN_DEVICE_TEST(FastKernels, NormsOfLongAndStridedRows) {
  uint32_t seed = 1;
  for (Dtype d : kKernelTypes) {
    const int D = 1000;  // several elements per invocation
    auto x = random_array({37, D}, d, seed++, -2.0f, 3.0f);
    auto xt = transpose(random_array({D, 5}, d, seed++, -2.0f, 3.0f), {1, 0}, host);  // [5, D]
    auto xb = broadcast_to(random_array({1, 1, D}, d, seed++), {2, 3, D}, host);
    auto w = slice(random_array({2 * D}, d, seed++), {0}, {2 * D}, {2}, host);
    auto b = random_array({D}, d, seed++);
    auto tol = rounded_once_tol(d, D);
    for (const array& in : {x, xt, xb}) {
      auto xv = to_doubles(in);
      std::string what = dtype_to_string(d) + " rows of " + std::to_string(in.size() / D);
      expect_close(to_doubles(fast::rms_norm(in, w, 1e-5f, s)), ref_rms_norm(xv, D, to_doubles(w), 1e-5f),
                   tol.rtol, tol.atol, "rms_norm " + what);
      expect_close(to_doubles(fast::layer_norm(in, w, b, 1e-5f, s)),
                   ref_layer_norm(xv, D, to_doubles(w), to_doubles(b), 1e-5f), tol.rtol, tol.atol,
                   "layer_norm " + what);
    }
  }
}

LUMEN_DEVICE_TEST(FastKernels, RopeOfStridedInputs) {
  uint32_t seed = 100;
  for (Dtype d : kKernelTypes) {
    auto tol = rope_tol(d);
    // [B, T, H, D] seen as [B, H, T, D]: heads and time transposed
    auto x = swapaxes(random_array({3, 9, 4, 24}, d, seed++), 1, 2, host);
    std::vector<int> offs = {0, 5, 60};
    for (bool traditional : {false, true}) {
      RopeArgs r{16, traditional, 10000.0, {}, 0.5, {0, 5, 60}};
      auto out = fast::rope(x, 16, traditional, 10000.0f, 0.5f, array(offs.begin(), {3}, int32), std::nullopt, s);
      expect_close(to_doubles(out), ref_rope(to_doubles(x), x.shape(), r), tol.rtol, tol.atol,
                   dtype_to_string(d) + (traditional ? " traditional" : " halves"));
    }
    // the feature axis strided, explicit frequencies
    auto xs = transpose(random_array({2, 3, 12, 7}, d, seed++), {0, 1, 3, 2}, host);  // [2, 3, 7, 12]
    std::vector<float> fv = {1.0f, 2.5f, 8.0f, 30.0f};
    RopeArgs r{8, false, 0.0, {1.0, 2.5, 8.0, 30.0}, 1.0, {4}};
    auto out = fast::rope(xs, 8, false, std::nullopt, 1.0f, 4, array(fv.begin(), {4}), s);
    expect_close(to_doubles(out), ref_rope(to_doubles(xs), xs.shape(), r), tol.rtol, tol.atol,
                 dtype_to_string(d) + " strided features, freqs");
  }
}
