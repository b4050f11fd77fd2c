// CPU kernel of the Unary primitive: every UnaryOp for every dtype it allows.
#include <cmath>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "backends/cpu/math.h"
#include "backends/cpu/mlx_math.h"
#include "lumen/backend.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::cpu {

namespace {

template <typename T>
struct UnaryFn {
  using C = compute_t<T>;
  UnaryOp op;
  T operator()(T in) const {
    C x = static_cast<C>(in);
    return T(apply(x));
  }
  C apply(C x) const {
    if constexpr (std::is_same_v<T, bool>) {
      switch (op) {
        case UnaryOp::LogicalNot:
        case UnaryOp::BitwiseInvert: return !x;
        default: return x;
      }
    } else if constexpr (is_complex_v<T>) {
      switch (op) {
        case UnaryOp::Abs: return std::abs(x);
        case UnaryOp::Negative: return -x;
        case UnaryOp::Square: return x * x;
        case UnaryOp::Sqrt: return std::sqrt(x);
        case UnaryOp::Rsqrt: return C(1.0f) / std::sqrt(x);
        case UnaryOp::Exp: return std::exp(x);
        case UnaryOp::Log: return std::log(x);
        case UnaryOp::Sin: return std::sin(x);
        case UnaryOp::Cos: return std::cos(x);
        case UnaryOp::Tan: return std::tan(x);
        case UnaryOp::Sinh: return std::sinh(x);
        case UnaryOp::Cosh: return std::cosh(x);
        case UnaryOp::Tanh: return std::tanh(x);
        case UnaryOp::Conjugate: return std::conj(x);
        case UnaryOp::Sign: return x == C(0) ? C(0) : x / std::abs(x);
        case UnaryOp::LogicalNot: return C(x == C(0));
        default: return x;  // Copy, StopGradient
      }
    } else if constexpr (std::is_integral_v<C>) {
      switch (op) {
        case UnaryOp::Abs:
          if constexpr (std::is_signed_v<C>) return x < 0 ? C(-x) : x;
          else return x;
        case UnaryOp::Negative: return C(-x);
        case UnaryOp::Sign:
          if constexpr (std::is_signed_v<C>) return C((x > 0) - (x < 0));
          else return C(x != 0);
        case UnaryOp::Square: return C(x * x);
        case UnaryOp::LogicalNot: return C(!x);
        case UnaryOp::BitwiseInvert: return C(~x);
        default: return x;  // Floor, Ceil, Round, Copy, StopGradient
      }
    } else {
      switch (op) {
        case UnaryOp::Abs: return std::abs(x);
        case UnaryOp::Ceil: return std::ceil(x);
        case UnaryOp::Floor: return std::floor(x);
        case UnaryOp::Round: return std::nearbyint(x);  // half to even, as MLX
        case UnaryOp::Negative: return -x;
        case UnaryOp::Sign: return x > C(0) ? C(1) : (x < C(0) ? C(-1) : C(0));
        case UnaryOp::Sqrt: return std::sqrt(x);
        case UnaryOp::Rsqrt: return C(1) / std::sqrt(x);
        case UnaryOp::Square: return x * x;
        case UnaryOp::Exp: return mlx_exp(x);  // MLX's bits (random's known answers)
        case UnaryOp::Expm1: return std::expm1(x);
        case UnaryOp::Log: return std::log(x);
        case UnaryOp::Log2: return std::log2(x);
        case UnaryOp::Log10: return std::log10(x);
        case UnaryOp::Log1p: return std::log1p(x);
        case UnaryOp::Sin: return std::sin(x);
        case UnaryOp::Cos: return std::cos(x);
        case UnaryOp::Tan: return std::tan(x);
        case UnaryOp::ArcSin: return std::asin(x);
        case UnaryOp::ArcCos: return std::acos(x);
        case UnaryOp::ArcTan: return std::atan(x);
        case UnaryOp::Sinh: return std::sinh(x);
        case UnaryOp::Cosh: return std::cosh(x);
        case UnaryOp::Tanh: return std::tanh(x);
        case UnaryOp::ArcSinh: return std::asinh(x);
        case UnaryOp::ArcCosh: return std::acosh(x);
        case UnaryOp::ArcTanh: return std::atanh(x);
        case UnaryOp::Sigmoid: return sigmoid(x);
        case UnaryOp::Erf: return mlx_erf(x);
        case UnaryOp::ErfInv: return mlx_erfinv(x);
        case UnaryOp::LogicalNot: return C(x == C(0));
        default: return x;  // Copy, StopGradient, Conjugate, Real
      }
    }
  }
};

void unary_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  auto op = static_cast<const Unary&>(p).op();
  const array& in = inputs[0];
  array& out = outputs[0];
  if (op == UnaryOp::Real || op == UnaryOp::Imag) {
    out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
    bool re = op == UnaryOp::Real;
    elementwise_loop<float, complex64_t>(inputs, out,
                                         [re](complex64_t z) { return re ? z.real() : z.imag(); });
    return;
  }
  if (op == UnaryOp::Abs && in.dtype() == complex64) {
    alloc_elementwise_output(inputs, out);
    elementwise_loop<complex64_t, complex64_t>(
        inputs, out, [](complex64_t z) { return complex64_t(std::abs(z), 0.0f); });
    return;
  }
  alloc_elementwise_output(inputs, out);
  dispatch_dtype(in.dtype(), [&](auto t) {
    using T = decltype(t);
    elementwise_loop<T, T>(inputs, out, UnaryFn<T>{op});
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, Unary, unary_kernel);

}  // namespace
}  // namespace lumen::cpu
