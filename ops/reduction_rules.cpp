// vjp, jvp and vmap rules of the reduction primitives. Reduce keeps reduced
// axes with size 1, so cotangents broadcast straight back onto the input.
#include <algorithm>
#include <numeric>

#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/reduction.h"
#include "lumen/reduction_primitives.h"
#include "lumen/scan.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

using VmapResult = std::pair<std::vector<array>, std::vector<int>>;

// d(prod x)/dx_i: the product of all the other elements over `axes`, kept
// exact when some elements are 0 (two exclusive cumulative products over the
// axes flattened into the last one).
array product_of_others(const array& x, const std::vector<int>& axes, const Stream& s) {
  int nd = static_cast<int>(x.ndim());
  std::vector<int> order;
  for (int i = 0; i < nd; ++i) {
    if (!std::count(axes.begin(), axes.end(), i)) order.push_back(i);
  }
  int kept = static_cast<int>(order.size());
  order.insert(order.end(), axes.begin(), axes.end());
  auto moved = transpose(x, order, s);
  auto flat = flatten(moved, kept, nd - 1, s);
  int last = kept;
  auto others = multiply(cumprod(flat, last, false, false, s), cumprod(flat, last, true, false, s), s);
  std::vector<int> back(nd);
  for (int i = 0; i < nd; ++i) back[order[i]] = i;
  return transpose(reshape(others, moved.shape(), s), back, s);
}

// Where x attains the reduced extreme, each tie weighted 1/count.
array extreme_share(const array& x, const array& out, const std::vector<int>& axes,
                    const Stream& s) {
  auto hit = equal(x, out, s);
  auto count = sum(hit, axes, true, s);
  return divide(astype(hit, x.dtype(), s), astype(count, x.dtype(), s), s);
}

std::vector<int> past_batch(std::vector<int> axes, int batch_axis) {
  for (auto& a : axes) a += (a >= batch_axis);
  return axes;
}

// Keeps the batch axis off the last axis, which these primitives reduce.
array off_last_axis(const array& x, int axis, const Stream& s, int& new_axis) {
  if (axis == static_cast<int>(x.ndim()) - 1) {
    new_axis = 0;
    return moveaxis(x, axis, 0, s);
  }
  new_axis = axis;
  return x;
}

}  // namespace

// ---- Reduce ----

std::vector<array> Reduce::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents, const std::vector<int>&,
                               const std::vector<array>& outputs) {
  auto s = stream();
  const array& x = primals[0];
  const array& c = cotangents[0];
  switch (type_) {
    case Sum: return {broadcast_to(astype(c, x.dtype(), s), x.shape(), s)};
    case Prod: return {multiply(conjugate(product_of_others(x, axes_, s), s), c, s)};
    case Max:
    case Min: return {multiply(c, extreme_share(x, outputs[0], axes_, s), s)};
    case And:
    case Or: break;
  }
  return {zeros_like(x, s)};
}

std::vector<array> Reduce::jvp(const std::vector<array>& primals,
                               const std::vector<array>& tangents, const std::vector<int>&) {
  auto s = stream();
  const array& x = primals[0];
  const array& t = tangents[0];
  switch (type_) {
    case Sum: return {sum(t, axes_, true, s)};
    case Prod: return {sum(multiply(product_of_others(x, axes_, s), t, s), axes_, true, s)};
    case Max:
    case Min: {
      auto out = type_ == Max ? max(x, axes_, true, s) : min(x, axes_, true, s);
      return {sum(multiply(t, extreme_share(x, out, axes_, s), s), axes_, true, s)};
    }
    case And:
    case Or: break;
  }
  return {zeros(output_shapes(primals)[0], bool_, s)};
}

VmapResult Reduce::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  const array& x = inputs[0];
  auto moved = past_batch(axes_, axes[0]);
  switch (type_) {
    case And: return {{all(x, moved, true, s)}, axes};
    case Or: return {{any(x, moved, true, s)}, axes};
    case Sum: return {{sum(x, moved, true, s)}, axes};
    case Prod: return {{prod(x, moved, true, s)}, axes};
    case Min: return {{min(x, moved, true, s)}, axes};
    case Max: return {{max(x, moved, true, s)}, axes};
  }
  return {{x}, axes};
}

// ---- ArgReduce: integer output, no derivative ----

std::vector<array> ArgReduce::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                  const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}

std::vector<array> ArgReduce::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                  const std::vector<int>&) {
  return {zeros(output_shapes(primals)[0], uint32, stream())};
}

VmapResult ArgReduce::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  const array& x = inputs[0];
  int axis = axis_ + (axis_ >= axes[0]);
  auto out = type_ == ArgMax ? argmax(x, axis, true, stream()) : argmin(x, axis, true, stream());
  return {{out}, axes};
}

// ---- LogSumExp (last axis, kept) ----

std::vector<array> LogSumExp::vjp(const std::vector<array>& primals,
                                  const std::vector<array>& cotangents, const std::vector<int>&,
                                  const std::vector<array>& outputs) {
  auto s = stream();
  return {multiply(cotangents[0], exp(subtract(primals[0], outputs[0], s), s), s)};
}

std::vector<array> LogSumExp::jvp(const std::vector<array>& primals,
                                  const std::vector<array>& tangents, const std::vector<int>&) {
  auto s = stream();
  const array& x = primals[0];
  auto weights = softmax(x, std::vector<int>{-1}, true, s);
  return {sum(multiply(tangents[0], weights, s), -1, true, s)};
}

VmapResult LogSumExp::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  int axis;
  auto x = off_last_axis(inputs[0], axes[0], stream(), axis);
  return {{logsumexp(x, -1, true, stream())}, {axis}};
}

// ---- Softmax (last axis) ----

std::vector<array> Softmax::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                const std::vector<int>&, const std::vector<array>& outputs) {
  auto s = stream();
  const array& y = outputs[0];
  const array& c = cotangents[0];
  return {multiply(y, subtract(c, sum(multiply(c, y, s), -1, true, s), s), s)};
}

std::vector<array> Softmax::jvp(const std::vector<array>& primals,
                                const std::vector<array>& tangents, const std::vector<int>&) {
  auto s = stream();
  auto y = softmax(primals[0], std::vector<int>{-1}, precise_, s);
  const array& t = tangents[0];
  return {multiply(y, subtract(t, sum(multiply(t, y, s), -1, true, s), s), s)};
}

VmapResult Softmax::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  int axis;
  auto x = off_last_axis(inputs[0], axes[0], stream(), axis);
  return {{softmax(x, std::vector<int>{-1}, precise_, stream())}, {axis}};
}

}  // namespace lumen
