// Backends are plugins: each registers kernels keyed by primitive type, owns
// an allocator and runs the streams of its device. No primitive knows about
// devices.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <vector>

#include <lumen/allocator.h>
#include <lumen/array.h>
#include <lumen/primitive.h>

namespace lumen {

// Signature of a kernel: compute `outputs` (already shaped, no data yet) from
// `inputs` (evaluated, resident on the kernel's device).
using Kernel = std::function<void(const Primitive&, const std::vector<array>& inputs,
                                  std::vector<array>& outputs)>;

// Raised at graph-build time when a primitive has no kernel on its stream's
// backend.
class no_kernel_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual Device device() const = 0;
  virtual allocator::Allocator& allocator() = 0;

  // Called before the first kernel of a tape on `s`, and after the last.
  virtual void begin(const Stream& s) { (void)s; }
  // Make all work recorded on `s` run and wait for it.
  virtual void finish(const Stream& s) { (void)s; }
  // Make recorded work start without waiting.
  virtual void flush(const Stream& s) { (void)s; }
  // Make recorded work start and name it by a ticket for wait_for / is_done
  // (the end of an evaluation: the host waits later, when it reads). The
  // default runs it to the end at once: ticket 0, nothing left to wait for.
  virtual uint64_t submit(const Stream& s) {
    finish(s);
    return 0;
  }
  // Block until the work of a ticket is done; throws the errors the device
  // reported for the stream's work (as finish does).
  virtual void wait_for(const Stream& s, uint64_t ticket) { (void)s, (void)ticket; }
  virtual bool is_done(const Stream& s, uint64_t ticket) { return (void)s, (void)ticket, true; }
  // Whether a kernel on this backend can read `a` where it lives.
  virtual bool can_read(const array& a) const;
  // A copy of `a` (evaluated, elsewhere) resident on this backend.
  virtual array import(const array& a, const Stream& s);
};

// For imports: the elements `a` addresses below its first one (negative
// strides put data before the offset), and an array with a's layout over
// `copy`, which holds a's span (data_size elements from the lowest one).
int64_t elements_below_offset(const array& a);
array with_layout_over(const array& a, allocator::Buffer copy);

namespace backend {

// Registry of kernels per device type, filled by static registrars in each
// backend's kernel files.
void register_kernel(Device::DeviceType type, std::type_index primitive, Kernel kernel);
const Kernel* find_kernel(Device::DeviceType type, std::type_index primitive);

// A backend factory; the CPU backend always registers one, Vulkan when built.
using Factory = std::function<std::unique_ptr<Backend>(int index)>;
void register_backend(Device::DeviceType type, Factory factory,
                      std::function<int()> device_count);
int available_count(Device::DeviceType type);

Backend& get(const Device& d);
bool is_created(const Device& d);

// Whether a GPU that is not a CPU implementation exists (the default device).
bool preferred_gpu_available();
void set_preferred_gpu_probe(std::function<bool()> probe);

// Throws no_kernel_error naming the primitive and the device.
void check_kernel(const Primitive& p);
// Also asks the backend whether its device computes these dtypes (a GPU
// without float64 throws std::invalid_argument when the graph is built).
void check_kernel(const Primitive& p, Dtype output, const std::vector<array>& inputs);
using DtypeCheck = std::function<void(const Primitive&, Dtype output, const std::vector<array>& inputs)>;
void set_dtype_check(Device::DeviceType type, DtypeCheck check);

template <typename P>
struct KernelRegistrar {
  KernelRegistrar(Device::DeviceType type, Kernel k) {
    register_kernel(type, std::type_index(typeid(P)), std::move(k));
  }
};

}  // namespace backend

// Register a kernel for primitive class P on a device type, at load time.
#define LUMEN_CONCAT_INNER(a, b) a##b
#define LUMEN_CONCAT(a, b) LUMEN_CONCAT_INNER(a, b)
#define LUMEN_REGISTER_KERNEL(DEVTYPE, P, FN) \
  static ::lumen::backend::KernelRegistrar<P> LUMEN_CONCAT(lumen_kernel_reg_, __LINE__)(DEVTYPE, FN)

}  // namespace lumen
