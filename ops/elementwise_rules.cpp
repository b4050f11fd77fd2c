// vjp and jvp rules of the elementwise primitives. Each differentiable op
// states its derivative once, as a slope the tangent is multiplied or divided
// by; the jvp applies the slope, the vjp its complex conjugate (a no-op for
// real dtypes). Non-differentiable ops (comparisons, logical and bitwise ops,
// rounding) give zero tangents and cotangents, as MLX.
#include <cmath>
#include <numbers>
#include <optional>

#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/elementwise_primitives.h"
#include "lumen/shape.h"
#include "transforms/detail/vmap_util.h"

namespace lumen {

namespace {

// d(out) = t * by, or t / by; `one`/`minus_one` skip the arithmetic.
struct Slope {
  enum Kind { one, minus_one, times, over } kind;
  array by;

  static Slope identity() { return {one, array()}; }
  static Slope negated() { return {minus_one, array()}; }
  static Slope mul(array a) { return {times, std::move(a)}; }
  static Slope div(array a) { return {over, std::move(a)}; }
};

array apply(const array& t, const Slope& d, const Stream& s) {
  switch (d.kind) {
    case Slope::one: return t;
    case Slope::minus_one: return negative(t, s);
    case Slope::times: return multiply(t, d.by, s);
    case Slope::over: return divide(t, d.by, s);
  }
  return t;
}

// The vjp of a holomorphic function multiplies by the conjugate slope.
Slope conjugated(const Slope& d, const Stream& s) {
  if (!d.by.is_valid() || d.by.dtype() != complex64) return d;
  return {d.kind, conjugate(d.by, s)};
}

array scalar(double v, const array& like) { return array(v, like.dtype()); }

// The derivative of a unary op at x; nullopt where it is zero. `out` is the
// forward output (vjp has it; jvp recomputes it when a slope needs it).
std::optional<Slope> unary_slope(UnaryOp op, const array& x, const std::function<array()>& out,
                                 const Stream& s) {
  auto sq = [&] { return square(x, s); };
  auto one = [&] { return scalar(1.0, x); };
  switch (op) {
    case UnaryOp::Abs: return Slope::mul(sign(x, s));
    case UnaryOp::Negative: return Slope::negated();
    case UnaryOp::Copy: return Slope::identity();
    case UnaryOp::Sqrt: return Slope::div(multiply(scalar(2.0, x), out(), s));
    case UnaryOp::Rsqrt: return Slope::mul(multiply(scalar(-0.5, x), divide(out(), x, s), s));
    case UnaryOp::Square: return Slope::mul(multiply(scalar(2.0, x), x, s));
    case UnaryOp::Exp: return Slope::mul(out());
    case UnaryOp::Expm1: return Slope::mul(add(out(), one(), s));
    case UnaryOp::Log: return Slope::div(x);
    case UnaryOp::Log2: return Slope::div(multiply(x, scalar(std::numbers::ln2, x), s));
    case UnaryOp::Log10: return Slope::div(multiply(x, scalar(std::numbers::ln10, x), s));
    case UnaryOp::Log1p: return Slope::div(add(x, one(), s));
    case UnaryOp::Sin: return Slope::mul(cos(x, s));
    case UnaryOp::Cos: return Slope::mul(negative(sin(x, s), s));
    case UnaryOp::Tan: return Slope::div(square(cos(x, s), s));
    case UnaryOp::ArcSin: return Slope::div(sqrt(subtract(one(), sq(), s), s));
    case UnaryOp::ArcCos: return Slope::div(negative(sqrt(subtract(one(), sq(), s), s), s));
    case UnaryOp::ArcTan: return Slope::div(add(one(), sq(), s));
    case UnaryOp::Sinh: return Slope::mul(cosh(x, s));
    case UnaryOp::Cosh: return Slope::mul(sinh(x, s));
    case UnaryOp::Tanh: return Slope::div(square(cosh(x, s), s));
    case UnaryOp::ArcSinh: return Slope::div(sqrt(add(sq(), one(), s), s));
    case UnaryOp::ArcCosh: return Slope::div(sqrt(subtract(sq(), one(), s), s));
    case UnaryOp::ArcTanh: return Slope::div(subtract(one(), sq(), s));
    case UnaryOp::Sigmoid: {
      auto y = out();
      return Slope::mul(multiply(y, subtract(one(), y, s), s));
    }
    case UnaryOp::Erf:
      return Slope::mul(multiply(scalar(std::numbers::inv_sqrtpi * 2.0, x),
                                 exp(negative(sq(), s), s), s));
    case UnaryOp::ErfInv:
      return Slope::mul(multiply(scalar(0.5 / std::numbers::inv_sqrtpi, x),
                                 exp(square(out(), s), s), s));
    case UnaryOp::Ceil:
    case UnaryOp::Floor:
    case UnaryOp::Round:
    case UnaryOp::Sign:
    case UnaryOp::LogicalNot:
    case UnaryOp::BitwiseInvert:
    case UnaryOp::StopGradient: return std::nullopt;
    // Not holomorphic: handled by the rules themselves.
    case UnaryOp::Real:
    case UnaryOp::Imag:
    case UnaryOp::Conjugate: break;
  }
  return std::nullopt;
}

// Partial derivatives of a binary op with respect to a and b (only those
// asked for are built); nullopt where zero.
std::array<std::optional<Slope>, 2> binary_slopes(BinaryOp op, const array& a, const array& b,
                                                  bool want_a, bool want_b,
                                                  const std::function<array()>& out,
                                                  const Stream& s) {
  std::array<std::optional<Slope>, 2> d;
  auto both = [&](auto fa, auto fb) {
    if (want_a) d[0] = fa();
    if (want_b) d[1] = fb();
  };
  switch (op) {
    case BinaryOp::Add: both([] { return Slope::identity(); }, [] { return Slope::identity(); }); break;
    case BinaryOp::Subtract:
      both([] { return Slope::identity(); }, [] { return Slope::negated(); });
      break;
    case BinaryOp::Multiply:
      both([&] { return Slope::mul(b); }, [&] { return Slope::mul(a); });
      break;
    case BinaryOp::Divide:
      both([&] { return Slope::div(b); },
           [&] { return Slope::mul(negative(divide(a, square(b, s), s), s)); });
      break;
    case BinaryOp::Remainder:
      both([] { return Slope::identity(); },
           [&] { return Slope::mul(negative(floor(divide(a, b, s), s), s)); });
      break;
    case BinaryOp::Power:
      both(
          [&] {
            auto b_minus_one = subtract(b, scalar(1.0, b), s);
            return Slope::mul(multiply(b, power(a, b_minus_one, s), s));
          },
          [&] {
            // d(a^b)/db = log(a) a^b, taken as 0 where a^b is 0 (0 * log 0)
            auto y = out();
            return Slope::mul(where(y, multiply(log(a, s), y, s), scalar(0.0, y), s));
          });
      break;
    case BinaryOp::Maximum:
      // ties send the gradient to b, as MLX
      both([&] { return Slope::mul(greater(a, b, s)); },
           [&] { return Slope::mul(less_equal(a, b, s)); });
      break;
    case BinaryOp::Minimum:
      both([&] { return Slope::mul(less(a, b, s)); },
           [&] { return Slope::mul(greater_equal(a, b, s)); });
      break;
    case BinaryOp::ArcTan2: {
      // atan2(a, b): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)
      auto norm = add(square(a, s), square(b, s), s);
      both([&] { return Slope::mul(divide(b, norm, s)); },
           [&] { return Slope::mul(divide(negative(a, s), norm, s)); });
      break;
    }
    case BinaryOp::LogAddExp: {
      auto sa = sigmoid(subtract(a, b, s), s);
      both([&] { return Slope::mul(sa); },
           [&] { return Slope::mul(subtract(scalar(1.0, sa), sa, s)); });
      break;
    }
    case BinaryOp::Equal:
    case BinaryOp::NaNEqual:
    case BinaryOp::NotEqual:
    case BinaryOp::Less:
    case BinaryOp::LessEqual:
    case BinaryOp::Greater:
    case BinaryOp::GreaterEqual:
    case BinaryOp::LogicalAnd:
    case BinaryOp::LogicalOr:
    case BinaryOp::BitwiseAnd:
    case BinaryOp::BitwiseOr:
    case BinaryOp::BitwiseXor:
    case BinaryOp::LeftShift:
    case BinaryOp::RightShift: break;
  }
  return d;
}

// The sum of tangent terms, or zeros of `shape` when there are none.
array sum_terms(const std::vector<array>& terms, const Shape& shape, Dtype dtype,
                const Stream& s) {
  if (terms.empty()) return zeros(shape, dtype, s);
  array total = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) total = add(total, terms[i], s);
  return total;
}

}  // namespace

// ---- Unary ----

std::pair<std::vector<array>, std::vector<int>> Unary::vmap(const std::vector<array>& inputs,
                                                            const std::vector<int>& axes) {
  const array& x = inputs[0];
  bool to_real = op_ == UnaryOp::Real || op_ == UnaryOp::Imag;
  auto out = array(x.shape(), to_real ? float32 : x.dtype(), std::make_shared<Unary>(stream(), op_),
                   {x});
  return {{out}, axes};
}

std::vector<array> Unary::jvp(const std::vector<array>& primals,
                              const std::vector<array>& tangents, const std::vector<int>&) {
  auto s = stream();
  const array& x = primals[0];
  const array& t = tangents[0];
  switch (op_) {
    case UnaryOp::Real: return {real(t, s)};
    case UnaryOp::Imag: return {imag(t, s)};
    case UnaryOp::Conjugate: return {conjugate(t, s)};
    default: break;
  }
  if (op_ == UnaryOp::Abs && x.dtype() == complex64) {
    // d|z| = Re(conj(sign z) t), kept in the output's complex dtype
    auto d = real(multiply(t, conjugate(sign(x, s), s), s), s);
    return {astype(d, complex64, s)};
  }
  auto recompute = [&] { return array(x.shape(), x.dtype(), std::make_shared<Unary>(s, op_), {x}); };
  auto d = unary_slope(op_, x, recompute, s);
  if (!d) return {zeros_like(t, s)};
  return {apply(t, *d, s)};
}

std::vector<array> Unary::vjp(const std::vector<array>& primals,
                              const std::vector<array>& cotangents, const std::vector<int>&,
                              const std::vector<array>& outputs) {
  auto s = stream();
  const array& x = primals[0];
  const array& c = cotangents[0];
  switch (op_) {
    case UnaryOp::Real: return {astype(c, complex64, s)};
    case UnaryOp::Imag: return {multiply(array(complex64_t(0.0f, 1.0f)), c, s)};
    case UnaryOp::Conjugate: return {conjugate(c, s)};
    default: break;
  }
  if (op_ == UnaryOp::Abs && x.dtype() == complex64) {
    return {multiply(real(c, s), sign(x, s), s)};
  }
  auto d = unary_slope(op_, x, [&] { return outputs[0]; }, s);
  if (!d) return {zeros_like(x, s)};
  return {apply(c, conjugated(*d, s), s)};
}

// ---- Binary ----

std::pair<std::vector<array>, std::vector<int>> Binary::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  auto [ins, axis] = detail::vmap_align(inputs, axes, stream());
  auto shape = ins[0].shape();
  Dtype out = is_comparison(op_) ? bool_ : ins[0].dtype();
  return {{array(std::move(shape), out, std::make_shared<Binary>(stream(), op_), std::move(ins))},
          {axis}};
}

// ---- DivMod: piecewise constant quotient, remainder as Remainder ----

std::vector<array> DivMod::vjp(const std::vector<array>& primals, const std::vector<array>&,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> vjps;
  for (int arg : argnums) vjps.push_back(zeros_like(primals[arg], stream()));
  return vjps;
}

std::vector<array> DivMod::jvp(const std::vector<array>& primals, const std::vector<array>&,
                               const std::vector<int>&) {
  auto zero = zeros_like(primals[0], stream());
  return {zero, zero};
}

std::pair<std::vector<array>, std::vector<int>> DivMod::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  auto [ins, axis] = detail::vmap_align(inputs, axes, stream());
  auto shape = ins[0].shape();
  Dtype t = ins[0].dtype();
  return {array::make_arrays({shape, shape}, {t, t}, std::make_shared<DivMod>(stream()), ins),
          {axis, axis}};
}

std::vector<array> Binary::jvp(const std::vector<array>& primals,
                               const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  auto s = stream();
  const array& a = primals[0];
  const array& b = primals[1];
  bool want_a = false, want_b = false;
  for (int arg : argnums) (arg == 0 ? want_a : want_b) = true;
  auto recompute = [&] {
    return array(a.shape(), a.dtype(), std::make_shared<Binary>(s, op_), {a, b});
  };
  auto d = binary_slopes(op_, a, b, want_a, want_b, recompute, s);
  std::vector<array> terms;
  for (size_t i = 0; i < argnums.size(); ++i) {
    if (auto& slope = d[argnums[i]]) terms.push_back(apply(tangents[i], *slope, s));
  }
  return {sum_terms(terms, a.shape(), tangents[0].dtype(), s)};
}

std::vector<array> Binary::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents,
                               const std::vector<int>& argnums,
                               const std::vector<array>& outputs) {
  auto s = stream();
  bool want_a = false, want_b = false;
  for (int arg : argnums) (arg == 0 ? want_a : want_b) = true;
  auto d = binary_slopes(op_, primals[0], primals[1], want_a, want_b,
                         [&] { return outputs[0]; }, s);
  std::vector<array> vjps;
  for (int arg : argnums) {
    auto& slope = d[arg];
    vjps.push_back(slope ? apply(cotangents[0], conjugated(*slope, s), s)
                         : zeros_like(primals[arg], s));
  }
  return vjps;
}

// ---- Select ----

std::vector<array> Select::jvp(const std::vector<array>& primals,
                               const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  auto s = stream();
  const array& cond = primals[0];
  std::vector<array> terms;
  for (size_t i = 0; i < argnums.size(); ++i) {
    const array& t = tangents[i];
    auto zero = scalar(0.0, t);
    if (argnums[i] == 1) terms.push_back(where(cond, t, zero, s));
    if (argnums[i] == 2) terms.push_back(where(cond, zero, t, s));
  }
  return {sum_terms(terms, primals[1].shape(), primals[1].dtype(), s)};
}

std::vector<array> Select::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  auto s = stream();
  const array& cond = primals[0];
  const array& c = cotangents[0];
  auto zero = scalar(0.0, c);
  std::vector<array> vjps;
  for (int arg : argnums) {
    if (arg == 0) vjps.push_back(zeros_like(cond, s));
    if (arg == 1) vjps.push_back(where(cond, c, zero, s));
    if (arg == 2) vjps.push_back(where(cond, zero, c, s));
  }
  return vjps;
}

std::pair<std::vector<array>, std::vector<int>> Select::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  auto [ins, axis] = detail::vmap_align(inputs, axes, stream());
  auto shape = ins[0].shape();
  Dtype t = ins[1].dtype();
  return {{array(std::move(shape), t, std::make_shared<Select>(stream()), std::move(ins))}, {axis}};
}

// ---- AsType ----

std::pair<std::vector<array>, std::vector<int>> AsType::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  return {{astype(inputs[0], dtype_, stream())}, axes};
}

std::vector<array> AsType::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                               const std::vector<int>&) {
  return {astype(tangents[0], dtype_, stream())};
}

std::vector<array> AsType::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents, const std::vector<int>&,
                               const std::vector<array>&) {
  return {astype(cotangents[0], primals[0].dtype(), stream())};
}

}  // namespace lumen

// ---- ConvertFP8: rounding to 8-bit codes and back, piecewise constant ----

namespace lumen {

std::vector<array> ConvertFP8::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                   const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}

std::vector<array> ConvertFP8::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                   const std::vector<int>&) {
  return {zeros(primals[0].shape(), dtype_, stream())};
}

std::pair<std::vector<array>, std::vector<int>> ConvertFP8::vmap(const std::vector<array>& inputs,
                                                                 const std::vector<int>& axes) {
  const array& x = inputs[0];
  return {{array(x.shape(), dtype_, std::make_shared<ConvertFP8>(stream(), to_fp8_, dtype_), {x})},
          axes};
}

}  // namespace lumen
