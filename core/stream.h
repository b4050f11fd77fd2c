// Streams: ordered queues of work on one device.
#pragma once

#include <ostream>
#include <tuple>
#include <variant>
#include <vector>

#include <lumen/device.h>

namespace lumen {

struct Stream {
  int index;
  Device device;
  explicit Stream(int index, Device device) : index(index), device(device) {}
  bool operator==(const Stream&) const = default;
  bool operator<(const Stream& rhs) const {
    return std::tie(device, index) < std::tie(rhs.device, rhs.index);
  }
};

Stream default_stream(Device d);
void set_default_stream(Stream s);
Stream new_stream(Device d);
std::vector<Stream> get_streams();

// Wait until all work queued so far on the stream (default: the default
// device's default stream) has finished.
void synchronize();
void synchronize(Stream s);

using StreamOrDevice = std::variant<std::monostate, Stream, Device>;
Stream to_stream(StreamOrDevice s);
Stream to_stream(StreamOrDevice s, Device default_);

std::ostream& operator<<(std::ostream& os, const Stream& s);

}  // namespace lumen
