#include "backends/vulkan/command_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace lumen::vulkan {

namespace {
constexpr uint64_t kChunkBytes = 256 * 1024;
constexpr size_t kMaxTrackedRanges = 64;
constexpr uint64_t kSpinNs = 100'000;  // how long a wait polls before it blocks
constexpr VkPipelineStageFlags kStages =
    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
}  // namespace

CommandStream::CommandStream(Context& ctx, int slot) : ctx_(ctx), slot_(slot) {
  VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool.queueFamilyIndex = ctx.caps().compute_family;
  check(vkCreateCommandPool(ctx.device(), &pool, nullptr, &pool_), "vkCreateCommandPool");
  VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  type.initialValue = 0;
  VkSemaphoreCreateInfo sem{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  sem.pNext = &type;
  check(vkCreateSemaphore(ctx.device(), &sem, nullptr, &timeline_), "vkCreateSemaphore");
}

CommandStream::~CommandStream() {
  try {
    finish();
  } catch (...) {
    // The device is gone; release what we can.
  }
  vkDeviceWaitIdle(ctx_.device());
  auto drop_chunks = [this](std::vector<Chunk>& chunks) {
    for (auto& c : chunks) destroy_raw_buffer(ctx_, c.raw);
    chunks.clear();
  };
  for (auto& b : in_flight_) drop_chunks(b.chunks);
  drop_chunks(current_.chunks);
  drop_chunks(spare_chunks_);
  vkDestroyCommandPool(ctx_.device(), pool_, nullptr);
  vkDestroySemaphore(ctx_.device(), timeline_, nullptr);
}

VkCommandBuffer CommandStream::open() {
  if (is_open_) return current_.commands;
  recycle();
  if (in_flight_.size() >= kMaxInFlight) {
    wait(in_flight_.front().value);
    recycle();
  }
  VkCommandBuffer cb;
  if (!spare_commands_.empty()) {
    cb = spare_commands_.back();
    spare_commands_.pop_back();
  } else {
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = pool_;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(ctx_.device(), &alloc, &cb), "vkAllocateCommandBuffers");
  }
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(vkBeginCommandBuffer(cb, &begin), "vkBeginCommandBuffer");
  current_.commands = cb;
  current_.value = submitted_.load() + 1;
  is_open_ = true;
  commands_in_batch_ = 0;
  recording_.store(current_.value);
  return cb;
}

void CommandStream::barrier() {
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                     VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  vkCmdPipelineBarrier(current_.commands, kStages, kStages, 0, 1, &mb, 0, nullptr, 0, nullptr);
  reads_since_barrier_.clear();
  writes_since_barrier_.clear();
  barrier_before_next_ = false;
  ++barriers_;
}

// The tracked ranges outlive a submission: a barrier at the start of the next
// command buffer also orders it after earlier submissions on the queue.
void CommandStream::depend(std::span<const Range> reads, std::span<const Range> writes) {
  auto hits = [](const std::vector<Range>& tracked, const Range& r) {
    return std::any_of(tracked.begin(), tracked.end(), [&](const Range& t) { return t.overlaps(r); });
  };
  bool conflict = barrier_before_next_ ||
                  reads_since_barrier_.size() + writes_since_barrier_.size() > kMaxTrackedRanges;
  for (auto& r : reads) conflict = conflict || hits(writes_since_barrier_, r);
  for (auto& w : writes) {
    conflict = conflict || hits(writes_since_barrier_, w) || hits(reads_since_barrier_, w);
  }
  if (conflict) barrier();
  reads_since_barrier_.insert(reads_since_barrier_.end(), reads.begin(), reads.end());
  writes_since_barrier_.insert(writes_since_barrier_.end(), writes.begin(), writes.end());
}

void CommandStream::after_command() {
  ++commands_;
  if (++commands_in_batch_ >= kMaxDispatchesPerBatch) flush_locked();
}

void CommandStream::order_after_queue() {
  std::lock_guard<std::mutex> lk(mu_);
  barrier_before_next_ = true;
}

void CommandStream::dispatch(VkPipeline pipeline, VkPipelineLayout layout, const void* push,
                             uint32_t push_bytes, uint32_t groups_x, std::span<const Range> reads,
                             std::span<const Range> writes) {
  std::lock_guard<std::mutex> lk(mu_);
  VkCommandBuffer cb = open();
  depend(reads, writes);
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  if (push_bytes) vkCmdPushConstants(cb, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  vkCmdDispatch(cb, groups_x, 1, 1);
  after_command();
}

void CommandStream::copy(VkBuffer src, uint64_t src_offset, VkBuffer dst, uint64_t dst_offset,
                         uint64_t bytes, Range read, Range write) {
  std::lock_guard<std::mutex> lk(mu_);
  VkCommandBuffer cb = open();
  depend({&read, 1}, {&write, 1});
  VkBufferCopy region{src_offset, dst_offset, bytes};
  vkCmdCopyBuffer(cb, src, dst, 1, &region);
  after_command();
}

uint64_t CommandStream::upload(const void* data, size_t bytes) {
  std::lock_guard<std::mutex> lk(mu_);
  open();
  uint64_t need = (bytes + 63) & ~uint64_t(63);
  auto& chunks = current_.chunks;
  if (chunks.empty() || chunks.back().used + need > chunks.back().raw.size) {
    Chunk c;
    auto spare = std::find_if(spare_chunks_.begin(), spare_chunks_.end(),
                              [&](const Chunk& s) { return s.raw.size >= need; });
    if (spare != spare_chunks_.end()) {
      c = *spare;
      spare_chunks_.erase(spare);
    } else {
      check(create_raw_buffer(ctx_, std::max(kChunkBytes, need), ctx_.upload_memory_type(), true, c.raw),
            "allocating a parameter buffer");
    }
    c.used = 0;
    chunks.push_back(c);
  }
  Chunk& c = chunks.back();
  std::memcpy(static_cast<char*>(c.raw.mapped) + c.used, data, bytes);
  uint64_t addr = c.raw.address + c.used;
  c.used += need;
  return addr;
}

void CommandStream::flush() {
  std::lock_guard<std::mutex> lk(mu_);
  flush_locked();
}

void CommandStream::flush_locked() {
  if (!is_open_) return;
  // Make everything visible to the host (arrays are read in place once the
  // stream finished).
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(current_.commands, kStages, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr,
                       0, nullptr);
  check(vkEndCommandBuffer(current_.commands), "vkEndCommandBuffer");
  VkTimelineSemaphoreSubmitInfo timeline{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
  timeline.signalSemaphoreValueCount = 1;
  timeline.pSignalSemaphoreValues = &current_.value;
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.pNext = &timeline;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &current_.commands;
  submit.signalSemaphoreCount = 1;
  submit.pSignalSemaphores = &timeline_;
  ctx_.submit(submit);
  ++submissions_;
  submitted_.store(current_.value);
  recording_.store(0);
  // The parameter chunk being filled may hold tables of commands recorded
  // after this submission (a flush from another thread lands anywhere): it
  // goes with the next batch, recycled once that one is done.
  std::vector<Chunk> carried;
  if (!current_.chunks.empty()) {
    carried.push_back(current_.chunks.back());
    current_.chunks.pop_back();
  }
  in_flight_.push_back(std::move(current_));
  current_ = Batch{};
  current_.chunks = std::move(carried);
  is_open_ = false;
  deferred_evaluations_.store(0);
}

bool CommandStream::end_evaluation() {
  std::lock_guard<std::mutex> lk(mu_);
  const bool busy = !in_flight_.empty() && completed_value() < submitted_.load();
  if (!is_open_ || !busy || deferred_evaluations_ + 1 >= kMaxDeferredEvaluations) {
    flush_locked();
    return false;
  }
  return ++deferred_evaluations_ == 1;
}

bool CommandStream::submit_when_idle(uint64_t timeout_ns) {
  uint64_t target;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!has_deferred()) return false;
    target = submitted_.load();
  }
  if (!wait_until(target, timeout_ns)) return true;
  std::lock_guard<std::mutex> lk(mu_);
  if (!has_deferred()) return false;
  if (completed_value() < submitted_.load()) return true;  // flushed meanwhile, then deferred again
  flush_locked();
  return false;
}

void CommandStream::finish() {
  flush();
  wait(submitted_.load());
  std::lock_guard<std::mutex> lk(mu_);
  recycle();
}

uint64_t CommandStream::completed_value() {
  uint64_t v = 0;
  check(vkGetSemaphoreCounterValue(ctx_.device(), timeline_, &v), "vkGetSemaphoreCounterValue");
  note_completed(v);
  return v;
}

// Threads waiting on the stream may learn values out of order: keep the largest.
void CommandStream::note_completed(uint64_t value) {
  uint64_t now = completed_.load();
  while (now < value && !completed_.compare_exchange_weak(now, value)) {
  }
}

void CommandStream::wait(uint64_t value) {
  if (completed_.load() >= value) return;
  if (value > submitted_.load()) flush();  // a deferred batch
  wait_until(value, UINT64_MAX);
}

bool CommandStream::wait_until(uint64_t value, uint64_t timeout_ns) {
  if (completed_.load() >= value) return true;
  // Poll a short while first: a blocking wait wakes up tens of microseconds
  // after the GPU signals (NVIDIA), longer than small work takes.
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(std::min(timeout_ns, kSpinNs));
  do {
    if (completed_value() >= value) return true;
    std::this_thread::yield();  // leave the core to a software device's threads (lavapipe)
  } while (std::chrono::steady_clock::now() < spin_until);
  VkSemaphoreWaitInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
  info.semaphoreCount = 1;
  info.pSemaphores = &timeline_;
  info.pValues = &value;
  VkResult r = vkWaitSemaphores(ctx_.device(), &info, timeout_ns);
  if (r == VK_TIMEOUT) return false;
  check(r, "vkWaitSemaphores");
  note_completed(value);
  return true;
}

void CommandStream::recycle() {
  if (in_flight_.empty()) return;
  uint64_t done = completed_value();
  while (!in_flight_.empty() && in_flight_.front().value <= done) {
    Batch& b = in_flight_.front();
    check(vkResetCommandBuffer(b.commands, 0), "vkResetCommandBuffer");
    spare_commands_.push_back(b.commands);
    for (auto& c : b.chunks) {
      if (c.raw.size == kChunkBytes) {
        spare_chunks_.push_back(c);
      } else {
        destroy_raw_buffer(ctx_, c.raw);
      }
    }
    in_flight_.pop_front();
  }
}

}  // namespace lumen::vulkan
