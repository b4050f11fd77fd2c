// The shader headers (backends/vulkan/shaders/*.glsl, ids.h) by file name,
// embedded at build time for the run-time GLSL compiler.
#pragma once

#include <map>
#include <string>

namespace lumen::vulkan::codegen {

const std::map<std::string, std::string>& glsl_headers();

}  // namespace lumen::vulkan::codegen
