#include "lumen/sort.h"

#include "core/detail/errors.h"
#include "ops/detail/shape_checks.h"
#include "lumen/indexing.h"
#include "lumen/shape.h"
#include "lumen/sort_primitives.h"

namespace lumen {

namespace {

int normalize_axis(const char* op, int axis, const array& a) {
  return detail::normalize_axis(axis, static_cast<int>(a.ndim()), op);
}

int normalize_kth(const char* op, int kth, int axis, const array& a) {
  int n = a.shape(axis);
  int k = kth < 0 ? kth + n : kth;
  if (k < 0 || k >= n) {
    detail::throw_invalid("[{}] kth {} is out of range for axis {} of an array with shape {}", op,
                          kth, axis, detail::shape_str(a.shape()));
  }
  return k;
}

}  // namespace

array sort(const array& a, StreamOrDevice s) { return sort(flatten(a, s), 0, s); }
array sort(const array& a, int axis, StreamOrDevice s) {
  int ax = normalize_axis("sort", axis, a);
  return array(a.shape(), a.dtype(), std::make_shared<Sort>(to_stream(s), ax), {a});
}

array argsort(const array& a, StreamOrDevice s) { return argsort(flatten(a, s), 0, s); }
array argsort(const array& a, int axis, StreamOrDevice s) {
  int ax = normalize_axis("argsort", axis, a);
  return array(a.shape(), uint32, std::make_shared<ArgSort>(to_stream(s), ax), {a});
}

array partition(const array& a, int kth, StreamOrDevice s) { return partition(flatten(a, s), kth, 0, s); }
array partition(const array& a, int kth, int axis, StreamOrDevice s) {
  int ax = normalize_axis("partition", axis, a);
  int k = normalize_kth("partition", kth, ax, a);
  return array(a.shape(), a.dtype(), std::make_shared<Partition>(to_stream(s), k, ax), {a});
}

array argpartition(const array& a, int kth, StreamOrDevice s) {
  return argpartition(flatten(a, s), kth, 0, s);
}
array argpartition(const array& a, int kth, int axis, StreamOrDevice s) {
  int ax = normalize_axis("argpartition", axis, a);
  int k = normalize_kth("argpartition", kth, ax, a);
  return array(a.shape(), uint32, std::make_shared<ArgPartition>(to_stream(s), k, ax), {a});
}

array topk(const array& a, int k, StreamOrDevice s) { return topk(flatten(a, s), k, 0, s); }
array topk(const array& a, int k, int axis, StreamOrDevice s) {
  int ax = normalize_axis("topk", axis, a);
  if (k < 0 || k > a.shape(ax)) {
    detail::throw_invalid("[topk] k = {} is out of range for axis {} of an array with shape {}", k,
                          axis, detail::shape_str(a.shape()));
  }
  if (k == a.shape(ax)) return a;
  auto parted = partition(a, -k, ax, s);
  Shape start(a.ndim(), 0);
  start[ax] = a.shape(ax) - k;
  return slice(parted, std::move(start), a.shape(), s);
}

bool Sort::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Sort*>(&other);
  return o && o->axis_ == axis_;
}
std::vector<Shape> Sort::output_shapes(const std::vector<array>& inputs) { return {inputs[0].shape()}; }

bool ArgSort::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const ArgSort*>(&other);
  return o && o->axis_ == axis_;
}
std::vector<Shape> ArgSort::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

bool Partition::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Partition*>(&other);
  return o && o->kth_ == kth_ && o->axis_ == axis_;
}
std::vector<Shape> Partition::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

bool ArgPartition::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const ArgPartition*>(&other);
  return o && o->kth_ == kth_ && o->axis_ == axis_;
}
std::vector<Shape> ArgPartition::output_shapes(const std::vector<array>& inputs) {
  return {inputs[0].shape()};
}

}  // namespace lumen
