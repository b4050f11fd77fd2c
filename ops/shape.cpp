#include "lumen/shape.h"

#include "core/detail/errors.h"
#include "lumen/shape_primitives.h"

namespace lumen {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      detail::throw_invalid("[{}] shapes {} and {} cannot be broadcast", op, detail::shape_str(a),
                            detail::shape_str(b));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s) {
  if (a.shape() == shape) return a;
  if (shape.size() < a.ndim() || broadcast_shapes(a.shape(), shape, "broadcast_to") != shape) {
    detail::throw_invalid("[broadcast_to] cannot broadcast shape {} to {}",
                          detail::shape_str(a.shape()), detail::shape_str(shape));
  }
  return array(shape, a.dtype(), std::make_shared<Broadcast>(to_stream(s), shape), {a});
}

std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s) {
  Shape shape;
  for (auto& in : inputs) shape = broadcast_shapes(shape, in.shape(), "broadcast_arrays");
  std::vector<array> out;
  for (auto& in : inputs) out.push_back(broadcast_to(in, shape, s));
  return out;
}

bool Broadcast::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Broadcast*>(&other);
  return o && o->shape_ == shape_;
}

std::vector<Shape> Broadcast::output_shapes(const std::vector<array>&) { return {shape_}; }

}  // namespace lumen
