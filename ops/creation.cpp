#include "lumen/creation.h"

#include "core/detail/errors.h"
#include "lumen/elementwise.h"
#include "lumen/shape.h"

namespace lumen {

array full(Shape shape, array vals, Dtype dtype, StreamOrDevice s) {
  detail::checked_size(shape, "full");
  return broadcast_to(astype(std::move(vals), dtype, s), shape, s);
}

array full(Shape shape, array vals, StreamOrDevice s) {
  auto dtype = vals.dtype();
  return full(std::move(shape), std::move(vals), dtype, s);
}

array zeros(const Shape& shape, Dtype dtype, StreamOrDevice s) {
  return full(shape, array(false, dtype), dtype, s);
}
array zeros_like(const array& a, StreamOrDevice s) { return zeros(a.shape(), a.dtype(), s); }
array ones(const Shape& shape, Dtype dtype, StreamOrDevice s) {
  return full(shape, array(true, dtype), dtype, s);
}
array ones_like(const array& a, StreamOrDevice s) { return ones(a.shape(), a.dtype(), s); }
array full_like(const array& a, const array& vals, StreamOrDevice s) {
  return full(a.shape(), vals, a.dtype(), s);
}

}  // namespace lumen
