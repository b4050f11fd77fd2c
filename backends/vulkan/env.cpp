#include "backends/vulkan/env.h"

#include <cstdlib>
#include <cstring>

namespace lumen::vulkan {

bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, value) == 0;
}

std::optional<uint32_t> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
}

uint32_t env_positive(const char* name, uint32_t fallback) {
  const char* v = std::getenv(name);
  const long n = v != nullptr ? std::atol(v) : 0;
  return n > 0 ? static_cast<uint32_t>(n) : fallback;
}

}  // namespace lumen::vulkan
