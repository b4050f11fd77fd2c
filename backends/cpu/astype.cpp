// CPU kernel of AsType: every pair of dtypes, rounding to nearest even into
// float16/bfloat16.
#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "lumen/backend.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::cpu {

namespace {

void astype_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  alloc_elementwise_output(inputs, out);
  dispatch_dtype(inputs[0].dtype(), [&](auto tin) {
    using In = decltype(tin);
    dispatch_dtype(out.dtype(), [&](auto tout) {
      using Out = decltype(tout);
      elementwise_loop<Out, In>(inputs, out, [](In x) { return detail::convert_scalar<Out, In>(x); });
    });
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, AsType, astype_kernel);

}  // namespace
}  // namespace lumen::cpu
