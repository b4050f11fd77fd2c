#include "backends/vulkan/context.h"

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "backends/vulkan/env.h"
#include "core/detail/log.h"

namespace lumen::vulkan {

Context::Context(int index) : caps_(usable_devices().at(static_cast<size_t>(index))) {
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue_info.queueFamilyIndex = caps_.compute_family;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;

  // Features lumen's shaders declare, plus those later kernels pick variants by.
  VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  features.features.shaderInt64 = VK_TRUE;
  features.features.shaderFloat64 = caps_.float64;
  features.features.shaderInt16 = caps_.int16;
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  f11.storageBuffer16BitAccess = VK_TRUE;
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  f12.bufferDeviceAddress = VK_TRUE;
  f12.timelineSemaphore = VK_TRUE;
  f12.storageBuffer8BitAccess = VK_TRUE;
  f12.shaderInt8 = caps_.int8;
  f12.shaderFloat16 = caps_.float16;
  f12.vulkanMemoryModel = caps_.vulkan_memory_model;
  f12.vulkanMemoryModelDeviceScope = caps_.vulkan_memory_model && caps_.memory_model_device_scope;
  VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
  f13.subgroupSizeControl = caps_.subgroup_size_control;
  f13.computeFullSubgroups = caps_.subgroup_size_control;
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coopmat{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  coopmat.cooperativeMatrix = VK_TRUE;
  features.pNext = &f11;
  f11.pNext = &f12;
  void** tail = &f12.pNext;
  if (caps_.api_version >= VK_API_VERSION_1_3) {
    *tail = &f13;
    tail = &f13.pNext;
  }
  std::vector<const char*> extensions;
  // An extension whose features struct joins the chain.
  auto enable = [&](const char* name, auto& feature_struct) {
    extensions.push_back(name);
    *tail = &feature_struct;
    tail = &feature_struct.pNext;
  };
  if (caps_.memory_budget_extension) extensions.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  if (caps_.cooperative_matrix_nv) enable(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME, coopmat);
  VkPhysicalDeviceShaderAtomicFloatFeaturesEXT atomic_float{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_FEATURES_EXT};
  atomic_float.shaderBufferFloat32AtomicAdd = VK_TRUE;
  if (caps_.float32_atomic_add) enable(VK_EXT_SHADER_ATOMIC_FLOAT_EXTENSION_NAME, atomic_float);
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR executables{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
  executables.pipelineExecutableInfo = VK_TRUE;
  if (caps_.pipeline_statistics) enable(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME, executables);

  VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  info.pNext = &features;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue_info;
  info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  VkResult r = vkCreateDevice(caps_.physical, &info, nullptr, &device_);
  if (r != VK_SUCCESS) {
    throw std::runtime_error(
        fmt::format("[vulkan] creating a device on {} failed: {}", caps_.name, result_name(r)));
  }
  vkGetDeviceQueue(device_, caps_.compute_family, 0, &queue_);
  choose_memory_types();
  detail::logger()->debug("vulkan: device {} created; tensors in memory type {} ({}), staging in {}",
                          caps_.name, tensor_type_,
                          tensor_cached_ ? "mapped" : (tensor_mapped_ ? "mapped for writes" : "staged"),
                          staging_type_);
}

Context::~Context() {
  if (device_) {
    vkDeviceWaitIdle(device_);
    vkDestroyDevice(device_, nullptr);
  }
}

void Context::submit(const VkSubmitInfo& info) {
  std::lock_guard<std::mutex> lk(queue_mutex_);
  check(vkQueueSubmit(queue_, 1, &info, VK_NULL_HANDLE), "vkQueueSubmit");
}

void Context::choose_memory_types() {
  VkPhysicalDeviceMemoryProperties mem{};
  vkGetPhysicalDeviceMemoryProperties(caps_.physical, &mem);
  auto has = [&](uint32_t t, VkMemoryPropertyFlags f) {
    return (mem.memoryTypes[t].propertyFlags & f) == f;
  };
  auto heap_size = [&](uint32_t t) { return mem.memoryHeaps[mem.memoryTypes[t].heapIndex].size; };

  // The largest device-local heap holds tensors.
  constexpr uint32_t none = ~0u;
  uint32_t device_local = none;
  for (uint32_t t = 0; t < mem.memoryTypeCount; ++t) {
    if (has(t, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
        (device_local == none || heap_size(t) > heap_size(device_local))) {
      device_local = t;
    }
  }
  // Mapped directly when a device-local, host-visible, coherent type lives in
  // a heap about as large (not a 256 MiB BAR window).
  bool allow_map = !env_is("LUMEN_VULKAN_HOST_MAP", "0");
  uint32_t mapped = none;
  VkMemoryPropertyFlags mapped_flags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  for (uint32_t t = 0; t < mem.memoryTypeCount && allow_map; ++t) {
    if (has(t, mapped_flags) && device_local != none && heap_size(t) * 2 >= heap_size(device_local) &&
        (mapped == none || heap_size(t) > heap_size(mapped))) {
      mapped = t;
    }
  }
  // Staging: host-visible and coherent, cached if possible (for read-back).
  uint32_t staging = none;
  VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  for (uint32_t t = 0; t < mem.memoryTypeCount; ++t) {
    if (!has(t, host)) continue;
    if (staging == none || (has(t, VK_MEMORY_PROPERTY_HOST_CACHED_BIT) &&
                            !has(staging, VK_MEMORY_PROPERTY_HOST_CACHED_BIT))) {
      staging = t;
    }
  }
  if (staging == none) {
    throw std::runtime_error(fmt::format("[vulkan] {} has no host-visible coherent memory", caps_.name));
  }
  if (mapped != none) {
    tensor_type_ = mapped;
    tensor_mapped_ = true;
  } else if (device_local != none) {
    tensor_type_ = device_local;
    tensor_mapped_ = false;
  } else {
    tensor_type_ = staging;
    tensor_mapped_ = allow_map;
  }
  staging_type_ = staging;
  tensor_cached_ = tensor_mapped_ && has(tensor_type_, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  tensor_heap_size_ = heap_size(tensor_type_);
  uint32_t heap = mem.memoryTypes[tensor_type_].heapIndex;
  if (heap < caps_.heap_budgets.size() && caps_.memory_budget_extension) {
    tensor_heap_size_ = caps_.heap_budgets[heap];
  }
}

}  // namespace lumen::vulkan
