#include "lumen/memory.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "detail/memory_hooks.h"

#include "lumen/allocator.h"
#include "lumen/array.h"
#include "lumen/backend.h"
#include "lumen/primitive.h"
#include "lumen/trace.h"

namespace lumen {

namespace {

template <typename F>
void for_each_allocator(F&& f) {
  f(allocator::allocator(Device::cpu));
  for (int i = 0; i < backend::available_count(Device::gpu); ++i) {
    if (backend::is_created(Device(Device::gpu, i))) f(allocator::allocator(Device(Device::gpu, i)));
  }
}

}  // namespace

size_t get_active_memory() { return allocator::total_active(); }
size_t get_peak_memory() { return allocator::total_peak(); }
void reset_peak_memory() {
  for_each_allocator([](auto& a) { a.reset_peak_memory(); });
  allocator::reset_total_peak();
  memory::detail::reset_peak_snapshot();
}
size_t get_cache_memory() {
  size_t total = 0;
  for_each_allocator([&](auto& a) { total += a.cache_memory(); });
  return total;
}
size_t set_memory_limit(size_t limit) { return allocator::set_total_limit(limit); }
size_t get_memory_limit() {
  size_t l = allocator::total_limit();
  if (l != 0) return l;
  // Without a total limit, the effective one is the sum of the device limits.
  size_t total = 0;
  for_each_allocator([&](auto& a) { total += a.memory_limit(); });
  return total;
}
size_t set_cache_limit(size_t limit) {
  size_t prev = 0;
  for_each_allocator([&](auto& a) { prev = std::max(prev, a.set_cache_limit(limit)); });
  return prev;
}
void clear_cache() {
  for_each_allocator([](auto& a) { a.clear_cache(); });
}

size_t get_active_memory(const Device& d) { return allocator::allocator(d).active_memory(); }
size_t get_peak_memory(const Device& d) { return allocator::allocator(d).peak_memory(); }
void reset_peak_memory(const Device& d) { allocator::allocator(d).reset_peak_memory(); }
size_t get_cache_memory(const Device& d) { return allocator::allocator(d).cache_memory(); }
size_t set_memory_limit(const Device& d, size_t limit) {
  return allocator::allocator(d).set_memory_limit(limit);
}
size_t get_memory_limit(const Device& d) { return allocator::allocator(d).memory_limit(); }
size_t set_cache_limit(const Device& d, size_t limit) {
  return allocator::allocator(d).set_cache_limit(limit);
}
void clear_cache(const Device& d) { allocator::allocator(d).clear_cache(); }

// ---- peak report: live buffers are tracked only while profiling ----

namespace memory {
namespace detail {

struct LiveTable {
  std::mutex mu;
  std::unordered_map<const void*, LiveArray> live;  // keyed by buffer identity
  PeakReport snapshot;
  bool pending = false;
};

LiveTable& table() {
  static LiveTable t;
  return t;
}

void take_snapshot_locked(LiveTable& t) {
  t.snapshot.live.clear();
  for (auto& [k, v] : t.live) t.snapshot.live.push_back(v);
  std::sort(t.snapshot.live.begin(), t.snapshot.live.end(),
            [](const LiveArray& a, const LiveArray& b) { return a.bytes > b.bytes; });
  t.pending = false;
}

void reset_peak_snapshot() {
  auto& t = table();
  std::lock_guard<std::mutex> lk(t.mu);
  t.snapshot = {};
  t.snapshot.peak_bytes = allocator::total_active();
  take_snapshot_locked(t);
}

void on_buffer(const array& a) {
  auto& t = table();
  LiveArray info;
  info.primitive = a.has_primitive() ? a.primitive().name() : "data";
  info.shape.assign(a.shape().begin(), a.shape().end());
  info.dtype = a.dtype();
  info.bytes = a.buffer_size();
  info.device = a.device();
  std::lock_guard<std::mutex> lk(t.mu);
  t.live[a.data_shared_ptr().get()] = std::move(info);
  if (t.pending) take_snapshot_locked(t);
}

void on_buffer_gone(const void* key) {
  auto& t = table();
  std::lock_guard<std::mutex> lk(t.mu);
  t.live.erase(key);
}

}  // namespace detail

PeakReport peak_report() {
  auto& t = detail::table();
  std::lock_guard<std::mutex> lk(t.mu);
  return t.snapshot;
}

std::ostream& operator<<(std::ostream& os, const PeakReport& r) {
  os << fmt::format("peak {} bytes, {} live arrays\n", r.peak_bytes, r.live.size());
  for (auto& l : r.live) {
    os << fmt::format("  {:>14} bytes  {:<20} {} shape=({})\n", l.bytes, l.primitive,
                      dtype_to_string(l.dtype), fmt::join(l.shape, ", "));
  }
  return os;
}

}  // namespace memory

namespace allocator::detail_hooks {
void on_new_peak(size_t bytes) {
  if (!trace::enabled()) return;
  auto& t = memory::detail::table();
  std::lock_guard<std::mutex> lk(t.mu);
  t.snapshot.peak_bytes = bytes;
  t.pending = true;  // the buffer just allocated is noted right after
}
}  // namespace allocator::detail_hooks

}  // namespace lumen
