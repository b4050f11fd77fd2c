// A VkBuffer with its own memory, addressable from shaders
// (buffer_device_address) and optionally mapped. The allocator carves tensors
// out of these; staging copies and kernel parameter tables use them directly.
#pragma once

#include <cstdint>

#include "backends/vulkan/context.h"

namespace lumen::vulkan {

struct RawBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceAddress address = 0;
  void* mapped = nullptr;
  uint64_t size = 0;
};

// Returns the failing VkResult (out-of-memory included) instead of throwing,
// so the allocator can free cached memory and retry.
VkResult create_raw_buffer(Context& ctx, uint64_t size, uint32_t memory_type, bool map, RawBuffer& out);
void destroy_raw_buffer(Context& ctx, RawBuffer& b);

}  // namespace lumen::vulkan
