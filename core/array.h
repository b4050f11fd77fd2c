// array: a cheap, value-like handle to shared state, either data or a recipe
// (primitive + inputs). Mirrors MLX's array.
#pragma once

#include <algorithm>
#include <complex>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <vector>

#include <lumen/allocator.h>
#include <lumen/dtype.h>
#include <lumen/stream.h>

namespace lumen {

using Shape = std::vector<int32_t>;
using Strides = std::vector<int64_t>;

class Primitive;
class Event;

class array {
 public:
  template <typename T>
  explicit array(T val, Dtype dtype = TypeToDtype<T>());
  explicit array(const std::complex<float>& val, Dtype dtype = complex64);

  template <typename It>
  explicit array(It data, Shape shape,
                 Dtype dtype = TypeToDtype<typename std::iterator_traits<It>::value_type>());

  template <typename T>
  explicit array(std::initializer_list<T> data, Dtype dtype = TypeToDtype<T>());
  explicit array(std::initializer_list<float> data);
  explicit array(std::initializer_list<int> data, Dtype dtype);

  template <typename T>
  explicit array(std::initializer_list<T> data, Shape shape, Dtype dtype = TypeToDtype<T>());
  template <typename T>
  explicit array(const std::vector<T>& data, Shape shape, Dtype dtype = TypeToDtype<T>());

  // Wrap an existing buffer without copying; `deleter` runs when the last
  // array using it goes away.
  explicit array(void* data, Shape shape, Dtype dtype, const std::function<void(void*)>& deleter);
  // Take a buffer allocated from a lumen allocator.
  explicit array(allocator::Buffer data, Shape shape, Dtype dtype);

  // A lazy array: the output of `primitive` on `inputs`.
  array(Shape shape, Dtype dtype, std::shared_ptr<Primitive> primitive, std::vector<array> inputs);
  static std::vector<array> make_arrays(std::vector<Shape> shapes, const std::vector<Dtype>& dtypes,
                                        const std::shared_ptr<Primitive>& primitive,
                                        const std::vector<array>& inputs);

  array(const array& other) = default;
  array(array&& other) = default;
  ~array();
  array& operator=(const array& other) &;
  array& operator=(array&& other) &;

  size_t itemsize() const { return size_of(dtype()); }
  size_t size() const { return static_cast<size_t>(desc_->size); }
  size_t nbytes() const { return size() * itemsize(); }
  size_t ndim() const { return desc_->shape.size(); }
  const Shape& shape() const { return desc_->shape; }
  int shape(int dim) const { return shape().at(dim < 0 ? dim + static_cast<int>(ndim()) : dim); }
  const Strides& strides() const { return desc_->strides; }
  int64_t strides(int dim) const {
    return strides().at(dim < 0 ? dim + static_cast<int>(ndim()) : dim);
  }
  Dtype dtype() const { return desc_->dtype; }

  void eval();
  template <typename T>
  T item();
  template <typename T>
  T item() const;

  // The stream the array is computed on (its primitive's) or its home device's.
  Stream stream() const;
  Device device() const;

  struct Data {
    allocator::Buffer buffer;
    std::function<void(allocator::Buffer)> deleter;
    Data(allocator::Buffer buffer, std::function<void(allocator::Buffer)> d)
        : buffer(buffer), deleter(std::move(d)) {}
    Data(const Data&) = delete;
    Data& operator=(const Data&) = delete;
    ~Data();
  };

  struct Flags {
    bool contiguous : 1;      // the data occupies one dense range (any order)
    bool row_contiguous : 1;  // C order
    bool col_contiguous : 1;  // Fortran order
  };

  enum class Status { unscheduled, scheduled, available };

  std::uintptr_t id() const { return reinterpret_cast<std::uintptr_t>(desc_.get()); }
  std::uintptr_t primitive_id() const {
    return reinterpret_cast<std::uintptr_t>(desc_->primitive.get());
  }

  Primitive& primitive() const { return *desc_->primitive; }
  std::shared_ptr<Primitive>& primitive_ptr() const { return desc_->primitive; }
  bool has_primitive() const { return desc_->primitive != nullptr; }
  const std::vector<array>& inputs() const { return desc_->inputs; }
  std::vector<array>& inputs() { return desc_->inputs; }
  const std::vector<array>& siblings() const { return desc_->siblings; }
  std::vector<array>& siblings() { return desc_->siblings; }
  int sibling_position() const { return desc_->position; }
  void set_siblings(std::vector<array> siblings, uint16_t position) {
    desc_->siblings = std::move(siblings);
    desc_->position = position;
  }
  // This array and its siblings, in output order.
  std::vector<array> outputs() const;

  // Drop the recipe once the data exists (frees inputs no one else holds).
  void detach();

  // True when nothing else holds this array's descriptor or data, so an op
  // may write its output into this buffer.
  bool is_donatable() const {
    return desc_.use_count() == 1 && desc_->data && desc_->data.use_count() == 1;
  }

  const Flags& flags() const { return desc_->flags; }
  // Number of elements the buffer region spans (>= size() for broadcasts
  // it is smaller).
  size_t data_size() const { return static_cast<size_t>(desc_->data_size); }
  int64_t offset() const { return desc_->offset; }  // in bytes from buffer start
  allocator::Buffer& buffer() { return desc_->data->buffer; }
  const allocator::Buffer& buffer() const { return desc_->data->buffer; }
  size_t buffer_size() const { return desc_->data->buffer.size; }
  const std::shared_ptr<Data>& data_shared_ptr() const { return desc_->data; }
  bool has_data() const { return desc_->data != nullptr; }

  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(static_cast<char*>(host_base()) + desc_->offset);
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(static_cast<char*>(host_base()) + desc_->offset);
  }

  Status status() const { return desc_->status; }
  void set_status(Status s) const { desc_->status = s; }
  bool is_available() const;
  // Block until a scheduled array is computed (rethrows its error).
  void wait();
  const std::shared_ptr<Event>& event() const { return desc_->event; }
  void attach_event(std::shared_ptr<Event> e) const { desc_->event = std::move(e); }
  void detach_event() const { desc_->event.reset(); }

  void set_tracer(bool t) { desc_->is_tracer = t; }
  bool is_tracer() const;

  // Give this array fresh data (row-contiguous), or a view of another's.
  void set_data(allocator::Buffer buffer,
                std::function<void(allocator::Buffer)> deleter = default_deleter());
  void set_data(allocator::Buffer buffer, size_t data_size, Strides strides, Flags flags,
                std::function<void(allocator::Buffer)> deleter = default_deleter());
  void copy_shared_buffer(const array& other, const Strides& strides, Flags flags,
                          size_t data_size, int64_t offset = 0);
  void copy_shared_buffer(const array& other);
  void move_shared_buffer(array other, const Strides& strides, Flags flags, size_t data_size,
                          int64_t offset = 0);
  void move_shared_buffer(array other);
  void overwrite_descriptor(const array& other) { desc_ = other.desc_; }

  static std::function<void(allocator::Buffer)> default_deleter();

  array() = default;  // an empty handle; only for containers and reassignment
  bool is_valid() const { return desc_ != nullptr; }

 private:
  void* host_base() const;
  template <typename It>
  void init(It src);
  void init_from_bytes(const void* src);  // data already in this dtype's layout

  struct ArrayDesc {
    Shape shape;
    Strides strides;
    int64_t size = 1;
    Dtype dtype;
    std::shared_ptr<Primitive> primitive;
    Status status = Status::unscheduled;
    std::shared_ptr<Event> event;
    std::shared_ptr<Data> data;
    int64_t offset = 0;
    int64_t data_size = 0;
    Flags flags{true, true, true};
    std::vector<array> inputs;
    std::vector<array> siblings;
    uint32_t position = 0;
    bool is_tracer = false;

    explicit ArrayDesc(Shape shape, Dtype dtype);
    ArrayDesc(Shape shape, Dtype dtype, std::shared_ptr<Primitive> primitive,
              std::vector<array> inputs);
    ~ArrayDesc();
    void init();
  };

  std::shared_ptr<ArrayDesc> desc_;
};

// ---- template implementations ----

namespace detail {
// Row-major strides for a shape; throws std::invalid_argument (naming `op`)
// on negative dims or a size that overflows int64.
Strides row_major_strides(const Shape& shape);
// The flags of a dense row-major array of `shape` (column-contiguous too when
// at most one dim is > 1, or the array is empty).
array::Flags row_major_flags(const Shape& shape);
int64_t checked_size(const Shape& shape, const char* op);
allocator::Buffer malloc_default(size_t nbytes);  // on the default device's allocator (CPU here)
}  // namespace detail

template <typename T>
array::array(T val, Dtype dtype) : desc_(std::make_shared<ArrayDesc>(Shape{}, dtype)) {
  init(&val);
}

template <typename It>
array::array(It data, Shape shape, Dtype dtype)
    : desc_(std::make_shared<ArrayDesc>(std::move(shape), dtype)) {
  init(data);
}

template <typename T>
array::array(std::initializer_list<T> data, Dtype dtype)
    : desc_(std::make_shared<ArrayDesc>(Shape{static_cast<int32_t>(data.size())}, dtype)) {
  init(data.begin());
}

template <typename T>
array::array(std::initializer_list<T> data, Shape shape, Dtype dtype)
    : desc_(std::make_shared<ArrayDesc>(std::move(shape), dtype)) {
  if (static_cast<int64_t>(data.size()) != desc_->size) {
    throw std::invalid_argument("array: data size and provided shape mismatch");
  }
  init(data.begin());
}

template <typename T>
array::array(const std::vector<T>& data, Shape shape, Dtype dtype)
    : desc_(std::make_shared<ArrayDesc>(std::move(shape), dtype)) {
  if (static_cast<int64_t>(data.size()) != desc_->size) {
    throw std::invalid_argument("array: data size and provided shape mismatch");
  }
  init(data.begin());
}

template <typename It>
void array::init(It src) {
  set_data(detail::malloc_default(nbytes()));
  using V = typename std::iterator_traits<It>::value_type;
  auto fill = [&](auto* dst) {
    using D = std::remove_pointer_t<decltype(dst)>;
    for (int64_t i = 0; i < desc_->size; ++i, ++src) dst[i] = detail::convert_scalar<D, V>(*src);
  };
  switch (dtype()) {
    case bool_: fill(data<bool>()); break;
    case uint8: fill(data<uint8_t>()); break;
    case uint16: fill(data<uint16_t>()); break;
    case uint32: fill(data<uint32_t>()); break;
    case uint64: fill(data<uint64_t>()); break;
    case int8: fill(data<int8_t>()); break;
    case int16: fill(data<int16_t>()); break;
    case int32: fill(data<int32_t>()); break;
    case int64: fill(data<int64_t>()); break;
    case float16: fill(data<float16_t>()); break;
    case float32: fill(data<float>()); break;
    case float64: fill(data<double>()); break;
    case bfloat16: fill(data<bfloat16_t>()); break;
    case complex64: fill(data<complex64_t>()); break;
  }
}

template <typename T>
T array::item() {
  if (size() != 1) throw std::invalid_argument("item: can only be called on arrays of size 1");
  eval();
  return *data<T>();
}

template <typename T>
T array::item() const {
  if (size() != 1) throw std::invalid_argument("item: can only be called on arrays of size 1");
  if (!is_available()) throw std::invalid_argument("item: const array must be evaluated first");
  return *data<T>();
}

}  // namespace lumen
