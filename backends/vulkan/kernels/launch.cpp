#include "backends/vulkan/kernels/launch.h"

#include <algorithm>
#include <cstring>

#include "backends/common/donation.h"
#include "backends/vulkan/raw_buffer.h"
#include "backends/vulkan/shaders/ids.h"
#include "core/allocator.h"

namespace lumen::vulkan {

uint32_t dtype_id(Dtype d) {
  switch (d.val()) {
    case Dtype::Val::bool_: return DT_BOOL;
    case Dtype::Val::uint8: return DT_U8;
    case Dtype::Val::uint16: return DT_U16;
    case Dtype::Val::uint32: return DT_U32;
    case Dtype::Val::uint64: return DT_U64;
    case Dtype::Val::int8: return DT_I8;
    case Dtype::Val::int16: return DT_I16;
    case Dtype::Val::int32: return DT_I32;
    case Dtype::Val::int64: return DT_I64;
    case Dtype::Val::float16: return DT_F16;
    case Dtype::Val::float32: return DT_F32;
    case Dtype::Val::float64: return DT_F64;
    case Dtype::Val::bfloat16: return DT_BF16;
    case Dtype::Val::complex64: return DT_C64;
  }
  return DT_F32;
}

uint32_t op_id(UnaryOp op) {
  switch (op) {
    case UnaryOp::Abs: return OP_ABS;
    case UnaryOp::Ceil: return OP_CEIL;
    case UnaryOp::Floor: return OP_FLOOR;
    case UnaryOp::Round: return OP_ROUND;
    case UnaryOp::Negative: return OP_NEGATIVE;
    case UnaryOp::Sign: return OP_SIGN;
    case UnaryOp::Sqrt: return OP_SQRT;
    case UnaryOp::Rsqrt: return OP_RSQRT;
    case UnaryOp::Square: return OP_SQUARE;
    case UnaryOp::Exp: return OP_EXP;
    case UnaryOp::Expm1: return OP_EXPM1;
    case UnaryOp::Log: return OP_LOG;
    case UnaryOp::Log2: return OP_LOG2;
    case UnaryOp::Log10: return OP_LOG10;
    case UnaryOp::Log1p: return OP_LOG1P;
    case UnaryOp::Sin: return OP_SIN;
    case UnaryOp::Cos: return OP_COS;
    case UnaryOp::Tan: return OP_TAN;
    case UnaryOp::ArcSin: return OP_ARCSIN;
    case UnaryOp::ArcCos: return OP_ARCCOS;
    case UnaryOp::ArcTan: return OP_ARCTAN;
    case UnaryOp::Sinh: return OP_SINH;
    case UnaryOp::Cosh: return OP_COSH;
    case UnaryOp::Tanh: return OP_TANH;
    case UnaryOp::ArcSinh: return OP_ARCSINH;
    case UnaryOp::ArcCosh: return OP_ARCCOSH;
    case UnaryOp::ArcTanh: return OP_ARCTANH;
    case UnaryOp::Sigmoid: return OP_SIGMOID;
    case UnaryOp::Erf: return OP_ERF;
    case UnaryOp::ErfInv: return OP_ERFINV;
    case UnaryOp::LogicalNot: return OP_LOGICAL_NOT;
    case UnaryOp::BitwiseInvert: return OP_BITWISE_INVERT;
    case UnaryOp::Real: return OP_REAL;
    case UnaryOp::Imag: return OP_IMAG;
    case UnaryOp::Conjugate: return OP_CONJUGATE;
    case UnaryOp::Copy:
    case UnaryOp::StopGradient: return OP_COPY;
  }
  return OP_COPY;
}

uint32_t op_id(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return OP_ADD;
    case BinaryOp::Subtract: return OP_SUBTRACT;
    case BinaryOp::Multiply: return OP_MULTIPLY;
    case BinaryOp::Divide: return OP_DIVIDE;
    case BinaryOp::Remainder: return OP_REMAINDER;
    case BinaryOp::Power: return OP_POWER;
    case BinaryOp::Maximum: return OP_MAXIMUM;
    case BinaryOp::Minimum: return OP_MINIMUM;
    case BinaryOp::Equal: return OP_EQUAL;
    case BinaryOp::NaNEqual: return OP_NAN_EQUAL;
    case BinaryOp::NotEqual: return OP_NOT_EQUAL;
    case BinaryOp::Less: return OP_LESS;
    case BinaryOp::LessEqual: return OP_LESS_EQUAL;
    case BinaryOp::Greater: return OP_GREATER;
    case BinaryOp::GreaterEqual: return OP_GREATER_EQUAL;
    case BinaryOp::LogicalAnd: return OP_LOGICAL_AND;
    case BinaryOp::LogicalOr: return OP_LOGICAL_OR;
    case BinaryOp::BitwiseAnd: return OP_BITWISE_AND;
    case BinaryOp::BitwiseOr: return OP_BITWISE_OR;
    case BinaryOp::BitwiseXor: return OP_BITWISE_XOR;
    case BinaryOp::LeftShift: return OP_LEFT_SHIFT;
    case BinaryOp::RightShift: return OP_RIGHT_SHIFT;
    case BinaryOp::ArcTan2: return OP_ARCTAN2;
    case BinaryOp::LogAddExp: return OP_LOGADDEXP;
  }
  return OP_ADD;
}

uint64_t address_of(const array& a) {
  return VulkanAllocator::record(a.buffer()).address + static_cast<uint64_t>(a.offset());
}

Range range_of(const array& a) {
  if (a.size() == 0) return {};
  int64_t lo = 0, hi = 0;
  for (size_t d = 0; d < a.ndim(); ++d) {
    int64_t span = static_cast<int64_t>(a.shape()[d] - 1) * a.strides()[d];
    if (span < 0) lo += span;
    else hi += span;
  }
  uint64_t base = address_of(a);
  auto item = static_cast<int64_t>(a.itemsize());
  return {base + static_cast<uint64_t>(lo * item), base + static_cast<uint64_t>((hi + 1) * item)};
}

KernelContext::KernelContext(const Primitive& p)
    : backend_(backend_of(p.device())), stream_(backend_.stream(p.stream())) {}

void KernelContext::allocate(array& out) {
  out.set_data(backend_.memory().malloc_for_stream(out.nbytes(), stream_.slot()));
}

void KernelContext::allocate_elementwise(const std::vector<array>& inputs, array& out, size_t first) {
  for (size_t i = first; i < inputs.size(); ++i) {
    const array& in = inputs[i];
    if (in.buffer().owner == &backend_.memory() && backends::can_donate(in, out)) {
      backends::take_donated(out, in);
      return;
    }
  }
  allocate(out);
}

void KernelContext::dispatch(const std::string& shader, Constants constants, const void* push,
                             uint32_t push_bytes, uint64_t invocations,
                             const std::vector<const array*>& reads,
                             const std::vector<const array*>& writes) {
  if (invocations == 0) return;
  if (constants.empty()) constants.resize(1);
  constants[0] = kWorkgroupSize;
  VkPipeline pipeline = backend_.pipelines().get(shader, constants);
  uint64_t groups = (invocations + kWorkgroupSize - 1) / kWorkgroupSize;
  groups = std::min<uint64_t>(groups, caps().max_workgroup_count[0]);
  std::vector<Range> read_ranges, write_ranges;
  for (auto* a : reads) read_ranges.push_back(range_of(*a));
  for (auto* a : writes) {
    write_ranges.push_back(range_of(*a));
    ++VulkanAllocator::record(a->buffer()).generation;
  }
  stream_.dispatch(pipeline, backend_.pipelines().layout(), push, push_bytes,
                   static_cast<uint32_t>(groups), read_ranges, write_ranges);
}

std::vector<uint32_t> read_probe_words(KernelContext& k, const std::string& shader, uint32_t words) {
  RawBuffer raw = k.backend().memory().create_staging(uint64_t(words) * 4);
  std::memset(raw.mapped, 0xff, uint64_t(words) * 4);
  const uint64_t address = raw.address;
  k.dispatch(shader, {}, &address, sizeof(address), KernelContext::kWorkgroupSize, {}, {});
  k.stream().finish();
  std::vector<uint32_t> out(words);
  std::memcpy(out.data(), raw.mapped, uint64_t(words) * 4);
  destroy_raw_buffer(k.backend().context(), raw);
  return out;
}

array stream_words(KernelContext& k, const Stream& s, StreamArrays& cache, uint64_t n, uint64_t header,
                   const std::function<void(uint32_t*)>& fill_header) {
  std::lock_guard<std::mutex> lk(cache.mu);
  auto it = cache.arrays.find(&k.stream());
  if (it != cache.arrays.end() && static_cast<uint64_t>(it->second.size()) >= header + n) return it->second;
  const uint64_t words =
      header + std::max<uint64_t>({n, 1024, it == cache.arrays.end() ? 0 : 2 * (it->second.size() - header)});
  array host(Shape{static_cast<int32_t>(words)}, uint32, nullptr, {});
  host.set_data(allocator::allocator(Device::cpu).malloc(host.nbytes()));
  std::memset(host.data<uint32_t>(), 0, host.nbytes());
  if (fill_header) fill_header(host.data<uint32_t>());
  array device = k.backend().import(host, s);
  cache.arrays[&k.stream()] = device;
  return device;
}

array stream_counters(KernelContext& k, const Stream& s, uint64_t n) {
  static auto* counters = new StreamArrays;
  return stream_words(k, s, *counters, n);
}

}  // namespace lumen::vulkan
