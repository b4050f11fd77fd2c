// Vulkan kernel of ConvertFP8 (to_fp8 / from_fp8, E4M3): shaders/fp8.comp
// over dense arrays; a strided input is made dense first.
#include "backends/vulkan/kernels/copy.h"
#include "backends/vulkan/shaders/ids.h"
#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::vulkan {

namespace {

struct Fp8Push {
  uint64_t out;
  uint64_t in;
  uint64_t n;
};

void fp8_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  bool to = static_cast<const ConvertFP8&>(p).to_fp8();
  array in = inputs[0];
  array& out = outputs[0];
  Dtype d = to ? in.dtype() : out.dtype();
  if (!issubdtype(d, floating)) {
    detail::throw_invalid("[ConvertFP8] no GPU kernel for dtype {}", dtype_to_string(d));
  }
  if (!in.flags().row_contiguous) {
    array dense(in.shape(), in.dtype(), nullptr, {});
    copy_contiguous(k, in, dense);
    in = dense;
  }
  k.allocate_elementwise({in}, out);
  Fp8Push push{address_of(out), address_of(in), out.size()};
  k.dispatch(d == float64 ? "fp8_double" : "fp8", {0, 0, 0, 0, 0, 0, 0, 0, dtype_id(d), to ? 1u : 0u}, &push,
             sizeof(push), out.size(), {&in}, {&out});
}

LUMEN_REGISTER_KERNEL(Device::gpu, ConvertFP8, fp8_kernel);

}  // namespace
}  // namespace lumen::vulkan
