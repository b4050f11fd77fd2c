// Vulkan kernels of the elementwise primitives: Unary, Binary, Select,
// AsType, and Full (a dense copy of a broadcast value). One driver
// (shaders/elementwise*.glsl) walks the inputs; the host side picks each
// input's mode (contiguous, scalar, strided), collapses the strided ones'
// dimensions and decides whether vector loads apply.
#include <array>
#include <cctype>
#include <string>

#include "backends/cpu/strided.h"
#include "backends/vulkan/kernels/copy.h"
#include "backends/vulkan/kernels/elementwise.h"
#include "backends/vulkan/kernels/launch.h"
#include "backends/vulkan/shaders/ids.h"
#include "lumen/backend.h"
#include "lumen/creation_primitives.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::vulkan {

uint32_t class_id(Dtype d) {
  if (d == float16 || d == float32 || d == bfloat16) return CLASS_ID_FLOAT;
  if (d == float64) return CLASS_ID_DOUBLE;
  if (d == complex64) return CLASS_ID_COMPLEX;
  return CLASS_ID_INT;
}

bool is_math_op(UnaryOp op, Dtype d) {
  uint32_t cls = class_id(d);
  switch (op) {
    case UnaryOp::Exp:
    case UnaryOp::Log:
    case UnaryOp::Log2:
    case UnaryOp::Log10:
    case UnaryOp::Log1p:
    case UnaryOp::Sin:
    case UnaryOp::Cos:
    case UnaryOp::Tan:
    case UnaryOp::ArcSin:
    case UnaryOp::ArcCos:
    case UnaryOp::ArcTan:
    case UnaryOp::Sinh:
    case UnaryOp::Cosh:
    case UnaryOp::Tanh:
    case UnaryOp::ArcSinh:
    case UnaryOp::ArcCosh:
    case UnaryOp::ArcTanh: return cls != CLASS_ID_INT;
    case UnaryOp::Expm1:
    case UnaryOp::Sigmoid:
    case UnaryOp::Erf:
    case UnaryOp::ErfInv: return cls == CLASS_ID_FLOAT || cls == CLASS_ID_DOUBLE;
    default: return false;
  }
}

bool is_row_major(const array& a) {
  int64_t expected = 1;
  for (int d = static_cast<int>(a.ndim()) - 1; d >= 0; --d) {
    if (a.shape()[d] == 1) continue;
    if (a.strides()[d] != expected) return false;
    expected *= a.shape()[d];
  }
  return true;
}

bool is_math_op(BinaryOp op, Dtype d) {
  uint32_t cls = class_id(d);
  return ((op == BinaryOp::Power || op == BinaryOp::LogAddExp) && cls != CLASS_ID_INT) ||
         (op == BinaryOp::ArcTan2 && (cls == CLASS_ID_FLOAT || cls == CLASS_ID_DOUBLE));
}

namespace {

// Push constants of shaders/elementwise.glsl.
struct ElementwisePush {
  uint64_t out;
  uint64_t in[3];
  uint64_t n;
  uint64_t table;
  uint32_t ndim;
  uint32_t pad;
};

bool is_scalar(const array& a) {
  for (size_t d = 0; d < a.ndim(); ++d) {
    if (a.shape()[d] != 1 && a.strides()[d] != 0) return false;
  }
  return true;
}

// Records out = op(inputs...) with `kernel` constants at ids 8, 9, 10.
void run_elementwise(KernelContext& k, const std::string& shader, const std::vector<array>& inputs, array& out,
                     std::array<uint32_t, 3> kernel) {
  constexpr uint32_t vector_width = 4;
  ElementwisePush push{};
  push.out = address_of(out);
  push.n = out.size();
  Constants constants(11, 0);
  for (int i = 0; i < 3; ++i) constants[8 + i] = kernel[i];

  // Modes, and the strides the table holds for strided inputs.
  std::array<const Strides*, 4> strides;
  const Strides& out_strides = out.strides();
  strides.fill(&out_strides);
  bool any_strided = false;
  bool aligned = true;
  auto check_alignment = [&](uint64_t addr, size_t item) {
    uint64_t need = std::min<uint64_t>(vector_width * item, 16);
    aligned = aligned && addr % need == 0;
  };
  check_alignment(push.out, out.itemsize());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const array& in = inputs[i];
    push.in[i] = address_of(in);
    uint32_t mode;
    if (is_scalar(in)) {
      mode = MODE_SCALAR;
    } else if (is_row_major(in)) {
      mode = MODE_CONTIGUOUS;
      check_alignment(push.in[i], in.itemsize());
    } else {
      mode = MODE_STRIDED;
      strides[i + 1] = &in.strides();
      any_strided = true;
    }
    constants[1 + i] = mode;
  }
  constants[4] = !any_strided && aligned;
  if (any_strided) {
    // Merge the dimensions every strided input walks alike.
    auto layout = cpu::collapse<4>(out.shape(), strides);
    size_t nd = layout.shape.size();
    std::vector<int64_t> table(nd * 4, 0);
    for (size_t d = 0; d < nd; ++d) table[d] = layout.shape[d];
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (constants[1 + i] != MODE_STRIDED) continue;
      for (size_t d = 0; d < nd; ++d) table[(1 + i) * nd + d] = layout.strides[i + 1][d];
    }
    push.table = k.stream().upload(table.data(), table.size() * sizeof(int64_t));
    push.ndim = static_cast<uint32_t>(nd);
  }
  uint64_t threads = (out.size() + vector_width - 1) / vector_width;
  std::vector<const array*> reads;
  for (auto& in : inputs) reads.push_back(&in);
  k.dispatch(shader, std::move(constants), &push, sizeof(push), threads, reads, {&out});
}

const char* class_name(Dtype d) {
  if (d == float16 || d == float32 || d == bfloat16) return "float";
  if (d == float64) return "double";
  if (d == complex64) return "complex";
  return "int";
}

std::string lower(const char* name) {
  std::string s(name);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The module of a unary op on a dtype: transcendental ops have their own
// (shaders/modules.cmake), the rest share their class's.
// "<prefix><class>[_<op>]", appended piecewise (GCC 12 at -O3 reports a false
// -Wrestrict on `literal + std::string&&`).
std::string module_name(const char* prefix, const std::string& cls, const std::string& op) {
  std::string name(prefix);
  name += cls;
  if (!op.empty()) {
    name += '_';
    name += op;
  }
  return name;
}

std::string unary_module(UnaryOp op, Dtype d) {
  return module_name("unary_", class_name(d), is_math_op(op, d) ? lower(op_name(op)) : std::string());
}

std::string binary_module(BinaryOp op, Dtype d) {
  return module_name("binary_", class_name(d), is_math_op(op, d) ? lower(op_name(op)) : std::string());
}

void unary_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  auto op = static_cast<const Unary&>(p).op();
  array& out = outputs[0];
  if ((op == UnaryOp::Copy || op == UnaryOp::StopGradient) && !is_row_major(inputs[0]) &&
      !is_scalar(inputs[0])) {
    copy_contiguous(k, inputs[0], out);  // any view, any rank
    return;
  }
  k.allocate_elementwise(inputs, out);
  run_elementwise(k, unary_module(op, inputs[0].dtype()), inputs, out,
                  {op_id(op), dtype_id(inputs[0].dtype()), dtype_id(out.dtype())});
}

// Full: a dense copy of its (usually broadcast) input.
void full_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  array& out = outputs[0];
  k.allocate_elementwise(inputs, out);
  run_elementwise(k, unary_module(UnaryOp::Copy, out.dtype()), inputs, out,
                  {op_id(UnaryOp::Copy), dtype_id(out.dtype()), dtype_id(out.dtype())});
}

void binary_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  auto op = static_cast<const Binary&>(p).op();
  array& out = outputs[0];
  k.allocate_elementwise(inputs, out);
  run_elementwise(k, binary_module(op, inputs[0].dtype()), inputs, out,
                  {op_id(op), dtype_id(inputs[0].dtype()), dtype_id(out.dtype())});
}

void select_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  array& out = outputs[0];
  k.allocate_elementwise(inputs, out, 1);  // never into the condition
  run_elementwise(k, "select", inputs, out, {0, dtype_id(out.dtype()), 0});
}

void astype_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  array& out = outputs[0];
  k.allocate_elementwise(inputs, out);
  run_elementwise(k, "astype", inputs, out, {0, dtype_id(inputs[0].dtype()), dtype_id(out.dtype())});
}

LUMEN_REGISTER_KERNEL(Device::gpu, Unary, unary_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Binary, binary_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Select, select_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, AsType, astype_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Full, full_kernel);

}  // namespace
}  // namespace lumen::vulkan
