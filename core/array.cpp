#include "lumen/array.h"

#include <cstring>
#include <limits>

#include "lumen/backend.h"
#include "lumen/event.h"
#include "lumen/primitive.h"
#include "lumen/scheduler.h"
#include "lumen/trace.h"
#include "lumen/tracing.h"
#include "detail/errors.h"
#include "detail/memory_hooks.h"

namespace lumen {

namespace detail {

int64_t checked_size(const Shape& shape, const char* op) {
  int64_t size = 1;
  for (auto d : shape) {
    if (d < 0) {
      throw std::invalid_argument(fmt::format("[{}] negative dimension in shape {}", op, shape_str(shape)));
    }
    if (d != 0 && size > std::numeric_limits<int64_t>::max() / d) {
      throw std::invalid_argument(fmt::format("[{}] size of shape {} overflows int64", op, shape_str(shape)));
    }
    size *= d;
  }
  return size;
}

Strides row_major_strides(const Shape& shape) {
  Strides strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) {
    strides[i] = strides[i + 1] * std::max<int64_t>(shape[i + 1], 1);
  }
  return strides;
}

array::Flags row_major_flags(const Shape& shape) {
  bool empty = false;
  int big = 0;
  for (auto d : shape) {
    empty = empty || d == 0;
    big += d > 1;
  }
  return {true, true, empty || big <= 1};
}

allocator::Buffer malloc_default(size_t nbytes) {
  return allocator::allocator(Device::cpu).malloc(nbytes);
}

}  // namespace detail

array::ArrayDesc::ArrayDesc(Shape shape_, Dtype dtype_)
    : shape(std::move(shape_)), dtype(dtype_) {
  init();
}

array::ArrayDesc::ArrayDesc(Shape shape_, Dtype dtype_, std::shared_ptr<Primitive> primitive_,
                            std::vector<array> inputs_)
    : shape(std::move(shape_)),
      dtype(dtype_),
      primitive(std::move(primitive_)),
      inputs(std::move(inputs_)) {
  init();
}

void array::ArrayDesc::init() {
  size = detail::checked_size(shape, "array");
  strides = detail::row_major_strides(shape);
  data_size = size;
}

// Destroy long chains without recursion: move inputs whose only owner is this
// descriptor onto a local stack before they would be destroyed recursively.
array::ArrayDesc::~ArrayDesc() {
  if (inputs.empty()) return;
  std::vector<std::shared_ptr<ArrayDesc>> stack;
  auto take = [&stack](std::vector<array>& ins) {
    for (auto& in : ins) {
      if (in.desc_ && in.desc_.use_count() == 1) stack.push_back(std::move(in.desc_));
    }
    ins.clear();
  };
  take(inputs);
  while (!stack.empty()) {
    auto d = std::move(stack.back());
    stack.pop_back();
    take(d->inputs);
    // siblings refer to each other; clear so they can go
    d->siblings.clear();
  }
}

array::array(const std::complex<float>& val, Dtype dtype)
    : desc_(std::make_shared<ArrayDesc>(Shape{}, dtype)) {
  auto v = val;
  init(&v);
}

array::array(std::initializer_list<float> data)
    : desc_(std::make_shared<ArrayDesc>(Shape{static_cast<int32_t>(data.size())}, float32)) {
  init(data.begin());
}

array::array(std::initializer_list<int> data, Dtype dtype)
    : desc_(std::make_shared<ArrayDesc>(Shape{static_cast<int32_t>(data.size())}, dtype)) {
  init(data.begin());
}

array::array(void* data, Shape shape, Dtype dtype, const std::function<void(void*)>& deleter)
    : desc_(std::make_shared<ArrayDesc>(std::move(shape), dtype)) {
  allocator::Buffer buf(data, nullptr, nbytes(), nullptr);
  set_data(buf, [deleter](allocator::Buffer b) { deleter(b.host); });
}

array::array(allocator::Buffer data, Shape shape, Dtype dtype)
    : desc_(std::make_shared<ArrayDesc>(std::move(shape), dtype)) {
  set_data(data);
}

array::array(Shape shape, Dtype dtype, std::shared_ptr<Primitive> primitive,
             std::vector<array> inputs) {
  if (primitive) backend::check_kernel(*primitive, dtype, inputs);
  desc_ = std::make_shared<ArrayDesc>(std::move(shape), dtype, std::move(primitive),
                                      std::move(inputs));
  if (detail::any_tracer(desc_->inputs)) desc_->is_tracer = true;
}

std::vector<array> array::make_arrays(std::vector<Shape> shapes, const std::vector<Dtype>& dtypes,
                                      const std::shared_ptr<Primitive>& primitive,
                                      const std::vector<array>& inputs) {
  std::vector<array> outputs;
  for (size_t i = 0; i < shapes.size(); ++i) {
    outputs.emplace_back(std::move(shapes[i]), dtypes[i], primitive, inputs);
  }
  // Siblings exclude the array itself.
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::vector<array> sibs;
    for (size_t j = 0; j < outputs.size(); ++j) {
      if (j != i) sibs.push_back(outputs[j]);
    }
    outputs[i].set_siblings(std::move(sibs), static_cast<uint16_t>(i));
  }
  return outputs;
}

// Multi-output arrays refer to each other through `siblings`; when the only
// references left are those, break the cycle so the descriptors can go.
array::~array() {
  if (!desc_ || !desc_->primitive) return;
  auto n = static_cast<long>(desc_->siblings.size());
  if (n == 0) return;
  if (desc_.use_count() != n + 1) return;
  for (auto& s : desc_->siblings) {
    if (s.desc_.use_count() != n) return;
  }
  auto sibs = std::move(desc_->siblings);
  for (auto& s : sibs) s.desc_->siblings.clear();
}

array& array::operator=(const array& other) & {
  if (this != &other) desc_ = other.desc_;
  return *this;
}

array& array::operator=(array&& other) & {
  desc_ = std::move(other.desc_);
  return *this;
}

std::vector<array> array::outputs() const {
  if (siblings().empty()) return {*this};
  std::vector<array> outs;
  auto idx = sibling_position();
  for (int i = 0, j = 0; i <= static_cast<int>(siblings().size()); ++i) {
    if (i == idx) outs.push_back(*this);
    else outs.push_back(siblings()[j++]);
  }
  return outs;
}

void array::detach() {
  // Siblings list each other: clear their lists too, or the outputs of a
  // multi-output primitive keep one another alive forever.
  for (auto& s : desc_->siblings) {
    s.desc_->inputs.clear();
    s.desc_->primitive.reset();
    s.desc_->siblings.clear();
  }
  desc_->siblings.clear();
  desc_->inputs.clear();
  desc_->primitive.reset();
}

void array::eval() {
  if (status() == Status::unscheduled && has_primitive()) {
    lumen::eval({*this});
  } else {
    wait();
  }
}

bool array::is_available() const {
  if (desc_->status == Status::available) return true;
  if (desc_->status == Status::scheduled && desc_->event && desc_->event->is_signaled()) {
    return has_data();
  }
  return false;
}

void array::wait() {
  if (desc_->status == Status::scheduled && desc_->event) {
    auto e = desc_->event;  // keep alive while waiting
    e->wait();
  }
}

bool array::is_tracer() const { return desc_->is_tracer && detail::in_tracing(); }

Stream array::stream() const {
  if (desc_->primitive) return desc_->primitive->stream();
  return default_stream(device());
}

Device array::device() const {
  if (desc_->primitive) return desc_->primitive->device();
  if (desc_->data && desc_->data->buffer.owner) return desc_->data->buffer.owner->device();
  return Device::cpu;
}

void* array::host_base() const {
  if (!desc_->data) {
    throw std::invalid_argument("array::data: the array has not been evaluated");
  }
  auto& b = desc_->data->buffer;
  return b.raw_ptr();
}

std::function<void(allocator::Buffer)> array::default_deleter() {
  return [](allocator::Buffer b) {
    if (b.owner) b.owner->free(b);
  };
}

void array::set_data(allocator::Buffer buffer, std::function<void(allocator::Buffer)> deleter) {
  desc_->data = std::make_shared<Data>(buffer, std::move(deleter));
  desc_->offset = 0;
  desc_->data_size = desc_->size;
  desc_->strides = detail::row_major_strides(desc_->shape);
  desc_->flags = detail::row_major_flags(desc_->shape);
  if (!desc_->primitive) desc_->status = Status::available;
  trace::note_buffer(*this);
}

void array::set_data(allocator::Buffer buffer, size_t data_size, Strides strides, Flags flags,
                     std::function<void(allocator::Buffer)> deleter) {
  desc_->data = std::make_shared<Data>(buffer, std::move(deleter));
  desc_->offset = 0;
  desc_->data_size = static_cast<int64_t>(data_size);
  desc_->strides = std::move(strides);
  desc_->flags = flags;
  if (!desc_->primitive) desc_->status = Status::available;
  trace::note_buffer(*this);
}

void array::copy_shared_buffer(const array& other, const Strides& strides, Flags flags,
                               size_t data_size, int64_t offset) {
  desc_->data = other.desc_->data;
  desc_->strides = strides;
  desc_->flags = flags;
  desc_->data_size = static_cast<int64_t>(data_size);
  desc_->offset = other.desc_->offset + offset;
}

void array::copy_shared_buffer(const array& other) {
  copy_shared_buffer(other, other.strides(), other.flags(), other.data_size());
}

void array::move_shared_buffer(array other, const Strides& strides, Flags flags,
                               size_t data_size, int64_t offset) {
  desc_->data = std::move(other.desc_->data);
  desc_->strides = strides;
  desc_->flags = flags;
  desc_->data_size = static_cast<int64_t>(data_size);
  desc_->offset = other.desc_->offset + offset;
}

void array::move_shared_buffer(array other) {
  auto strides = other.strides();
  auto flags = other.flags();
  auto ds = other.data_size();
  move_shared_buffer(std::move(other), strides, flags, ds);
}

array::Data::~Data() {
  if (trace::enabled()) memory::detail::on_buffer_gone(this);
  deleter(buffer);
}

void* allocator::Buffer::raw_ptr() {
  if (host) return host;
  if (owner) return owner->host_ptr(*this);
  return nullptr;
}

}  // namespace lumen
