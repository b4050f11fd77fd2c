#include "lumen/fast.h"

#include <cmath>

#include "core/detail/errors.h"
#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/fast_primitives.h"
#include "lumen/indexing.h"
#include "lumen/reduction.h"
#include "lumen/shape.h"

namespace lumen::fast {

namespace {

// weight / bias of a normalization: 1-D with x's last dimension.
void check_feature_vector(const char* op, const char* what, const array& v, const array& x) {
  if (v.ndim() != 1) {
    detail::throw_invalid("[{}] {} must have 1 dimension but has shape {}", op, what,
                          detail::shape_str(v.shape()));
  }
  if (v.shape(0) != x.shape(-1)) {
    detail::throw_invalid("[{}] {} (shape {}) must match the last dimension of x (shape {})", op,
                          what, detail::shape_str(v.shape()), detail::shape_str(x.shape()));
  }
}

void check_norm_input(const char* op, const array& x, Dtype out_type) {
  if (!issubdtype(out_type, floating)) {
    detail::throw_invalid("[{}] only real floating types are supported, got {} for x with shape {}",
                          op, dtype_to_string(out_type), detail::shape_str(x.shape()));
  }
}

void check_at_least_1d(const char* op, const array& x) {
  if (x.ndim() == 0) detail::throw_invalid("[{}] x must have at least 1 dimension, got a scalar", op);
}

// The plain rotation: (x1, x2) -> (x1 c - x2 s, x1 s + x2 c), or its inverse.
std::vector<array> rotate(const array& x1, const array& x2, const array& c, const array& sn,
                          bool forward, StreamOrDevice s) {
  if (forward) {
    return {subtract(multiply(x1, c, s), multiply(x2, sn, s), s),
            add(multiply(x1, sn, s), multiply(x2, c, s), s)};
  }
  return {add(multiply(x2, sn, s), multiply(x1, c, s), s),
          subtract(multiply(x2, c, s), multiply(x1, sn, s), s)};
}

Fallback rope_fallback(int dims, bool traditional, float base, float scale, bool forward,
                       Stream s) {
  return [=](std::vector<array> inputs) {
    array x = inputs[0];
    const Shape shape = x.shape();
    // view as [B, N, T, D]
    if (x.ndim() == 3) {
      x = expand_dims(x, 1, s);
    } else if (x.ndim() > 4) {
      x = flatten(x, 1, static_cast<int>(x.ndim()) - 3, s);
    }
    const int B = x.shape(0), N = x.shape(1), T = x.shape(2), D = x.shape(3);
    const int half = dims / 2;
    array offset = inputs[1];
    if (offset.size() > 1) offset = expand_dims(offset, {-1, -2}, s);
    auto positions = multiply(add(arange(T, float32, s), offset, s), array(scale, float32), s);
    auto inv_freqs =
        inputs.size() == 3
            ? reciprocal(inputs[2], s)
            : exp(multiply(arange(0, -half, -1, float32, s),
                           array(std::log(base) / static_cast<float>(half), float32), s),
                  s);
    auto theta = multiply(expand_dims(positions, -1, s), inv_freqs, s);
    auto c = astype(cos(theta, s), x.dtype(), s);
    auto sn = astype(sin(theta, s), x.dtype(), s);

    std::vector<array> parts;
    if (traditional) {
      auto x1 = slice(x, Shape{0, 0, 0, 0}, Shape{B, N, T, dims}, Shape{1, 1, 1, 2}, s);
      auto x2 = slice(x, Shape{0, 0, 0, 1}, Shape{B, N, T, dims}, Shape{1, 1, 1, 2}, s);
      auto rotated = rotate(x1, x2, c, sn, forward, s);
      for (auto& r : rotated) r = expand_dims(r, -1, s);
      parts.push_back(reshape(concatenate(rotated, -1, s), {B, N, T, dims}, s));
    } else {
      auto x1 = slice(x, Shape{0, 0, 0, 0}, Shape{B, N, T, half}, s);
      auto x2 = slice(x, Shape{0, 0, 0, half}, Shape{B, N, T, dims}, s);
      parts = rotate(x1, x2, c, sn, forward, s);
    }
    if (dims < D) parts.push_back(slice(x, Shape{0, 0, 0, dims}, Shape{B, N, T, D}, s));
    return std::vector<array>{reshape(concatenate(parts, -1, s), shape, s)};
  };
}

}  // namespace

array rms_norm(const array& x, const std::optional<array>& weight, float eps, StreamOrDevice s_) {
  check_at_least_1d("rms_norm", x);
  const bool has_weight = weight.has_value();
  if (has_weight) check_feature_vector("rms_norm", "weight", *weight, x);
  const Dtype out_type = has_weight ? promote_types(x.dtype(), weight->dtype()) : x.dtype();
  check_norm_input("rms_norm", x, out_type);

  const Stream s = to_stream(s_);
  Fallback fallback = [has_weight, eps, out_type, s](std::vector<array> inputs) {
    auto y = astype(inputs[0], float32, s);
    auto ms = add(mean(square(y, s), -1, /*keepdims=*/true, s), array(eps, float32), s);
    y = astype(multiply(y, rsqrt(ms, s), s), out_type, s);
    if (has_weight) y = multiply(y, inputs[1], s);
    return std::vector<array>{y};
  };
  auto w = has_weight ? astype(*weight, out_type, s) : array(1, out_type);
  return array(x.shape(), out_type, std::make_shared<RMSNorm>(s, std::move(fallback), eps),
               {astype(x, out_type, s), w});
}

array layer_norm(const array& x, const std::optional<array>& weight,
                 const std::optional<array>& bias, float eps, StreamOrDevice s_) {
  check_at_least_1d("layer_norm", x);
  const bool has_weight = weight.has_value(), has_bias = bias.has_value();
  if (has_weight) check_feature_vector("layer_norm", "weight", *weight, x);
  if (has_bias) check_feature_vector("layer_norm", "bias", *bias, x);
  // as MLX: the bias joins the promotion only when there is a weight
  Dtype out_type = x.dtype();
  if (has_weight) {
    out_type = promote_types(out_type, weight->dtype());
    if (has_bias) out_type = promote_types(out_type, bias->dtype());
  }
  check_norm_input("layer_norm", x, out_type);

  const Stream s = to_stream(s_);
  Fallback fallback = [has_weight, has_bias, eps, out_type, s](std::vector<array> inputs) {
    auto y = astype(inputs[0], float32, s);
    auto centered = subtract(y, mean(y, -1, /*keepdims=*/true, s), s);
    auto var = mean(square(centered, s), -1, /*keepdims=*/true, s);
    y = multiply(centered, rsqrt(add(var, array(eps, float32), s), s), s);
    y = astype(y, out_type, s);
    if (has_weight) y = multiply(y, inputs[1], s);
    if (has_bias) y = add(y, inputs[2], s);
    return std::vector<array>{y};
  };
  auto w = has_weight ? astype(*weight, out_type, s) : array(1, out_type);
  auto b = has_bias ? astype(*bias, out_type, s) : array(0, out_type);
  return array(x.shape(), out_type, std::make_shared<LayerNorm>(s, std::move(fallback), eps),
               {astype(x, out_type, s), w, b});
}

array rope_primitive(std::vector<array> inputs, int dims, bool traditional, float base,
                     float scale, bool forward, StreamOrDevice s_) {
  const array& x = inputs[0];
  const array& offset = inputs[1];
  if (x.ndim() < 3) {
    detail::throw_invalid("[rope] x must have at least 3 dimensions but has shape {}",
                          detail::shape_str(x.shape()));
  }
  if (!issubdtype(x.dtype(), floating)) {
    detail::throw_invalid("[rope] x must be of a real floating type, got {}",
                          dtype_to_string(x.dtype()));
  }
  if (offset.ndim() > 1) {
    detail::throw_invalid("[rope] offset must have at most one dimension but has shape {}",
                          detail::shape_str(offset.shape()));
  }
  if (offset.size() != 1 && offset.size() != static_cast<size_t>(x.shape(0))) {
    detail::throw_invalid(
        "[rope] offset must be a scalar or have one entry per batch element ({}) but has shape {}",
        x.shape(0), detail::shape_str(offset.shape()));
  }
  if (!issubdtype(offset.dtype(), integer)) {
    detail::throw_invalid("[rope] offset must be an integer but has dtype {}",
                          dtype_to_string(offset.dtype()));
  }
  const Stream s = to_stream(s_);
  if (offset.dtype().size() != 4) inputs[1] = astype(offset, int32, s);
  if (dims <= 0 || dims % 2 != 0) {
    detail::throw_invalid("[rope] dims must be positive and even, got {}", dims);
  }
  if (dims > x.shape(-1)) {
    detail::throw_invalid("[rope] dims ({}) must not exceed the last dimension of x (shape {})",
                          dims, detail::shape_str(x.shape()));
  }
  if (inputs.size() == 3 && (inputs[2].ndim() != 1 || inputs[2].shape(0) != dims / 2)) {
    detail::throw_invalid("[rope] freqs must be 1-D with {} entries but has shape {}", dims / 2,
                          detail::shape_str(inputs[2].shape()));
  }
  auto shape = x.shape();
  auto dtype = x.dtype();
  return array(std::move(shape), dtype,
               std::make_shared<RoPE>(s, rope_fallback(dims, traditional, base, scale, forward, s),
                                      dims, traditional, base, scale, forward),
               std::move(inputs));
}

array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale,
           const array& offset, const std::optional<array>& freqs, StreamOrDevice s) {
  std::vector<array> inputs{x, offset};
  if (freqs) {
    if (base) detail::throw_invalid("[rope] only one of base or freqs can have a value");
    inputs.push_back(astype(*freqs, float32, s));
  } else if (!base) {
    detail::throw_invalid("[rope] neither base nor freqs has a value");
  }
  return rope_primitive(std::move(inputs), dims, traditional, base.value_or(1.0f), scale, true, s);
}

array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale,
           int offset, const std::optional<array>& freqs, StreamOrDevice s) {
  return rope(x, dims, traditional, base, scale, array(offset, int32), freqs, s);
}

bool RMSNorm::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const RMSNorm*>(&other);
  return o && o->eps_ == eps_;
}

std::vector<Shape> RMSNorm::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

bool LayerNorm::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const LayerNorm*>(&other);
  return o && o->eps_ == eps_;
}

std::vector<Shape> LayerNorm::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

bool RoPE::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const RoPE*>(&other);
  return o && o->dims_ == dims_ && o->traditional_ == traditional_ && o->base_ == base_ &&
         o->scale_ == scale_ && o->forward_ == forward_;
}

std::vector<Shape> RoPE::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

}  // namespace lumen::fast
