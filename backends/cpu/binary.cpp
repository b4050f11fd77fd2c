// CPU kernels of Binary (every BinaryOp) and Select.
#include <cmath>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/elementwise.h"
#include "lumen/backend.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::cpu {

namespace {

template <typename T>
bool is_compare(BinaryOp op) {
  switch (op) {
    case BinaryOp::Equal:
    case BinaryOp::NotEqual:
    case BinaryOp::Less:
    case BinaryOp::LessEqual:
    case BinaryOp::Greater:
    case BinaryOp::GreaterEqual: return true;
    default: return false;
  }
}

template <typename T>
struct CompareFn {
  using C = compute_t<T>;
  BinaryOp op;
  bool operator()(T a_, T b_) const {
    C a = static_cast<C>(a_), b = static_cast<C>(b_);
    if constexpr (is_complex_v<T>) {
      auto key = [](C z) { return std::make_pair(z.real(), z.imag()); };
      switch (op) {
        case BinaryOp::Equal: return a == b;
        case BinaryOp::NotEqual: return a != b;
        case BinaryOp::Less: return key(a) < key(b);
        case BinaryOp::LessEqual: return key(a) <= key(b);
        case BinaryOp::Greater: return key(a) > key(b);
        default: return key(a) >= key(b);
      }
    } else {
      switch (op) {
        case BinaryOp::Equal: return a == b;
        case BinaryOp::NotEqual: return a != b;
        case BinaryOp::Less: return a < b;
        case BinaryOp::LessEqual: return a <= b;
        case BinaryOp::Greater: return a > b;
        default: return a >= b;
      }
    }
  }
};

template <typename T>
struct ArithFn {
  using C = compute_t<T>;
  BinaryOp op;
  T operator()(T a_, T b_) const { return T(apply(static_cast<C>(a_), static_cast<C>(b_))); }
  C apply(C a, C b) const {
    if constexpr (std::is_same_v<T, bool>) {
      switch (op) {
        case BinaryOp::Add:
        case BinaryOp::LogicalOr:
        case BinaryOp::BitwiseOr:
        case BinaryOp::Maximum: return a || b;
        case BinaryOp::Multiply:
        case BinaryOp::LogicalAnd:
        case BinaryOp::BitwiseAnd:
        case BinaryOp::Minimum: return a && b;
        case BinaryOp::Subtract:
        case BinaryOp::BitwiseXor: return a != b;
        case BinaryOp::LeftShift: return a && !b ? a : (b ? false : a);
        case BinaryOp::RightShift: return b ? false : a;
        case BinaryOp::Power: return a || !b;
        default: return a;
      }
    } else if constexpr (is_complex_v<T>) {
      switch (op) {
        case BinaryOp::Add: return a + b;
        case BinaryOp::Subtract: return a - b;
        case BinaryOp::Multiply: return a * b;
        case BinaryOp::Divide: return a / b;
        case BinaryOp::Power: return std::pow(a, b);
        case BinaryOp::Maximum:
          return std::make_pair(a.real(), a.imag()) >= std::make_pair(b.real(), b.imag()) ? a : b;
        case BinaryOp::Minimum:
          return std::make_pair(a.real(), a.imag()) <= std::make_pair(b.real(), b.imag()) ? a : b;
        case BinaryOp::LogicalAnd: return C(a != C(0) && b != C(0));
        case BinaryOp::LogicalOr: return C(a != C(0) || b != C(0));
        default: return a;
      }
    } else if constexpr (std::is_integral_v<C>) {
      switch (op) {
        case BinaryOp::Add: return C(a + b);
        case BinaryOp::Subtract: return C(a - b);
        case BinaryOp::Multiply: return C(a * b);
        case BinaryOp::Divide: return b == 0 ? C(0) : C(a / b);
        case BinaryOp::Remainder: {
          if (b == 0) return C(0);
          C r = C(a % b);
          if constexpr (std::is_signed_v<C>) {
            if (r != 0 && ((r < 0) != (b < 0))) r = C(r + b);
          }
          return r;
        }
        case BinaryOp::Power: {
          if constexpr (std::is_signed_v<C>) {
            if (b < 0) return C(a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0));
          }
          C r = 1, base = a;
          for (C e = b; e > 0; e = C(e >> 1)) {
            if (e & 1) r = C(r * base);
            base = C(base * base);
          }
          return r;
        }
        case BinaryOp::Maximum: return a > b ? a : b;
        case BinaryOp::Minimum: return a < b ? a : b;
        case BinaryOp::LogicalAnd: return C(a && b);
        case BinaryOp::LogicalOr: return C(a || b);
        case BinaryOp::BitwiseAnd: return C(a & b);
        case BinaryOp::BitwiseOr: return C(a | b);
        case BinaryOp::BitwiseXor: return C(a ^ b);
        case BinaryOp::LeftShift:
          return b < 0 || b >= C(sizeof(C) * 8) ? C(0) : C(static_cast<std::make_unsigned_t<C>>(a) << b);
        case BinaryOp::RightShift:
          if (b < 0 || b >= C(sizeof(C) * 8)) return C(a < 0 ? -1 : 0);
          return C(a >> b);
        default: return a;
      }
    } else {
      switch (op) {
        case BinaryOp::Add: return a + b;
        case BinaryOp::Subtract: return a - b;
        case BinaryOp::Multiply: return a * b;
        case BinaryOp::Divide: return a / b;
        case BinaryOp::Remainder: {
          C r = std::fmod(a, b);
          if (r != C(0) && ((r < C(0)) != (b < C(0)))) r += b;
          return r;
        }
        case BinaryOp::Power: return std::pow(a, b);
        // NaN propagates, as MLX's
        case BinaryOp::Maximum: return std::isnan(a) ? a : (a > b ? a : b);
        case BinaryOp::Minimum: return std::isnan(a) ? a : (a < b ? a : b);
        case BinaryOp::ArcTan2: return std::atan2(a, b);
        case BinaryOp::LogAddExp: {
          if (std::isnan(a) || std::isnan(b)) return a + b;
          C m = std::max(a, b);
          if (std::isinf(m) && m < C(0)) return m;
          return m + std::log1p(std::exp(std::min(a, b) - m));
        }
        case BinaryOp::LogicalAnd: return C(a != C(0) && b != C(0));
        case BinaryOp::LogicalOr: return C(a != C(0) || b != C(0));
        default: return a;
      }
    }
  }
};

void binary_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  auto op = static_cast<const Binary&>(p).op();
  array& out = outputs[0];
  alloc_elementwise_output(inputs, out);
  dispatch_dtype(inputs[0].dtype(), [&](auto t) {
    using T = decltype(t);
    if (out.dtype() == bool_ && inputs[0].dtype() != bool_) {
      elementwise_loop<bool, T, T>(inputs, out, CompareFn<T>{op});
    } else if (out.dtype() == bool_ && is_compare<T>(op)) {
      elementwise_loop<bool, bool, bool>(inputs, out, CompareFn<bool>{op});
    } else {
      elementwise_loop<T, T, T>(inputs, out, ArithFn<T>{op});
    }
  });
}

void select_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  alloc_elementwise_output({inputs[1], inputs[2]}, out);
  dispatch_dtype(out.dtype(), [&](auto t) {
    using T = decltype(t);
    elementwise_loop<T, bool, T, T>(inputs, out, [](bool c, T x, T y) { return c ? x : y; });
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, Binary, binary_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Select, select_kernel);

}  // namespace
}  // namespace lumen::cpu
