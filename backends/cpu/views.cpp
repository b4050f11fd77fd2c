// CPU kernels of the primitives that re-describe their input's buffer (new
// shape, strides, offset) instead of moving data. Reshape-like ones, View
// and Contiguous fall back to a copy when no description exists.
#include "backends/cpu/views.h"

#include <algorithm>
#include <utility>

#include "backends/cpu/copy.h"
#include "backends/cpu/indexing.h"
#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/indexing_primitives.h"
#include "lumen/shape_primitives.h"

namespace lumen::cpu {

namespace {

// True when the dims (size > 1) tile [0, size) exactly in some order.
bool is_dense_permutation(const Shape& shape, const Strides& strides) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size)
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] > 1) dims.emplace_back(strides[i], shape[i]);
  }
  std::sort(dims.begin(), dims.end());
  int64_t expect = 1;
  for (auto [stride, size] : dims) {
    if (stride != expect) return false;
    expect *= size;
  }
  return true;
}

}  // namespace

ViewLayout describe_view(const Shape& shape, const Strides& strides) {
  int64_t size = 1;
  for (auto d : shape) size *= d;
  if (size == 0) return {{true, true, true}, 0};
  const int nd = static_cast<int>(shape.size());
  bool row = true, col = true;
  int64_t lo = 0, hi = 0, expect = 1;
  for (int i = nd - 1; i >= 0; --i) {
    if (shape[i] == 1) continue;
    int64_t delta = strides[i] * (shape[i] - 1);
    (delta < 0 ? lo : hi) += delta;
    row &= strides[i] == expect;
    expect *= shape[i];
  }
  expect = 1;
  for (int i = 0; i < nd; ++i) {
    if (shape[i] == 1) continue;
    col &= strides[i] == expect;
    expect *= shape[i];
  }
  int64_t extent = hi - lo + 1;
  bool dense = row || col || (lo == 0 && extent == size && is_dense_permutation(shape, strides));
  return {{dense, row, col}, static_cast<size_t>(extent)};
}

std::optional<Strides> reshape_strides(const array& in, const Shape& out_shape) {
  if (in.size() == 0 || in.flags().row_contiguous) return detail::row_major_strides(out_shape);
  // numpy's no-copy reshape: match groups of input dims (size-1 dims
  // dropped) to groups of output dims with equal products; a group of input
  // dims must be contiguous among themselves to be re-split.
  Shape old_shape;
  Strides old_strides;
  for (size_t i = 0; i < in.ndim(); ++i) {
    if (in.shape(i) == 1) continue;
    old_shape.push_back(in.shape(i));
    old_strides.push_back(in.strides(i));
  }
  const size_t on = old_shape.size(), nn = out_shape.size();
  Strides out(nn, 1);
  size_t oi = 0, ni = 0;
  while (oi < on && ni < nn) {
    int64_t np = out_shape[ni], op = old_shape[oi];
    size_t nj = ni + 1, oj = oi + 1;
    while (np != op) {
      if (np < op) np *= out_shape[nj++];
      else op *= old_shape[oj++];
    }
    for (size_t k = oi; k + 1 < oj; ++k) {
      if (old_strides[k] != old_shape[k + 1] * old_strides[k + 1]) return std::nullopt;
    }
    out[nj - 1] = old_strides[oj - 1];
    for (size_t k = nj - 1; k > ni; --k) out[k - 1] = out[k] * out_shape[k];
    ni = nj;
    oi = oj;
  }
  return out;  // output dims left over have size 1: their stride is free
}

void make_view(const array& in, array& out, const Strides& strides, int64_t offset_bytes) {
  auto layout = describe_view(out.shape(), strides);
  out.copy_shared_buffer(in, strides, layout.flags, layout.data_size, offset_bytes);
}

void broadcast_view(const array& in, array& out) {
  Strides strides(out.ndim(), 0);
  int diff = static_cast<int>(out.ndim() - in.ndim());
  for (int i = static_cast<int>(in.ndim()) - 1; i >= 0; --i) {
    strides[i + diff] = in.shape(i) == 1 ? 0 : in.strides(i);
  }
  make_view(in, out, strides);
}

void squeeze_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& axes = static_cast<const Squeeze&>(p).state();
  const array& in = inputs[0];
  Strides strides;
  for (size_t i = 0, j = 0; i < in.ndim(); ++i) {
    if (j < axes.size() && axes[j] == static_cast<int>(i)) ++j;
    else strides.push_back(in.strides(i));
  }
  make_view(in, outputs[0], strides);
}

void expand_dims_kernel(const Primitive& p, const std::vector<array>& inputs,
                        std::vector<array>& outputs) {
  const auto& axes = static_cast<const ExpandDims&>(p).state();
  const array& in = inputs[0];
  array& out = outputs[0];
  Strides strides(out.ndim());
  for (int i = static_cast<int>(out.ndim()) - 1, j = static_cast<int>(axes.size()) - 1,
           k = static_cast<int>(in.ndim()) - 1;
       i >= 0; --i) {
    if (j >= 0 && axes[j] == i) {
      // A new size-1 axis: the stride row-major order would give it.
      strides[i] = i + 1 < static_cast<int>(out.ndim()) ? strides[i + 1] * out.shape(i + 1) : 1;
      --j;
    } else {
      strides[i] = in.strides(k--);
    }
  }
  make_view(in, out, strides);
}

void transpose_kernel(const Primitive& p, const std::vector<array>& inputs,
                      std::vector<array>& outputs) {
  const auto& axes = static_cast<const Transpose&>(p).state();
  Strides strides;
  for (auto ax : axes) strides.push_back(inputs[0].strides(ax));
  make_view(inputs[0], outputs[0], strides);
}

void slice_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& sl = static_cast<const Slice&>(p);
  const array& in = inputs[0];
  array& out = outputs[0];
  Strides strides(in.ndim());
  int64_t offset = 0;
  for (size_t i = 0; i < in.ndim(); ++i) {
    offset += int64_t{sl.start_indices()[i]} * in.strides(i);
    strides[i] = in.strides(i) * sl.strides()[i];
  }
  if (out.size() == 0) offset = 0;
  make_view(in, out, strides, offset * static_cast<int64_t>(in.itemsize()));
}

void as_strided_kernel(const Primitive& p, const std::vector<array>& inputs,
                       std::vector<array>& outputs) {
  const auto& [shape, strides, offset] = static_cast<const AsStrided&>(p).state();
  const array& in = inputs[0];
  make_view(in, outputs[0], strides, static_cast<int64_t>(offset * in.itemsize()));
}

std::optional<Strides> view_strides(const array& in, int64_t obytes) {
  const int64_t ibytes = in.itemsize();
  Strides strides = in.strides();
  if (ibytes == obytes || in.ndim() == 0) return strides;
  if (in.offset() % obytes != 0) return std::nullopt;
  if (in.shape(-1) != 1 && in.strides(-1) != 1) return std::nullopt;
  strides.back() = 1;
  for (size_t i = 0; i + 1 < strides.size(); ++i) {
    if (in.shape(i) == 1) continue;
    if ((strides[i] * ibytes) % obytes != 0) return std::nullopt;
    strides[i] = strides[i] * ibytes / obytes;
  }
  return strides;
}

bool contiguous_can_share(const Contiguous& p, const array& in) {
  bool dense = in.flags().row_contiguous || (p.allow_col_major() && in.flags().col_contiguous);
  return dense && in.buffer_size() <= 2 * in.nbytes() + 16384;
}

namespace {

void dynamic_slice_kernel(const Primitive& p, const std::vector<array>& inputs,
                          std::vector<array>& outputs) {
  const auto& ds = static_cast<const DynamicSlice&>(p);
  const array& in = inputs[0];
  array& out = outputs[0];
  int64_t offset = 0;
  for (size_t k = 0; k < ds.axes().size(); ++k) {
    int ax = ds.axes()[k];
    int64_t room = int64_t{in.shape(ax)} - ds.slice_size()[ax];
    offset += std::clamp<int64_t>(read_index(inputs[1], static_cast<int64_t>(k)), 0, room) * in.strides(ax);
  }
  if (out.size() == 0) offset = 0;
  make_view(in, out, in.strides(), offset * static_cast<int64_t>(in.itemsize()));
}

void broadcast_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  broadcast_view(inputs[0], outputs[0]);
}

// Reshape, Flatten, Unflatten: a view when possible, else a copy.
void reshape_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  if (auto strides = reshape_strides(in, out.shape())) make_view(in, out, *strides);
  else copy_to_row_contiguous(in, out);
}

void view_kernel(const Primitive&, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  if (auto strides = view_strides(in, out.itemsize())) {
    make_view(in, out, *strides);
    return;
  }
  array dense(in.shape(), in.dtype(), nullptr, {});
  copy_to_row_contiguous(in, dense);
  make_view(dense, out, detail::row_major_strides(out.shape()));
}

void contiguous_kernel(const Primitive& p, const std::vector<array>& inputs,
                       std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  if (contiguous_can_share(static_cast<const Contiguous&>(p), in)) out.copy_shared_buffer(in);
  else copy_to_row_contiguous(in, out);
}

LUMEN_REGISTER_KERNEL(Device::cpu, Broadcast, broadcast_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Reshape, reshape_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Flatten, reshape_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Unflatten, reshape_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Squeeze, squeeze_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, ExpandDims, expand_dims_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Transpose, transpose_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Slice, slice_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, DynamicSlice, dynamic_slice_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, AsStrided, as_strided_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, View, view_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Contiguous, contiguous_kernel);

}  // namespace
}  // namespace lumen::cpu
