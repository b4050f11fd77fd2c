// Devices and the default device.
#pragma once

#include <ostream>
#include <tuple>

namespace lumen {

struct Device {
  enum class DeviceType { cpu, gpu };
  static constexpr DeviceType cpu = DeviceType::cpu;
  static constexpr DeviceType gpu = DeviceType::gpu;

  Device(DeviceType type, int index = 0) : type(type), index(index) {}  // NOLINT: implicit as MLX

  DeviceType type;
  int index;

  bool operator==(const Device&) const = default;
  bool operator<(const Device& rhs) const {
    return std::tie(type, index) < std::tie(rhs.type, rhs.index);
  }
};

inline bool operator==(const Device& device, Device::DeviceType type) { return device.type == type; }

// The GPU when a Vulkan device that is not a CPU implementation exists, else
// the CPU; LUMEN_DEVICE=cpu|gpu overrides.
const Device& default_device();
void set_default_device(const Device& d);
bool is_available(const Device& d);
int device_count(Device::DeviceType type);

std::ostream& operator<<(std::ostream& os, const Device& d);
std::ostream& operator<<(std::ostream& os, Device::DeviceType t);

}  // namespace lumen
