#include "lumen/stream.h"

#include <map>
#include <mutex>

#include "detail/errors.h"
#include "lumen/scheduler.h"

namespace lumen {

namespace {

struct StreamRegistry {
  std::mutex mu;
  std::vector<Stream> streams;
  std::map<Device, Stream> defaults;

  Stream default_for(const Device& d) {
    std::lock_guard<std::mutex> lk(mu);
    auto it = defaults.find(d);
    if (it != defaults.end()) return it->second;
    Stream s(static_cast<int>(streams.size()), d);
    streams.push_back(s);
    defaults.emplace(d, s);
    return s;
  }
};

StreamRegistry& registry() {
  static StreamRegistry r;
  return r;
}

}  // namespace

Stream default_stream(Device d) {
  if (!is_available(d)) {
    detail::throw_invalid("[default_stream] device {} is not available", fmt::streamed(d));
  }
  return registry().default_for(d);
}

void set_default_stream(Stream s) {
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  r.defaults.insert_or_assign(s.device, s);
}

Stream new_stream(Device d) {
  if (!is_available(d)) {
    detail::throw_invalid("[new_stream] device {} is not available", fmt::streamed(d));
  }
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  Stream s(static_cast<int>(r.streams.size()), d);
  r.streams.push_back(s);
  return s;
}

std::vector<Stream> get_streams() {
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  return r.streams;
}

Stream to_stream(StreamOrDevice s) { return to_stream(s, default_device()); }

Stream to_stream(StreamOrDevice s, Device default_) {
  if (std::holds_alternative<std::monostate>(s)) return default_stream(default_);
  if (std::holds_alternative<Device>(s)) return default_stream(std::get<Device>(s));
  return std::get<Stream>(s);
}

std::ostream& operator<<(std::ostream& os, const Stream& s) {
  return os << "Stream(" << s.device << ", " << s.index << ")";
}

}  // namespace lumen
