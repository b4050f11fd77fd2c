// Vulkan kernels of the fast primitives: RMSNorm and LayerNorm
// (shaders/norm.comp, one row per workgroup) and RoPE (shaders/rope.comp,
// one feature pair per invocation). x is read through its strides; the
// output is row-contiguous and may take x's buffer when x is dying.
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "backends/cpu/strided.h"
#include "backends/vulkan/kernels/launch.h"
#include "core/detail/errors.h"
#include "lumen/fast_primitives.h"

namespace lumen::vulkan {

namespace {

// The rows of x (every dim but the last), collapsed, as the table
// shaders/rows.glsl reads; returns its address and sets ndim.
uint64_t upload_rows(KernelContext& k, const array& x, uint32_t& ndim) {
  const Shape shape(x.shape().begin(), x.shape().end() - 1);
  const Strides strides(x.strides().begin(), x.strides().end() - 1);
  auto layout = cpu::collapse<1>(shape, {&strides});
  std::vector<int64_t> table = layout.shape;
  table.insert(table.end(), layout.strides[0].begin(), layout.strides[0].end());
  ndim = static_cast<uint32_t>(layout.shape.size());
  return k.stream().upload(table.data(), table.size() * sizeof(int64_t));
}

void check_float_dtype(const char* op, Dtype dt) {
  if (dt != float32 && dt != float16 && dt != bfloat16) {
    detail::throw_invalid("[{}] no GPU kernel for dtype {}", op, dtype_to_string(dt));
  }
}

// Stride of a per-feature vector: 0 for a scalar.
int64_t feature_step(const array& v) { return v.ndim() == 0 ? 0 : v.strides(0); }

// Push constants of shaders/norm.comp.
struct NormPush {
  uint64_t x, w, b, out, table;
  int64_t x_step, w_step, b_step;
  uint64_t rows;
  uint32_t D, ndim;
  float eps;
  uint32_t pad;
};

void norm(const Primitive& p, const char* op, const std::vector<array>& inputs, array& out, float eps,
          bool layer) {
  KernelContext k(p);
  const array& x = inputs[0];
  check_float_dtype(op, out.dtype());
  k.allocate_elementwise({x}, out);  // a row is read before any of it is written
  if (out.size() == 0) return;
  NormPush push{};
  push.x = address_of(x);
  push.w = address_of(inputs[1]);
  push.b = layer ? address_of(inputs[2]) : push.w;
  push.out = address_of(out);
  push.table = upload_rows(k, x, push.ndim);
  push.x_step = x.strides(-1);
  push.w_step = feature_step(inputs[1]);
  push.b_step = layer ? feature_step(inputs[2]) : 0;
  push.D = static_cast<uint32_t>(x.shape(-1));
  push.rows = x.size() / push.D;
  push.eps = eps;
  Constants constants(3, 0);
  constants[1] = dtype_id(out.dtype());
  constants[2] = layer;
  const array& b = layer ? inputs[2] : inputs[1];
  k.dispatch("norm", std::move(constants), &push, sizeof(push), push.rows * KernelContext::kWorkgroupSize,
             {&x, &inputs[1], &b}, {&out});
}

void rms_norm_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  norm(p, "RMSNorm", inputs, outputs[0], static_cast<const fast::RMSNorm&>(p).eps(), false);
}

void layer_norm_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  norm(p, "LayerNorm", inputs, outputs[0], static_cast<const fast::LayerNorm&>(p).eps(), true);
}

// Push constants of shaders/rope.comp.
struct RopePush {
  uint64_t x, offset, freqs, out, table;
  int64_t x_step, offset_step, freqs_step;
  uint64_t rows;
  uint32_t D, ndim, T, rows_per_batch, half_dims;
  float log_step, scale;
  uint32_t pad;
};

void rope_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const fast::RoPE&>(p);
  KernelContext k(p);
  const array& x = inputs[0];
  const array& offset = inputs[1];
  array& out = outputs[0];
  check_float_dtype("RoPE", out.dtype());
  k.allocate_elementwise({x}, out);  // each pair is read before it is written
  if (out.size() == 0) return;
  const bool has_freqs = inputs.size() == 3;
  RopePush push{};
  push.x = address_of(x);
  push.offset = address_of(offset);
  push.freqs = has_freqs ? address_of(inputs[2]) : push.offset;
  push.out = address_of(out);
  push.table = upload_rows(k, x, push.ndim);
  push.x_step = x.strides(-1);
  push.offset_step = offset.size() == 1 ? 0 : offset.strides(0);
  push.freqs_step = has_freqs ? inputs[2].strides(0) : 0;
  push.D = static_cast<uint32_t>(x.shape(-1));
  push.rows = x.size() / push.D;
  push.T = static_cast<uint32_t>(x.shape(-2));
  push.rows_per_batch = static_cast<uint32_t>(push.rows / static_cast<uint64_t>(x.shape(0)));
  push.half_dims = static_cast<uint32_t>(prim.dims() / 2);
  // As the CPU kernel: log(base) / half in float32.
  push.log_step = std::log(prim.base()) / static_cast<float>(push.half_dims);
  push.scale = prim.scale();
  Constants constants(6, 0);
  constants[1] = dtype_id(out.dtype());
  constants[2] = prim.traditional();
  constants[3] = prim.forward();
  constants[4] = has_freqs;
  constants[5] = offset.dtype() == uint32;
  const uint64_t items = push.half_dims + (push.D - 2 * push.half_dims);
  const array& freqs = has_freqs ? inputs[2] : offset;
  k.dispatch("rope", std::move(constants), &push, sizeof(push), push.rows * items, {&x, &offset, &freqs},
             {&out});
}

LUMEN_REGISTER_KERNEL(Device::gpu, fast::RMSNorm, rms_norm_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, fast::LayerNorm, layer_norm_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, fast::RoPE, rope_kernel);

}  // namespace
}  // namespace lumen::vulkan
