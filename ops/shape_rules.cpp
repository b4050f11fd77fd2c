// vjp, jvp and vmap rules of the shape and view primitives. Most rules are
// the inverse view (vjp) or the same view (jvp); vmap usually moves the batch
// axis to the front and shifts the primitive's axes past it.
#include <algorithm>
#include <numeric>

#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/reduction.h"
#include "lumen/shape.h"
#include "lumen/shape_primitives.h"
#include "transforms/detail/vmap_util.h"

namespace lumen {

namespace {

using VmapResult = std::pair<std::vector<array>, std::vector<int>>;

// The batched input with its batch axis first.
array batch_first(const array& x, int axis, const Stream& s) { return moveaxis(x, axis, 0, s); }

std::vector<int> shifted(std::vector<int> axes, int by) {
  for (auto& a : axes) a += by;
  return axes;
}

}  // namespace

// ---- Broadcast ----

std::vector<array> Broadcast::vjp(const std::vector<array>& primals,
                                  const std::vector<array>& cotangents, const std::vector<int>&,
                                  const std::vector<array>&) {
  // Sum over the axes that were added or stretched from size 1.
  const array& x = primals[0];
  const array& c = cotangents[0];
  int diff = static_cast<int>(c.ndim() - x.ndim());
  std::vector<int> axes(diff);
  std::iota(axes.begin(), axes.end(), 0);
  for (int i = diff; i < static_cast<int>(c.ndim()); ++i) {
    if (x.shape(i - diff) != c.shape(i)) axes.push_back(i);
  }
  if (axes.empty()) return {c};
  return {reshape(sum(c, axes, true, stream()), x.shape(), stream())};
}

std::vector<array> Broadcast::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {broadcast_to(tangents[0], shape_, stream())};
}

VmapResult Broadcast::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  // The batch axis keeps its place counted from the right.
  const array& x = inputs[0];
  int example_rank = static_cast<int>(x.ndim()) - 1;
  int axis = axes[0] + static_cast<int>(shape_.size()) - example_rank;
  Shape shape = shape_;
  shape.insert(shape.begin() + axis, x.shape(axes[0]));
  return {{broadcast_to(x, shape, stream())}, {axis}};
}

// ---- Reshape, Flatten, Unflatten, Squeeze, ExpandDims: same data, new shape ----

std::vector<array> Reshape::vjp(const std::vector<array>& primals,
                                const std::vector<array>& cotangents, const std::vector<int>&,
                                const std::vector<array>&) {
  return {reshape(cotangents[0], primals[0].shape(), stream())};
}
std::vector<array> Reshape::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                const std::vector<int>&) {
  return {reshape(tangents[0], shape_, stream())};
}
VmapResult Reshape::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  const array& x = inputs[0];
  Shape shape = shape_;
  shape.insert(shape.begin(), x.shape(axes[0]));
  return {{reshape(batch_first(x, axes[0], stream()), shape, stream())}, {0}};
}

std::vector<array> Flatten::vjp(const std::vector<array>& primals,
                                const std::vector<array>& cotangents, const std::vector<int>&,
                                const std::vector<array>&) {
  return {reshape(cotangents[0], primals[0].shape(), stream())};
}
std::vector<array> Flatten::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                const std::vector<int>&) {
  return {flatten(tangents[0], start_axis_, end_axis_, stream())};
}
VmapResult Flatten::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  const array& x = inputs[0];
  int ax = axes[0];
  if (ax <= start_axis_) return {{flatten(x, start_axis_ + 1, end_axis_ + 1, stream())}, {ax}};
  if (ax > end_axis_) {
    return {{flatten(x, start_axis_, end_axis_, stream())}, {ax - (end_axis_ - start_axis_)}};
  }
  return {{flatten(batch_first(x, ax, stream()), start_axis_ + 1, end_axis_ + 1, stream())}, {0}};
}

std::vector<array> Unflatten::vjp(const std::vector<array>& primals,
                                  const std::vector<array>& cotangents, const std::vector<int>&,
                                  const std::vector<array>&) {
  return {reshape(cotangents[0], primals[0].shape(), stream())};
}
std::vector<array> Unflatten::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {unflatten(tangents[0], axis_, shape_, stream())};
}
VmapResult Unflatten::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  const array& x = inputs[0];
  int ax = axes[0];
  if (ax <= axis_) return {{unflatten(x, axis_ + 1, shape_, stream())}, {ax}};
  return {{unflatten(x, axis_, shape_, stream())}, {ax + static_cast<int>(shape_.size()) - 1}};
}

std::vector<array> Squeeze::vjp(const std::vector<array>& primals,
                                const std::vector<array>& cotangents, const std::vector<int>&,
                                const std::vector<array>&) {
  return {reshape(cotangents[0], primals[0].shape(), stream())};
}
std::vector<array> Squeeze::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                const std::vector<int>&) {
  return {squeeze(tangents[0], axes_, stream())};
}
VmapResult Squeeze::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  return {{squeeze(batch_first(inputs[0], axes[0], stream()), shifted(axes_, 1), stream())}, {0}};
}

std::vector<array> ExpandDims::vjp(const std::vector<array>& primals,
                                   const std::vector<array>& cotangents, const std::vector<int>&,
                                   const std::vector<array>&) {
  return {reshape(cotangents[0], primals[0].shape(), stream())};
}
std::vector<array> ExpandDims::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                   const std::vector<int>&) {
  return {expand_dims(tangents[0], axes_, stream())};
}
VmapResult ExpandDims::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  return {{expand_dims(batch_first(inputs[0], axes[0], stream()), shifted(axes_, 1), stream())},
          {0}};
}

// ---- Transpose ----

std::vector<array> Transpose::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                  const std::vector<int>&, const std::vector<array>&) {
  std::vector<int> inverse(axes_.size());
  for (size_t i = 0; i < axes_.size(); ++i) inverse[axes_[i]] = static_cast<int>(i);
  return {transpose(cotangents[0], inverse, stream())};
}
std::vector<array> Transpose::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {transpose(tangents[0], axes_, stream())};
}
VmapResult Transpose::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  std::vector<int> perm{0};
  for (int a : axes_) perm.push_back(a + 1);
  return {{transpose(batch_first(inputs[0], axes[0], stream()), perm, stream())}, {0}};
}

// ---- AsStrided: reads a flat input at computed positions ----

std::vector<array> AsStrided::vjp(const std::vector<array>& primals,
                                  const std::vector<array>& cotangents, const std::vector<int>&,
                                  const std::vector<array>&) {
  // Add each output's cotangent to the input element it was read from.
  const array& x = primals[0];
  int n = static_cast<int>(x.size());
  auto positions = as_strided(arange(n, stream()), shape_, strides_, offset_, stream());
  int count = static_cast<int>(cotangents[0].size());
  auto updates = reshape(cotangents[0], {count, 1}, stream());
  auto flat = scatter_add(zeros({n}, x.dtype(), stream()), {reshape(positions, {count}, stream())},
                          updates, {0}, stream());
  return {reshape(flat, x.shape(), stream())};
}
std::vector<array> AsStrided::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {as_strided(tangents[0], shape_, strides_, offset_, stream())};
}
VmapResult AsStrided::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  // Example b starts `b * example_size` elements further into the batch.
  const array& x = inputs[0];
  int batch = x.shape(axes[0]);
  int64_t example = static_cast<int64_t>(x.size()) / std::max(batch, 1);
  Shape shape = shape_;
  shape.insert(shape.begin(), batch);
  Strides strides = strides_;
  strides.insert(strides.begin(), example);
  auto first = contiguous(batch_first(x, axes[0], stream()), false, stream());
  return {{as_strided(first, shape, strides, offset_, stream())}, {0}};
}

// ---- View, Contiguous ----

VmapResult View::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  // The last axis changes length: keep the batch axis off it.
  const array& x = inputs[0];
  int ax = axes[0];
  if (ax == static_cast<int>(x.ndim()) - 1) return {{view(batch_first(x, ax, stream()), dtype_, stream())}, {0}};
  return {{view(x, dtype_, stream())}, {ax}};
}

std::vector<array> Contiguous::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                   const std::vector<int>&, const std::vector<array>&) {
  return cotangents;
}
std::vector<array> Contiguous::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                   const std::vector<int>&) {
  return {contiguous(tangents[0], allow_col_major_, stream())};
}
VmapResult Contiguous::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  return {{contiguous(inputs[0], allow_col_major_, stream())}, axes};
}

// ---- Concatenate ----

std::vector<array> Concatenate::vjp(const std::vector<array>& primals,
                                    const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  const array& c = cotangents[0];
  std::vector<int> begin{0};
  for (auto& p : primals) begin.push_back(begin.back() + p.shape(axis_));
  std::vector<array> vjps;
  for (int arg : argnums) {
    Shape start(c.ndim(), 0), stop = c.shape();
    start[axis_] = begin[arg];
    stop[axis_] = begin[arg + 1];
    vjps.push_back(slice(c, start, stop, stream()));
  }
  return vjps;
}
std::vector<array> Concatenate::jvp(const std::vector<array>& primals,
                                    const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  std::vector<array> parts;
  for (size_t i = 0; i < primals.size(); ++i) {
    auto it = std::find(argnums.begin(), argnums.end(), static_cast<int>(i));
    parts.push_back(it != argnums.end() ? tangents[it - argnums.begin()]
                                        : zeros_like(primals[i], stream()));
  }
  return {concatenate(parts, axis_, stream())};
}
VmapResult Concatenate::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  int size = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (axes[i] >= 0) size = inputs[i].shape(axes[i]);
  }
  std::vector<array> parts;
  for (size_t i = 0; i < inputs.size(); ++i) {
    parts.push_back(detail::move_batch_axis(inputs[i], axes[i], 0, size, stream()));
  }
  return {{concatenate(parts, axis_ + 1, stream())}, {0}};
}

// ---- Pad (inputs: a, the scalar pad value) ----

std::vector<array> Pad::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                            const std::vector<int>& argnums, const std::vector<array>&) {
  const array& c = cotangents[0];
  Shape start(c.ndim(), 0), stop = c.shape();
  for (size_t k = 0; k < axes_.size(); ++k) {
    start[axes_[k]] = low_[k];
    stop[axes_[k]] -= high_[k];
  }
  auto inner = slice(c, start, stop, stream());
  std::vector<array> vjps;
  for (int arg : argnums) {
    // The pad value shows up wherever the input does not.
    vjps.push_back(arg == 0 ? inner : subtract(sum(c, false, stream()), sum(inner, false, stream()), stream()));
  }
  return vjps;
}
std::vector<array> Pad::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                            const std::vector<int>& argnums) {
  array t_a = zeros_like(primals[0], stream());
  array t_v = zeros_like(primals[1], stream());
  for (size_t i = 0; i < argnums.size(); ++i) (argnums[i] == 0 ? t_a : t_v) = tangents[i];
  return {pad(t_a, axes_, low_, high_, t_v, "constant", stream())};
}
VmapResult Pad::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  int size = axes[0] >= 0 ? inputs[0].shape(axes[0]) : inputs[1].shape(axes[1]);
  auto x = detail::move_batch_axis(inputs[0], axes[0], 0, size, s);
  auto moved = shifted(axes_, 1);
  if (axes[1] < 0) return {{pad(x, moved, low_, high_, inputs[1], "constant", s)}, {0}};
  // One pad value per example: fill the padding from a broadcast of them.
  auto padded = pad(x, moved, low_, high_, array(0, x.dtype()), "constant", s);
  auto inside = pad(ones(x.shape(), bool_, s), moved, low_, high_, array(false), "constant", s);
  Shape value_shape(padded.ndim(), 1);
  value_shape[0] = size;
  auto values = reshape(moveaxis(inputs[1], axes[1], 0, s), value_shape, s);
  return {{where(inside, padded, values, s)}, {0}};
}

}  // namespace lumen
