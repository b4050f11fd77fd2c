// The Vulkan backend of one Device::gpu index: context, pipelines, streams
// and allocator. Kernels reach it through kernels/launch.h.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "backends/vulkan/allocator.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/context.h"
#include "backends/vulkan/pipelines.h"
#include "lumen/backend.h"

namespace lumen::vulkan {

class VulkanBackend : public Backend, public StreamTimelines {
 public:
  explicit VulkanBackend(int index);
  ~VulkanBackend() override;

  const char* name() const override { return "vulkan"; }
  Device device() const override { return device_; }
  allocator::Allocator& allocator() override { return allocator_; }
  void begin(const Stream& s) override;
  void finish(const Stream& s) override;
  void flush(const Stream& s) override;
  bool can_read(const array& a) const override;
  array import(const array& a, const Stream& s) override;

  Context& context() { return context_; }
  Pipelines& pipelines() { return pipelines_; }
  VulkanAllocator& memory() { return allocator_; }
  // The command stream of a lumen stream on this device (made on first use).
  CommandStream& stream(const Stream& s);

  // StreamTimelines
  std::vector<uint64_t> recorded_values() override;
  bool reached(const std::vector<uint64_t>& values, int except_slot) override;
  bool wait_submitted(const std::vector<uint64_t>& values) override;
  void copy_now(VkBuffer src, uint64_t src_offset, VkBuffer dst, uint64_t dst_offset,
                uint64_t bytes) override;

 private:
  Device device_;
  Context context_;
  Pipelines pipelines_;
  std::mutex streams_mu_;
  std::map<int, std::unique_ptr<CommandStream>> streams_;  // by lumen stream index
  std::vector<CommandStream*> slots_;                        // by slot
  std::mutex transfer_mu_;
  CommandStream transfer_;  // host read-back of unmapped memory
  VulkanAllocator allocator_;
};

// The backend of a GPU device (created on first use).
VulkanBackend& backend_of(const Device& d);

}  // namespace lumen::vulkan
