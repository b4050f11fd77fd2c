// GLSL to SPIR-V at run time, through glslang's library: the source may
// #include "name" any embedded shader header (glsl_headers.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lumen::vulkan::codegen {

// The source with every #include of an embedded header replaced by the
// header's text (recursively; the headers' own guards drop repeats).
std::string expand_includes(const std::string& source);

// SPIR-V (Vulkan 1.2) of a compute shader; throws std::runtime_error with
// glslang's log on a compile error.
std::vector<uint32_t> compile_compute_shader(const std::string& source);

}  // namespace lumen::vulkan::codegen
