// Memory statistics and limits, as MLX's memory.h. The functions without a
// device count all devices together (the peak is the peak of the total).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include <lumen/device.h>
#include <lumen/dtype.h>

namespace lumen {

size_t get_active_memory();
size_t get_peak_memory();
void reset_peak_memory();
size_t get_cache_memory();
size_t set_memory_limit(size_t limit);
size_t get_memory_limit();
size_t set_cache_limit(size_t limit);
void clear_cache();

size_t get_active_memory(const Device& d);
size_t get_peak_memory(const Device& d);
void reset_peak_memory(const Device& d);
size_t get_cache_memory(const Device& d);
size_t set_memory_limit(const Device& d, size_t limit);
size_t get_memory_limit(const Device& d);
size_t set_cache_limit(const Device& d, size_t limit);
void clear_cache(const Device& d);

namespace memory {

// One array alive at the moment the total peak was reached.
struct LiveArray {
  std::string primitive;  // producing primitive, or "data" for a constant
  std::vector<int> shape;
  Dtype dtype = float32;
  size_t bytes = 0;
  Device device = Device::cpu;
};

struct PeakReport {
  size_t peak_bytes = 0;
  std::vector<LiveArray> live;  // largest first
};

// Arrays alive at the last peak since reset_peak_memory. Recording is on
// while profiling is enabled (see trace.h) and costs nothing otherwise.
PeakReport peak_report();
std::ostream& operator<<(std::ostream& os, const PeakReport& r);

}  // namespace memory
}  // namespace lumen
