// Vulkan kernel of compile's Compiled primitive: one generated compute
// shader per fused program (codegen/fused_source.cpp), generated once per
// Compiled primitive (kept in it, so calls of a compiled function only
// evaluate), compiled with glslang once per distinct source (in memory;
// pipelines also go through the pipeline cache). Inputs are read contiguous, as scalars, or
// strided (broadcast, transposed, sliced) with 64-bit offsets; RandomBits
// steps draw their words per element, so random chains store no bits.
#include <array>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "backends/common/donation.h"
#include "backends/cpu/strided.h"
#include "backends/vulkan/codegen/fused_source.h"
#include "backends/vulkan/codegen/glsl_compiler.h"
#include "backends/vulkan/debug.h"
#include "backends/vulkan/kernels/elementwise.h"
#include "backends/vulkan/kernels/launch.h"
#include "backends/vulkan/shaders/ids.h"
#include "core/detail/log.h"
#include "lumen/backend.h"
#include "lumen/random_primitives.h"
#include "lumen/transforms_primitives.h"

namespace lumen::vulkan {

namespace {

constexpr uint64_t kElementsPerThread = 4;  // shaders/fused.glsl
constexpr size_t kSlots = Compiled::max_inputs + 1;  // layout slot 0 is the outputs'

struct FusedPush {
  uint64_t table;
  uint64_t n;
  uint32_t ndim;
  uint32_t pad;
};

// The module of a generated shader: compiled once per distinct source (for
// every device), registered once per device.
std::string fused_module(Pipelines& pipelines, const std::string& source) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::pair<std::string, std::vector<uint32_t>>> compiled;
  std::lock_guard<std::mutex> lock(mu);
  auto it = compiled.find(source);
  if (it == compiled.end()) {
    std::string name = fmt::format("fused_{}", compiled.size());
    auto t0 = std::chrono::steady_clock::now();
    auto spirv = codegen::compile_compute_shader(source);
    detail::logger()->debug("vulkan: {} compiled in {:.1f} ms ({} words)", name,
                            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                            spirv.size());
    it = compiled.emplace(source, std::make_pair(name, std::move(spirv))).first;
  }
  auto& [name, spirv] = it->second;
  if (!pipelines.has_module(name)) pipelines.add_module(name, spirv);
  return name;
}

// What a Compiled primitive's kernel keeps (Compiled::kernel_cache): its
// module, input slots and generators' keys, made once per primitive.
struct FusedKernel {
  std::string module;
  std::vector<int> slots;
  std::vector<int> generator_keys;
};

size_t& kernels_generated() {
  static size_t n = 0;
  return n;
}

const FusedKernel& fused_kernel(const Compiled& c, KernelContext& k) {
  auto& cache = c.kernel_cache();
  if (!cache) {
    auto src = codegen::fused_source(c, k.caps().float64);
    auto kernel = std::make_shared<FusedKernel>();
    kernel->module = fused_module(k.backend().pipelines(), src.glsl);
    kernel->slots = std::move(src.slots);
    kernel->generator_keys = std::move(src.generator_keys);
    cache = std::move(kernel);
    ++kernels_generated();
  }
  return *static_cast<const FusedKernel*>(cache.get());
}

// Whether strides `s` walk `shape` like `ref` (dims of extent 1 never move).
bool same_walk(const Shape& shape, const Strides& s, const Strides& ref) {
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] != 1 && s[d] != ref[d]) return false;
  }
  return true;
}

// Outputs take dying inputs' buffers where they can (each input at most once).
void allocate_outputs(KernelContext& k, const std::vector<array>& inputs, std::vector<array>& outputs) {
  std::vector<bool> taken(inputs.size(), false);
  for (auto& out : outputs) {
    bool donated = false;
    for (size_t i = 0; i < inputs.size() && !donated; ++i) {
      const array& in = inputs[i];
      if (!taken[i] && in.buffer().owner == &k.backend().memory() && backends::can_donate(in, out)) {
        backends::take_donated(out, in);
        taken[i] = donated = true;
      }
    }
    if (!donated) k.allocate(out);
  }
}

void compiled_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  auto& c = static_cast<const Compiled&>(p);
  KernelContext k(p);
  allocate_outputs(k, inputs, outputs);
  const array& out0 = outputs[0];
  if (out0.size() == 0) return;
  const FusedKernel& fused = fused_kernel(c, k);

  // The table: addresses, generator parameters, then the layout.
  std::vector<int64_t> table;
  bool aligned = true;
  auto check_alignment = [&](uint64_t addr, size_t item) {
    aligned = aligned && addr % std::min<uint64_t>(kElementsPerThread * item, 16) == 0;
  };
  for (auto& out : outputs) {
    table.push_back(static_cast<int64_t>(address_of(out)));
    check_alignment(address_of(out), out.itemsize());
  }
  for (auto& in : inputs) table.push_back(static_cast<int64_t>(address_of(in)));

  std::vector<std::vector<int64_t>> key_layouts;
  std::vector<size_t> key_layout_entries;  // where each generator points at its keys' layout
  size_t generator = 0;
  for (auto& st : c.steps()) {
    if (!Compiled::is_generator(*st.primitive)) continue;
    auto& bits = static_cast<const RandomBits&>(*st.primitive);
    const array& keys = inputs[fused.generator_keys[generator++]];
    const int64_t num_keys = static_cast<int64_t>(keys.size() / 2);
    const int64_t per_key = static_cast<int64_t>(out0.size()) / num_keys;
    table.push_back(per_key);
    table.push_back(bits.window() ? bits.window()->stream_size : per_key);  // width 4: a word each
    table.push_back(bits.window() ? bits.window()->offset : 0);
    if (is_row_major(keys)) {
      table.push_back(0);
    } else {
      std::vector<int64_t> layout{static_cast<int64_t>(keys.ndim())};
      for (auto d : keys.shape()) layout.push_back(d);
      for (auto stride : keys.strides()) layout.push_back(stride);
      key_layouts.push_back(std::move(layout));
      key_layout_entries.push_back(table.size());
      table.push_back(0);  // set below, once the index is known
    }
  }

  // Modes of the inputs read element by element.
  std::array<Strides, kSlots> strides;
  strides.fill(out0.strides());
  int num_slots = 0;
  for (int s : fused.slots) num_slots += s >= 0;
  Constants constants(2 + num_slots, 0);
  bool any_strided = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    int slot = fused.slots[i];
    if (slot < 0) continue;
    const array& in = inputs[i];
    Strides bs = cpu::broadcast_strides(in, out0.shape());
    uint32_t mode;
    if (same_walk(out0.shape(), bs, Strides(bs.size(), 0))) {
      mode = MODE_SCALAR;
    } else if (same_walk(out0.shape(), bs, out0.strides())) {
      mode = MODE_CONTIGUOUS;
      check_alignment(address_of(in), in.itemsize());
    } else {
      mode = MODE_STRIDED;
      strides[slot + 1] = std::move(bs);
      any_strided = true;
    }
    constants[2 + slot] = mode;
  }
  constants[1] = !any_strided && aligned;

  FusedPush push{};
  push.n = out0.size();
  if (any_strided) {
    std::array<const Strides*, kSlots> ptrs;
    for (size_t s = 0; s < kSlots; ++s) ptrs[s] = &strides[s];
    auto layout = cpu::collapse<kSlots>(out0.shape(), ptrs);
    const size_t nd = layout.shape.size();
    for (size_t d = 0; d < nd; ++d) table.push_back(layout.shape[d]);
    for (int slot = 0; slot < num_slots; ++slot) {
      for (size_t d = 0; d < nd; ++d) table.push_back(layout.strides[slot + 1][d]);
    }
    push.ndim = static_cast<uint32_t>(nd);
  }
  // Strided keys' layouts go last; their generators point at them.
  for (size_t g = 0; g < key_layouts.size(); ++g) {
    table[key_layout_entries[g]] = static_cast<int64_t>(table.size());
    table.insert(table.end(), key_layouts[g].begin(), key_layouts[g].end());
  }
  push.table = k.stream().upload(table.data(), table.size() * sizeof(int64_t));

  std::vector<const array*> reads, writes;
  for (auto& in : inputs) reads.push_back(&in);
  for (auto& out : outputs) writes.push_back(&out);
  uint64_t threads = (out0.size() + kElementsPerThread - 1) / kElementsPerThread;
  k.dispatch(fused.module, std::move(constants), &push, sizeof(push), threads, reads, writes);
}

LUMEN_REGISTER_KERNEL(Device::gpu, Compiled, compiled_kernel);

}  // namespace

size_t fused_kernels_generated() { return kernels_generated(); }

}  // namespace lumen::vulkan
