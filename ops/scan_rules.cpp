// vjp, jvp and vmap rules of Scan. A cumulative sum's vjp is the cumulative
// sum of the cotangent the other way; the others reduce to it (prod, logaddexp)
// or route each output to the input element holding its running extreme.
#include <limits>

#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/reduction.h"
#include "lumen/scan.h"
#include "lumen/scan_primitives.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

// For each output of a cumulative max/min, the index (along `axis`) of the
// input element it equals: the latest record in scan order.
array extreme_owner(const array& x, const array& inclusive_out, int axis, bool reverse,
                    const Stream& s) {
  int n = x.shape(axis);
  Shape shape(x.ndim(), 1);
  shape[axis] = n;
  auto pos = broadcast_to(reshape(arange(0, n, 1, int32, s), shape, s), x.shape(), s);
  auto marked = where(equal(x, inclusive_out, s), pos, array(reverse ? n : -1, int32), s);
  return reverse ? cummin(marked, axis, true, true, s) : cummax(marked, axis, false, true, s);
}

}  // namespace

std::vector<array> Scan::vjp(const std::vector<array>& primals,
                             const std::vector<array>& cotangents, const std::vector<int>&,
                             const std::vector<array>& outputs) {
  auto s = stream();
  const array& x = primals[0];
  const array& c = cotangents[0];
  const array& out = outputs[0];
  auto back_sum = [&](const array& v) { return cumsum(v, axis_, !reverse_, inclusive_, s); };
  switch (type_) {
    case Sum: return {astype(back_sum(c), x.dtype(), s)};
    case Prod: {
      // d out_i / d x_k = out_i / x_k; the first zero of a scan (the only
      // element whose change moves later outputs) is redone with a 1 there.
      auto zero = array(0, x.dtype());
      auto other = cumprod(x, axis_, reverse_, !inclusive_, s);
      auto incl = inclusive_ ? out : other;
      auto excl = inclusive_ ? other : out;
      auto is_zero = equal(incl, zero, s);
      auto first_zero = logical_and(is_zero, not_equal(excl, zero, s), s);
      auto with_one = cumprod(where(first_zero, array(1, x.dtype()), x, s), axis_, reverse_,
                              inclusive_, s);
      auto regular = divide(back_sum(multiply(out, c, s)), x, s);
      return {where(first_zero, back_sum(multiply(with_one, c, s)),
                    where(is_zero, zero, regular, s), s)};
    }
    case LogAddExp: {
      // sum_i c_i exp(x_k - out_i), with positive and negative parts of c
      // summed in log space.
      auto lowest = array(std::numeric_limits<float>::lowest(), c.dtype());
      auto log_abs = log(abs(c, s), s);
      auto part = [&](const array& take) {
        auto log_c = where(take, log_abs, lowest, s);
        auto acc = logcumsumexp(subtract(log_c, out, s), axis_, !reverse_, inclusive_, s);
        return exp(add(acc, x, s), s);
      };
      auto zero = array(0, c.dtype());
      return {subtract(part(greater(c, zero, s)), part(less(c, zero, s)), s)};
    }
    case Max:
    case Min: {
      // Each output's cotangent goes to the element holding its extreme.
      auto incl = inclusive_ ? out
                             : (type_ == Max ? cummax(x, axis_, reverse_, true, s)
                                             : cummin(x, axis_, reverse_, true, s));
      auto owner = extreme_owner(x, incl, axis_, reverse_, s);
      auto cot = c;
      if (!inclusive_) {
        // out_i is the inclusive extreme one step earlier: shift the
        // cotangents onto the position whose extreme they read.
        int n = x.shape(axis_);
        Shape start(x.ndim(), 0), stop = x.shape();
        Shape c_start = start, c_stop = stop;
        if (reverse_) {
          stop[axis_] = n - 1;
          c_start[axis_] = 1;
        } else {
          start[axis_] = 1;
          c_stop[axis_] = n - 1;
        }
        owner = slice(owner, c_start, c_stop, s);
        cot = slice(c, start, stop, s);
      }
      return {scatter_add_axis(zeros_like(x, s), owner, cot, axis_, s)};
    }
  }
  return {zeros_like(x, s)};
}

std::vector<array> Scan::jvp(const std::vector<array>& primals,
                             const std::vector<array>& tangents, const std::vector<int>&) {
  auto s = stream();
  const array& x = primals[0];
  const array& t = tangents[0];
  auto out = array(x.shape(), x.dtype(),
                   std::make_shared<Scan>(s, type_, axis_, reverse_, inclusive_), {x});
  auto scan_sum = [&](const array& v) { return cumsum(v, axis_, reverse_, inclusive_, s); };
  switch (type_) {
    case Sum: return {scan_sum(t)};
    case Prod: {
      // Away from zeros d out = out * scan(t / x); where out is 0 only the
      // first zero's tangent survives, times the product of the others.
      auto zero = array(0, x.dtype());
      auto incl = cumprod(x, axis_, reverse_, true, s);
      auto excl = cumprod(x, axis_, reverse_, false, s);
      auto first_zero = logical_and(equal(incl, zero, s), not_equal(excl, zero, s), s);
      auto with_one = cumprod(where(first_zero, array(1, x.dtype()), x, s), axis_, reverse_,
                              inclusive_, s);
      auto at_zero = multiply(scan_sum(where(first_zero, t, zeros_like(t, s), s)), with_one, s);
      return {where(equal(out, zero, s), at_zero, multiply(out, scan_sum(divide(t, x, s)), s), s)};
    }
    case LogAddExp: {
      // sum_k t_k exp(x_k - out_i), shifted by the global maximum for range
      auto m = max(x, axis_, true, s);
      auto acc = scan_sum(multiply(t, exp(subtract(x, m, s), s), s));
      return {multiply(acc, exp(subtract(m, out, s), s), s)};
    }
    case Max:
    case Min: {
      auto incl = inclusive_ ? out
                             : (type_ == Max ? cummax(x, axis_, reverse_, true, s)
                                             : cummin(x, axis_, reverse_, true, s));
      auto owner = extreme_owner(x, incl, axis_, reverse_, s);
      auto picked = take_along_axis(t, owner, axis_, s);
      if (inclusive_) return {picked};
      // exclusive: shifted by one, the first output (the identity) constant
      int n = x.shape(axis_);
      Shape start(x.ndim(), 0), stop = x.shape();
      if (reverse_) start[axis_] = 1;
      else stop[axis_] = n - 1;
      std::vector<std::pair<int, int>> widths(x.ndim(), {0, 0});
      widths[axis_] = reverse_ ? std::pair<int, int>{0, 1} : std::pair<int, int>{1, 0};
      return {pad(slice(picked, start, stop, s), widths, array(0, t.dtype()), "constant", s)};
    }
  }
  return {zeros_like(t, s)};
}

std::pair<std::vector<array>, std::vector<int>> Scan::vmap(const std::vector<array>& inputs,
                                                           const std::vector<int>& axes) {
  auto s = stream();
  int axis = axis_ + (axis_ >= axes[0]);
  const array& x = inputs[0];
  auto op = [&] {
    switch (type_) {
      case Sum: return cumsum(x, axis, reverse_, inclusive_, s);
      case Prod: return cumprod(x, axis, reverse_, inclusive_, s);
      case Max: return cummax(x, axis, reverse_, inclusive_, s);
      case Min: return cummin(x, axis, reverse_, inclusive_, s);
      case LogAddExp: break;
    }
    return logcumsumexp(x, axis, reverse_, inclusive_, s);
  };
  return {{op()}, axes};
}

}  // namespace lumen
