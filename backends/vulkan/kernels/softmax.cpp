// Vulkan kernels of Softmax and LogSumExp over the last axis: a workgroup
// per row (shaders/softmax.glsl), the row held in registers when it fits.
// float16/bfloat16 compute in float32 whatever Softmax's `precise` says, as
// on the CPU.
#include <bit>

#include "backends/cpu/reduce_layout.h"
#include "backends/vulkan/kernels/reduce_common.h"
#include "lumen/backend.h"
#include "lumen/reduction_primitives.h"

namespace lumen::vulkan {

namespace {

// Push constants of shaders/softmax.glsl.
struct SoftmaxPush {
  uint64_t in_addr;
  uint64_t out_addr;
  uint64_t rows;
  uint64_t n;
  int64_t stride;
  uint64_t table;
  uint32_t kd;
  uint32_t logsumexp;
};

// Most 16-byte chunks a thread holds in registers (the shader's MAX_CACHED).
constexpr int64_t kMaxCachedChunks = 8;

void run_rows(const Primitive& p, bool logsumexp, const std::vector<array>& inputs, array& out) {
  KernelContext k(p);
  const array& in = inputs[0];
  if (logsumexp) k.allocate(out);
  else k.allocate_elementwise(inputs, out);  // a row is read whole before it is written
  if (out.size() == 0) return;
  int axis = static_cast<int>(in.ndim()) - 1;
  auto l = cpu::make_reduce_layout(in, {axis});
  SoftmaxPush push{};
  push.in_addr = address_of(in);
  push.out_addr = address_of(out);
  push.rows = static_cast<uint64_t>(l.n_out);
  push.n = static_cast<uint64_t>(in.shape(axis));
  push.stride = in.strides(axis);
  std::vector<int64_t> table(l.kshape.begin(), l.kshape.end());
  table.insert(table.end(), l.kstride.begin(), l.kstride.end());
  push.table = upload_table(k, table);
  push.kd = static_cast<uint32_t>(l.kshape.size());

  int64_t vec = 16 / static_cast<int64_t>(in.itemsize());
  int64_t chunks = ceil_div(ceil_div(in.shape(axis), vec), REDUCE_WG);
  uint32_t cached = chunks <= kMaxCachedChunks ? std::bit_ceil(static_cast<uint32_t>(chunks)) : 0;
  Constants constants(11, 0);
  push.logsumexp = logsumexp;
  constants[9] = dtype_id(in.dtype());
  constants[10] = cached;
  std::string module = class_module(k, "softmax", in.dtype(), true);
  k.dispatch(module.c_str(), std::move(constants), &push, sizeof(push), push.rows * REDUCE_WG, {&in}, {&out});
}

void logsumexp_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  run_rows(p, true, inputs, outputs[0]);
}

void softmax_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  run_rows(p, false, inputs, outputs[0]);
}

LUMEN_REGISTER_KERNEL(Device::gpu, LogSumExp, logsumexp_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Softmax, softmax_kernel);

}  // namespace
}  // namespace lumen::vulkan
