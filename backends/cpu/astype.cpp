// CPU kernel of AsType: every pair of dtypes (detail::convert_scalar).
#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "backends/cpu/run_kernels.h"
#include "lumen/backend.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::cpu {

namespace {

template <typename Out, typename In>
struct Convert {
  Out operator()(In x) const { return detail::convert_scalar<Out, In>(x); }
};

void astype_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  alloc_elementwise_output(inputs, out);
  run_elementwise(inputs, out, astype_run_kernel(inputs[0].dtype(), out.dtype()));
}

LUMEN_REGISTER_KERNEL(Device::cpu, AsType, astype_kernel);

}  // namespace

RunKernel astype_run_kernel(Dtype from, Dtype to) {
  return dispatch_dtype(from, [&](auto in_tag) {
    using In = decltype(in_tag);
    return dispatch_dtype(to, [](auto out_tag) -> RunKernel {
      using Out = decltype(out_tag);
      return &unary_run<Out, In, Convert<Out, In>>;
    });
  });
}

}  // namespace lumen::cpu
