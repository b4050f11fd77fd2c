#include "lumen/device.h"

#include <cstdlib>
#include <mutex>
#include <string>

#include "detail/log.h"
#include "lumen/backend.h"

namespace lumen {

namespace {

Device choose_default() {
  if (const char* env = std::getenv("LUMEN_DEVICE")) {
    std::string v(env);
    if (v == "cpu") return Device::cpu;
    if (v == "gpu") {
      if (backend::available_count(Device::gpu) > 0) return Device::gpu;
      detail::logger()->warn("LUMEN_DEVICE=gpu but no Vulkan device is usable; using the CPU");
      return Device::cpu;
    }
    detail::logger()->warn("LUMEN_DEVICE={} is not cpu or gpu; ignored", v);
  }
  // Only a real GPU is the default: CPU implementations of Vulkan (lavapipe)
  // are used only when asked for.
  if (backend::preferred_gpu_available()) return Device::gpu;
  return Device::cpu;
}

Device& default_device_slot() {
  static Device d = choose_default();
  return d;
}

}  // namespace

const Device& default_device() { return default_device_slot(); }

void set_default_device(const Device& d) {
  if (!is_available(d)) {
    throw std::invalid_argument(
        fmt::format("[set_default_device] device {} is not available", d.type == Device::cpu ? "cpu" : "gpu"));
  }
  default_device_slot() = d;
}

bool is_available(const Device& d) {
  if (d.type == Device::cpu) return d.index == 0;
  return d.index >= 0 && d.index < backend::available_count(Device::gpu);
}

int device_count(Device::DeviceType type) { return backend::available_count(type); }

std::ostream& operator<<(std::ostream& os, Device::DeviceType t) {
  return os << (t == Device::cpu ? "cpu" : "gpu");
}

std::ostream& operator<<(std::ostream& os, const Device& d) {
  return os << "Device(" << d.type << ", " << d.index << ")";
}

}  // namespace lumen
