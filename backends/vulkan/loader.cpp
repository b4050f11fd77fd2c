#include "backends/vulkan/loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace lumen::vulkan {

#define LUMEN_VK_DEFINE(name) PFN_##name name = nullptr;
LUMEN_VK_GLOBAL_FUNCTIONS(LUMEN_VK_DEFINE)
LUMEN_VK_INSTANCE_FUNCTIONS(LUMEN_VK_DEFINE)
LUMEN_VK_OPTIONAL_FUNCTIONS(LUMEN_VK_DEFINE)
#undef LUMEN_VK_DEFINE

namespace {
PFN_vkGetInstanceProcAddr get_instance_proc = nullptr;
}

bool load_global_functions(std::string& why) {
  if (get_instance_proc) return true;
  const char* name = std::getenv("LUMEN_VULKAN_LOADER");
  if (!name || !*name) name = "libvulkan.so.1";
  // The handle stays open for the life of the process: drivers keep
  // pointers into it.
  void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    why = fmt::format("the Vulkan loader ({}) could not be opened", name);
    return false;
  }
  auto gipa = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
  if (!gipa) {
    why = fmt::format("{} has no vkGetInstanceProcAddr", name);
    return false;
  }
#define LUMEN_VK_LOAD(fn)                                                  \
  fn = reinterpret_cast<PFN_##fn>(gipa(VK_NULL_HANDLE, #fn));              \
  if (!fn) {                                                               \
    why = fmt::format("the Vulkan loader {} lacks {}", name, #fn);         \
    return false;                                                          \
  }
  LUMEN_VK_GLOBAL_FUNCTIONS(LUMEN_VK_LOAD)
#undef LUMEN_VK_LOAD
  get_instance_proc = gipa;
  return true;
}

bool load_instance_functions(VkInstance instance, std::string& why) {
#define LUMEN_VK_LOAD(fn)                                                  \
  fn = reinterpret_cast<PFN_##fn>(get_instance_proc(instance, #fn));       \
  if (!fn) {                                                               \
    why = fmt::format("the Vulkan instance lacks {}", #fn);                \
    return false;                                                          \
  }
  LUMEN_VK_INSTANCE_FUNCTIONS(LUMEN_VK_LOAD)
#undef LUMEN_VK_LOAD
#define LUMEN_VK_LOAD_OPTIONAL(fn) fn = reinterpret_cast<PFN_##fn>(get_instance_proc(instance, #fn));
  LUMEN_VK_OPTIONAL_FUNCTIONS(LUMEN_VK_LOAD_OPTIONAL)
#undef LUMEN_VK_LOAD_OPTIONAL
  return true;
}

const char* result_name(VkResult r) {
  switch (r) {
#define LUMEN_VK_RESULT(x) \
  case x: return #x;
    LUMEN_VK_RESULT(VK_SUCCESS)
    LUMEN_VK_RESULT(VK_NOT_READY)
    LUMEN_VK_RESULT(VK_TIMEOUT)
    LUMEN_VK_RESULT(VK_INCOMPLETE)
    LUMEN_VK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
    LUMEN_VK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    LUMEN_VK_RESULT(VK_ERROR_INITIALIZATION_FAILED)
    LUMEN_VK_RESULT(VK_ERROR_DEVICE_LOST)
    LUMEN_VK_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
    LUMEN_VK_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
    LUMEN_VK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
    LUMEN_VK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
    LUMEN_VK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
    LUMEN_VK_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
    LUMEN_VK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
    LUMEN_VK_RESULT(VK_ERROR_UNKNOWN)
    LUMEN_VK_RESULT(VK_ERROR_INVALID_SHADER_NV)
#undef LUMEN_VK_RESULT
    default: return "VkResult(unknown)";
  }
}

void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) {
    throw std::runtime_error(fmt::format("[vulkan] {} failed: {}", what, result_name(r)));
  }
}

}  // namespace lumen::vulkan
