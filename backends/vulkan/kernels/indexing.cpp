// Vulkan kernels of the gathers, scatters and slice updates: Gather,
// GatherAxis, DynamicSlice (shaders/gather.comp), Scatter, ScatterAxis,
// SliceUpdate, DynamicSliceUpdate (shaders/scatter.comp). The host describes
// each as a walk (shaders/index.glsl): a shape whose row-major positions map
// to destination, source and index offsets through stride sets, plus index
// terms. Out-of-range indices are reported when the stream finishes
// (kernels/index_errors.h); dynamic slice starts clamp, as on the CPU.
//
// Scatter order: the CPU applies updates in row-major order. Here updates
// that can meet run in one invocation, in that order (bit-identical results),
// when the layout allows it with enough parallelism: scatter slices that are
// one element wide along every indexed axis, one invocation per slice
// position; put_along_axis / scatter_add_axis, one invocation per run along
// the axis. Otherwise assignments let the last update win through a claim
// pass, and reductions combine with compare-and-swap (exact for integers and
// bool; float sums and products round in arrival order, so they may differ
// from the CPU in the last bits where updates collide). Reductions of 8-byte
// elements have no atomics here and stay in the ordered form.
#include <algorithm>
#include <numeric>

#include "backends/common/donation.h"
#include "backends/cpu/views.h"
#include "backends/vulkan/kernels/copy.h"
#include "backends/vulkan/kernels/index_errors.h"
#include "backends/vulkan/shaders/ids.h"
#include "lumen/backend.h"
#include "lumen/indexing_primitives.h"

namespace lumen::vulkan {

namespace {

// Elements move as raw bits of their size, except where scatters combine.
uint32_t bits_dtype(size_t itemsize) {
  switch (itemsize) {
    case 1: return DT_U8;
    case 2: return DT_U16;
    case 4: return DT_U32;
    default: return DT_U64;
  }
}

// A walk over `shape` (see the file comment): stride set 0 addresses the
// destination, set 1 the source, set 2 + k index term k.
class Walk {
 public:
  Walk(Shape shape, Strides dst, Strides src) : shape_(std::move(shape)) {
    sets_.push_back(std::move(dst));
    sets_.push_back(std::move(src));
  }

  // Term: the value of `index` at its offset (walk strides `walk`, plus
  // `element` elements) is a position along an axis of `size`, below
  // `limit`, `stride` elements apart; clamped into range instead of checked
  // when `clamp`.
  void add_term(const array& index, Strides walk, int64_t size, int64_t limit, int64_t stride,
                bool clamp = false, int64_t element = 0) {
    sets_.push_back(std::move(walk));
    uint64_t addr = address_of(index) + static_cast<uint64_t>(element * static_cast<int64_t>(index.itemsize()));
    terms_.insert(terms_.end(), {static_cast<int64_t>(addr), static_cast<int64_t>(dtype_id(index.dtype())), size,
                                 limit, stride, clamp ? 1 : 0});
  }

  uint32_t terms() const { return static_cast<uint32_t>(sets_.size() - 2); }

  // Uploads the table (dimensions of size 1 dropped, neighbours every set
  // walks alike merged); `ndim` receives the dimensions left.
  uint64_t upload(KernelContext& k, uint32_t& ndim) const {
    Collapsed c = collapse();
    std::vector<int64_t> table(c.shape.begin(), c.shape.end());
    for (auto& s : c.sets) table.insert(table.end(), s.begin(), s.end());
    table.insert(table.end(), terms_.begin(), terms_.end());
    table.push_back(0);  // never empty
    ndim = static_cast<uint32_t>(c.shape.size());
    return k.stream().upload(table.data(), table.size() * sizeof(int64_t));
  }

  // Extent of the innermost dimension left after merging (1 if none).
  int64_t inner_extent() const {
    Collapsed c = collapse();
    return c.shape.empty() ? 1 : c.shape.back();
  }

  // Whether every run of `vec` positions along the innermost dimension is
  // `vec` consecutive elements on both sides, starting at a multiple of
  // `vec` (from `vec`-aligned bases) with one index value: then they move as
  // one vector.
  bool moves_in_runs_of(int64_t vec) const {
    Collapsed c = collapse();
    if (c.shape.empty() || c.shape.back() % vec != 0) return false;
    for (size_t s = 0; s < c.sets.size(); ++s) {
      const auto& st = c.sets[s];
      if (st.back() != (s < 2 ? 1 : 0)) return false;
      for (size_t d = 0; d + 1 < st.size(); ++d) {
        if (s < 2 && st[d] % vec != 0) return false;
      }
    }
    for (size_t t = 0; t < terms_.size(); t += kTermFields) {
      if (terms_[t + 4] % vec != 0) return false;  // the axis stride
    }
    return true;
  }

 private:
  static constexpr size_t kTermFields = 6;  // shaders/index.glsl's TERM_FIELDS

  struct Collapsed {
    std::vector<int64_t> shape;  // merged extents may pass int32
    std::vector<Strides> sets;
  };

  Collapsed collapse() const {
    Collapsed c;
    c.sets.resize(sets_.size());
    for (size_t d = 0; d < shape_.size(); ++d) {
      if (shape_[d] == 1) continue;
      bool merge = !c.shape.empty();
      for (size_t s = 0; s < c.sets.size() && merge; ++s) merge = c.sets[s].back() == sets_[s][d] * shape_[d];
      if (merge) {
        // Folding d into the previous dimension: its stride becomes the inner one.
        c.shape.back() *= shape_[d];
        for (size_t s = 0; s < c.sets.size(); ++s) c.sets[s].back() = sets_[s][d];
      } else {
        c.shape.push_back(shape_[d]);
        for (size_t s = 0; s < c.sets.size(); ++s) c.sets[s].push_back(sets_[s][d]);
      }
    }
    return c;
  }

  Shape shape_;
  std::vector<Strides> sets_;
  std::vector<int64_t> terms_;
};

Strides zeros(size_t n) { return Strides(n, 0); }

Strides concat(Strides a, const Strides& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Push constants of shaders/gather.comp.
struct GatherPush {
  uint64_t out;
  uint64_t src;
  uint64_t n;
  uint64_t table;
  uint64_t error;
  uint64_t row_len;
  uint32_t ndim;
  uint32_t nterms;
  uint32_t op;
  uint32_t pad;
};

void run_gather(KernelContext& k, const array& src, const std::vector<array>& indices, array& out,
                const Walk& walk, IndexOp op) {
  GatherPush push{};
  push.out = address_of(out);
  push.src = address_of(src);
  push.n = out.size();
  push.table = walk.upload(k, push.ndim);
  push.error = index_error_record(k.backend(), k.stream());
  push.nterms = walk.terms();
  push.op = static_cast<uint32_t>(op);
  std::vector<const array*> reads{&src};
  for (auto& i : indices) reads.push_back(&i);
  const auto vec = static_cast<int64_t>(16 / src.itemsize());
  bool vec16 = push.src % 16 == 0 && push.out % 16 == 0 && walk.moves_in_runs_of(vec);
  push.row_len = static_cast<uint64_t>(walk.inner_extent());
  bool rows = vec16 && push.row_len * src.itemsize() >= 1024;
  uint64_t invocations = out.size();
  if (rows) invocations = out.size() / push.row_len * KernelContext::kWorkgroupSize;
  else if (vec16) invocations = out.size() / static_cast<uint64_t>(vec);
  k.dispatch("gather", {0, 0, 0, 0, 0, 0, 0, 0, bits_dtype(src.itemsize()), vec16 ? 1u : 0u, rows ? 1u : 0u}, &push,
             sizeof(push), invocations, reads, {&out});
}

void gather_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  const auto& g = static_cast<const Gather&>(p);
  const array& src = inputs[0];
  std::vector<array> idx(inputs.begin() + 1, inputs.end());
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;
  size_t idx_ndim = idx.empty() ? 0 : idx[0].ndim();
  Walk walk(out.shape(), out.strides(), concat(zeros(idx_ndim), src.strides()));
  for (size_t i = 0; i < idx.size(); ++i) {
    int ax = g.axes()[i];
    walk.add_term(idx[i], concat(idx[i].strides(), zeros(src.ndim())), src.shape(ax),
                  int64_t{src.shape(ax)} - g.slice_sizes()[ax] + 1, src.strides(ax));
  }
  run_gather(k, src, idx, out, walk, IndexOp::Gather);
}

void gather_axis_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  const int axis = static_cast<const GatherAxis&>(p).axis();
  const array& src = inputs[0];
  const array& idx = inputs[1];
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;
  Strides src_walk = src.strides();
  src_walk[axis] = 0;  // the index supplies the position along the axis
  Walk walk(out.shape(), out.strides(), src_walk);
  walk.add_term(idx, idx.strides(), src.shape(axis), src.shape(axis), src.strides(axis));
  run_gather(k, src, {idx}, out, walk, IndexOp::TakeAlongAxis);
}

// Element k of the 0-d or 1-d start array of a dynamic slice.
int64_t start_element(const array& start, size_t k) {
  return start.ndim() == 0 ? 0 : static_cast<int64_t>(k) * start.strides(0);
}

void dynamic_slice_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  const auto& ds = static_cast<const DynamicSlice&>(p);
  const array& src = inputs[0];
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;
  Walk walk(out.shape(), out.strides(), src.strides());
  for (size_t i = 0; i < ds.axes().size(); ++i) {
    int ax = ds.axes()[i];
    int64_t room = int64_t{src.shape(ax)} - ds.slice_size()[ax];
    walk.add_term(inputs[1], zeros(out.ndim()), src.shape(ax), room + 1, src.strides(ax), true,
                  start_element(inputs[1], i));
  }
  run_gather(k, src, {inputs[1]}, out, walk, IndexOp::Gather);
}

// ---- scatters ----

enum class Pass : uint32_t { Ordered, Atomic, Clear, Claim, Write };

// Push constants of shaders/scatter.comp.
struct ScatterPush {
  uint64_t out;
  uint64_t upd;
  uint64_t aux;
  uint64_t table;
  uint64_t error;
  uint64_t threads;
  uint64_t mul;
  uint64_t step;
  uint64_t count;
  uint32_t ndim;
  uint32_t nterms;
  uint32_t op;
  uint32_t pad;
};

// Invocation i of an ordered pass applies positions i * mul + j * step, j <
// count.
struct Order {
  uint64_t threads, mul, step, count;
};

// Gives `out` (same shape and dtype as `in`) a dense buffer holding in's
// values that the scatter may overwrite: in's own when it is dying.
void copy_or_donate(KernelContext& k, const array& in, array& out) {
  if (in.buffer().owner == &k.backend().memory() && backends::can_donate(in, out)) {
    backends::take_donated(out, in);
    return;
  }
  copy_contiguous(k, in, out);
}

class ScatterRun {
 public:
  ScatterRun(KernelContext& k, ScatterReduce mode, const array& out, const array& upd, const Walk& walk,
             std::vector<array> indices, IndexOp op, uint64_t out_offset_bytes = 0)
      : k_(k), mode_(mode), out_(out), upd_(upd), indices_(std::move(indices)) {
    push_.out = address_of(out) + out_offset_bytes;
    push_.upd = address_of(upd);
    push_.table = walk.upload(k, push_.ndim);
    push_.error = index_error_record(k.backend(), k.stream());
    push_.nterms = walk.terms();
    push_.op = static_cast<uint32_t>(op);
  }

  void ordered(Order o) {
    push_.threads = o.threads;
    push_.mul = o.mul;
    push_.step = o.step;
    push_.count = o.count;
    run(Pass::Ordered, nullptr);
  }

  // One invocation per update position, combined atomically.
  void atomic() {
    single_positions();
    run(Pass::Atomic, nullptr);
  }

  // Assignment where the last update in row-major order wins.
  void last_wins() {
    array aux(out_.shape(), uint32, nullptr, {});
    k_.allocate(aux);
    push_.aux = address_of(aux);
    push_.threads = out_.size();
    push_.mul = push_.count = 1;
    run(Pass::Clear, &aux);
    single_positions();
    run(Pass::Claim, &aux);
    run(Pass::Write, &aux);
  }

 private:
  void single_positions() {
    push_.threads = upd_.size();
    push_.mul = 1;
    push_.step = 0;
    push_.count = 1;
  }

  void run(Pass pass, const array* aux) {
    Dtype d = out_.dtype();
    Constants constants(11, 0);
    constants[8] = dtype_id(d);
    constants[9] = static_cast<uint32_t>(mode_);
    constants[10] = static_cast<uint32_t>(pass);
    std::vector<const array*> reads{&upd_, &out_};
    for (auto& i : indices_) reads.push_back(&i);
    std::vector<const array*> writes{&out_};
    if (aux) {
      reads.push_back(aux);
      writes = {pass == Pass::Write ? &out_ : aux};
    }
    k_.dispatch(d == float64 ? "scatter_double" : "scatter", std::move(constants), &push_, sizeof(push_),
                push_.threads, reads, writes);
  }

  KernelContext& k_;
  ScatterReduce mode_;
  const array& out_;
  const array& upd_;
  std::vector<array> indices_;
  ScatterPush push_{};
};

Shape tail(const Shape& s, size_t from) { return Shape(s.begin() + static_cast<std::ptrdiff_t>(from), s.end()); }

int64_t product(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<int64_t>());
}

void scatter_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  const auto& sc = static_cast<const Scatter&>(p);
  const array& upd = inputs.back();
  std::vector<array> idx(inputs.begin() + 1, inputs.end() - 1);
  array& out = outputs[0];
  copy_or_donate(k, inputs[0], out);
  if (upd.size() == 0) return;
  const size_t idx_ndim = upd.ndim() - out.ndim();
  const Shape slice_shape = tail(upd.shape(), idx_ndim);
  const auto slice_n = static_cast<uint64_t>(product(slice_shape));
  const uint64_t n_idx = upd.size() / slice_n;
  Walk walk(upd.shape(), concat(zeros(idx_ndim), out.strides()), upd.strides());
  bool one_wide = true;  // updates meet only at equal slice positions
  for (size_t i = 0; i < idx.size(); ++i) {
    int ax = sc.axes()[i];
    one_wide = one_wide && slice_shape[ax] == 1;
    walk.add_term(idx[i], concat(idx[i].strides(), zeros(out.ndim())), out.shape(ax),
                  int64_t{out.shape(ax)} - slice_shape[ax] + 1, out.strides(ax));
  }
  ScatterRun run(k, sc.mode(), out, upd, walk, idx, IndexOp::Scatter);
  const Order by_slice{slice_n, 1, slice_n, n_idx};
  if (one_wide && (slice_n >= 1024 || n_idx <= 16)) {
    run.ordered(by_slice);
  } else if (sc.mode() == ScatterReduce::None && upd.size() < 0xffffffffu) {
    run.last_wins();
  } else if (sc.mode() != ScatterReduce::None && out.itemsize() <= 4) {
    run.atomic();
  } else if (one_wide) {
    run.ordered(by_slice);
  } else {
    run.ordered({1, 0, 1, upd.size()});  // one invocation walks every update
  }
}

// Moves `axis` last in a shape or strides.
template <typename V>
V axis_last(V v, int axis) {
  auto x = v[axis];
  v.erase(v.begin() + axis);
  v.push_back(x);
  return v;
}

void scatter_axis_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  const auto& sc = static_cast<const ScatterAxis&>(p);
  const int axis = sc.axis();
  const array& idx = inputs[1];
  const array& upd = inputs[2];
  array& out = outputs[0];
  copy_or_donate(k, inputs[0], out);
  if (upd.size() == 0) return;
  // Axis innermost: updates that can land on one element differ only along
  // it, so each run along it is one ordered invocation.
  Strides dst_walk = out.strides();
  dst_walk[axis] = 0;
  Walk walk(axis_last(upd.shape(), axis), axis_last(dst_walk, axis), axis_last(upd.strides(), axis));
  walk.add_term(idx, axis_last(idx.strides(), axis), out.shape(axis), out.shape(axis), out.strides(axis));
  ScatterRun run(k, sc.mode(), out, upd, walk, {idx},
                 sc.mode() == ScatterReduce::None ? IndexOp::PutAlongAxis : IndexOp::ScatterAddAxis);
  const auto len = static_cast<uint64_t>(upd.shape(axis));
  const uint64_t runs = upd.size() / len;
  if (sc.mode() != ScatterReduce::None && out.itemsize() <= 4 && runs < 4096 && len > 16) run.atomic();
  else run.ordered({runs, len, 1, len});
}

void slice_update_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  KernelContext k(p);
  const auto& su = static_cast<const SliceUpdate&>(p);
  const array& upd = inputs[1];
  array& out = outputs[0];
  copy_or_donate(k, inputs[0], out);
  if (upd.size() == 0) return;
  Strides strides(out.ndim());
  int64_t offset = 0;
  for (size_t i = 0; i < out.ndim(); ++i) {
    offset += int64_t{su.start_indices()[i]} * out.strides(i);
    strides[i] = out.strides(i) * su.strides()[i];
  }
  const auto offset_bytes = offset * static_cast<int64_t>(out.itemsize());
  if (su.mode() == ScatterReduce::None) {
    array window(upd.shape(), out.dtype(), nullptr, {});
    cpu::make_view(out, window, strides, offset_bytes);
    copy_strided(k, upd, window);
    return;
  }
  // The window's elements are distinct: one invocation each.
  Walk walk(upd.shape(), strides, upd.strides());
  ScatterRun run(k, su.mode(), out, upd, walk, {}, IndexOp::Scatter, static_cast<uint64_t>(offset_bytes));
  run.ordered({upd.size(), 1, 0, 1});
}

void dynamic_slice_update_kernel(const Primitive& p, const std::vector<array>& inputs,
                                 std::vector<array>& outputs) {
  KernelContext k(p);
  const auto& axes = static_cast<const DynamicSliceUpdate&>(p).axes();
  const array& upd = inputs[1];
  const array& start = inputs[2];
  array& out = outputs[0];
  copy_or_donate(k, inputs[0], out);
  if (upd.size() == 0) return;
  Walk walk(upd.shape(), out.strides(), upd.strides());
  for (size_t i = 0; i < axes.size(); ++i) {
    int ax = axes[i];
    int64_t room = int64_t{out.shape(ax)} - upd.shape(ax);
    walk.add_term(start, zeros(upd.ndim()), out.shape(ax), room + 1, out.strides(ax), true, start_element(start, i));
  }
  ScatterRun run(k, ScatterReduce::None, out, upd, walk, {start}, IndexOp::Scatter);
  run.ordered({upd.size(), 1, 0, 1});
}

LUMEN_REGISTER_KERNEL(Device::gpu, Gather, gather_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, GatherAxis, gather_axis_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, DynamicSlice, dynamic_slice_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, Scatter, scatter_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, ScatterAxis, scatter_axis_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, SliceUpdate, slice_update_kernel);
LUMEN_REGISTER_KERNEL(Device::gpu, DynamicSliceUpdate, dynamic_slice_update_kernel);

}  // namespace
}  // namespace lumen::vulkan
