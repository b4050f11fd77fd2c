// What a Vulkan kernel uses to record work: its backend and command stream,
// output allocation (with donation), device addresses of arrays and the
// dispatch call. Adding a kernel: see docs/backends.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "backends/vulkan/backend.h"
#include "lumen/array.h"
#include "lumen/elementwise_primitives.h"
#include "lumen/primitive.h"

namespace lumen::vulkan {

// The numbers shaders/ids.h gives lumen's dtypes and ops.
uint32_t dtype_id(Dtype d);
uint32_t op_id(UnaryOp op);
uint32_t op_id(BinaryOp op);

// Device address of an array's first element (buffer address + offset).
uint64_t address_of(const array& a);
// The bytes an array's view can touch.
Range range_of(const array& a);

// Specialization constants of a dispatch: index = constant_id.
using Constants = std::vector<uint32_t>;

class KernelContext;

// Runs `shader` (one workgroup; its push constants are the address of
// `words` 32-bit words, each first set to 0xffffffff) on k's stream, waits
// for it and returns the words: the probes that read a device's fragment
// layouts.
std::vector<uint32_t> read_probe_words(KernelContext& k, const std::string& shader, uint32_t words);

// Arrays kept per command stream for the life of the process (one cache per
// use: the stream counters below, the sampling draw's sync words, the
// sub-1-bit GEMV's row sums).
struct StreamArrays {
  std::mutex mu;
  std::map<const CommandStream*, array> arrays;
};

// k's stream's array in `cache`: `header` words that `fill_header` sets, then
// at least n uint32 words that start at zero (and that its users leave at
// zero: each dispatch lists the array as written, so they are ordered on the
// stream). Grown, to twice its words past the header or n, when a call needs
// more.
array stream_words(KernelContext& k, const Stream& s, StreamArrays& cache, uint64_t n, uint64_t header = 0,
                   const std::function<void(uint32_t*)>& fill_header = {});

// The stream's counters: at least n zeroed uint32 words that every kernel
// using them (the decode's and the GEMV's last-workgroup merges) leaves at
// zero.
array stream_counters(KernelContext& k, const Stream& s, uint64_t n);

class KernelContext {
 public:
  static constexpr uint32_t kWorkgroupSize = 256;

  explicit KernelContext(const Primitive& p);

  VulkanBackend& backend() { return backend_; }
  CommandStream& stream() { return stream_; }
  const Capabilities& caps() { return backend_.context().caps(); }

  // A fresh row-contiguous buffer for `out`.
  void allocate(array& out);
  // `out` takes the buffer of a dying input (from inputs[first] on) when one
  // qualifies, else a fresh one.
  void allocate_elementwise(const std::vector<array>& inputs, array& out, size_t first = 0);

  // Records `shader` over `invocations` threads (a grid-stride loop in the
  // shader covers what the workgroup-count limit leaves). constants[0] is set
  // to the workgroup size. `writes` get their generation bumped (host copies
  // of unmapped memory are refreshed).
  void dispatch(const std::string& shader, Constants constants, const void* push, uint32_t push_bytes,
                uint64_t invocations, const std::vector<const array*>& reads,
                const std::vector<const array*>& writes);

 private:
  VulkanBackend& backend_;
  CommandStream& stream_;
};

}  // namespace lumen::vulkan
