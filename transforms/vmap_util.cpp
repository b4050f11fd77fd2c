#include "transforms/detail/vmap_util.h"

#include "lumen/shape.h"

namespace lumen::detail {

std::pair<std::vector<array>, int> vmap_align(const std::vector<array>& inputs,
                                              const std::vector<int>& axes, const Stream& s) {
  // The rank of the batched result, and the batch axis: the first batched
  // operand's, counted after padding its rank on the left.
  int nd = 0, first = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    int r = static_cast<int>(inputs[i].ndim()) + (axes[i] < 0 ? 1 : 0);
    nd = std::max(nd, r);
    if (axes[i] >= 0 && first < 0) first = static_cast<int>(i);
  }
  if (first < 0) return {inputs, -1};
  int to = nd - static_cast<int>(inputs[first].ndim()) + axes[first];
  std::vector<array> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const array& a = inputs[i];
    if (axes[i] >= 0) {
      int pad = nd - static_cast<int>(a.ndim());
      Shape shape(pad, 1);
      shape.insert(shape.end(), a.shape().begin(), a.shape().end());
      out.push_back(moveaxis(reshape(a, shape, s), pad + axes[i], to, s));
    } else {
      // Pad to the example rank, then a size-1 batch axis.
      Shape shape(nd - 1 - a.ndim(), 1);
      shape.insert(shape.end(), a.shape().begin(), a.shape().end());
      shape.insert(shape.begin() + to, 1);
      out.push_back(reshape(a, shape, s));
    }
  }
  return {broadcast_arrays(out, s), to};
}

array move_batch_axis(const array& a, int from, int to, int size, const Stream& s) {
  if (from >= 0) return moveaxis(a, from, to, s);
  auto shape = a.shape();
  shape.insert(shape.begin() + to, size);
  return broadcast_to(expand_dims(a, to, s), shape, s);
}

}  // namespace lumen::detail
