// The CPU backend: always present, device index 0.
#include "cpu_allocator.h"
#include "lumen/backend.h"

namespace lumen::cpu {

namespace {

class CpuBackend : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  Device device() const override { return Device::cpu; }
  allocator::Allocator& allocator() override { return allocator_; }
  bool can_read(const array& a) const override {
    // Host-visible memory of any backend can be read in place.
    return a.device() == Device::cpu || a.buffer().host != nullptr;
  }

 private:
  CpuAllocator allocator_;
};

struct Registrar {
  Registrar() {
    backend::register_backend(
        Device::cpu, [](int) { return std::make_unique<CpuBackend>(); }, [] { return 1; });
  }
} registrar;

}  // namespace
}  // namespace lumen::cpu
