// A lumen Stream on the GPU: dispatches recorded into one command buffer
// after another, with a barrier only where a command touches memory an
// earlier one wrote (or writes memory an earlier one read) since the last
// barrier. A batch is submitted at the end of an evaluation, when it is full,
// or when someone waits for it; each submission signals the stream's timeline
// semaphore, which tells the allocator when freed memory is idle.
//
// Deferred submission: each submission costs NVIDIA's GPU ~12 us between
// batches (H100: back-to-back evaluations of one small kernel ran at 16 us
// each, 6 us batched). So an evaluation that ends while the GPU is still busy
// with earlier batches may leave its batch open for the next evaluations to
// add to; it goes when one of them fills it, when anyone waits for its work,
// or when the GPU runs out of submitted work (IdleSubmitter's thread).
//
// Threads: the scheduler's executor records; other threads may wait, poll
// and flush. Every member touching the open batch holds mu_.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <vector>

#include "backends/vulkan/raw_buffer.h"

namespace lumen::vulkan {

// Bytes [begin, end) of device memory, by device address.
struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool overlaps(const Range& o) const { return begin < o.end && o.begin < end; }
};

class CommandStream {
 public:
  CommandStream(Context& ctx, int slot);
  ~CommandStream();
  CommandStream(const CommandStream&) = delete;
  CommandStream& operator=(const CommandStream&) = delete;

  int slot() const { return slot_; }

  // ---- recording: one thread (the scheduler's worker) ----

  void dispatch(VkPipeline pipeline, VkPipelineLayout layout, const void* push, uint32_t push_bytes,
                uint32_t groups_x, std::span<const Range> reads, std::span<const Range> writes);
  void copy(VkBuffer src, uint64_t src_offset, VkBuffer dst, uint64_t dst_offset, uint64_t bytes,
            Range read, Range write);
  // The device address of a copy of `bytes` bytes (a kernel's table of
  // shapes and strides); valid until the work recorded now has run.
  uint64_t upload(const void* data, size_t bytes);
  // The next command waits for everything submitted to the queue before it
  // (another stream's work this stream does not track).
  void order_after_queue();
  // Submit what is recorded; finish also waits for it.
  void flush();
  void finish();
  // End of an evaluation: submits what is recorded, or keeps it open while
  // the GPU is busy with earlier batches (at most kMaxDeferredEvaluations
  // evaluations in a row). Returns whether a batch is left waiting that was
  // not before (its submission is then someone's job: IdleSubmitter).
  bool end_evaluation();
  // Whether a deferred batch waits for submission.
  bool has_deferred() const { return deferred_evaluations_.load() > 0; }
  // For IdleSubmitter: waits up to `timeout_ns` for the GPU to finish what
  // was submitted, then submits a deferred batch. Returns whether one still
  // waits (the GPU was still busy).
  bool submit_when_idle(uint64_t timeout_ns);

  // ---- timeline: any thread ----

  // The value the work recorded so far signals when done.
  uint64_t recorded_value() const { return recording_.load() ? recording_.load() : submitted_.load(); }
  uint64_t submitted_value() const { return submitted_.load(); }
  uint64_t completed_value();
  // Blocks until `value` (<= submitted_value()) is reached.
  void wait(uint64_t value);

  // Counters (tests check that independent dispatches need no barrier).
  uint64_t command_count() const { return commands_; }
  uint64_t barrier_count() const { return barriers_; }
  uint64_t submission_count() const { return submissions_; }

  static constexpr int kMaxDispatchesPerBatch = 512;
  static constexpr size_t kMaxInFlight = 8;
  static constexpr int kMaxDeferredEvaluations = 8;

 private:
  struct Chunk {
    RawBuffer raw;
    uint64_t used = 0;
  };
  struct Batch {
    VkCommandBuffer commands = VK_NULL_HANDLE;
    uint64_t value = 0;
    std::vector<Chunk> chunks;
  };

  VkCommandBuffer open();
  void flush_locked();
  // Blocks until `value` is reached or `timeout_ns` passed; returns whether reached.
  bool wait_until(uint64_t value, uint64_t timeout_ns);
  void depend(std::span<const Range> reads, std::span<const Range> writes);
  void barrier();
  void recycle();
  void after_command();
  void note_completed(uint64_t value);

  Context& ctx_;
  int slot_;
  std::mutex mu_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkSemaphore timeline_ = VK_NULL_HANDLE;
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> recording_{0};  // value of the open batch, 0 if none
  std::atomic<uint64_t> completed_{0};
  Batch current_;
  bool is_open_ = false;
  int commands_in_batch_ = 0;
  // Evaluations ended into the open batch without submitting it (read by
  // other threads: has_deferred).
  std::atomic<int> deferred_evaluations_{0};
  std::deque<Batch> in_flight_;
  std::vector<VkCommandBuffer> spare_commands_;
  std::vector<Chunk> spare_chunks_;
  bool barrier_before_next_ = false;
  // Memory touched since the last barrier.
  std::vector<Range> reads_since_barrier_;
  std::vector<Range> writes_since_barrier_;
  uint64_t commands_ = 0;
  uint64_t barriers_ = 0;
  uint64_t submissions_ = 0;
};

}  // namespace lumen::vulkan
