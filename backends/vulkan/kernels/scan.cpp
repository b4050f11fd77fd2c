// Vulkan kernel of Scan (cumsum, cumprod, cummax, cummin, logcumsumexp):
// a workgroup per line with a workgroup scan, or a thread per line when
// lines are many and either neighbours in memory or short. See
// shaders/scan.glsl.
#include "backends/cpu/reduce_layout.h"
#include "backends/vulkan/kernels/reduce_common.h"
#include "lumen/backend.h"
#include "lumen/scan_primitives.h"

namespace lumen::vulkan {

namespace {

// Push constants of shaders/scan.glsl.
struct ScanPush {
  uint64_t in_addr;
  uint64_t out_addr;
  uint64_t lines;
  uint64_t n;
  int64_t in_stride;
  uint64_t inner;
  uint64_t table;
  uint32_t kd;
  uint32_t spread;
  uint32_t reverse;
  uint32_t inclusive;
};

// Lines a thread-per-line pass needs to keep the device busy, and the
// length below which contiguous lines go a thread each too.
constexpr int64_t kThreadLines = 4096;
constexpr int64_t kShortLine = 64;

uint32_t scan_op_id(Scan::ReduceType t) {
  switch (t) {
    case Scan::Max: return RED_MAX;
    case Scan::Min: return RED_MIN;
    case Scan::Sum: return RED_SUM;
    case Scan::Prod: return RED_PROD;
    case Scan::LogAddExp: return RED_LOGADDEXP;
  }
  return RED_SUM;
}

void scan_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const Scan&>(p);
  KernelContext k(p);
  const array& in = inputs[0];
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;
  int axis = prim.axis();
  auto l = cpu::make_reduce_layout(in, {axis});
  ScanPush push{};
  set_lines(push, k, in, out, axis, l);

  bool per_thread = l.n_out >= kThreadLines && (push.inner > 1 || in.shape(axis) <= kShortLine);
  uint32_t op = scan_op_id(prim.reduce_type());
  push.spread = per_thread ? SPREAD_THREAD : SPREAD_GROUP;
  push.reverse = prim.reverse();
  push.inclusive = prim.inclusive();
  Constants constants(11, 0);
  constants[8] = op;
  constants[9] = dtype_id(in.dtype());
  constants[10] = dtype_id(out.dtype());
  std::string module = op == RED_LOGADDEXP ? std::string("scan_logaddexp_") + compute_class(in.dtype())
                                           : class_module(k, "scan", in.dtype(), true);
  uint64_t threads = per_thread ? push.lines : push.lines * REDUCE_WG;
  k.dispatch(module.c_str(), std::move(constants), &push, sizeof(push), threads, {&in}, {&out});
}

LUMEN_REGISTER_KERNEL(Device::gpu, Scan, scan_kernel);

}  // namespace
}  // namespace lumen::vulkan
