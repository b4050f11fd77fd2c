// vjp, jvp and vmap rules of the sorting primitives. Sort and Partition
// permute their input along an axis: derivatives follow the permutation that
// ArgSort / ArgPartition give. The index outputs have no derivative.
#include "lumen/creation.h"
#include "lumen/indexing.h"
#include "lumen/sort.h"
#include "lumen/sort_primitives.h"

namespace lumen {

namespace {

using VmapResult = std::pair<std::vector<array>, std::vector<int>>;

int past_batch(int axis, int batch_axis) { return axis + (axis >= batch_axis); }

}  // namespace

std::vector<array> Sort::vjp(const std::vector<array>& primals,
                             const std::vector<array>& cotangents, const std::vector<int>&,
                             const std::vector<array>&) {
  auto s = stream();
  auto order = argsort(primals[0], axis_, s);
  return {scatter_add_axis(zeros_like(primals[0], s), order, cotangents[0], axis_, s)};
}
std::vector<array> Sort::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                             const std::vector<int>&) {
  return {take_along_axis(tangents[0], argsort(primals[0], axis_, stream()), axis_, stream())};
}
VmapResult Sort::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  return {{sort(inputs[0], past_batch(axis_, axes[0]), stream())}, axes};
}

std::vector<array> ArgSort::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}
std::vector<array> ArgSort::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                const std::vector<int>&) {
  return {zeros(primals[0].shape(), uint32, stream())};
}
VmapResult ArgSort::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  return {{argsort(inputs[0], past_batch(axis_, axes[0]), stream())}, axes};
}

std::vector<array> Partition::vjp(const std::vector<array>& primals,
                                  const std::vector<array>& cotangents, const std::vector<int>&,
                                  const std::vector<array>&) {
  auto s = stream();
  auto order = argpartition(primals[0], kth_, axis_, s);
  return {scatter_add_axis(zeros_like(primals[0], s), order, cotangents[0], axis_, s)};
}
std::vector<array> Partition::jvp(const std::vector<array>& primals,
                                  const std::vector<array>& tangents, const std::vector<int>&) {
  auto order = argpartition(primals[0], kth_, axis_, stream());
  return {take_along_axis(tangents[0], order, axis_, stream())};
}
VmapResult Partition::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  return {{partition(inputs[0], kth_, past_batch(axis_, axes[0]), stream())}, axes};
}

std::vector<array> ArgPartition::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                     const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}
std::vector<array> ArgPartition::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                     const std::vector<int>&) {
  return {zeros(primals[0].shape(), uint32, stream())};
}
VmapResult ArgPartition::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  return {{argpartition(inputs[0], kth_, past_batch(axis_, axes[0]), stream())}, axes};
}

}  // namespace lumen
