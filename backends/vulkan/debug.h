// Diagnostics of the Vulkan backend that tests and tools read. Plain C++ (no
// Vulkan types), so a test can include it without the Vulkan headers.
#pragma once

#include <cstddef>
#include <string>

namespace lumen::vulkan {

// LUMEN_VULKAN_VALIDATION=1 enables the Khronos validation layer and a
// debug-utils messenger; every validation or performance message of warning
// or error severity is logged and counted.
bool validation_enabled();
size_t validation_message_count();
std::string last_validation_message();

}  // namespace lumen::vulkan
