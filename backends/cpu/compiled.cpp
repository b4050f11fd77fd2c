// CPU kernel of compile's Compiled primitive: the fused steps run one block
// of output elements at a time, intermediates in a small per-thread scratch
// buffer (no intermediate arrays), each step through the same run loop as
// its unfused kernel, so fused results are the unfused ones bit for bit.
#include <cstring>

#include "backends/cpu/random_keys.h"
#include "backends/cpu/run_kernels.h"
#include "backends/cpu/strided.h"
#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/random_primitives.h"
#include "lumen/shape_primitives.h"
#include "lumen/threadpool.h"
#include "lumen/transforms_primitives.h"

namespace lumen::cpu {

namespace {

constexpr int64_t block = 512;        // elements per fused block
constexpr int64_t grain = 1 << 14;    // elements per parallel chunk
constexpr size_t max_item = 8;        // largest element size
constexpr size_t slots = Compiled::max_inputs + 1;  // layout slot 0 is the output

// Where each value of the program lives: an input (value < num_inputs), a
// scratch buffer of its own (computing steps), or the same place as another
// value (Broadcast steps, computed at the output shape already).
struct Plan {
  struct Step {
    RunKernel kernel;          // null for a generator
    const RandomBits* bits;    // the generator, reading its keys from input args[0]
    std::vector<int> args;     // values
    int value;
  };
  int num_inputs = 0;
  std::vector<int> same_as;  // value -> the value holding its data
  std::vector<int> scratch;  // value -> scratch buffer, or -1
  std::vector<size_t> item;  // value -> element size
  std::vector<Step> steps;   // the computing steps, in order
  int num_scratch = 0;
};

RunKernel run_kernel_for(const Primitive& p, const std::vector<Dtype>& arg_dtypes, Dtype out) {
  if (auto* u = dynamic_cast<const Unary*>(&p)) return unary_run_kernel(u->op(), arg_dtypes[0]);
  if (auto* b = dynamic_cast<const Binary*>(&p)) return binary_run_kernel(b->op(), arg_dtypes[0]);
  if (dynamic_cast<const Select*>(&p)) return select_run_kernel(out);
  if (dynamic_cast<const AsType*>(&p)) return astype_run_kernel(arg_dtypes[0], out);
  return nullptr;
}

Plan make_plan(const Compiled& c) {
  Plan plan;
  plan.num_inputs = static_cast<int>(c.input_dtypes().size());
  std::vector<Dtype> dtypes = c.input_dtypes();
  for (int v = 0; v < plan.num_inputs; ++v) {
    plan.same_as.push_back(v);
    plan.scratch.push_back(-1);
    plan.item.push_back(size_of(dtypes[v]));
  }
  for (auto& st : c.steps()) {
    int value = static_cast<int>(plan.same_as.size());
    dtypes.push_back(st.dtype);
    plan.item.push_back(size_of(st.dtype));
    if (dynamic_cast<const Broadcast*>(st.primitive.get())) {
      plan.same_as.push_back(plan.same_as[st.args[0]]);
      plan.scratch.push_back(-1);
      continue;
    }
    std::vector<Dtype> arg_dtypes;
    std::vector<int> args;
    for (int a : st.args) {
      arg_dtypes.push_back(dtypes[a]);
      args.push_back(plan.same_as[a]);
    }
    if (Compiled::is_generator(*st.primitive)) {
      if (args[0] >= plan.num_inputs) {
        detail::throw_invalid("[Compiled] a generator's keys must be an input of the kernel");
      }
      plan.same_as.push_back(value);
      plan.scratch.push_back(plan.num_scratch++);
      plan.steps.push_back(
          {nullptr, static_cast<const RandomBits*>(st.primitive.get()), std::move(args), value});
      continue;
    }
    RunKernel k = run_kernel_for(*st.primitive, arg_dtypes, st.dtype);
    if (!k) {
      detail::throw_invalid("[Compiled] no CPU kernel for {} on {}", st.primitive->name(),
                            dtype_to_string(arg_dtypes[0]));
    }
    plan.same_as.push_back(value);
    plan.scratch.push_back(plan.num_scratch++);
    plan.steps.push_back({k, nullptr, std::move(args), value});
  }
  return plan;
}

// The plan of `c`, made on its first evaluation and kept in it.
const Plan& plan_of(const Compiled& c) {
  auto& cache = c.kernel_cache();
  if (!cache) cache = std::make_shared<Plan>(make_plan(c));
  return *static_cast<const Plan*>(cache.get());
}

// Elements [e, e + m) of a RandomBits output of `size` elements (32-bit
// words): element e is word (window offset + e % per_key) of the stream of
// key e / per_key.
void random_words(const RandomBits& p, const array& keys, int64_t size, int64_t e, int64_t m,
                  uint32_t* out) {
  int64_t num_keys = static_cast<int64_t>(keys.size() / 2);
  int64_t per_key = size / num_keys;
  uint64_t words = static_cast<uint64_t>(p.window() ? p.window()->stream_size : per_key);
  int64_t first = p.window() ? p.window()->offset : 0;
  while (m > 0) {
    int64_t k = e / per_key, i = e % per_key;
    int64_t n = std::min(m, per_key - i);
    uint64_t w0 = static_cast<uint64_t>(first + i);
    threefry::WordWindow win(words, w0, w0 + static_cast<uint64_t>(n));
    win.run(key_at(keys, k), 0, win.items(), [&](uint64_t w, uint32_t v) { out[w - w0] = v; });
    out += n;
    e += n;
    m -= n;
  }
}

void compiled_kernel(const Primitive& p, const std::vector<array>& inputs,
                     std::vector<array>& outputs) {
  auto& c = static_cast<const Compiled&>(p);
  std::vector<array*> outs;
  for (auto& o : outputs) outs.push_back(&o);
  alloc_elementwise_outputs(inputs, outs);
  const array& out0 = outputs[0];
  if (out0.size() == 0) return;
  const Plan& plan = plan_of(c);

  // One layout for all arrays; unused slots have zero strides, which never
  // stop dimensions from merging.
  std::array<Strides, slots> strides;
  strides.fill(Strides(out0.ndim(), 0));
  strides[0] = out0.strides();
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (c.reads_elementwise(static_cast<int>(k))) {
      strides[k + 1] = broadcast_strides(inputs[k], out0.shape());
    }
  }
  std::array<const Strides*, slots> stride_ptrs;
  for (size_t k = 0; k < slots; ++k) stride_ptrs[k] = &strides[k];
  auto layout = collapse<slots>(out0.shape(), stride_ptrs);

  const size_t num_values = plan.same_as.size();
  detail::parallel_for(static_cast<int64_t>(out0.size()), grain, [&](int64_t b, int64_t e) {
    thread_local std::vector<char> scratch;
    scratch.resize(static_cast<size_t>(plan.num_scratch) * block * max_item);
    std::vector<const char*> where(num_values);
    std::vector<int64_t> step(num_values);
    for_each_run<slots>(layout, b, e, [&](const std::array<int64_t, slots>& off, int64_t count,
                                          const std::array<int64_t, slots>& st) {
      for (int64_t s0 = 0; s0 < count; s0 += block) {
        int64_t m = std::min(block, count - s0);
        for (size_t v = 0; v < num_values; ++v) {
          int src = plan.same_as[v];
          if (src < plan.num_inputs) {
            int64_t pos = off[src + 1] + s0 * st[src + 1];
            where[v] = inputs[src].data<char>() + pos * static_cast<int64_t>(plan.item[src]);
            step[v] = st[src + 1];
          } else {
            where[v] = scratch.data() + plan.scratch[src] * block * max_item;
            step[v] = 1;
          }
        }
        for (auto& s : plan.steps) {
          if (s.bits) {
            random_words(*s.bits, inputs[s.args[0]], static_cast<int64_t>(out0.size()),
                         off[0] + s0, m, reinterpret_cast<uint32_t*>(const_cast<char*>(where[s.value])));
            continue;
          }
          Run r;
          r.count = m;
          r.out[0] = const_cast<char*>(where[s.value]);
          for (size_t i = 0; i < s.args.size(); ++i) {
            r.in[i] = where[s.args[i]];
            r.stride[i] = step[s.args[i]];
          }
          s.kernel(r);
        }
        // Written after every read of the block: an output may share a
        // donated input's buffer.
        for (size_t o = 0; o < outputs.size(); ++o) {
          size_t item = outputs[o].itemsize();
          char* dst = outputs[o].data<char>() + (off[0] + s0) * static_cast<int64_t>(item);
          std::memcpy(dst, where[c.outputs()[o]], static_cast<size_t>(m) * item);
        }
      }
    });
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, Compiled, compiled_kernel);

}  // namespace
}  // namespace lumen::cpu
