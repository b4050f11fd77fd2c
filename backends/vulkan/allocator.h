// GPU memory for tensors. Small requests are carved (buddy system) out of
// large blocks, big ones get a dedicated allocation. Freed buffers wait in a
// size-bucketed cache until the GPU work that used them has completed (the
// streams' timeline semaphores say when); the stream that used a buffer last
// may take it back at once, since its own commands are ordered by barriers.
// Limits and statistics go through lumen::allocator::Allocator.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "lumen/allocator.h"
#include "backends/vulkan/command_stream.h"

namespace lumen::vulkan {

struct Block;

// What allocator::Buffer::handle points at.
struct BufferRecord {
  VkBuffer buffer = VK_NULL_HANDLE;  // the block's buffer for a suballocation
  uint64_t offset = 0;               // of this allocation within `buffer`
  uint64_t size = 0;                 // bytes (the bucket size)
  VkDeviceAddress address = 0;       // device address of the first byte
  void* mapped = nullptr;            // host address when mapped (writes; reads if cached)
  Block* block = nullptr;            // owning block of a suballocation
  int order = 0;                     // buddy order within the block
  RawBuffer dedicated;               // a dedicated allocation
  // Unmapped memory: a host copy made on demand, refreshed when the GPU has
  // written the buffer since (generation counts kernel writes).
  RawBuffer mirror;
  uint64_t generation = 0;
  uint64_t mirror_generation = ~uint64_t(0);
  // Once freed: each stream's timeline value that must pass before reuse.
  std::vector<uint64_t> idle_after;

  Range range() const { return {address, address + size}; }
};

// What the allocator needs from the backend's streams.
class StreamTimelines {
 public:
  virtual ~StreamTimelines() = default;
  // Per stream slot, the value the work recorded so far signals.
  virtual std::vector<uint64_t> recorded_values() = 0;
  // Whether every stream except `except_slot` (-1: none) has reached `values`.
  virtual bool reached(const std::vector<uint64_t>& values, int except_slot) = 0;
  // Waits for submitted work to reach `values` where it can (never for work
  // that is only recorded); returns whether all of it was reached.
  virtual bool wait_submitted(const std::vector<uint64_t>& values) = 0;
  // Copies `bytes` between buffers now and waits (host read-back of unmapped memory).
  virtual void copy_now(VkBuffer src, uint64_t src_offset, VkBuffer dst, uint64_t dst_offset,
                        uint64_t bytes) = 0;
};

class VulkanAllocator : public allocator::Allocator {
 public:
  VulkanAllocator(Device device, Context& ctx, StreamTimelines& streams);
  ~VulkanAllocator() override;

  // Memory the host may write at once: only buffers whose GPU work completed.
  allocator::Buffer malloc(size_t size) override;
  // Memory for a kernel's output recorded on stream `slot`: may reuse a
  // buffer that stream still uses (its commands are ordered).
  allocator::Buffer malloc_for_stream(size_t size, int slot);
  void free(allocator::Buffer buffer) override;
  void* host_ptr(allocator::Buffer& buffer) override;
  void clear_cache() override;

  // The record behind a buffer of this allocator.
  static BufferRecord& record(const allocator::Buffer& b) {
    return *static_cast<BufferRecord*>(b.handle);
  }
  // Staging memory (host-visible, not counted as tensor memory).
  RawBuffer create_staging(uint64_t bytes);
  void release_staging(RawBuffer raw, std::vector<uint64_t> idle_after);

  // Requests up to this size are suballocated from blocks.
  static constexpr uint64_t kMaxSuballocation = uint64_t(1) << 20;
  static constexpr uint64_t kBlockBytes = uint64_t(1) << 24;
  static constexpr uint64_t kMinAllocation = 256;

 private:
  static uint64_t bucket(uint64_t size);
  allocator::Buffer allocate(size_t size, int slot);
  BufferRecord* take_cached(uint64_t bucket, int slot);
  BufferRecord* create(uint64_t bucket);
  bool suballocate(uint64_t bucket, BufferRecord& rec);
  void release(BufferRecord* rec);
  // Releases cached and pending records whose work is done (waiting for
  // submitted work when `wait`), then empty blocks; returns bytes released.
  uint64_t release_idle(bool wait);
  void trim_cache_locked();
  allocator::Buffer wrap(BufferRecord* rec);

  Context& ctx_;
  StreamTimelines& streams_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::multimap<uint64_t, BufferRecord*> cache_;  // bucket -> record
  uint64_t cached_bytes_ = 0;
  // Freed records past the cache limit, released once idle.
  std::vector<BufferRecord*> pending_;
  std::vector<std::pair<RawBuffer, std::vector<uint64_t>>> pending_staging_;
  uint64_t device_bytes_ = 0;  // held from the device (blocks, dedicated, mirrors)
};

}  // namespace lumen::vulkan
