#include "lumen/backend.h"

#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "detail/errors.h"
#include "lumen/scheduler.h"

namespace lumen {

bool Backend::can_read(const array& a) const { return a.device() == device(); }

int64_t elements_below_offset(const array& a) {
  int64_t below = 0;
  if (a.size() == 0) return 0;
  for (size_t d = 0; d < a.ndim(); ++d) {
    if (a.strides()[d] < 0) below -= a.strides()[d] * (a.shape()[d] - 1);
  }
  return below;
}

array with_layout_over(const array& a, allocator::Buffer copy) {
  array base(a.shape(), a.dtype(), nullptr, {});
  base.set_data(copy, a.data_size(), a.strides(), a.flags());
  array out(a.shape(), a.dtype(), nullptr, {});
  out.copy_shared_buffer(base, a.strides(), a.flags(), a.data_size(),
                         elements_below_offset(a) * static_cast<int64_t>(a.itemsize()));
  return out;
}

array Backend::import(const array& a, const Stream& s) {
  (void)s;
  // Generic path: both sides expose host pointers; copy the region the
  // array's buffer spans and keep its layout.
  size_t bytes = a.data_size() * a.itemsize();
  auto buf = allocator().malloc(bytes);
  auto src = static_cast<const char*>(const_cast<array&>(a).buffer().raw_ptr()) + a.offset() -
             elements_below_offset(a) * static_cast<int64_t>(a.itemsize());
  if (bytes) std::memcpy(buf.raw_ptr(), src, bytes);
  return with_layout_over(a, buf);
}

namespace backend {

namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<std::type_index, Kernel> kernels[2];
  struct Entry {
    Factory factory;
    std::function<int()> count;
  };
  std::map<Device::DeviceType, Entry> factories;
  std::map<Device, std::unique_ptr<Backend>> backends;
  std::function<bool()> prefer_gpu;
  DtypeCheck dtype_checks[2];
};

Registry& registry() {
  static Registry r;
  return r;
}

int type_index(Device::DeviceType t) { return t == Device::cpu ? 0 : 1; }

}  // namespace

void register_kernel(Device::DeviceType type, std::type_index primitive, Kernel kernel) {
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  r.kernels[type_index(type)][primitive] = std::move(kernel);
}

const Kernel* find_kernel(Device::DeviceType type, std::type_index primitive) {
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  auto& table = r.kernels[type_index(type)];
  auto it = table.find(primitive);
  return it == table.end() ? nullptr : &it->second;
}

void register_backend(Device::DeviceType type, Factory factory, std::function<int()> count) {
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  r.factories[type] = {std::move(factory), std::move(count)};
}

int available_count(Device::DeviceType type) {
  std::function<int()> count;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lk(r.mu);
    auto it = r.factories.find(type);
    if (it == r.factories.end()) return 0;
    count = it->second.count;
  }
  return count();
}

bool is_created(const Device& d) {
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  return r.backends.count(d) > 0;
}

Backend& get(const Device& d) {
  auto& r = registry();
  std::unique_lock<std::mutex> lk(r.mu);
  auto it = r.backends.find(d);
  if (it != r.backends.end()) return *it->second;
  auto f = r.factories.find(d.type);
  if (f == r.factories.end()) {
    detail::throw_invalid("[backend] no backend for device {}", fmt::streamed(d));
  }
  auto factory = f->second.factory;
  lk.unlock();
  auto b = factory(d.index);  // may take time (device creation); not under the lock
  lk.lock();
  auto [pos, inserted] = r.backends.emplace(d, std::move(b));
  return *pos->second;
}

void check_kernel(const Primitive& p) {
  auto d = p.device();
  if (!find_kernel(d.type, std::type_index(typeid(p)))) {
    throw no_kernel_error(fmt::format("[{}] the {} backend has no kernel for primitive {}",
                                      p.name(), d.type == Device::cpu ? "cpu" : "vulkan (gpu)",
                                      p.name()));
  }
}

void check_kernel(const Primitive& p, Dtype output, const std::vector<array>& inputs) {
  check_kernel(p);
  DtypeCheck check;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lk(r.mu);
    check = r.dtype_checks[type_index(p.device().type)];
  }
  if (check) check(p, output, inputs);
}

void set_dtype_check(Device::DeviceType type, DtypeCheck check) {
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  r.dtype_checks[type_index(type)] = std::move(check);
}

bool preferred_gpu_available() {
  std::function<bool()> f;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lk(r.mu);
    f = r.prefer_gpu;
  }
  return f ? f() : false;
}

void set_preferred_gpu_probe(std::function<bool()> probe) {
  auto& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  r.prefer_gpu = std::move(probe);
}

}  // namespace backend
}  // namespace lumen
