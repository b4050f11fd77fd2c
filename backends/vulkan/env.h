// The Vulkan backend's environment switches: LUMEN_VULKAN_* knobs for
// measuring kernel variants and the instance's debug settings. Read on each
// call, so that a bench can change them between evaluations.
#pragma once

#include <cstdint>
#include <optional>

namespace lumen::vulkan {

// Whether `name` is set to exactly `value`.
bool env_is(const char* name, const char* value);
// The unsigned number `name` is set to; nullopt when unset or empty.
std::optional<uint32_t> env_number(const char* name);
// The number `name` is set to where it is positive, else `fallback`.
uint32_t env_positive(const char* name, uint32_t fallback);

}  // namespace lumen::vulkan
