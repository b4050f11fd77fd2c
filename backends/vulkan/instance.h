// The process-wide Vulkan instance and what each physical device can do.
// Probing happens once, on first use (device_count, the default-device
// choice); a machine without a loader or without a usable device gets one
// info line and the CPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/vulkan/debug.h"
#include "backends/vulkan/loader.h"

namespace lumen::vulkan {

// What lumen needs to know about a physical device; logged at debug level.
struct Capabilities {
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  uint32_t api_version = 0;
  uint32_t vendor_id = 0;
  uint32_t compute_family = 0;

  // Subgroups.
  uint32_t subgroup_size = 0;
  uint32_t min_subgroup_size = 0;
  uint32_t max_subgroup_size = 0;
  bool subgroup_arithmetic = false;
  bool subgroup_shuffle = false;
  bool subgroup_size_control = false;

  // Arithmetic and storage.
  bool float64 = false;
  bool int64 = false;
  bool int16 = false;
  bool int8 = false;
  bool float16 = false;
  bool storage8 = false;
  bool storage16 = false;
  bool buffer_device_address = false;
  bool timeline_semaphore = false;
  bool denorm_preserve32 = false;
  bool vulkan_memory_model = false;  // cooperative-matrix shaders need it
  bool memory_model_device_scope = false;  // atomics (scatters) with it enabled need it
  // GLSL's fma() is a true fused multiply-add (one rounding): the hardware
  // GPUs of NVIDIA, AMD and Intel; lavapipe splits it. LUMEN_VULKAN_NATIVE_FMA=0/1
  // overrides. Without it, shaders that need one rounding go through double.
  bool native_fma = false;

  // Extensions later kernels pick variants by.
  bool bfloat16_extension = false;        // VK_KHR_shader_bfloat16
  bool cooperative_matrix_nv = false;     // VK_NV_cooperative_matrix
  bool cooperative_matrix_khr = false;    // VK_KHR_cooperative_matrix
  bool memory_budget_extension = false;   // VK_EXT_memory_budget
  // VK_EXT_shader_atomic_float's shaderBufferFloat32AtomicAdd (atomicAdd on
  // float32 through buffer references).
  bool float32_atomic_add = false;
  // VK_KHR_pipeline_executable_properties, enabled by LUMEN_VULKAN_PIPELINE_STATS=1:
  // each new pipeline's compiler statistics (registers, spills, ...) are logged.
  bool pipeline_statistics = false;

  // Limits.
  uint64_t max_storage_buffer_range = 0;
  uint64_t max_allocation_size = 0;
  uint64_t max_buffer_size = 0;
  uint32_t max_shared_memory = 0;
  uint32_t max_workgroup_count[3] = {0, 0, 0};
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_push_constants = 0;
  float timestamp_period = 0;
  // Streaming multiprocessors (VK_NV_shader_sm_builtins' shaderSMCount); 0
  // where the device does not say.
  uint32_t multiprocessors = 0;

  // Memory heaps: size and, with VK_EXT_memory_budget, the budget now.
  std::vector<uint64_t> heap_sizes;
  std::vector<uint64_t> heap_budgets;
  std::vector<bool> heap_device_local;

  bool usable = false;
  std::string unusable_reason;
};

// Usable physical devices, best first: discrete, integrated, virtual, CPU.
const std::vector<Capabilities>& usable_devices();
// Whether a usable device that is not a CPU implementation exists.
bool has_hardware_device();

VkInstance instance();

const char* device_type_name(VkPhysicalDeviceType t);

}  // namespace lumen::vulkan
