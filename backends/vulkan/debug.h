// Diagnostics of the Vulkan backend that tests and tools read. Plain C++ (no
// Vulkan types), so a test can include it without the Vulkan headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <lumen/stream.h>

namespace lumen::vulkan {

// LUMEN_VULKAN_VALIDATION=1 enables the Khronos validation layer and a
// debug-utils messenger; every validation or performance message of warning
// or error severity is logged and counted.
bool validation_enabled();
size_t validation_message_count();
std::string last_validation_message();

// Whether the GPU of `s` is a hardware one (not a CPU implementation such as
// lavapipe): tests too slow on lavapipe run whole there only.
bool hardware_gpu(const Stream& s);

// Counters of the command stream behind a GPU stream (zeros before it ran).
struct StreamStats {
  uint64_t dispatches = 0;   // compute dispatches and copies recorded
  uint64_t barriers = 0;     // dependency barriers between them
  uint64_t submissions = 0;  // command buffers submitted
};
StreamStats stream_stats(const Stream& s);

// How many fused kernels compile's Compiled primitives have generated (GLSL
// made and looked up): one per Compiled primitive, not one per call.
size_t fused_kernels_generated();

// Whether float16/bfloat16 attention prefill on the GPU of `s` runs on
// cooperative matrices (kernels/attention_coopmat.cpp) for suitable head dims.
bool attention_uses_cooperative_matrix(const Stream& s);

// The tensor-core prefill's reading of a device's fragment layout: from what
// shaders/attention_layout.comp writes (per invocation 8 entries, row * 16 +
// column of a 16 x 16 float32 fragment, then the length), the elements lying
// in each invocation's second row (bit i: element i) when the layout is
// NVIDIA's mma one (shaders/attention_flash.comp then runs); else nullopt.
std::optional<uint32_t> attention_fragment_second_row(const std::vector<uint32_t>& entries);

}  // namespace lumen::vulkan
