// CPU kernel of the Unary primitive: every UnaryOp for every dtype it allows.
#include "backends/cpu/unary.h"

#include "backends/cpu/elementwise.h"
#include "backends/cpu/run_kernels.h"
#include "lumen/backend.h"

namespace lumen::cpu {

namespace {

template <UnaryOp Op>
RunKernel typed_kernel(Dtype t) {
  return dispatch_dtype(t, [](auto tag) -> RunKernel {
    using T = decltype(tag);
    if constexpr (!dtype_in(dtype_v<T>, accepted_dtypes(Op))) {
      return nullptr;
    } else if constexpr (Op == UnaryOp::Real || Op == UnaryOp::Imag) {
      return &unary_run<float, T, UnaryFn<Op>>;
    } else {
      return &unary_run<T, T, Lift<UnaryFn<Op>, T>>;
    }
  });
}

RunKernel unary_kernel_for(UnaryOp op, Dtype t) {
  switch (op) {
#define LUMEN_KERNEL_CASE(name, set) \
  case UnaryOp::name:                \
    return typed_kernel<UnaryOp::name>(t);
    LUMEN_UNARY_OPS(LUMEN_KERNEL_CASE)
#undef LUMEN_KERNEL_CASE
  }
  return nullptr;
}

// Ops that return their input unchanged for this dtype share its buffer.
bool is_identity(UnaryOp op, Dtype t) {
  switch (op) {
    case UnaryOp::Abs: return t == bool_ || issubdtype(t, unsignedinteger);
    case UnaryOp::Ceil:
    case UnaryOp::Floor:
    case UnaryOp::Round: return !issubdtype(t, inexact);
    case UnaryOp::Sign: return t == bool_;
    case UnaryOp::StopGradient: return true;
    default: return false;
  }
}

void unary_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  auto op = static_cast<const Unary&>(p).op();
  const array& in = inputs[0];
  array& out = outputs[0];
  if (is_identity(op, in.dtype())) {
    out.copy_shared_buffer(in);
    return;
  }
  RunKernel kernel = unary_kernel_for(op, in.dtype());
  if (!kernel) {
    detail::throw_invalid("[{}] no CPU kernel for dtype {}", op_name(op), dtype_to_string(in.dtype()));
  }
  alloc_elementwise_output(inputs, out);
  run_elementwise(inputs, out, kernel);
}

LUMEN_REGISTER_KERNEL(Device::cpu, Unary, unary_kernel);

}  // namespace

RunKernel unary_run_kernel(UnaryOp op, Dtype t) { return unary_kernel_for(op, t); }

}  // namespace lumen::cpu
