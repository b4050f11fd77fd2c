// Vulkan kernel of ArgReduce (argmax, argmin along one axis): a workgroup
// per output, or a thread per output when outputs are neighbours in memory
// and plentiful, or the axis is short. See shaders/arg_reduce.glsl.
#include "backends/cpu/reduce_layout.h"
#include "backends/vulkan/kernels/reduce_common.h"
#include "lumen/backend.h"
#include "lumen/reduction_primitives.h"

namespace lumen::vulkan {

namespace {

// Push constants of shaders/arg_reduce.glsl.
struct ArgReducePush {
  uint64_t in_addr;
  uint64_t out_addr;
  uint64_t outputs;
  uint64_t n;
  int64_t stride;
  uint64_t table;
  uint32_t kd;
  uint32_t spread;
};

// Outputs a thread-per-output pass needs to keep the device busy.
constexpr int64_t kThreadOutputs = 1024;
constexpr int64_t kShortAxis = 32;

void arg_reduce_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const ArgReduce&>(p);
  KernelContext k(p);
  const array& in = inputs[0];
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;
  auto l = cpu::make_reduce_layout(in, {prim.axis()});
  ArgReducePush push{};
  push.in_addr = address_of(in);
  push.out_addr = address_of(out);
  push.outputs = static_cast<uint64_t>(l.n_out);
  push.n = static_cast<uint64_t>(in.shape(prim.axis()));
  push.stride = in.strides(prim.axis());
  std::vector<int64_t> table(l.kshape.begin(), l.kshape.end());
  table.insert(table.end(), l.kstride.begin(), l.kstride.end());
  push.table = upload_table(k, table);
  push.kd = static_cast<uint32_t>(l.kshape.size());

  bool columns = l.kstride.back() == 1 && l.kshape.back() > 1 && push.stride != 1;
  bool per_thread = static_cast<int64_t>(push.n) <= kShortAxis || (columns && l.n_out >= kThreadOutputs);
  push.spread = per_thread ? SPREAD_THREAD : SPREAD_GROUP;
  Constants constants(10, 0);
  constants[8] = prim.reduce_type() == ArgReduce::ArgMax;
  constants[9] = dtype_id(in.dtype());
  uint64_t threads = per_thread ? push.outputs : push.outputs * REDUCE_WG;
  std::string module = class_module(k, "arg_reduce", in.dtype(), false);
  k.dispatch(module.c_str(), std::move(constants), &push, sizeof(push), threads, {&in}, {&out});
}

LUMEN_REGISTER_KERNEL(Device::gpu, ArgReduce, arg_reduce_kernel);

}  // namespace
}  // namespace lumen::vulkan
