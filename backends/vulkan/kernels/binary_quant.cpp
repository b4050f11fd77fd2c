// GPU kernels of BinaryQuantize and BinaryDequantize.
//
// BinaryQuantize runs once per weight matrix, at load time, and its
// clustering is a short sequential loop over a histogram of at most 2^16
// sign patterns (backends/cpu/binary_quant.cpp): the GPU kernel waits for
// w, runs the CPU kernel on the host over w's bytes and imports the packed
// results, so both devices give the same weights bit for bit.
//
// BinaryDequantize: shaders/binary_dequantize.comp, an invocation per vector.
#include <typeindex>

#include "backends/vulkan/kernels/binary.h"
#include "lumen/backend.h"

namespace lumen::vulkan {

namespace binary {

Push weights_push(const BinaryFormat& f, const array& indices, const array& codebook, const array& scales) {
  Push push;
  push.indices = address_of(indices);
  push.codebook = address_of(codebook);
  push.scales = address_of(scales);
  push.N = static_cast<uint32_t>(f.n);
  push.K = static_cast<uint32_t>(f.k);
  push.words = static_cast<uint32_t>(f.words_per_row());
  return push;
}

Constants format_constants(const BinaryFormat& f, Constants first) {
  first.resize(11, 0);
  first[8] = static_cast<uint32_t>(f.vector_size);
  first[9] = static_cast<uint32_t>(f.index_bits);
  first[10] = static_cast<uint32_t>(f.group_size);
  return first;
}

void record_dequantize(KernelContext& k, const BinaryFormat& f, const array& indices, const array& codebook,
                       const array& scales, array& out) {
  Push push = weights_push(f, indices, codebook, scales);
  push.out = address_of(out);
  // An invocation per run of vectors making at least 8 weights (the shader's RUN).
  const int64_t run = f.vector_size >= 8 ? 1 : 8 / f.vector_size;
  const uint64_t runs = static_cast<uint64_t>(f.n) * ((f.vectors_per_row() + run - 1) / run);
  k.dispatch("binary_dequantize", format_constants(f, {0, dtype_id(out.dtype())}), &push, sizeof(push), runs,
             {&indices, &codebook, &scales}, {&out});
}

}  // namespace binary

namespace {

void quantize_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  k.backend().finish(p.stream());  // w's bytes are final and readable on the host
  std::vector<array> host;
  for (const array& o : outputs) host.emplace_back(o.shape(), o.dtype(), nullptr, std::vector<array>{});
  const Kernel* cpu = backend::find_kernel(Device::cpu, std::type_index(typeid(p)));
  (*cpu)(p, inputs, host);
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].copy_shared_buffer(k.backend().import(host[i], p.stream()));
}

void dequantize_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const BinaryFormat& f = static_cast<const BinaryDequantize&>(p).format();
  KernelContext k(p);
  array& out = outputs[0];
  k.allocate(out);
  binary::record_dequantize(k, f, inputs[0], inputs[1], inputs[2], out);
}

LUMEN_REGISTER_KERNEL(Device::gpu, BinaryQuantize, quantize_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, BinaryDequantize, dequantize_kernel);

}  // namespace

}  // namespace lumen::vulkan
