// The Vulkan entry points lumen uses, loaded at run time from the system
// loader (libvulkan.so.1) so that a machine without Vulkan still loads the
// library and runs on the CPU. Every other backend file includes this header
// instead of <vulkan/vulkan.h>.
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <string>

namespace lumen::vulkan {

// Functions that need no instance.
#define LUMEN_VK_GLOBAL_FUNCTIONS(X) \
  X(vkCreateInstance)                \
  X(vkEnumerateInstanceExtensionProperties) \
  X(vkEnumerateInstanceLayerProperties)     \
  X(vkEnumerateInstanceVersion)

// Instance and device functions, resolved through the instance (the loader's
// trampolines dispatch device functions to the right driver).
#define LUMEN_VK_INSTANCE_FUNCTIONS(X)          \
  X(vkDestroyInstance)                          \
  X(vkEnumeratePhysicalDevices)                 \
  X(vkGetPhysicalDeviceProperties)              \
  X(vkGetPhysicalDeviceProperties2)             \
  X(vkGetPhysicalDeviceFeatures2)               \
  X(vkGetPhysicalDeviceMemoryProperties)        \
  X(vkGetPhysicalDeviceMemoryProperties2)       \
  X(vkGetPhysicalDeviceQueueFamilyProperties)   \
  X(vkEnumerateDeviceExtensionProperties)       \
  X(vkCreateDevice)                             \
  X(vkDestroyDevice)                            \
  X(vkDeviceWaitIdle)                           \
  X(vkGetDeviceQueue)                           \
  X(vkQueueSubmit)                              \
  X(vkCreateCommandPool)                        \
  X(vkDestroyCommandPool)                       \
  X(vkAllocateCommandBuffers)                   \
  X(vkFreeCommandBuffers)                       \
  X(vkResetCommandBuffer)                       \
  X(vkBeginCommandBuffer)                       \
  X(vkEndCommandBuffer)                         \
  X(vkCmdBindPipeline)                          \
  X(vkCmdPushConstants)                         \
  X(vkCmdDispatch)                              \
  X(vkCmdPipelineBarrier)                       \
  X(vkCmdCopyBuffer)                            \
  X(vkCmdFillBuffer)                            \
  X(vkCreateSemaphore)                          \
  X(vkDestroySemaphore)                         \
  X(vkWaitSemaphores)                           \
  X(vkGetSemaphoreCounterValue)                 \
  X(vkAllocateMemory)                           \
  X(vkFreeMemory)                               \
  X(vkMapMemory)                                \
  X(vkUnmapMemory)                              \
  X(vkCreateBuffer)                             \
  X(vkDestroyBuffer)                            \
  X(vkGetBufferMemoryRequirements)              \
  X(vkBindBufferMemory)                         \
  X(vkGetBufferDeviceAddress)                   \
  X(vkCreateShaderModule)                       \
  X(vkDestroyShaderModule)                      \
  X(vkCreatePipelineLayout)                     \
  X(vkDestroyPipelineLayout)                    \
  X(vkCreatePipelineCache)                      \
  X(vkDestroyPipelineCache)                     \
  X(vkCreateComputePipelines)                   \
  X(vkDestroyPipeline)

// Extension functions: null when the extension is not enabled.
#define LUMEN_VK_OPTIONAL_FUNCTIONS(X) \
  X(vkCreateDebugUtilsMessengerEXT)    \
  X(vkDestroyDebugUtilsMessengerEXT)   \
  X(vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) \
  X(vkGetPipelineExecutablePropertiesKHR)              \
  X(vkGetPipelineExecutableStatisticsKHR)

#define LUMEN_VK_DECLARE(name) extern PFN_##name name;
LUMEN_VK_GLOBAL_FUNCTIONS(LUMEN_VK_DECLARE)
LUMEN_VK_INSTANCE_FUNCTIONS(LUMEN_VK_DECLARE)
LUMEN_VK_OPTIONAL_FUNCTIONS(LUMEN_VK_DECLARE)
#undef LUMEN_VK_DECLARE

// Opens the loader (LUMEN_VULKAN_LOADER overrides the library name, which
// tests use to simulate a machine without one) and resolves the global
// functions. Returns false with a reason when there is no usable loader.
bool load_global_functions(std::string& why);
// Resolves the instance-level functions; false names the first one missing.
bool load_instance_functions(VkInstance instance, std::string& why);

// "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc.
const char* result_name(VkResult r);
// Throws std::runtime_error naming the call and the result unless r is VK_SUCCESS.
void check(VkResult r, const char* what);

}  // namespace lumen::vulkan
