// Profiling: per evaluated primitive its name, device, duration and active
// memory after it, written as a Chrome trace (chrome://tracing, Perfetto).
// LUMEN_TRACE=file.json turns it on for the whole process; the calls below do
// it from C++.
#pragma once

#include <string>

namespace lumen {
class array;

namespace trace {

// Start recording; the trace is written to `path` by stop() (or at exit).
void start(const std::string& path);
// Stop recording and write the file; returns the number of events written.
size_t stop();
bool enabled();

// Internal hooks used by the scheduler and arrays.
void note_buffer(const array& a);
struct PrimitiveEvent;
void record(const char* name, const char* device, double start_us, double dur_us,
            size_t active_bytes);
double now_us();

}  // namespace trace
}  // namespace lumen
