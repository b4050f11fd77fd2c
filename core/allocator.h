// The allocator interface each backend implements, and the buffer handle
// arrays hold. Statistics from every allocator feed one global total so the
// top-level memory functions can report the peak of all devices together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include <lumen/device.h>

namespace lumen::allocator {

class Allocator;

// A block of memory owned by one backend allocator. `host` is a CPU pointer to
// the bytes when the memory is host-visible (always on CPU); `handle` is the
// backend's own object (e.g. a Vulkan buffer record).
struct Buffer {
  void* host = nullptr;
  void* handle = nullptr;
  size_t size = 0;
  Allocator* owner = nullptr;

  Buffer() = default;
  Buffer(void* host, void* handle, size_t size, Allocator* owner)
      : host(host), handle(handle), size(size), owner(owner) {}
  void* raw_ptr();  // host pointer, mapping or staging through the owner if needed
  const void* ptr() const { return host; }
  explicit operator bool() const { return owner != nullptr; }
};

class Allocator {
 public:
  explicit Allocator(Device device) : device_(device) {}
  virtual ~Allocator() = default;
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // Throws std::runtime_error naming the request, the limit and the active
  // bytes when the limit would be passed (after clearing the cache and
  // waiting for in-flight work).
  virtual Buffer malloc(size_t size) = 0;
  virtual void free(Buffer buffer) = 0;
  // A host pointer for the buffer's bytes (identity on CPU).
  virtual void* host_ptr(Buffer& buffer) { return buffer.host; }
  virtual void clear_cache() = 0;

  Device device() const { return device_; }
  size_t active_memory() const;
  size_t peak_memory() const;
  void reset_peak_memory();
  size_t cache_memory() const;
  size_t set_memory_limit(size_t limit);
  size_t memory_limit() const;
  size_t set_cache_limit(size_t limit);
  size_t cache_limit() const;

 protected:
  // Bookkeeping for subclasses; they call these under their own locking.
  void count_alloc(size_t bytes);
  void count_free(size_t bytes);
  void set_cache_bytes(size_t bytes);
  // Throws the limit error if `bytes` more would pass the memory limit.
  bool fits_limit(size_t bytes) const;
  [[noreturn]] void throw_limit(size_t bytes) const;

  mutable std::mutex stats_mutex_;
  size_t active_ = 0;
  size_t peak_ = 0;
  size_t cache_ = 0;
  size_t memory_limit_ = 0;
  size_t cache_limit_ = 0;
  Device device_;
};

// The allocator of a device (created with its backend).
Allocator& allocator(const Device& d);

// Global total over all devices.
size_t total_active();
size_t total_peak();
void reset_total_peak();
// Limit on the total over all devices (0: none); returns the previous one.
size_t set_total_limit(size_t limit);
size_t total_limit();

}  // namespace lumen::allocator
