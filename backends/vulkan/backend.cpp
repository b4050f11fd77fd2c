#include "backends/vulkan/backend.h"

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "backends/vulkan/debug.h"
#include "backends/vulkan/idle_submitter.h"
#include "backends/vulkan/instance.h"
#include "backends/vulkan/kernels/index_errors.h"
#include "core/detail/errors.h"
#include "core/detail/log.h"
#include "lumen/primitive.h"

namespace lumen::vulkan {

struct VulkanBackend::Parts {
  Parts(int index, Device device, StreamTimelines& timelines)
      : context(index), pipelines(context), transfer(context, -1), allocator(device, context, timelines) {}
  Context context;
  Pipelines pipelines;
  std::mutex streams_mu;
  std::map<int, std::unique_ptr<CommandStream>> streams;  // by lumen stream index
  std::vector<CommandStream*> slots;                        // by slot
  CommandStream* last_begun = nullptr;  // by the scheduler (one evaluation at a time)
  std::mutex transfer_mu;
  CommandStream transfer;  // host read-back of unmapped memory
  VulkanAllocator allocator;
  IdleSubmitter idle_submitter;
};

namespace {
// Keeps the parts reachable (leak checkers) for the life of the process.
std::vector<void*>& kept_alive() {
  static auto* v = new std::vector<void*>;
  return *v;
}

// The idle submitters' threads end at exit before the driver's teardown
// (registered after the device was made, so this handler runs first).
std::vector<IdleSubmitter*>& idle_submitters() {
  static auto* v = new std::vector<IdleSubmitter*>;
  return *v;
}
void stop_idle_submitters() {
  for (IdleSubmitter* s : idle_submitters()) s->stop();
}
}  // namespace

VulkanBackend::VulkanBackend(int index)
    : device_(Device::gpu, index), parts_(*new Parts(index, device_, *this)) {
  kept_alive().push_back(&parts_);
  if (idle_submitters().empty()) std::atexit(stop_idle_submitters);
  idle_submitters().push_back(&parts_.idle_submitter);
}

Context& VulkanBackend::context() { return parts_.context; }
Pipelines& VulkanBackend::pipelines() { return parts_.pipelines; }
VulkanAllocator& VulkanBackend::memory() { return parts_.allocator; }
allocator::Allocator& VulkanBackend::allocator() { return parts_.allocator; }

CommandStream& VulkanBackend::stream(const Stream& s) {
  auto& p = parts_;
  std::lock_guard<std::mutex> lk(p.streams_mu);
  auto it = p.streams.find(s.index);
  if (it != p.streams.end()) return *it->second;
  auto cs = std::make_unique<CommandStream>(p.context, static_cast<int>(p.slots.size()));
  p.slots.push_back(cs.get());
  return *p.streams.emplace(s.index, std::move(cs)).first->second;
}

// Evaluations submit without waiting, so an earlier one's work on another
// stream may still run: commands of a stream taking over read what that one
// wrote, and one barrier orders them after everything submitted (one queue).
// A deferred batch of the stream taken over goes first (queue order is the
// order between streams).
void VulkanBackend::begin(const Stream& s) {
  CommandStream& cs = stream(s);
  if (parts_.last_begun && parts_.last_begun != &cs) {
    parts_.last_begun->flush();
    cs.order_after_queue();
  }
  parts_.last_begun = &cs;
}
void VulkanBackend::finish(const Stream& s) {
  stream(s).finish();
  check_index_errors(stream(s));
}
void VulkanBackend::flush(const Stream& s) { stream(s).flush(); }

// A ticket is the timeline value that signals the end of the evaluation's
// work; only the stream begun last may defer its batch (an earlier one must
// be on the queue before the later streams' batches).
uint64_t VulkanBackend::submit(const Stream& s) {
  CommandStream& cs = stream(s);
  if (&cs != parts_.last_begun) {
    cs.flush();
  } else if (cs.end_evaluation()) {
    parts_.idle_submitter.watch(cs);
  }
  return cs.recorded_value();
}

void VulkanBackend::wait_for(const Stream& s, uint64_t ticket) {
  CommandStream& cs = stream(s);
  cs.wait(ticket);
  check_index_errors(cs);
}

bool VulkanBackend::is_done(const Stream& s, uint64_t ticket) { return stream(s).completed_value() >= ticket; }

bool VulkanBackend::can_read(const array& a) const {
  return a.has_data() && a.buffer().owner == &parts_.allocator;
}

array VulkanBackend::import(const array& a, const Stream& s) {
  size_t bytes = a.data_size() * a.itemsize();
  const char* src = static_cast<const char*>(const_cast<array&>(a).buffer().raw_ptr()) + a.offset() -
                    elements_below_offset(a) * static_cast<int64_t>(a.itemsize());
  CommandStream& cs = stream(s);
  auto& memory = parts_.allocator;
  allocator::Buffer buf;
  if (parts_.context.tensor_memory_mapped()) {
    // Only memory the GPU no longer uses: the host writes it now.
    buf = memory.malloc(bytes);
    BufferRecord& rec = VulkanAllocator::record(buf);
    if (bytes) std::memcpy(rec.mapped, src, bytes);
    ++rec.generation;
  } else {
    buf = memory.malloc_for_stream(bytes, cs.slot());
    BufferRecord& rec = VulkanAllocator::record(buf);
    if (bytes) {
      RawBuffer staging = memory.create_staging(bytes);
      std::memcpy(staging.mapped, src, bytes);
      cs.copy(staging.buffer, 0, rec.buffer, rec.offset, bytes,
              Range{staging.address, staging.address + bytes}, rec.range());
      memory.release_staging(staging, recorded_values());
    }
    ++rec.generation;
  }
  return with_layout_over(a, buf);
}

std::vector<uint64_t> VulkanBackend::recorded_values() {
  auto& p = parts_;
  std::lock_guard<std::mutex> lk(p.streams_mu);
  std::vector<uint64_t> v(p.slots.size());
  for (size_t i = 0; i < p.slots.size(); ++i) v[i] = p.slots[i]->recorded_value();
  return v;
}

bool VulkanBackend::reached(const std::vector<uint64_t>& values, int except_slot) {
  auto& p = parts_;
  std::lock_guard<std::mutex> lk(p.streams_mu);
  for (size_t i = 0; i < values.size(); ++i) {
    if (static_cast<int>(i) == except_slot || values[i] == 0) continue;
    if (p.slots[i]->completed_value() < values[i]) return false;
  }
  return true;
}

bool VulkanBackend::wait_submitted(const std::vector<uint64_t>& values) {
  auto& p = parts_;
  std::vector<std::pair<CommandStream*, uint64_t>> waits;
  {
    std::lock_guard<std::mutex> lk(p.streams_mu);
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] == 0) continue;
      if (values[i] > p.slots[i]->submitted_value() && p.slots[i]->has_deferred()) p.slots[i]->flush();
      if (values[i] > p.slots[i]->submitted_value()) return false;
      waits.emplace_back(p.slots[i], values[i]);
    }
  }
  for (auto& [cs, v] : waits) cs->wait(v);
  return true;
}

void VulkanBackend::copy_now(VkBuffer src, uint64_t src_offset, VkBuffer dst, uint64_t dst_offset,
                             uint64_t bytes) {
  std::lock_guard<std::mutex> lk(parts_.transfer_mu);
  parts_.transfer.copy(src, src_offset, dst, dst_offset, bytes, Range{}, Range{});
  parts_.transfer.finish();
}

VulkanBackend& backend_of(const Device& d) { return static_cast<VulkanBackend&>(backend::get(d)); }

bool hardware_gpu(const Stream& s) {
  return s.device.type == Device::gpu && backend_of(s.device).context().caps().type != VK_PHYSICAL_DEVICE_TYPE_CPU;
}

StreamStats stream_stats(const Stream& s) {
  if (s.device.type != Device::gpu || !backend::is_created(s.device)) return {};
  CommandStream& cs = backend_of(s.device).stream(s);
  return {cs.command_count(), cs.barrier_count(), cs.submission_count()};
}

namespace {

// float64 needs shaderFloat64: refused when the graph is built.
void check_dtypes(const Primitive& p, Dtype output, const std::vector<array>& inputs) {
  const auto& devices = usable_devices();
  auto index = static_cast<size_t>(p.device().index);
  if (index >= devices.size() || devices[index].float64) return;
  bool f64 = output == float64;
  for (auto& in : inputs) f64 = f64 || in.dtype() == float64;
  if (f64) {
    detail::throw_invalid(
        "[{}] float64 is not supported on the gpu {} (the device lacks shaderFloat64); compute it "
        "on the cpu or in another dtype",
        p.name(), devices[index].name);
  }
}

struct Registrar {
  Registrar() {
    backend::register_backend(
        Device::gpu, [](int index) { return std::make_unique<VulkanBackend>(index); },
        [] { return static_cast<int>(usable_devices().size()); });
    backend::set_preferred_gpu_probe([] { return has_hardware_device(); });
    backend::set_dtype_check(Device::gpu, check_dtypes);
  }
} registrar;

}  // namespace
}  // namespace lumen::vulkan
