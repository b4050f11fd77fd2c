#include "backends/vulkan/raw_buffer.h"

namespace lumen::vulkan {

VkResult create_raw_buffer(Context& ctx, uint64_t size, uint32_t memory_type, bool map, RawBuffer& out) {
  VkDevice dev = ctx.device();
  RawBuffer b;
  b.size = size;
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = size;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkResult r = vkCreateBuffer(dev, &info, nullptr, &b.buffer);
  if (r != VK_SUCCESS) return r;
  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(dev, b.buffer, &req);
  if (!(req.memoryTypeBits & (1u << memory_type))) {
    vkDestroyBuffer(dev, b.buffer, nullptr);
    return VK_ERROR_FEATURE_NOT_PRESENT;
  }
  VkMemoryAllocateFlagsInfo flags{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
  flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
  VkMemoryDedicatedAllocateInfo dedicated{VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO};
  dedicated.buffer = b.buffer;
  flags.pNext = &dedicated;
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.pNext = &flags;
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = memory_type;
  r = vkAllocateMemory(dev, &alloc, nullptr, &b.memory);
  if (r != VK_SUCCESS) {
    vkDestroyBuffer(dev, b.buffer, nullptr);
    return r;
  }
  r = vkBindBufferMemory(dev, b.buffer, b.memory, 0);
  if (r == VK_SUCCESS && map) r = vkMapMemory(dev, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped);
  if (r != VK_SUCCESS) {
    vkDestroyBuffer(dev, b.buffer, nullptr);
    vkFreeMemory(dev, b.memory, nullptr);
    return r;
  }
  VkBufferDeviceAddressInfo addr{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
  addr.buffer = b.buffer;
  b.address = vkGetBufferDeviceAddress(dev, &addr);
  out = b;
  return VK_SUCCESS;
}

void destroy_raw_buffer(Context& ctx, RawBuffer& b) {
  if (b.buffer) vkDestroyBuffer(ctx.device(), b.buffer, nullptr);
  if (b.memory) vkFreeMemory(ctx.device(), b.memory, nullptr);  // unmaps too
  b = RawBuffer{};
}

}  // namespace lumen::vulkan
