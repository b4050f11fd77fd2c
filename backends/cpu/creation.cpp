// CPU kernels of the creation primitives: Arange and Full.
#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "backends/cpu/math.h"
#include "lumen/backend.h"
#include "lumen/creation_primitives.h"

namespace lumen::cpu {

namespace {

// As MLX's CPU kernel, for bit-identical values: the step is the difference
// of start and start + step after conversion to T (in float for halves), and
// the values accumulate it one after another in T.
template <typename T>
void fill_arange(T* dst, int64_t n, double start, double step) {
  using C = compute_t<T>;
  T value = detail::convert_scalar<T>(start);
  T next = detail::convert_scalar<T>(start + step);
  if constexpr (std::is_integral_v<T>) {
    T delta = wrapping_sub(next, value);  // modular, so wrapping adds walk down too
    for (int64_t i = 0; i < n; ++i, value = wrapping_add(value, delta)) dst[i] = value;
  } else {
    C delta = static_cast<C>(next) - static_cast<C>(value);
    for (int64_t i = 0; i < n; ++i, value = static_cast<T>(static_cast<C>(value) + delta)) {
      dst[i] = value;
    }
  }
}

void arange_kernel(const Primitive& p, const std::vector<array>&, std::vector<array>& outputs) {
  auto& prim = static_cast<const Arange&>(p);
  array& out = outputs[0];
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  dispatch_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      detail::throw_invalid("[Arange] bool not supported for arange");
    } else {
      fill_arange(out.data<T>(), static_cast<int64_t>(out.size()), prim.start(), prim.step());
    }
  });
}

template <typename T>
struct Identity {
  T operator()(T x) const { return x; }
};

void full_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  RunKernel kernel = dispatch_dtype(out.dtype(), [](auto tag) -> RunKernel {
    using T = decltype(tag);
    return &unary_run<T, T, Identity<T>>;
  });
  alloc_elementwise_output(inputs, out);
  run_elementwise(inputs, out, kernel);
}

LUMEN_REGISTER_KERNEL(Device::cpu, Arange, arange_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Full, full_kernel);

}  // namespace
}  // namespace lumen::cpu
