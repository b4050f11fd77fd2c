// Vulkan kernel of DivMod. Integers: shaders/divmod.comp writes both
// outputs in one pass over dense inputs (strided or broadcast ones are made
// dense first). bool and floats reuse the elementwise kernels, several
// passes: the remainder is Binary Remainder (the CPU's divmod remainder:
// fmod moved into the divisor's sign; false for bool), the quotient
//   bool: a && b (Binary Divide's bool rule);
//   floats: floor(a / b), computed in float32 for float16/bfloat16 as the CPU
//     does, then rounded to the dtype.
#include <typeindex>

#include "backends/vulkan/kernels/copy.h"
#include "backends/vulkan/shaders/ids.h"
#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::vulkan {

namespace {

// `out` computed by the GPU kernel of `prim` from `inputs`.
void run(const Primitive& prim, std::vector<array> inputs, array& out) {
  const Kernel* kernel = backend::find_kernel(Device::gpu, std::type_index(typeid(prim)));
  std::vector<array> outs{out};
  (*kernel)(prim, inputs, outs);
}

array temp(const array& like, Dtype d) { return array(like.shape(), d, nullptr, {}); }

array dense(KernelContext& k, const array& a) {
  if (a.flags().row_contiguous) return a;
  array out = temp(a, a.dtype());
  copy_contiguous(k, a, out);
  return out;
}

struct DivModPush {
  uint64_t quotient;
  uint64_t remainder;
  uint64_t a;
  uint64_t b;
  uint64_t n;
};

void integer_divmod(const Primitive& p, const array& a_in, const array& b_in, array& q, array& r) {
  KernelContext k(p);
  array a = dense(k, a_in), b = dense(k, b_in);
  k.allocate(q);
  k.allocate(r);
  DivModPush push{address_of(q), address_of(r), address_of(a), address_of(b), q.size()};
  k.dispatch("divmod", {0, 0, 0, 0, 0, 0, 0, 0, dtype_id(a.dtype())}, &push, sizeof(push), q.size(), {&a, &b},
             {&q, &r});
}

void divmod_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const Stream s = p.stream();
  // Handles of our own: the passes must not donate the inputs' buffers,
  // which later passes read.
  const array a = inputs[0], b = inputs[1];
  array& q = outputs[0];
  array& r = outputs[1];
  const Dtype d = a.dtype();
  if (d == complex64) detail::throw_invalid("[DivMod] no GPU kernel for dtype {}", dtype_to_string(d));
  if (d != bool_ && issubdtype(d, integer)) {
    integer_divmod(p, a, b, q, r);
    return;
  }
  run(Binary(s, BinaryOp::Remainder), {a, b}, r);
  if (d == bool_) {
    run(Binary(s, BinaryOp::Divide), {a, b}, q);
  } else if (d == float16 || d == bfloat16) {
    array a32 = temp(a, float32), b32 = temp(b, float32), quot = temp(a, float32), floored = temp(a, float32);
    run(AsType(s, float32), {a}, a32);
    run(AsType(s, float32), {b}, b32);
    run(Binary(s, BinaryOp::Divide), {a32, b32}, quot);
    run(Unary(s, UnaryOp::Floor), {quot}, floored);
    run(AsType(s, d), {floored}, q);
  } else {
    array quot = temp(a, d);
    run(Binary(s, BinaryOp::Divide), {a, b}, quot);
    run(Unary(s, UnaryOp::Floor), {quot}, q);
  }
}

LUMEN_REGISTER_KERNEL(Device::gpu, DivMod, divmod_kernel);

}  // namespace
}  // namespace lumen::vulkan
