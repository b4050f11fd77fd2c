#include "backends/vulkan/instance.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/vulkan/env.h"
#include "core/detail/log.h"

namespace lumen::vulkan {

namespace {

struct ValidationLog {
  std::atomic<size_t> count{0};
  std::mutex mu;
  std::string last;
};

ValidationLog& validation_log() {
  static ValidationLog* log = new ValidationLog;  // outlives every Vulkan object
  return *log;
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                VkDebugUtilsMessageTypeFlagsEXT type,
                                                const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                void*) {
  const char* msg = data && data->pMessage ? data->pMessage : "";
  bool counted = (type & (VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)) &&
                 severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
  if (counted) {
    auto& log = validation_log();
    log.count++;
    {
      std::lock_guard<std::mutex> lk(log.mu);
      log.last = msg;
    }
    detail::logger()->error("vulkan validation: {}", msg);
  } else {
    detail::logger()->debug("vulkan: {}", msg);
  }
  return VK_FALSE;
}

bool has_extension(const std::vector<VkExtensionProperties>& exts, const char* name) {
  for (auto& e : exts) {
    if (std::strcmp(e.extensionName, name) == 0) return true;
  }
  return false;
}

int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

Capabilities probe(VkPhysicalDevice pd) {
  Capabilities c;
  c.physical = pd;

  VkPhysicalDeviceProperties base{};
  vkGetPhysicalDeviceProperties(pd, &base);
  c.name = base.deviceName;
  c.type = base.deviceType;
  c.api_version = base.apiVersion;
  c.vendor_id = base.vendorID;
  {
    const bool hardware = base.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU;
    const bool fused_vendor = base.vendorID == 0x10de || base.vendorID == 0x1002 || base.vendorID == 0x8086;
    c.native_fma = env_is("LUMEN_VULKAN_NATIVE_FMA", "1") ||
                   (hardware && fused_vendor && !env_is("LUMEN_VULKAN_NATIVE_FMA", "0"));
  }
  if (base.apiVersion < VK_API_VERSION_1_2) {
    c.unusable_reason = fmt::format("Vulkan {}.{} < 1.2", VK_API_VERSION_MAJOR(base.apiVersion),
                                    VK_API_VERSION_MINOR(base.apiVersion));
    return c;
  }
  bool v13 = base.apiVersion >= VK_API_VERSION_1_3;

  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> exts(n);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data());
  c.bfloat16_extension = has_extension(exts, "VK_KHR_shader_bfloat16");
  c.cooperative_matrix_nv = has_extension(exts, "VK_NV_cooperative_matrix");
  c.cooperative_matrix_khr = has_extension(exts, "VK_KHR_cooperative_matrix");
  c.memory_budget_extension = has_extension(exts, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  c.pipeline_statistics = has_extension(exts, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME) &&
                          env_is("LUMEN_VULKAN_PIPELINE_STATS", "1");

  // Properties.
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceSubgroupSizeControlProperties size_control{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
  VkPhysicalDeviceMaintenance3Properties maint3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceMaintenance4Properties maint4{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES};
  VkPhysicalDeviceFloatControlsProperties floats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FLOAT_CONTROLS_PROPERTIES};
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props.pNext = &subgroup;
  subgroup.pNext = &maint3;
  maint3.pNext = &floats;
  if (v13) {
    floats.pNext = &size_control;
    size_control.pNext = &maint4;
  }
  VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV};
  if (has_extension(exts, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME)) {
    sm.pNext = props.pNext;
    props.pNext = &sm;
  }
  vkGetPhysicalDeviceProperties2(pd, &props);
  c.multiprocessors = sm.shaderSMCount;
  c.subgroup_size = subgroup.subgroupSize;
  c.subgroup_arithmetic = subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
  c.subgroup_shuffle = subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
  c.min_subgroup_size = v13 ? size_control.minSubgroupSize : subgroup.subgroupSize;
  c.max_subgroup_size = v13 ? size_control.maxSubgroupSize : subgroup.subgroupSize;
  c.denorm_preserve32 = floats.shaderDenormPreserveFloat32;
  const auto& lim = base.limits;
  c.max_storage_buffer_range = lim.maxStorageBufferRange;
  c.max_allocation_size = maint3.maxMemoryAllocationSize;
  c.max_buffer_size = v13 ? maint4.maxBufferSize : maint3.maxMemoryAllocationSize;
  c.max_shared_memory = lim.maxComputeSharedMemorySize;
  for (int i = 0; i < 3; ++i) c.max_workgroup_count[i] = lim.maxComputeWorkGroupCount[i];
  c.max_workgroup_invocations = lim.maxComputeWorkGroupInvocations;
  c.max_push_constants = lim.maxPushConstantsSize;
  c.timestamp_period = lim.timestampPeriod;

  // Features.
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceShaderAtomicFloatFeaturesEXT atomic_float{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_FEATURES_EXT};
  feats.pNext = &f11;
  f11.pNext = &f12;
  if (v13) f12.pNext = &f13;
  const bool has_atomic_float = has_extension(exts, VK_EXT_SHADER_ATOMIC_FLOAT_EXTENSION_NAME);
  if (has_atomic_float) (v13 ? f13.pNext : f12.pNext) = &atomic_float;
  vkGetPhysicalDeviceFeatures2(pd, &feats);
  c.float32_atomic_add = has_atomic_float && atomic_float.shaderBufferFloat32AtomicAdd &&
                         !env_is("LUMEN_VULKAN_NO_FLOAT_ATOMICS", "1");
  c.float64 = feats.features.shaderFloat64 && !env_is("LUMEN_VULKAN_NO_FLOAT64", "1");
  c.int64 = feats.features.shaderInt64;
  c.int16 = feats.features.shaderInt16;
  c.int8 = f12.shaderInt8;
  c.float16 = f12.shaderFloat16;
  c.storage8 = f12.storageBuffer8BitAccess;
  c.storage16 = f11.storageBuffer16BitAccess;
  c.buffer_device_address = f12.bufferDeviceAddress;
  c.timeline_semaphore = f12.timelineSemaphore;
  c.vulkan_memory_model = f12.vulkanMemoryModel;
  c.memory_model_device_scope = f12.vulkanMemoryModelDeviceScope;
  c.subgroup_size_control = v13 && f13.subgroupSizeControl && f13.computeFullSubgroups;

  // Memory.
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 mem{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
  if (c.memory_budget_extension) mem.pNext = &budget;
  vkGetPhysicalDeviceMemoryProperties2(pd, &mem);
  for (uint32_t h = 0; h < mem.memoryProperties.memoryHeapCount; ++h) {
    const auto& heap = mem.memoryProperties.memoryHeaps[h];
    c.heap_sizes.push_back(heap.size);
    c.heap_budgets.push_back(c.memory_budget_extension ? budget.heapBudget[h] : heap.size);
    c.heap_device_local.push_back(heap.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
  }

  // A compute queue.
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> families(n);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, families.data());
  bool found = false;
  for (uint32_t i = 0; i < n && !found; ++i) {
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
      c.compute_family = i;
      found = true;
    }
  }

  std::vector<std::string> missing;
  if (!found) missing.push_back("a compute queue");
  if (!c.buffer_device_address) missing.push_back("bufferDeviceAddress");
  if (!c.timeline_semaphore) missing.push_back("timelineSemaphore");
  if (!c.int64) missing.push_back("shaderInt64");
  if (!c.storage8) missing.push_back("storageBuffer8BitAccess");
  if (!c.storage16) missing.push_back("storageBuffer16BitAccess");
  if (!missing.empty()) {
    c.unusable_reason = fmt::format("lacks {}", fmt::join(missing, ", "));
    return c;
  }
  c.usable = true;
  return c;
}

void log_capabilities(const Capabilities& c) {
  auto log = detail::logger();
  log->debug("vulkan device {} ({}, Vulkan {}.{}.{}, vendor {:#x})", c.name, device_type_name(c.type),
             VK_API_VERSION_MAJOR(c.api_version), VK_API_VERSION_MINOR(c.api_version),
             VK_API_VERSION_PATCH(c.api_version), c.vendor_id);
  log->debug("  subgroup size {} (min {}, max {}, size control {}), arithmetic {}, shuffle {}",
             c.subgroup_size, c.min_subgroup_size, c.max_subgroup_size, c.subgroup_size_control,
             c.subgroup_arithmetic, c.subgroup_shuffle);
  log->debug("  shaderFloat64 {}, shaderInt64 {}, shaderInt16 {}, shaderInt8 {}, shaderFloat16 {}, "
             "8-bit storage {}, 16-bit storage {}, denorm preserve f32 {}, native fma {}",
             c.float64, c.int64, c.int16, c.int8, c.float16, c.storage8, c.storage16,
             c.denorm_preserve32, c.native_fma);
  log->debug("  bfloat16 extension {}, VK_NV_cooperative_matrix {}, VK_KHR_cooperative_matrix {}, "
             "memory budget {}, float32 atomic add {}",
             c.bfloat16_extension, c.cooperative_matrix_nv, c.cooperative_matrix_khr,
             c.memory_budget_extension, c.float32_atomic_add);
  log->debug("  maxStorageBufferRange {}, maxMemoryAllocationSize {}, maxBufferSize {}, shared memory "
             "{}, workgroup count ({}, {}, {}), invocations {}, push constants {}",
             c.max_storage_buffer_range, c.max_allocation_size, c.max_buffer_size,
             c.max_shared_memory, c.max_workgroup_count[0], c.max_workgroup_count[1],
             c.max_workgroup_count[2], c.max_workgroup_invocations, c.max_push_constants);
  for (size_t h = 0; h < c.heap_sizes.size(); ++h) {
    log->debug("  heap {}: {} bytes, budget {}{}", h, c.heap_sizes[h], c.heap_budgets[h],
               c.heap_device_local[h] ? ", device local" : "");
  }
  if (!c.usable) log->debug("  not usable: {}", c.unusable_reason);
}

struct InstanceState {
  VkInstance handle = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  bool validation = false;
  std::vector<Capabilities> devices;
  std::string why_none;
};

// Creates the instance and probes devices; on failure `why_none` says why.
void create(InstanceState& s) {
  if (!load_global_functions(s.why_none)) return;
  uint32_t version = 0;
  if (vkEnumerateInstanceVersion(&version) != VK_SUCCESS || version < VK_API_VERSION_1_2) {
    s.why_none = "the Vulkan loader is older than 1.2";
    return;
  }

  std::vector<const char*> layers, extensions;
  bool want_validation = env_is("LUMEN_VULKAN_VALIDATION", "1");
  if (want_validation) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, nullptr);
    std::vector<VkLayerProperties> avail(n);
    vkEnumerateInstanceLayerProperties(&n, avail.data());
    bool has_layer = std::any_of(avail.begin(), avail.end(), [](const VkLayerProperties& l) {
      return std::strcmp(l.layerName, "VK_LAYER_KHRONOS_validation") == 0;
    });
    vkEnumerateInstanceExtensionProperties(nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> exts(n);
    vkEnumerateInstanceExtensionProperties(nullptr, &n, exts.data());
    bool has_utils = has_extension(exts, VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    if (has_layer && has_utils) {
      layers.push_back("VK_LAYER_KHRONOS_validation");
      extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
      s.validation = true;
    } else {
      detail::logger()->warn(
          "LUMEN_VULKAN_VALIDATION=1 but the Khronos validation layer or VK_EXT_debug_utils is "
          "missing; running without validation");
    }
  }

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "lumen";
  app.pEngineName = "lumen";
  app.apiVersion = version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : VK_API_VERSION_1_2;

  VkDebugUtilsMessengerCreateInfoEXT messenger_info{
      VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  messenger_info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT |
                                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT |
                                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger_info.pfnUserCallback = on_debug_message;

  VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  info.pApplicationInfo = &app;
  info.enabledLayerCount = static_cast<uint32_t>(layers.size());
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  if (s.validation) info.pNext = &messenger_info;  // also covers instance creation itself
  VkResult r = vkCreateInstance(&info, nullptr, &s.handle);
  if (r != VK_SUCCESS) {
    s.handle = VK_NULL_HANDLE;
    s.why_none = fmt::format("vkCreateInstance failed ({})", result_name(r));
    return;
  }
  if (!load_instance_functions(s.handle, s.why_none)) return;
  if (s.validation && vkCreateDebugUtilsMessengerEXT) {
    vkCreateDebugUtilsMessengerEXT(s.handle, &messenger_info, nullptr, &s.messenger);
  }

  uint32_t count = 0;
  vkEnumeratePhysicalDevices(s.handle, &count, nullptr);
  std::vector<VkPhysicalDevice> physical(count);
  if (count) vkEnumeratePhysicalDevices(s.handle, &count, physical.data());
  std::vector<std::string> rejected;
  for (auto pd : physical) {
    auto caps = probe(pd);
    log_capabilities(caps);
    if (caps.usable) {
      s.devices.push_back(std::move(caps));
    } else {
      rejected.push_back(fmt::format("{}: {}", caps.name, caps.unusable_reason));
    }
  }
  std::stable_sort(s.devices.begin(), s.devices.end(), [](const Capabilities& a, const Capabilities& b) {
    return type_rank(a.type) < type_rank(b.type);
  });
  if (s.devices.empty()) {
    s.why_none = count == 0 ? "no Vulkan physical device"
                            : fmt::format("no usable Vulkan device ({})", fmt::join(rejected, "; "));
  }
}

// The instance lives as long as the process: devices, buffers and arrays
// that outlive static destruction would otherwise refer to a dead instance.
InstanceState& state() {
  static InstanceState* s = [] {
    auto* st = new InstanceState;
    create(*st);
    if (st->devices.empty()) {
      detail::logger()->info("Vulkan backend unavailable: {}; using the CPU", st->why_none);
    } else {
      for (size_t i = 0; i < st->devices.size(); ++i) {
        detail::logger()->debug("Device::gpu index {} is {} ({}; {} multiprocessors, 0: not given)", i,
                                st->devices[i].name, device_type_name(st->devices[i].type),
                                st->devices[i].multiprocessors);
      }
    }
    return st;
  }();
  return *s;
}

}  // namespace

const std::vector<Capabilities>& usable_devices() { return state().devices; }

bool has_hardware_device() {
  for (auto& d : usable_devices()) {
    if (d.type != VK_PHYSICAL_DEVICE_TYPE_CPU) return true;
  }
  return false;
}

VkInstance instance() { return state().handle; }

bool validation_enabled() { return state().validation; }
size_t validation_message_count() { return validation_log().count.load(); }
std::string last_validation_message() {
  auto& log = validation_log();
  std::lock_guard<std::mutex> lk(log.mu);
  return log.last;
}

const char* device_type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU implementation";
    default: return "other";
  }
}

}  // namespace lumen::vulkan
