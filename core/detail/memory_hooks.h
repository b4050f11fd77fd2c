// Hooks between arrays, allocators and the peak report.
#pragma once

namespace lumen {
class array;
namespace memory::detail {
void on_buffer(const array& a);       // a buffer got an owner (profiling only)
void on_buffer_gone(const void* key);  // keyed by the array::Data address
void reset_peak_snapshot();
}  // namespace memory::detail
}  // namespace lumen
