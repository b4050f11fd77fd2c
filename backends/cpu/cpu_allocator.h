// Host memory with a size-bucketed cache, limits and statistics.
#pragma once

#include <map>
#include <mutex>

#include "lumen/allocator.h"

namespace lumen::cpu {

class CpuAllocator : public allocator::Allocator {
 public:
  CpuAllocator();
  ~CpuAllocator() override;
  allocator::Buffer malloc(size_t size) override;
  void free(allocator::Buffer buffer) override;
  void clear_cache() override;

 private:
  static size_t bucket(size_t size);
  void trim_cache_locked(size_t keep);
  std::mutex mu_;
  std::multimap<size_t, void*> cache_;  // bucket size -> block
  size_t cached_bytes_ = 0;
};

}  // namespace lumen::cpu
