// CPU kernel of AsType: every pair of dtypes (detail::convert_scalar).
#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "backends/cpu/math.h"
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

template <typename T>
struct ToFP8 {
  uint8_t operator()(T x) const { return float_to_fp8(static_cast<float>(x)); }
};
template <typename T>
struct FromFP8 {
  T operator()(uint8_t x) const { return static_cast<T>(fp8_to_float(x)); }
};

void fp8_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  bool to = static_cast<const ConvertFP8&>(p).to_fp8();
  array& out = outputs[0];
  Dtype t = to ? inputs[0].dtype() : out.dtype();
  RunKernel kernel = dispatch_dtype(t, [to](auto tag) -> RunKernel {
    using T = decltype(tag);
    if constexpr (!std::is_floating_point_v<T> && !is_half_v<T>) {
      return nullptr;
    } else if (to) {
      return &unary_run<uint8_t, T, ToFP8<T>>;
    } else {
      return &unary_run<T, uint8_t, FromFP8<T>>;
    }
  });
  if (!kernel) detail::throw_invalid("[ConvertFP8] no CPU kernel for dtype {}", dtype_to_string(t));
  alloc_elementwise_output(inputs, out);
  run_elementwise(inputs, out, kernel);
}

LUMEN_REGISTER_KERNEL(Device::cpu, AsType, astype_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, ConvertFP8, fp8_kernel);

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
