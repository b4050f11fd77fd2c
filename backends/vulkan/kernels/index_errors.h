// Out-of-range indices (and bad sample() parameters) found by GPU kernels:
// each command stream has a small host-visible record the gather/scatter
// (and sampling) shaders fill (the first error wins, shaders/index.glsl);
// when the stream finishes, a filled record is cleared and thrown as
// std::out_of_range (std::invalid_argument), as the CPU kernels throw while
// they run.
#pragma once

#include <cstdint>

#include "backends/vulkan/command_stream.h"

namespace lumen::vulkan {

class VulkanBackend;

// Which op an error record names (the CPU kernels' names). The Sample*
// records are sample()'s bad runtime parameters (shaders/sampling_finish.comp):
// the row in `index`, the value in `size` (float bits for temperature and
// top_p), thrown as std::invalid_argument.
enum class IndexOp : uint32_t {
  Gather, TakeAlongAxis, Scatter, PutAlongAxis, ScatterAddAxis,
  SampleTemperature, SampleTopK, SampleTopP
};

// Device address of the stream's error record.
uint64_t index_error_record(VulkanBackend& backend, CommandStream& stream);

// Throws std::out_of_range (and clears the record) when a kernel on the
// finished stream met an index out of range.
void check_index_errors(CommandStream& stream);

}  // namespace lumen::vulkan
