#include "backends/vulkan/kernels/index_errors.h"

#include <bit>
#include <cstring>
#include <map>
#include <mutex>

#include "backends/vulkan/backend.h"
#include "core/detail/errors.h"

namespace lumen::vulkan {

namespace {

// Layout of IndexErrorRecord in shaders/index.glsl.
struct Record {
  uint32_t flag;
  uint32_t op;
  int64_t index;
  int64_t size;
  int64_t limit;
};

std::mutex& records_mutex() {
  static std::mutex mu;
  return mu;
}

// Staging buffers (host-visible and coherent) by stream; they live as long
// as the process, like the streams.
std::map<const CommandStream*, RawBuffer>& records() {
  static auto* m = new std::map<const CommandStream*, RawBuffer>;
  return *m;
}

const char* op_name(uint32_t op) {
  switch (static_cast<IndexOp>(op)) {
    case IndexOp::Gather: return "gather";
    case IndexOp::TakeAlongAxis: return "take_along_axis";
    case IndexOp::Scatter: return "scatter";
    case IndexOp::PutAlongAxis: return "put_along_axis";
    case IndexOp::ScatterAddAxis: return "scatter_add_axis";
    default: break;
  }
  return "index";
}

// The CPU kernel's message for a bad sample() parameter (backends/cpu/sampling.cpp).
[[noreturn]] void throw_sample_error(const Record& r) {
  const float value = std::bit_cast<float>(static_cast<uint32_t>(r.size));
  switch (static_cast<IndexOp>(r.op)) {
    case IndexOp::SampleTemperature:
      detail::throw_invalid("[sample] temperature must be >= 0, got {} (row {}).", value, r.index);
    case IndexOp::SampleTopK:
      detail::throw_invalid("[sample] top_k must be >= 0, got {} (row {}).", r.size, r.index);
    default:
      detail::throw_invalid("[sample] top_p must be in (0, 1], got {} (row {}).", value, r.index);
  }
}

}  // namespace

uint64_t index_error_record(VulkanBackend& backend, CommandStream& stream) {
  std::lock_guard<std::mutex> lk(records_mutex());
  auto& m = records();
  auto it = m.find(&stream);
  if (it == m.end()) {
    RawBuffer raw = backend.memory().create_staging(sizeof(Record));
    std::memset(raw.mapped, 0, sizeof(Record));
    it = m.emplace(&stream, raw).first;
  }
  return it->second.address;
}

void check_index_errors(CommandStream& stream) {
  Record r;
  {
    std::lock_guard<std::mutex> lk(records_mutex());
    auto it = records().find(&stream);
    if (it == records().end()) return;
    std::memcpy(&r, it->second.mapped, sizeof(Record));
    if (r.flag == 0) return;
    std::memset(it->second.mapped, 0, sizeof(Record));
  }
  if (r.op >= static_cast<uint32_t>(IndexOp::SampleTemperature) && r.op <= static_cast<uint32_t>(IndexOp::SampleTopP)) {
    throw_sample_error(r);
  }
  const char* op = op_name(r.op & 0xffu);
  // Unsigned indices are reported as read (uint64 past 2^63 included).
  std::string index = (r.op & 0x100u) ? std::to_string(static_cast<uint64_t>(r.index)) : std::to_string(r.index);
  if (r.limit == r.size) {
    detail::throw_range("[{}] Index {} is out of bounds for an axis of size {}.", op, index, r.size);
  }
  detail::throw_range("[{}] Index {} is out of bounds: a slice of {} from it overruns an axis of size {}.", op,
                      index, r.size - r.limit + 1, r.size);
}

}  // namespace lumen::vulkan
