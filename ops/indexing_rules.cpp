// vjp, jvp and vmap rules of the indexing primitives. Index arrays (and
// dynamic starts) are integers: they get zero cotangents and tangents. Most
// vmap rules move every batch axis to the front; a batched index array gets
// a batch index (0..B-1) beside it so each example reads its own slice.
#include <algorithm>

#include "lumen/creation.h"
#include "lumen/elementwise.h"
#include "lumen/indexing.h"
#include "lumen/indexing_primitives.h"
#include "lumen/reduction.h"
#include "lumen/shape.h"
#include "transforms/detail/vmap_util.h"

namespace lumen {

namespace {

using VmapResult = std::pair<std::vector<array>, std::vector<int>>;

// Builds one output of primitive `p` on `inputs`.
array apply(std::shared_ptr<Primitive> p, Dtype dtype, std::vector<array> inputs) {
  auto shape = p->output_shapes(inputs)[0];
  return array(std::move(shape), dtype, std::move(p), std::move(inputs));
}

int batch_size(const std::vector<array>& inputs, const std::vector<int>& axes) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (axes[i] >= 0) return inputs[i].shape(axes[i]);
  }
  return 0;
}

template <typename V>
V with_front(V v, typename V::value_type front) {
  v.insert(v.begin(), front);
  return v;
}

std::vector<int> shifted(std::vector<int> axes, int by) {
  for (auto& a : axes) a += by;
  return axes;
}

// Index arrays with one batch axis in front (size B or 1), all of one rank,
// plus the batch index 0..B-1 shaped to broadcast with them.
std::vector<array> batched_indices(const std::vector<array>& indices,
                                   const std::vector<int>& axes, int batch, Dtype dtype,
                                   const Stream& s) {
  std::vector<array> out;
  auto [aligned, axis] = detail::vmap_align(indices, axes, s);
  for (auto& idx : aligned) {
    out.push_back(axis >= 0 ? moveaxis(idx, axis, 0, s) : expand_dims(idx, 0, s));
  }
  int rank = out.empty() ? 1 : static_cast<int>(out[0].ndim());
  Shape shape(rank, 1);
  shape[0] = batch;
  out.insert(out.begin(), reshape(arange(0, batch, 1, dtype, s), shape, s));
  return out;
}

// Starts of a dynamic window per example, clamped as the primitive does so
// that gathers and scatters at them address the same window.
std::vector<array> clamped_starts(const array& starts, int axis, const Shape& dims,
                                  const Shape& window, const std::vector<int>& axes, int batch,
                                  const Stream& s) {
  auto st = detail::move_batch_axis(starts, axis, 0, batch, s);  // (B, len(axes))
  std::vector<array> cols;
  for (size_t k = 0; k < axes.size(); ++k) {
    int k32 = static_cast<int>(k);
    auto col = reshape(slice(st, {0, k32}, {batch, k32 + 1}, s), {batch}, s);
    int room = dims[axes[k]] - window[axes[k]];
    cols.push_back(clip(col, array(0, col.dtype()), array(room, col.dtype()), s));
  }
  return cols;
}

array scatter_with(ScatterReduce mode, const array& a, const std::vector<array>& indices,
                   const array& updates, const std::vector<int>& axes, const Stream& s) {
  switch (mode) {
    case ScatterReduce::None: return scatter(a, indices, updates, axes, s);
    case ScatterReduce::Sum: return scatter_add(a, indices, updates, axes, s);
    case ScatterReduce::Prod: return scatter_prod(a, indices, updates, axes, s);
    case ScatterReduce::Max: return scatter_max(a, indices, updates, axes, s);
    case ScatterReduce::Min: return scatter_min(a, indices, updates, axes, s);
  }
  return a;
}

Dtype index_dtype(const std::vector<array>& indices) {
  return indices.empty() ? int32 : indices[0].dtype();
}

}  // namespace

// ---- Slice ----

std::vector<array> Slice::vjp(const std::vector<array>& primals,
                              const std::vector<array>& cotangents, const std::vector<int>&,
                              const std::vector<array>&) {
  const array& x = primals[0];
  auto p = std::make_shared<SliceUpdate>(stream(), ScatterReduce::None, start_, stop_, strides_);
  return {apply(p, x.dtype(), {zeros_like(x, stream()), cotangents[0]})};
}
std::vector<array> Slice::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                              const std::vector<int>&) {
  auto p = std::make_shared<Slice>(stream(), start_, stop_, strides_);
  return {apply(p, tangents[0].dtype(), {tangents[0]})};
}
VmapResult Slice::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  const array& x = inputs[0];
  int ax = axes[0];
  auto start = start_, stop = stop_, strides = strides_;
  start.insert(start.begin() + ax, 0);
  stop.insert(stop.begin() + ax, x.shape(ax));
  strides.insert(strides.begin() + ax, 1);
  auto p = std::make_shared<Slice>(stream(), std::move(start), std::move(stop), std::move(strides));
  return {{apply(p, x.dtype(), {x})}, {ax}};
}

// ---- SliceUpdate (inputs: src, update) ----

std::vector<array> SliceUpdate::vjp(const std::vector<array>& primals,
                                    const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums,
                                    const std::vector<array>& outputs) {
  auto s = stream();
  const array& src = primals[0];
  const array& upd = primals[1];
  const array& c = cotangents[0];
  auto window = [&](const array& a) {
    return apply(std::make_shared<Slice>(s, start_, stop_, strides_), a.dtype(), {a});
  };
  auto write = [&](ScatterReduce mode, const array& into, const array& values) {
    return apply(std::make_shared<SliceUpdate>(s, mode, start_, stop_, strides_), into.dtype(),
                 {into, values});
  };
  auto zero = array(0, c.dtype());
  std::vector<array> vjps;
  for (int arg : argnums) {
    if (arg == 0) {
      switch (mode_) {
        case ScatterReduce::None: vjps.push_back(write(ScatterReduce::None, c, zeros_like(upd, s))); break;
        case ScatterReduce::Sum: vjps.push_back(c); break;
        case ScatterReduce::Prod: vjps.push_back(write(ScatterReduce::Prod, c, upd)); break;
        case ScatterReduce::Max:
        case ScatterReduce::Min: vjps.push_back(where(equal(outputs[0], src, s), c, zero, s)); break;
      }
    } else {
      auto cw = window(c);
      switch (mode_) {
        case ScatterReduce::None:
        case ScatterReduce::Sum: vjps.push_back(cw); break;
        case ScatterReduce::Prod: vjps.push_back(multiply(cw, window(src), s)); break;
        case ScatterReduce::Max:
        case ScatterReduce::Min:
          vjps.push_back(where(equal(window(outputs[0]), upd, s), cw, zero, s));
          break;
      }
    }
  }
  return vjps;
}
std::vector<array> SliceUpdate::jvp(const std::vector<array>& primals,
                                    const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  auto s = stream();
  const array& src = primals[0];
  const array& upd = primals[1];
  array t_src = zeros_like(src, s), t_upd = zeros_like(upd, s);
  for (size_t i = 0; i < argnums.size(); ++i) (argnums[i] == 0 ? t_src : t_upd) = tangents[i];
  auto window = [&](const array& a) {
    return apply(std::make_shared<Slice>(s, start_, stop_, strides_), a.dtype(), {a});
  };
  auto write = [&](ScatterReduce mode, const array& into, const array& values) {
    return apply(std::make_shared<SliceUpdate>(s, mode, start_, stop_, strides_), into.dtype(),
                 {into, values});
  };
  switch (mode_) {
    case ScatterReduce::None:
    case ScatterReduce::Sum: return {write(mode_, t_src, t_upd)};
    case ScatterReduce::Prod:
      // inside the window d(src * upd) = t_src * upd + src * t_upd
      return {write(ScatterReduce::None, t_src,
                    add(multiply(window(t_src), upd, s), multiply(window(src), t_upd, s), s))};
    case ScatterReduce::Max:
    case ScatterReduce::Min: {
      auto out = window(write(mode_, src, upd));
      return {write(ScatterReduce::None, t_src, where(equal(out, upd, s), t_upd, window(t_src), s))};
    }
  }
  return {t_src};
}
VmapResult SliceUpdate::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  int batch = batch_size(inputs, axes);
  auto src = detail::move_batch_axis(inputs[0], axes[0], 0, batch, s);
  auto upd = detail::move_batch_axis(inputs[1], axes[1], 0, batch, s);
  auto p = std::make_shared<SliceUpdate>(s, mode_, with_front(start_, 0), with_front(stop_, batch),
                                         with_front(strides_, 1));
  return {{apply(p, src.dtype(), {src, upd})}, {0}};
}

// ---- DynamicSlice (inputs: a, start) ----

std::vector<array> DynamicSlice::vjp(const std::vector<array>& primals,
                                     const std::vector<array>& cotangents,
                                     const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> vjps;
  for (int arg : argnums) {
    vjps.push_back(arg == 0 ? slice_update(zeros_like(primals[0], stream()), cotangents[0],
                                           primals[1], axes_, stream())
                            : zeros_like(primals[1], stream()));
  }
  return vjps;
}
std::vector<array> DynamicSlice::jvp(const std::vector<array>& primals,
                                     const std::vector<array>& tangents,
                                     const std::vector<int>& argnums) {
  if (argnums[0] != 0) return {zeros(slice_size_, primals[0].dtype(), stream())};
  return {slice(tangents[0], primals[1], axes_, slice_size_, stream())};
}
VmapResult DynamicSlice::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  const array& x = inputs[0];
  if (axes[1] < 0) {
    int ax = axes[0];
    std::vector<int> moved = axes_;
    for (auto& a : moved) a += (a >= ax);
    auto size = slice_size_;
    size.insert(size.begin() + ax, x.shape(ax));
    return {{slice(x, inputs[1], moved, size, s)}, {ax}};
  }
  // A start per example: gather each example's window.
  int batch = batch_size(inputs, axes);
  auto x0 = detail::move_batch_axis(x, axes[0], 0, batch, s);
  Shape dims(x0.shape().begin() + 1, x0.shape().end());
  auto cols = clamped_starts(inputs[1], axes[1], dims, slice_size_, axes_, batch, s);
  cols.insert(cols.begin(), arange(0, batch, 1, cols[0].dtype(), s));
  std::vector<int> gather_axes{0};
  for (int a : axes_) gather_axes.push_back(a + 1);
  auto out = gather(x0, cols, gather_axes, with_front(slice_size_, 1), s);  // (B, 1, window...)
  return {{squeeze(out, 1, s)}, {0}};
}

// ---- DynamicSliceUpdate (inputs: src, update, start) ----

std::vector<array> DynamicSliceUpdate::vjp(const std::vector<array>& primals,
                                           const std::vector<array>& cotangents,
                                           const std::vector<int>& argnums,
                                           const std::vector<array>&) {
  auto s = stream();
  const array& upd = primals[1];
  const array& start = primals[2];
  std::vector<array> vjps;
  for (int arg : argnums) {
    if (arg == 0) vjps.push_back(slice_update(cotangents[0], zeros_like(upd, s), start, axes_, s));
    else if (arg == 1) vjps.push_back(slice(cotangents[0], start, axes_, upd.shape(), s));
    else vjps.push_back(zeros_like(start, s));
  }
  return vjps;
}
std::vector<array> DynamicSliceUpdate::jvp(const std::vector<array>& primals,
                                           const std::vector<array>& tangents,
                                           const std::vector<int>& argnums) {
  auto s = stream();
  array t_src = zeros_like(primals[0], s), t_upd = zeros_like(primals[1], s);
  for (size_t i = 0; i < argnums.size(); ++i) {
    if (argnums[i] == 0) t_src = tangents[i];
    if (argnums[i] == 1) t_upd = tangents[i];
  }
  return {slice_update(t_src, t_upd, primals[2], axes_, s)};
}
VmapResult DynamicSliceUpdate::vmap(const std::vector<array>& inputs,
                                    const std::vector<int>& axes) {
  auto s = stream();
  int batch = batch_size(inputs, axes);
  auto src = detail::move_batch_axis(inputs[0], axes[0], 0, batch, s);
  auto upd = detail::move_batch_axis(inputs[1], axes[1], 0, batch, s);
  if (axes[2] < 0) return {{slice_update(src, upd, inputs[2], shifted(axes_, 1), s)}, {0}};
  // A start per example: scatter each example's window.
  Shape dims(src.shape().begin() + 1, src.shape().end());
  Shape window(upd.shape().begin() + 1, upd.shape().end());
  auto cols = clamped_starts(inputs[2], axes[2], dims, window, axes_, batch, s);
  cols.insert(cols.begin(), arange(0, batch, 1, cols[0].dtype(), s));
  std::vector<int> scatter_axes{0};
  for (int a : axes_) scatter_axes.push_back(a + 1);
  auto updates = expand_dims(upd, 1, s);  // (B, 1, window...)
  return {{scatter(src, cols, updates, scatter_axes, s)}, {0}};
}

// ---- Gather (inputs: a, index arrays) ----

std::vector<array> Gather::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> indices(primals.begin() + 1, primals.end());
  std::vector<array> vjps;
  for (int arg : argnums) {
    vjps.push_back(arg == 0 ? scatter_add(zeros_like(primals[0], stream()), indices, cotangents[0],
                                          axes_, stream())
                            : zeros_like(primals[arg], stream()));
  }
  return vjps;
}
std::vector<array> Gather::jvp(const std::vector<array>& primals,
                               const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  std::vector<array> indices(primals.begin() + 1, primals.end());
  if (argnums[0] != 0) {
    auto shape = output_shapes(primals)[0];
    return {zeros(shape, primals[0].dtype(), stream())};
  }
  return {gather(tangents[0], indices, axes_, slice_sizes_, stream())};
}
VmapResult Gather::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  const array& src = inputs[0];
  std::vector<array> indices(inputs.begin() + 1, inputs.end());
  std::vector<int> index_axes(axes.begin() + 1, axes.end());
  bool index_batched = std::any_of(index_axes.begin(), index_axes.end(), [](int a) { return a >= 0; });
  int idx_rank = indices.empty() ? 0 : static_cast<int>(indices[0].ndim());
  if (!index_batched) {
    // The batch axis rides along in the slice, taken whole.
    int ax = axes[0];
    std::vector<int> moved = axes_;
    for (auto& a : moved) a += (a >= ax);
    auto sizes = slice_sizes_;
    sizes.insert(sizes.begin() + ax, src.shape(ax));
    return {{gather(src, indices, moved, sizes, s)}, {idx_rank + ax}};
  }
  int batch = batch_size(inputs, axes);
  auto src0 = detail::move_batch_axis(src, axes[0], 0, batch, s);
  auto idx = batched_indices(indices, index_axes, batch, index_dtype(indices), s);
  std::vector<int> gather_axes{0};
  for (int a : axes_) gather_axes.push_back(a + 1);
  auto out = gather(src0, idx, gather_axes, with_front(slice_sizes_, 1), s);
  // (B, index dims..., 1, slice...): drop the batch's own slice axis
  return {{squeeze(out, static_cast<int>(idx[0].ndim()), s)}, {0}};
}

// ---- GatherAxis (inputs: a, indices) ----

std::vector<array> GatherAxis::vjp(const std::vector<array>& primals,
                                   const std::vector<array>& cotangents,
                                   const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> vjps;
  for (int arg : argnums) {
    vjps.push_back(arg == 0 ? scatter_add_axis(zeros_like(primals[0], stream()), primals[1],
                                               cotangents[0], axis_, stream())
                            : zeros_like(primals[1], stream()));
  }
  return vjps;
}
std::vector<array> GatherAxis::jvp(const std::vector<array>& primals,
                                   const std::vector<array>& tangents,
                                   const std::vector<int>& argnums) {
  if (argnums[0] != 0) return {zeros(primals[1].shape(), primals[0].dtype(), stream())};
  return {take_along_axis(tangents[0], primals[1], axis_, stream())};
}
VmapResult GatherAxis::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  int batch = batch_size(inputs, axes);
  auto a = detail::move_batch_axis(inputs[0], axes[0], 0, batch, s);
  auto idx = detail::move_batch_axis(inputs[1], axes[1], 0, batch, s);
  return {{take_along_axis(a, idx, axis_ + 1, s)}, {0}};
}

// ---- Scatter (inputs: a, index arrays, updates) ----

std::vector<array> Scatter::vjp(const std::vector<array>& primals,
                                const std::vector<array>& cotangents,
                                const std::vector<int>& argnums,
                                const std::vector<array>& outputs) {
  auto s = stream();
  const array& a = primals[0];
  const array& upd = primals.back();
  const array& c = cotangents[0];
  std::vector<array> indices(primals.begin() + 1, primals.end() - 1);
  int idx_rank = indices.empty() ? 0 : static_cast<int>(indices[0].ndim());
  Shape slice_sizes(upd.shape().begin() + idx_rank, upd.shape().end());
  auto read = [&](const array& x) { return gather(x, indices, axes_, slice_sizes, s); };
  auto zero = array(0, c.dtype());
  std::vector<array> vjps;
  for (int arg : argnums) {
    if (arg == 0) {
      switch (mode_) {
        case ScatterReduce::None: vjps.push_back(scatter(c, indices, zeros_like(upd, s), axes_, s)); break;
        case ScatterReduce::Sum: vjps.push_back(c); break;
        // out = a * (product of its updates)
        case ScatterReduce::Prod: vjps.push_back(scatter_prod(c, indices, upd, axes_, s)); break;
        case ScatterReduce::Max:
        case ScatterReduce::Min: vjps.push_back(where(equal(outputs[0], a, s), c, zero, s)); break;
      }
    } else if (arg == static_cast<int>(primals.size()) - 1) {
      switch (mode_) {
        case ScatterReduce::None:
        case ScatterReduce::Sum: vjps.push_back(read(c)); break;
        // the other factors of a product: out / this update
        case ScatterReduce::Prod: vjps.push_back(divide(read(multiply(c, outputs[0], s)), upd, s)); break;
        case ScatterReduce::Max:
        case ScatterReduce::Min:
          vjps.push_back(where(equal(read(outputs[0]), upd, s), read(c), zero, s));
          break;
      }
    } else {
      vjps.push_back(zeros_like(primals[arg], s));
    }
  }
  return vjps;
}
std::vector<array> Scatter::jvp(const std::vector<array>& primals,
                                const std::vector<array>& tangents,
                                const std::vector<int>& argnums) {
  auto s = stream();
  const array& a = primals[0];
  const array& upd = primals.back();
  std::vector<array> indices(primals.begin() + 1, primals.end() - 1);
  int last = static_cast<int>(primals.size()) - 1;
  array t_a = zeros_like(a, s), t_u = zeros_like(upd, s);
  for (size_t i = 0; i < argnums.size(); ++i) {
    if (argnums[i] == 0) t_a = tangents[i];
    if (argnums[i] == last) t_u = tangents[i];
  }
  auto prim = [&](ScatterReduce mode, const array& into, const array& values) {
    std::vector<array> ins{into};
    ins.insert(ins.end(), indices.begin(), indices.end());
    ins.push_back(values);
    return array(into.shape(), into.dtype(), std::make_shared<Scatter>(s, mode, axes_), ins);
  };
  switch (mode_) {
    case ScatterReduce::None:
    case ScatterReduce::Sum: return {prim(mode_, t_a, t_u)};
    case ScatterReduce::Prod: {
      // d(a * prod u) = out * (t_a / a + sum t_u / u)
      auto out = prim(mode_, a, upd);
      auto rel = prim(ScatterReduce::Sum, divide(t_a, a, s), divide(t_u, upd, s));
      return {multiply(out, rel, s)};
    }
    case ScatterReduce::Max:
    case ScatterReduce::Min: {
      // the tangent of whichever value won
      auto out = prim(mode_, a, upd);
      int idx_rank = indices.empty() ? 0 : static_cast<int>(indices[0].ndim());
      Shape slice_sizes(upd.shape().begin() + idx_rank, upd.shape().end());
      auto won = equal(gather(out, indices, axes_, slice_sizes, s), upd, s);
      auto from_a = where(equal(out, a, s), t_a, zeros_like(t_a, s), s);
      auto u_wins = where(won, t_u, zeros_like(t_u, s), s);
      return {prim(ScatterReduce::Sum, from_a, u_wins)};
    }
  }
  return {t_a};
}
VmapResult Scatter::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  int batch = batch_size(inputs, axes);
  std::vector<array> indices(inputs.begin() + 1, inputs.end() - 1);
  std::vector<int> index_axes(axes.begin() + 1, axes.end() - 1);
  auto a = detail::move_batch_axis(inputs[0], axes[0], 0, batch, s);
  auto idx = batched_indices(indices, index_axes, batch, index_dtype(indices), s);
  // Updates go from (B, index dims..., slice...) to (B, index dims..., 1, slice...).
  int idx_rank = 0;
  for (size_t k = 0; k < indices.size(); ++k) {
    idx_rank = std::max(idx_rank, static_cast<int>(indices[k].ndim()) - (index_axes[k] >= 0));
  }
  auto upd = detail::move_batch_axis(inputs.back(), axes.back(), 0, batch, s);
  auto shape = upd.shape();
  shape.insert(shape.begin() + 1 + idx_rank, 1);
  std::vector<int> scatter_axes{0};
  for (int ax : axes_) scatter_axes.push_back(ax + 1);
  return {{scatter_with(mode_, a, idx, reshape(upd, shape, s), scatter_axes, s)}, {0}};
}

// ---- ScatterAxis (inputs: a, indices, updates) ----

std::vector<array> ScatterAxis::vjp(const std::vector<array>& primals,
                                    const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  auto s = stream();
  const array& idx = primals[1];
  const array& upd = primals[2];
  const array& c = cotangents[0];
  std::vector<array> vjps;
  for (int arg : argnums) {
    if (arg == 0) {
      vjps.push_back(mode_ == ScatterReduce::None
                         ? put_along_axis(c, idx, zeros_like(upd, s), axis_, s)
                         : c);
    } else if (arg == 2) {
      vjps.push_back(take_along_axis(c, idx, axis_, s));
    } else {
      vjps.push_back(zeros_like(idx, s));
    }
  }
  return vjps;
}
std::vector<array> ScatterAxis::jvp(const std::vector<array>& primals,
                                    const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  auto s = stream();
  array t_a = zeros_like(primals[0], s), t_u = zeros_like(primals[2], s);
  for (size_t i = 0; i < argnums.size(); ++i) {
    if (argnums[i] == 0) t_a = tangents[i];
    if (argnums[i] == 2) t_u = tangents[i];
  }
  return {array(t_a.shape(), t_a.dtype(), std::make_shared<ScatterAxis>(s, mode_, axis_),
                {t_a, primals[1], t_u})};
}
VmapResult ScatterAxis::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  int batch = batch_size(inputs, axes);
  std::vector<array> ins;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ins.push_back(detail::move_batch_axis(inputs[i], axes[i], 0, batch, s));
  }
  auto op = mode_ == ScatterReduce::None ? put_along_axis : scatter_add_axis;
  return {{op(ins[0], ins[1], ins[2], axis_ + 1, s)}, {0}};
}

}  // namespace lumen
