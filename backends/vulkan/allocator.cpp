#include "backends/vulkan/allocator.h"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include <fmt/format.h>

#include "core/detail/log.h"

namespace lumen::vulkan {

// A large allocation carved into power-of-two pieces (buddy system).
struct Block {
  RawBuffer raw;
  int top_order = 0;                     // the whole block
  std::vector<std::set<uint64_t>> free;  // free offsets per order
  uint64_t used = 0;
};

namespace {
int order_of(uint64_t bytes) {
  return std::countr_zero(bytes / VulkanAllocator::kMinAllocation);
}
}  // namespace

VulkanAllocator::VulkanAllocator(Device device, Context& ctx, StreamTimelines& streams)
    : Allocator(device), ctx_(ctx), streams_(streams) {
  // As the CPU allocator: the limit defaults to what the device has, the
  // cache to a part of it.
  set_memory_limit(ctx.tensor_heap_size());
  set_cache_limit(ctx.tensor_heap_size() / 2);
}

VulkanAllocator::~VulkanAllocator() {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& [size, rec] : cache_) pending_.push_back(rec);
  cache_.clear();
  for (auto* rec : pending_) release(rec);
  pending_.clear();
  for (auto& [raw, after] : pending_staging_) destroy_raw_buffer(ctx_, raw);
  for (auto& b : blocks_) destroy_raw_buffer(ctx_, b->raw);
}

// Powers of two up to the suballocation limit; multiples of 1 MiB beyond.
uint64_t VulkanAllocator::bucket(uint64_t size) {
  if (size <= kMinAllocation) return kMinAllocation;
  if (size <= kMaxSuballocation) return std::bit_ceil(size);
  constexpr uint64_t page = uint64_t(1) << 20;
  return (size + page - 1) / page * page;
}

// Buffer::host, which the host reads through, only for cached mappings.
allocator::Buffer VulkanAllocator::wrap(BufferRecord* rec) {
  return allocator::Buffer(ctx_.tensor_memory_cached() ? rec->mapped : nullptr, rec, rec->size, this);
}

allocator::Buffer VulkanAllocator::malloc(size_t size) { return allocate(size, -1); }

allocator::Buffer VulkanAllocator::malloc_for_stream(size_t size, int slot) {
  return allocate(size, slot);
}

allocator::Buffer VulkanAllocator::allocate(size_t size, int slot) {
  uint64_t b = bucket(size);
  std::unique_lock<std::mutex> lk(mu_);
  // The limit bounds active bytes, so a buffer from the cache counts too.
  if (!fits_limit(b)) {
    // Return the cache and wait for in-flight work before giving up.
    release_idle(true);
    if (!fits_limit(b)) {
      lk.unlock();
      throw_limit(b);
    }
  }
  if (auto* rec = take_cached(b, slot)) {
    count_alloc(rec->size);
    return wrap(rec);
  }
  if (device_bytes_ + b > ctx_.tensor_heap_size()) release_idle(false);
  BufferRecord* rec = create(b);
  count_alloc(b);
  return wrap(rec);
}

BufferRecord* VulkanAllocator::take_cached(uint64_t b, int slot) {
  // Large buffers may be a little larger than asked.
  uint64_t most = b <= kMaxSuballocation ? b : b + b / 8;
  for (auto it = cache_.lower_bound(b); it != cache_.end() && it->first <= most; ++it) {
    BufferRecord* rec = it->second;
    if (!streams_.reached(rec->idle_after, slot)) continue;
    cache_.erase(it);
    cached_bytes_ -= rec->size;
    set_cache_bytes(cached_bytes_);
    return rec;
  }
  return nullptr;
}

bool VulkanAllocator::suballocate(uint64_t b, BufferRecord& rec) {
  int order = order_of(b);
  Block* best = nullptr;
  int best_order = 0;
  for (auto& blk : blocks_) {
    for (int k = order; k <= blk->top_order; ++k) {
      if (!blk->free[k].empty()) {
        if (!best || k < best_order) {
          best = blk.get();
          best_order = k;
        }
        break;
      }
    }
    if (best && best_order == order) break;
  }
  if (!best) {
    auto blk = std::make_unique<Block>();
    VkResult r = create_raw_buffer(ctx_, kBlockBytes, ctx_.tensor_memory_type(),
                                   ctx_.tensor_memory_mapped(), blk->raw);
    if (r != VK_SUCCESS) return false;
    device_bytes_ += kBlockBytes;
    blk->top_order = order_of(kBlockBytes);
    blk->free.resize(blk->top_order + 1);
    blk->free[blk->top_order].insert(0);
    best = blk.get();
    best_order = blk->top_order;
    blocks_.push_back(std::move(blk));
  }
  uint64_t offset = *best->free[best_order].begin();
  best->free[best_order].erase(best->free[best_order].begin());
  for (int k = best_order - 1; k >= order; --k) {
    best->free[k].insert(offset + (kMinAllocation << k));
  }
  best->used += b;
  rec.block = best;
  rec.order = order;
  rec.buffer = best->raw.buffer;
  rec.offset = offset;
  rec.address = best->raw.address + offset;
  rec.mapped = best->raw.mapped ? static_cast<char*>(best->raw.mapped) + offset : nullptr;
  return true;
}

BufferRecord* VulkanAllocator::create(uint64_t b) {
  auto rec = std::make_unique<BufferRecord>();
  rec->size = b;
  for (int attempt = 0; attempt < 2; ++attempt) {
    VkResult r = VK_SUCCESS;
    if (b <= kMaxSuballocation) {
      if (suballocate(b, *rec)) return rec.release();
      r = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    } else {
      r = create_raw_buffer(ctx_, b, ctx_.tensor_memory_type(), ctx_.tensor_memory_mapped(),
                            rec->dedicated);
      if (r == VK_SUCCESS) {
        device_bytes_ += b;
        rec->buffer = rec->dedicated.buffer;
        rec->address = rec->dedicated.address;
        rec->mapped = rec->dedicated.mapped;
        return rec.release();
      }
    }
    if (attempt == 0) {
      release_idle(true);
      continue;
    }
    std::string hint;
    if (b > ctx_.caps().max_allocation_size) {
      hint = fmt::format(" (larger than the device's maxMemoryAllocationSize, {} bytes)",
                         ctx_.caps().max_allocation_size);
    }
    throw std::runtime_error(fmt::format(
        "[malloc] the gpu could not allocate {} bytes{}: {} ({} bytes active)", b, hint,
        result_name(r), active_memory()));
  }
  return nullptr;
}

void VulkanAllocator::release(BufferRecord* rec) {
  if (rec->mirror.buffer) destroy_raw_buffer(ctx_, rec->mirror);
  if (rec->block) {
    Block* blk = rec->block;
    uint64_t offset = rec->offset;
    int k = rec->order;
    blk->used -= rec->size;
    while (k < blk->top_order) {
      uint64_t buddy = offset ^ (kMinAllocation << k);
      auto it = blk->free[k].find(buddy);
      if (it == blk->free[k].end()) break;
      blk->free[k].erase(it);
      offset = std::min(offset, buddy);
      ++k;
    }
    blk->free[k].insert(offset);
  } else {
    device_bytes_ -= rec->dedicated.size;
    destroy_raw_buffer(ctx_, rec->dedicated);
  }
  delete rec;
}

uint64_t VulkanAllocator::release_idle(bool wait) {
  uint64_t released = 0;
  auto idle = [&](const std::vector<uint64_t>& after) {
    return streams_.reached(after, -1) || (wait && streams_.wait_submitted(after));
  };
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (idle(it->second->idle_after)) {
      cached_bytes_ -= it->second->size;
      released += it->second->size;
      release(it->second);
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
  set_cache_bytes(cached_bytes_);
  std::erase_if(pending_, [&](BufferRecord* rec) {
    if (!idle(rec->idle_after)) return false;
    released += rec->size;
    release(rec);
    return true;
  });
  std::erase_if(pending_staging_, [&](auto& entry) {
    if (!idle(entry.second)) return false;
    destroy_raw_buffer(ctx_, entry.first);
    return true;
  });
  std::erase_if(blocks_, [&](const std::unique_ptr<Block>& blk) {
    if (blk->used != 0) return false;
    device_bytes_ -= blk->raw.size;
    destroy_raw_buffer(ctx_, blk->raw);
    return true;
  });
  return released;
}

void VulkanAllocator::trim_cache_locked() {
  // Past the cache limit, the largest buffers leave the cache and go as soon
  // as the GPU is done with them.
  while (cached_bytes_ > cache_limit() && !cache_.empty()) {
    auto it = std::prev(cache_.end());
    cached_bytes_ -= it->second->size;
    pending_.push_back(it->second);
    cache_.erase(it);
  }
  set_cache_bytes(cached_bytes_);
  std::erase_if(pending_, [&](BufferRecord* rec) {
    if (!streams_.reached(rec->idle_after, -1)) return false;
    release(rec);
    return true;
  });
}

void VulkanAllocator::free(allocator::Buffer buffer) {
  auto* rec = static_cast<BufferRecord*>(buffer.handle);
  auto after = streams_.recorded_values();
  std::lock_guard<std::mutex> lk(mu_);
  rec->idle_after = std::move(after);
  count_free(rec->size);
  cache_.emplace(rec->size, rec);
  cached_bytes_ += rec->size;
  trim_cache_locked();
}

void VulkanAllocator::clear_cache() {
  std::lock_guard<std::mutex> lk(mu_);
  release_idle(true);
}

void* VulkanAllocator::host_ptr(allocator::Buffer& buffer) {
  BufferRecord& rec = record(buffer);
  if (rec.mapped && ctx_.tensor_memory_cached()) return rec.mapped;
  std::lock_guard<std::mutex> lk(mu_);
  if (!rec.mirror.buffer) {
    check(create_raw_buffer(ctx_, rec.size, ctx_.staging_memory_type(), true, rec.mirror),
          "allocating a host copy of a gpu buffer");
  }
  if (rec.mirror_generation != rec.generation) {
    streams_.copy_now(rec.buffer, rec.offset, rec.mirror.buffer, 0, rec.size);
    rec.mirror_generation = rec.generation;
  }
  return rec.mirror.mapped;
}

RawBuffer VulkanAllocator::create_staging(uint64_t bytes) {
  RawBuffer raw;
  VkResult r = create_raw_buffer(ctx_, std::max<uint64_t>(bytes, 4), ctx_.staging_memory_type(), true, raw);
  if (r != VK_SUCCESS) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      release_idle(true);
    }
    r = create_raw_buffer(ctx_, std::max<uint64_t>(bytes, 4), ctx_.staging_memory_type(), true, raw);
  }
  check(r, "allocating a staging buffer");
  return raw;
}

void VulkanAllocator::release_staging(RawBuffer raw, std::vector<uint64_t> idle_after) {
  std::lock_guard<std::mutex> lk(mu_);
  pending_staging_.emplace_back(raw, std::move(idle_after));
}

}  // namespace lumen::vulkan
