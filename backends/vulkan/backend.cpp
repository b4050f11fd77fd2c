#include "backends/vulkan/backend.h"

#include <cstring>

#include <fmt/format.h>

#include "backends/vulkan/debug.h"
#include "backends/vulkan/instance.h"
#include "core/detail/errors.h"
#include "core/detail/log.h"
#include "lumen/primitive.h"

namespace lumen::vulkan {

VulkanBackend::VulkanBackend(int index)
    : device_(Device::gpu, index),
      context_(index),
      pipelines_(context_),
      transfer_(context_, -1),
      allocator_(device_, context_, *this) {}

VulkanBackend::~VulkanBackend() {
  // Everything recorded runs to completion before memory goes back.
  for (auto& [i, s] : streams_) {
    try {
      s->finish();
    } catch (...) {
    }
  }
  vkDeviceWaitIdle(context_.device());
}

CommandStream& VulkanBackend::stream(const Stream& s) {
  std::lock_guard<std::mutex> lk(streams_mu_);
  auto it = streams_.find(s.index);
  if (it != streams_.end()) return *it->second;
  auto cs = std::make_unique<CommandStream>(context_, static_cast<int>(slots_.size()));
  slots_.push_back(cs.get());
  return *streams_.emplace(s.index, std::move(cs)).first->second;
}

void VulkanBackend::begin(const Stream& s) { stream(s); }
void VulkanBackend::finish(const Stream& s) { stream(s).finish(); }
void VulkanBackend::flush(const Stream& s) { stream(s).flush(); }

bool VulkanBackend::can_read(const array& a) const {
  return a.has_data() && a.buffer().owner == &allocator_;
}

array VulkanBackend::import(const array& a, const Stream& s) {
  size_t bytes = a.data_size() * a.itemsize();
  const char* src = static_cast<const char*>(const_cast<array&>(a).buffer().raw_ptr()) + a.offset();
  CommandStream& cs = stream(s);
  allocator::Buffer buf;
  if (context_.tensor_memory_mapped()) {
    // Only memory the GPU no longer uses: the host writes it now.
    buf = allocator_.malloc(bytes);
    if (bytes) std::memcpy(buf.host, src, bytes);
  } else {
    buf = allocator_.malloc_for_stream(bytes, cs.slot());
    BufferRecord& rec = VulkanAllocator::record(buf);
    if (bytes) {
      RawBuffer staging = allocator_.create_staging(bytes);
      std::memcpy(staging.mapped, src, bytes);
      cs.copy(staging.buffer, 0, rec.buffer, rec.offset, bytes,
              Range{staging.address, staging.address + bytes}, rec.range());
      allocator_.release_staging(staging, recorded_values());
    }
    ++rec.generation;
  }
  array out(a.shape(), a.dtype(), nullptr, {});
  out.set_data(buf, a.data_size(), a.strides(), a.flags());
  return out;
}

std::vector<uint64_t> VulkanBackend::recorded_values() {
  std::lock_guard<std::mutex> lk(streams_mu_);
  std::vector<uint64_t> v(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) v[i] = slots_[i]->recorded_value();
  return v;
}

bool VulkanBackend::reached(const std::vector<uint64_t>& values, int except_slot) {
  std::lock_guard<std::mutex> lk(streams_mu_);
  for (size_t i = 0; i < values.size(); ++i) {
    if (static_cast<int>(i) == except_slot || values[i] == 0) continue;
    if (slots_[i]->completed_value() < values[i]) return false;
  }
  return true;
}

bool VulkanBackend::wait_submitted(const std::vector<uint64_t>& values) {
  std::vector<std::pair<CommandStream*, uint64_t>> waits;
  {
    std::lock_guard<std::mutex> lk(streams_mu_);
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] == 0) continue;
      if (values[i] > slots_[i]->submitted_value()) return false;
      waits.emplace_back(slots_[i], values[i]);
    }
  }
  for (auto& [cs, v] : waits) cs->wait(v);
  return true;
}

void VulkanBackend::copy_now(VkBuffer src, uint64_t src_offset, VkBuffer dst, uint64_t dst_offset,
                             uint64_t bytes) {
  std::lock_guard<std::mutex> lk(transfer_mu_);
  transfer_.copy(src, src_offset, dst, dst_offset, bytes, Range{}, Range{});
  transfer_.finish();
}

VulkanBackend& backend_of(const Device& d) { return static_cast<VulkanBackend&>(backend::get(d)); }

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
