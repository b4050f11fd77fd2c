// CPU kernels of the gathers, scatters and slice updates. Each walks its
// positions in batches: offsets into the source and destination come from
// OffsetWalker / IndexOffsets, then one typed loop moves or combines.
#include "backends/cpu/indexing.h"

#include <algorithm>
#include <numeric>

#include "backends/cpu/copy.h"
#include "backends/cpu/dispatch.h"
#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

template <typename F>
decltype(auto) dispatch_index_dtype(Dtype d, F&& f) {
  switch (d) {
    case uint8: return f(uint8_t{});
    case uint16: return f(uint16_t{});
    case uint32: return f(uint32_t{});
    case uint64: return f(uint64_t{});
    case int8: return f(int8_t{});
    case int16: return f(int16_t{});
    case int32: return f(int32_t{});
    case int64: return f(int64_t{});
    default: detail::throw_invalid("[index] Indices must be integers, got {}.", dtype_to_string(d));
  }
}

template <typename F>
void dispatch_item_size(size_t itemsize, F&& f) {
  switch (itemsize) {
    case 1: return f(uint8_t{});
    case 2: return f(uint16_t{});
    case 4: return f(uint32_t{});
    case 8: return f(uint64_t{});
    default: detail::throw_invalid("[index] unsupported element size {}", itemsize);
  }
}

// A negative index counts from the end of an axis of `size`; the result
// must be below `limit` (size minus the span the index starts, plus one).
template <typename I>
int64_t wrap_index(I v, int64_t size, int64_t limit, const char* op) {
  bool ok;
  int64_t i;
  if constexpr (std::is_unsigned_v<I>) {
    ok = v < static_cast<uint64_t>(limit);
    i = static_cast<int64_t>(v);
  } else {
    i = v < 0 ? int64_t{v} + size : int64_t{v};
    ok = i >= 0 && i < limit;
  }
  if (!ok) {
    if (limit == size) {
      detail::throw_range("[{}] Index {} is out of bounds for an axis of size {}.", op, v, size);
    }
    detail::throw_range("[{}] Index {} is out of bounds: a slice of {} from it overruns an axis of size {}.",
                        op, v, size - limit + 1, size);
  }
  return i;
}

}  // namespace

void OffsetWalker::fill(int64_t begin, int64_t end, int64_t* out) const {
  int64_t j = 0;
  for_each_run<1>(layout_, begin, end,
                  [&](const std::array<int64_t, 1>& off, int64_t count, const std::array<int64_t, 1>& st) {
                    for (int64_t c = 0; c < count; ++c) out[j++] = off[0] + c * st[0];
                  });
}

IndexOffsets::IndexOffsets(const std::vector<array>& indices, const std::vector<Strides>& walk_strides,
                           const Shape& shape, std::vector<int64_t> sizes, std::vector<int64_t> strides,
                           const char* op, std::vector<int64_t> spans)
    : sizes_(std::move(sizes)), strides_(std::move(strides)), op_(op) {
  for (size_t k = 0; k < sizes_.size(); ++k) {
    limits_.push_back(sizes_[k] - (spans.empty() ? 1 : spans[k]) + 1);
  }
  for (size_t k = 0; k < indices.size(); ++k) {
    data_.push_back(indices[k].data<char>());
    layouts_.push_back(collapse<1>(shape, {&walk_strides[k]}));
    dtype_ = indices[k].dtype();
  }
}

void IndexOffsets::fill(int64_t begin, int64_t end, int64_t* out) const {
  std::fill(out, out + (end - begin), int64_t{0});
  if (data_.empty()) return;
  dispatch_index_dtype(dtype_, [&](auto tag) {
    using I = decltype(tag);
    for (size_t k = 0; k < data_.size(); ++k) {
      const I* idx = reinterpret_cast<const I*>(data_[k]);
      const int64_t size = sizes_[k], limit = limits_[k], stride = strides_[k];
      int64_t j = 0;
      for_each_run<1>(layouts_[k], begin, end,
                      [&](const std::array<int64_t, 1>& off, int64_t count,
                          const std::array<int64_t, 1>& st) {
                        for (int64_t c = 0; c < count; ++c) {
                          out[j++] += wrap_index(idx[off[0] + c * st[0]], size, limit, op_) * stride;
                        }
                      });
    }
  });
}

void move_elements(size_t itemsize, char* dst, const int64_t* dst_offs, const char* src,
                   const int64_t* src_offs, int64_t n) {
  dispatch_item_size(itemsize, [&](auto tag) {
    using T = decltype(tag);
    T* d = reinterpret_cast<T*>(dst);
    const T* s = reinterpret_cast<const T*>(src);
    if (dst_offs) {
      for (int64_t j = 0; j < n; ++j) d[dst_offs[j]] = s[src_offs[j]];
    } else {
      for (int64_t j = 0; j < n; ++j) d[j] = s[src_offs[j]];
    }
  });
}

namespace {

template <typename T>
T combine(ScatterReduce mode, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (mode) {
      case ScatterReduce::Sum:
      case ScatterReduce::Max: return a || b;
      case ScatterReduce::Prod:
      case ScatterReduce::Min: return a && b;
      default: return b;
    }
  } else if constexpr (is_complex_v<T>) {
    switch (mode) {
      case ScatterReduce::Sum: return a + b;
      case ScatterReduce::Prod: return a * b;
      case ScatterReduce::None: return b;
      default: detail::throw_invalid("[scatter] max/min of complex64 is not supported");
    }
  } else {
    using C = compute_t<T>;
    C x = static_cast<C>(a), y = static_cast<C>(b);
    switch (mode) {
      case ScatterReduce::Sum: return T(x + y);
      case ScatterReduce::Prod: return T(x * y);
      case ScatterReduce::Max: return x > y ? a : b;  // as MLX: ties and NaNs take the update
      case ScatterReduce::Min: return x < y ? a : b;
      default: return b;
    }
  }
}

}  // namespace

void combine_elements(ScatterReduce mode, Dtype dtype, char* dst, const int64_t* dst_offs,
                      const char* src, const int64_t* src_offs, int64_t n) {
  if (mode == ScatterReduce::None) return move_elements(size_of(dtype), dst, dst_offs, src, src_offs, n);
  dispatch_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* d = reinterpret_cast<T*>(dst);
    const T* s = reinterpret_cast<const T*>(src);
    for (int64_t j = 0; j < n; ++j) d[dst_offs[j]] = combine<T>(mode, d[dst_offs[j]], s[src_offs[j]]);
  });
}

int64_t read_index(const array& a, int64_t k) {
  const char* p = a.data<char>() + (a.ndim() == 0 ? 0 : k * a.strides(0) * static_cast<int64_t>(a.itemsize()));
  return dispatch_index_dtype(a.dtype(), [p](auto tag) {
    return static_cast<int64_t>(*reinterpret_cast<const decltype(tag)*>(p));
  });
}

namespace {

void alloc_output(array& out) { out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes())); }

Shape tail(const Shape& s, size_t from) { return Shape(s.begin() + from, s.end()); }

int64_t product(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<int64_t>());
}

std::vector<Strides> strides_of(const std::vector<array>& arrays) {
  std::vector<Strides> out;
  for (auto& a : arrays) out.push_back(a.strides());
  return out;
}

// The batch loop shared by gathers and scatters: positions [begin, end) of
// a walk, source offsets = walker + index offsets of position / group
// (several positions share one index), destination offsets likewise.
struct Batch {
  std::vector<int64_t> dst, src, idx;
  Batch() : dst(kOffsetBatch), src(kOffsetBatch), idx(kOffsetBatch + 1) {}
  // Adds idx offsets of positions / group to `offs` for positions [b, e).
  void add_index(const IndexOffsets& io, int64_t group, int64_t b, int64_t e, int64_t* offs) {
    int64_t i0 = b / group, i1 = (e - 1) / group + 1;
    io.fill(i0, i1, idx.data());
    for (int64_t q = b; q < e; ++q) offs[q - b] += idx[q / group - i0];
  }
};

void gather_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& g = static_cast<const Gather&>(p);
  const array& src = inputs[0];
  std::vector<array> idx(inputs.begin() + 1, inputs.end());
  array& out = outputs[0];
  alloc_output(out);
  const int64_t slice_n = product(g.slice_sizes());
  if (out.size() == 0 || slice_n == 0) return;
  const int64_t n_idx = static_cast<int64_t>(out.size()) / slice_n;
  const size_t isz = src.itemsize();
  Shape idx_shape = idx.empty() ? Shape{} : idx[0].shape();
  std::vector<int64_t> sizes, strides, spans;
  for (auto ax : g.axes()) {
    sizes.push_back(src.shape(ax));
    strides.push_back(src.strides(ax));
    spans.push_back(g.slice_sizes()[ax]);
  }
  IndexOffsets io(idx, strides_of(idx), idx_shape, sizes, strides, "gather", spans);
  const char* sp = src.data<char>();
  char* dp = out.data<char>();

  if (slice_n >= 64) {  // whole slices through the copy kernel (memcpy for dense rows)
    CopyPlan plan(g.slice_sizes(), src.strides(), detail::row_major_strides(g.slice_sizes()), isz);
    const int64_t slice_bytes = slice_n * static_cast<int64_t>(isz);
    if (n_idx >= detail::cpu_threads()) {
      detail::parallel_for(n_idx, std::max<int64_t>(1, (int64_t{1} << 16) / slice_n), [&](int64_t b, int64_t e) {
        std::vector<int64_t> offs(kOffsetBatch);
        for (int64_t i = b; i < e; i += kOffsetBatch) {
          int64_t m = std::min(kOffsetBatch, e - i);
          io.fill(i, i + m, offs.data());
          for (int64_t j = 0; j < m; ++j) {
            plan.run(sp + offs[j] * static_cast<int64_t>(isz), dp + (i + j) * slice_bytes);
          }
        }
      });
    } else {
      for (int64_t i = 0; i < n_idx; ++i) {
        int64_t off;
        io.fill(i, i + 1, &off);
        const char* s = sp + off * static_cast<int64_t>(isz);
        char* d = dp + i * slice_bytes;
        detail::parallel_for(slice_n, int64_t{1} << 15, [&](int64_t b, int64_t e) { plan.run(s, d, b, e); });
      }
    }
    return;
  }
  // Small slices: element by element over the output.
  Strides walk(idx_shape.size(), 0);
  walk.insert(walk.end(), src.strides().begin(), src.strides().end());
  OffsetWalker sw(out.shape(), walk);
  detail::parallel_for(static_cast<int64_t>(out.size()), int64_t{1} << 14, [&](int64_t b, int64_t e) {
    Batch batch;
    for (int64_t q = b; q < e; q += kOffsetBatch) {
      int64_t m = std::min(kOffsetBatch, e - q);
      sw.fill(q, q + m, batch.src.data());
      batch.add_index(io, slice_n, q, q + m, batch.src.data());
      move_elements(isz, dp + q * static_cast<int64_t>(isz), nullptr, sp, batch.src.data(), m);
    }
  });
}

void gather_axis_kernel(const Primitive& p, const std::vector<array>& inputs,
                        std::vector<array>& outputs) {
  const int axis = static_cast<const GatherAxis&>(p).axis();
  const array& src = inputs[0];
  const array& idx = inputs[1];
  array& out = outputs[0];
  alloc_output(out);
  if (out.size() == 0) return;
  Strides walk = src.strides();
  walk[axis] = 0;  // the index supplies the position along the axis
  OffsetWalker sw(out.shape(), walk);
  IndexOffsets io({idx}, {idx.strides()}, out.shape(), {src.shape(axis)}, {src.strides(axis)},
                  "take_along_axis");
  const size_t isz = src.itemsize();
  const char* sp = src.data<char>();
  char* dp = out.data<char>();
  detail::parallel_for(static_cast<int64_t>(out.size()), int64_t{1} << 14, [&](int64_t b, int64_t e) {
    Batch batch;
    for (int64_t q = b; q < e; q += kOffsetBatch) {
      int64_t m = std::min(kOffsetBatch, e - q);
      sw.fill(q, q + m, batch.src.data());
      batch.add_index(io, 1, q, q + m, batch.src.data());
      move_elements(isz, dp + q * static_cast<int64_t>(isz), nullptr, sp, batch.src.data(), m);
    }
  });
}

// Runs positions [b, e) of a scatter walk: dst = dst walker + index offsets
// of position / group, src = src walker.
void scatter_range(ScatterReduce mode, Dtype dtype, char* dp, const char* up, const OffsetWalker& dw,
                   const OffsetWalker& uw, const IndexOffsets& io, int64_t group, int64_t b, int64_t e) {
  Batch batch;
  for (int64_t q = b; q < e; q += kOffsetBatch) {
    int64_t m = std::min(kOffsetBatch, e - q);
    dw.fill(q, q + m, batch.dst.data());
    uw.fill(q, q + m, batch.src.data());
    batch.add_index(io, group, q, q + m, batch.dst.data());
    combine_elements(mode, dtype, dp, batch.dst.data(), up, batch.src.data(), m);
  }
}

void scatter_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& sc = static_cast<const Scatter&>(p);
  const array& a = inputs[0];
  const array& upd = inputs.back();
  std::vector<array> idx(inputs.begin() + 1, inputs.end() - 1);
  array& out = outputs[0];
  copy_or_donate(a, out);
  if (upd.size() == 0) return;
  const size_t idx_ndim = upd.ndim() - out.ndim();
  const Shape slice_shape = tail(upd.shape(), idx_ndim);
  const int64_t slice_n = product(slice_shape);
  if (slice_n == 0) return;
  const int64_t n_idx = static_cast<int64_t>(upd.size()) / slice_n;
  Shape idx_shape(upd.shape().begin(), upd.shape().begin() + idx_ndim);
  std::vector<int64_t> sizes, strides, spans;
  for (auto ax : sc.axes()) {
    sizes.push_back(out.shape(ax));
    strides.push_back(out.strides(ax));
    spans.push_back(slice_shape[ax]);
  }
  IndexOffsets io(idx, strides_of(idx), idx_shape, sizes, strides, "scatter", spans);
  Strides dwalk(idx_ndim, 0);
  dwalk.insert(dwalk.end(), out.strides().begin(), out.strides().end());
  OffsetWalker dw(upd.shape(), dwalk), uw(upd.shape(), upd.strides());
  char* dp = out.data<char>();
  const char* up = upd.data<char>();
  // Updates apply in row-major order. Threads may split the slice positions
  // when the slices are large and one along every indexed axis: then two
  // updates meet only at equal slice positions, which stay in one thread.
  bool by_slice = slice_n >= 4096;
  for (auto ax : sc.axes()) by_slice &= slice_shape[ax] == 1;
  if (!by_slice) {
    scatter_range(sc.mode(), out.dtype(), dp, up, dw, uw, io, slice_n, 0, n_idx * slice_n);
    return;
  }
  detail::parallel_for(slice_n, 1024, [&](int64_t pb, int64_t pe) {
    for (int64_t i = 0; i < n_idx; ++i) {
      scatter_range(sc.mode(), out.dtype(), dp, up, dw, uw, io, slice_n, i * slice_n + pb, i * slice_n + pe);
    }
  });
}

// Moves `axis` last in a shape or strides.
template <typename V>
V axis_last(V v, int axis) {
  auto x = v[axis];
  v.erase(v.begin() + axis);
  v.push_back(x);
  return v;
}

void scatter_axis_kernel(const Primitive& p, const std::vector<array>& inputs,
                         std::vector<array>& outputs) {
  const auto& sc = static_cast<const ScatterAxis&>(p);
  const int axis = sc.axis();
  const array& idx = inputs[1];
  const array& upd = inputs[2];
  array& out = outputs[0];
  copy_or_donate(inputs[0], out);
  const int64_t run = upd.shape(axis);
  if (upd.size() == 0) return;
  // Walk with the axis innermost: updates that can land on one element
  // differ only along it, so whole runs go to one thread, in order.
  Shape walk_shape = axis_last(upd.shape(), axis);
  Strides dwalk = out.strides();
  dwalk[axis] = 0;
  OffsetWalker dw(walk_shape, axis_last(dwalk, axis)), uw(walk_shape, axis_last(upd.strides(), axis));
  IndexOffsets io({idx}, {axis_last(idx.strides(), axis)}, walk_shape, {out.shape(axis)},
                  {out.strides(axis)}, sc.mode() == ScatterReduce::None ? "put_along_axis" : "scatter_add_axis");
  char* dp = out.data<char>();
  const char* up = upd.data<char>();
  const int64_t outer = static_cast<int64_t>(upd.size()) / run;
  detail::parallel_for(outer, std::max<int64_t>(1, (int64_t{1} << 14) / run), [&](int64_t b, int64_t e) {
    scatter_range(sc.mode(), out.dtype(), dp, up, dw, uw, io, 1, b * run, e * run);
  });
}

// The window of a slice update as strides and a byte offset into `out`.
std::pair<Strides, int64_t> window(const array& out, const Shape& start, const Shape& steps) {
  Strides strides(out.ndim());
  int64_t offset = 0;
  for (size_t i = 0; i < out.ndim(); ++i) {
    offset += int64_t{start[i]} * out.strides(i);
    strides[i] = out.strides(i) * steps[i];
  }
  return {strides, offset * static_cast<int64_t>(out.itemsize())};
}

// Writes or combines `upd` into the window of `out`.
void update_window(ScatterReduce mode, const array& upd, array& out, const Strides& strides,
                   int64_t offset_bytes) {
  char* base = out.data<char>() + offset_bytes;
  if (mode == ScatterReduce::None) {
    copy_strided(upd.data<char>(), upd.strides(), base, strides, upd.shape(), upd.itemsize());
    return;
  }
  OffsetWalker dw(upd.shape(), strides), uw(upd.shape(), upd.strides());
  const char* up = upd.data<char>();
  detail::parallel_for(static_cast<int64_t>(upd.size()), int64_t{1} << 14, [&](int64_t b, int64_t e) {
    Batch batch;
    for (int64_t q = b; q < e; q += kOffsetBatch) {
      int64_t m = std::min(kOffsetBatch, e - q);
      dw.fill(q, q + m, batch.dst.data());
      uw.fill(q, q + m, batch.src.data());
      combine_elements(mode, out.dtype(), base, batch.dst.data(), up, batch.src.data(), m);
    }
  });
}

void slice_update_kernel(const Primitive& p, const std::vector<array>& inputs,
                         std::vector<array>& outputs) {
  const auto& su = static_cast<const SliceUpdate&>(p);
  const array& upd = inputs[1];
  array& out = outputs[0];
  copy_or_donate(inputs[0], out);
  if (upd.size() == 0) return;
  auto [strides, offset] = window(out, su.start_indices(), su.strides());
  update_window(su.mode(), upd, out, strides, offset);
}

void dynamic_slice_update_kernel(const Primitive& p, const std::vector<array>& inputs,
                                 std::vector<array>& outputs) {
  const auto& axes = static_cast<const DynamicSliceUpdate&>(p).axes();
  const array& upd = inputs[1];
  array& out = outputs[0];
  copy_or_donate(inputs[0], out);
  if (upd.size() == 0) return;
  Shape start(out.ndim(), 0);
  for (size_t k = 0; k < axes.size(); ++k) {
    int ax = axes[k];
    int64_t room = int64_t{out.shape(ax)} - upd.shape(ax);
    start[ax] = static_cast<int32_t>(std::clamp<int64_t>(read_index(inputs[2], static_cast<int64_t>(k)), 0, room));
  }
  auto [strides, offset] = window(out, start, Shape(out.ndim(), 1));
  update_window(ScatterReduce::None, upd, out, strides, offset);
}

LUMEN_REGISTER_KERNEL(Device::cpu, Gather, gather_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, GatherAxis, gather_axis_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, Scatter, scatter_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, ScatterAxis, scatter_axis_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, SliceUpdate, slice_update_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, DynamicSliceUpdate, dynamic_slice_update_kernel);

}  // namespace
}  // namespace lumen::cpu
