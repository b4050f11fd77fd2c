// CPU kernels of Binary (every BinaryOp for every dtype it allows), DivMod
// and Select.
#include "backends/cpu/binary.h"

#include "backends/cpu/elementwise.h"
#include "backends/cpu/run_kernels.h"
#include "lumen/backend.h"

namespace lumen::cpu {

namespace {

template <BinaryOp Op>
RunKernel typed_kernel(Dtype t) {
  return dispatch_dtype(t, [](auto tag) -> RunKernel {
    using T = decltype(tag);
    if constexpr (!dtype_in(dtype_v<T>, accepted_dtypes(Op))) {
      return nullptr;
    } else if constexpr (is_comparison(Op)) {
      return &binary_run<bool, T, Lift<BinaryFn<Op>, T>>;
    } else {
      return &binary_run<T, T, Lift<BinaryFn<Op>, T>>;
    }
  });
}

RunKernel binary_kernel_for(BinaryOp op, Dtype t) {
  switch (op) {
#define LUMEN_KERNEL_CASE(name, set) \
  case BinaryOp::name:               \
    return typed_kernel<BinaryOp::name>(t);
    LUMEN_BINARY_OPS(LUMEN_KERNEL_CASE)
#undef LUMEN_KERNEL_CASE
  }
  return nullptr;
}

void binary_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  auto op = static_cast<const Binary&>(p).op();
  Dtype t = inputs[0].dtype();
  RunKernel kernel = binary_kernel_for(op, t);
  if (!kernel) {
    detail::throw_invalid("[{}] no CPU kernel for dtype {}", op_name(op), dtype_to_string(t));
  }
  array& out = outputs[0];
  alloc_elementwise_output(inputs, out);
  run_elementwise(inputs, out, kernel);
}

template <typename T>
void divmod_run(const Run& r) {
  using C = compute_t<T>;
  T* q = reinterpret_cast<T*>(r.out[0]);
  T* m = reinterpret_cast<T*>(r.out[1]);
  const T* a = reinterpret_cast<const T*>(r.in[0]);
  const T* b = reinterpret_cast<const T*>(r.in[1]);
  for (int64_t i = 0; i < r.count; ++i) {
    auto [qi, mi] = divmod_of<C>(static_cast<C>(a[i * r.stride[0]]), static_cast<C>(b[i * r.stride[1]]));
    q[i] = static_cast<T>(qi);
    m[i] = static_cast<T>(mi);
  }
}

void divmod_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  Dtype t = inputs[0].dtype();
  RunKernel kernel = dispatch_dtype(t, [](auto tag) -> RunKernel {
    using T = decltype(tag);
    if constexpr (is_complex_v<T>) return nullptr;
    else return &divmod_run<T>;
  });
  if (!kernel) detail::throw_invalid("[DivMod] no CPU kernel for dtype {}", dtype_to_string(t));
  alloc_elementwise_outputs(inputs, {&outputs[0], &outputs[1]});
  run_elementwise(inputs, {&outputs[0], &outputs[1]}, kernel);
}

// out[i] = c[i] ? x[i] : y[i]
template <typename T>
void select_run(const Run& r) {
  T* o = reinterpret_cast<T*>(r.out[0]);
  const bool* c = reinterpret_cast<const bool*>(r.in[0]);
  const T* x = reinterpret_cast<const T*>(r.in[1]);
  const T* y = reinterpret_cast<const T*>(r.in[2]);
  const int64_t n = r.count, sc = r.stride[0], sx = r.stride[1], sy = r.stride[2];
  if (sc == 1 && sx == 1 && sy == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : y[i];
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = c[i * sc] ? x[i * sx] : y[i * sy];
  }
}

void select_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  alloc_elementwise_output(inputs, out);
  run_elementwise(inputs, out, select_run_kernel(out.dtype()));
}

LUMEN_REGISTER_KERNEL(Device::cpu, Binary, binary_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, DivMod, divmod_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Select, select_kernel);

}  // namespace

RunKernel binary_run_kernel(BinaryOp op, Dtype t) { return binary_kernel_for(op, t); }

RunKernel select_run_kernel(Dtype t) {
  return dispatch_dtype(t, [](auto tag) -> RunKernel { return &select_run<decltype(tag)>; });
}

}  // namespace lumen::cpu
