#include "cpu_allocator.h"

#include <unistd.h>

#include <cstdlib>
#include <new>
#include <stdexcept>

namespace lumen::cpu {

namespace {
constexpr size_t kAlign = 64;

size_t physical_memory() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
}
}  // namespace

CpuAllocator::CpuAllocator() : Allocator(Device::cpu) {
  // As MLX on machines without unified memory: the limit defaults to the RAM.
  set_memory_limit(physical_memory());
  set_cache_limit(physical_memory() / 4);
}

CpuAllocator::~CpuAllocator() { clear_cache(); }

// Small sizes round to a power of two, large ones to 1 MiB pages, so blocks are
// reused across similar requests without wasting much.
size_t CpuAllocator::bucket(size_t size) {
  if (size <= kAlign) return kAlign;
  if (size < (size_t(1) << 20)) {
    size_t b = kAlign;
    while (b < size) b <<= 1;
    return b;
  }
  constexpr size_t page = size_t(1) << 20;
  return (size + page - 1) / page * page;
}

allocator::Buffer CpuAllocator::malloc(size_t size) {
  size_t b = bucket(size);
  std::unique_lock<std::mutex> lk(mu_);
  // The limit bounds active bytes, so a buffer from the cache counts too.
  if (!fits_limit(b)) {
    trim_cache_locked(0);  // cached blocks count against nothing, but return them first
    if (!fits_limit(b)) {
      lk.unlock();
      throw_limit(b);
    }
  }
  auto it = cache_.find(b);
  if (it != cache_.end()) {
    void* p = it->second;
    cache_.erase(it);
    cached_bytes_ -= b;
    set_cache_bytes(cached_bytes_);
    count_alloc(b);
    return allocator::Buffer(p, nullptr, b, this);
  }
  void* p = std::aligned_alloc(kAlign, b);
  if (!p) {
    trim_cache_locked(0);
    p = std::aligned_alloc(kAlign, b);
    if (!p) {
      lk.unlock();
      throw std::runtime_error("[malloc] the system could not allocate " + std::to_string(b) +
                               " bytes on cpu");
    }
  }
  count_alloc(b);
  return allocator::Buffer(p, nullptr, b, this);
}

void CpuAllocator::free(allocator::Buffer buffer) {
  std::lock_guard<std::mutex> lk(mu_);
  count_free(buffer.size);
  if (buffer.size <= cache_limit()) {
    cache_.emplace(buffer.size, buffer.host);
    cached_bytes_ += buffer.size;
    if (cached_bytes_ > cache_limit()) trim_cache_locked(cache_limit());
  } else {
    std::free(buffer.host);
  }
  set_cache_bytes(cached_bytes_);
}

void CpuAllocator::trim_cache_locked(size_t keep) {
  // Drop the largest blocks first.
  while (cached_bytes_ > keep && !cache_.empty()) {
    auto it = std::prev(cache_.end());
    cached_bytes_ -= it->first;
    std::free(it->second);
    cache_.erase(it);
  }
  set_cache_bytes(cached_bytes_);
}

void CpuAllocator::clear_cache() {
  std::lock_guard<std::mutex> lk(mu_);
  trim_cache_locked(0);
}

}  // namespace lumen::cpu
