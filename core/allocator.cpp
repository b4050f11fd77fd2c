#include "lumen/allocator.h"

#include <atomic>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "lumen/backend.h"
#include "lumen/memory.h"

namespace lumen::allocator {

namespace {
std::mutex total_mu;
size_t total_active_bytes = 0;
size_t total_peak_bytes = 0;
size_t total_limit_bytes = 0;  // 0: only the per-device limits apply
}  // namespace

size_t set_total_limit(size_t limit) {
  std::lock_guard<std::mutex> lk(total_mu);
  std::swap(total_limit_bytes, limit);
  return limit;
}
size_t total_limit() {
  std::lock_guard<std::mutex> lk(total_mu);
  return total_limit_bytes;
}

namespace detail_hooks {
// Defined in memory.cpp: called on each new total peak (for the peak report).
void on_new_peak(size_t bytes);
}  // namespace detail_hooks

size_t total_active() {
  std::lock_guard<std::mutex> lk(total_mu);
  return total_active_bytes;
}
size_t total_peak() {
  std::lock_guard<std::mutex> lk(total_mu);
  return total_peak_bytes;
}
void reset_total_peak() {
  std::lock_guard<std::mutex> lk(total_mu);
  total_peak_bytes = total_active_bytes;
}

void Allocator::count_alloc(size_t bytes) {
  {
    std::lock_guard<std::mutex> lk(stats_mutex_);
    active_ += bytes;
    peak_ = std::max(peak_, active_);
  }
  bool new_peak = false;
  size_t now = 0;
  {
    std::lock_guard<std::mutex> lk(total_mu);
    total_active_bytes += bytes;
    if (total_active_bytes > total_peak_bytes) {
      total_peak_bytes = total_active_bytes;
      new_peak = true;
      now = total_active_bytes;
    }
  }
  if (new_peak) detail_hooks::on_new_peak(now);
}

void Allocator::count_free(size_t bytes) {
  {
    std::lock_guard<std::mutex> lk(stats_mutex_);
    active_ -= bytes;
  }
  std::lock_guard<std::mutex> lk(total_mu);
  total_active_bytes -= bytes;
}

void Allocator::set_cache_bytes(size_t bytes) {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  cache_ = bytes;
}

size_t Allocator::active_memory() const {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  return active_;
}
size_t Allocator::peak_memory() const {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  return peak_;
}
void Allocator::reset_peak_memory() {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  peak_ = active_;
}
size_t Allocator::cache_memory() const {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  return cache_;
}
size_t Allocator::set_memory_limit(size_t limit) {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  std::swap(memory_limit_, limit);
  return limit;
}
size_t Allocator::memory_limit() const {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  return memory_limit_;
}
size_t Allocator::set_cache_limit(size_t limit) {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  std::swap(cache_limit_, limit);
  return limit;
}
size_t Allocator::cache_limit() const {
  std::lock_guard<std::mutex> lk(stats_mutex_);
  return cache_limit_;
}

bool Allocator::fits_limit(size_t bytes) const {
  {
    std::lock_guard<std::mutex> lk(total_mu);
    if (total_limit_bytes != 0 && total_active_bytes + bytes > total_limit_bytes) return false;
  }
  std::lock_guard<std::mutex> lk(stats_mutex_);
  return memory_limit_ == 0 || active_ + bytes <= memory_limit_;
}

void Allocator::throw_limit(size_t bytes) const {
  size_t limit, active;
  {
    std::lock_guard<std::mutex> lk(stats_mutex_);
    limit = memory_limit_;
    active = active_;
  }
  {
    std::lock_guard<std::mutex> lk(total_mu);
    if (total_limit_bytes != 0 && total_active_bytes + bytes > total_limit_bytes) {
      limit = total_limit_bytes;
      active = total_active_bytes;
    }
  }
  throw std::runtime_error(fmt::format(
      "[malloc] allocating {} bytes on {} would pass the memory limit of {} bytes ({} bytes active)",
      bytes, device_.type == Device::cpu ? "cpu" : "gpu", limit, active));
}

Allocator& allocator(const Device& d) { return backend::get(d).allocator(); }

}  // namespace lumen::allocator
