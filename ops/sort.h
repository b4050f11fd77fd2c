// Sorting and selection (MLX's signatures). Sorts are stable and put NaNs
// last; without an axis they work on the flattened array. Index outputs are
// uint32. A bad axis, kth or k throws std::invalid_argument naming the op.
#pragma once

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen {

array sort(const array& a, StreamOrDevice s = {});
array sort(const array& a, int axis, StreamOrDevice s = {});

array argsort(const array& a, StreamOrDevice s = {});
array argsort(const array& a, int axis, StreamOrDevice s = {});

// The element of sorted rank kth (negative counts from the end) at position
// kth, nothing greater before it, nothing smaller after it.
array partition(const array& a, int kth, StreamOrDevice s = {});
array partition(const array& a, int kth, int axis, StreamOrDevice s = {});

array argpartition(const array& a, int kth, StreamOrDevice s = {});
array argpartition(const array& a, int kth, int axis, StreamOrDevice s = {});

// The k largest elements along the axis (in no particular order), as MLX:
// the last k of partition(a, -k).
array topk(const array& a, int k, StreamOrDevice s = {});
array topk(const array& a, int k, int axis, StreamOrDevice s = {});

}  // namespace lumen
