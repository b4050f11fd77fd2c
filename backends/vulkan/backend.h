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
  // Leaves the device and its memory to the process's end: at exit the
  // driver may already be torn down (NVIDIA's is), and arrays may outlive
  // static destruction.
  ~VulkanBackend() override = default;

  const char* name() const override { return "vulkan"; }
  Device device() const override { return device_; }
  allocator::Allocator& allocator() override;
  void begin(const Stream& s) override;
  void finish(const Stream& s) override;
  void flush(const Stream& s) override;
  uint64_t submit(const Stream& s) override;
  void wait_for(const Stream& s, uint64_t ticket) override;
  bool is_done(const Stream& s, uint64_t ticket) override;
  bool can_read(const array& a) const override;
  array import(const array& a, const Stream& s) override;

  Context& context();
  Pipelines& pipelines();
  VulkanAllocator& memory();
  // The command stream of a lumen stream on this device (made on first use).
  CommandStream& stream(const Stream& s);

  // StreamTimelines
  std::vector<uint64_t> recorded_values() override;
  bool reached(const std::vector<uint64_t>& values, int except_slot) override;
  bool wait_submitted(const std::vector<uint64_t>& values) override;
  void copy_now(VkBuffer src, uint64_t src_offset, VkBuffer dst, uint64_t dst_offset,
                uint64_t bytes) override;

 private:
  struct Parts;  // everything holding Vulkan objects, never destroyed
  Device device_;
  Parts& parts_;
};

// The backend of a GPU device (created on first use).
VulkanBackend& backend_of(const Device& d);

}  // namespace lumen::vulkan
