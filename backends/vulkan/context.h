// A logical Vulkan device for one Device::gpu index: the device, its compute
// queue and the memory types lumen allocates from.
#pragma once

#include <mutex>

#include "backends/vulkan/instance.h"

namespace lumen::vulkan {

class Context {
 public:
  // Creates the device for usable_devices()[index]; throws std::runtime_error.
  explicit Context(int index);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Capabilities& caps() const { return caps_; }
  VkDevice device() const { return device_; }

  // vkQueueSubmit on the compute queue (queues need external synchronization).
  void submit(const VkSubmitInfo& info);

  // Memory for tensors: device-local, and mapped when that memory is also
  // host-visible (lavapipe, integrated GPUs, resizable BAR) unless
  // LUMEN_VULKAN_HOST_MAP=0 asks for the staging path.
  uint32_t tensor_memory_type() const { return tensor_type_; }
  bool tensor_memory_mapped() const { return tensor_mapped_; }
  // Whether reading that mapping is fast (cached): a resizable-BAR window is
  // write-combined, so host reads go through a staging copy instead.
  bool tensor_memory_cached() const { return tensor_cached_; }
  uint64_t tensor_heap_size() const { return tensor_heap_size_; }
  // Host-visible coherent memory for staging copies and kernel parameters.
  uint32_t staging_memory_type() const { return staging_type_; }
  // Where small per-dispatch tables go: device-local when mapped, else staging.
  uint32_t upload_memory_type() const { return tensor_mapped_ ? tensor_type_ : staging_type_; }

 private:
  void choose_memory_types();

  const Capabilities& caps_;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  std::mutex queue_mutex_;
  uint32_t tensor_type_ = 0;
  bool tensor_mapped_ = false;
  bool tensor_cached_ = false;
  uint64_t tensor_heap_size_ = 0;
  uint32_t staging_type_ = 0;
};

}  // namespace lumen::vulkan
