#include "lumen/linalg.h"

#include <limits>

#include "core/detail/errors.h"
#include "lumen/elementwise.h"
#include "lumen/linalg_primitives.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

// The dims before the last two.
Shape batch_of(const Shape& shape) { return Shape(shape.begin(), shape.end() - 2); }

Shape with_matrix(Shape batch, int rows, int cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

void check_at_least_1d(const char* op, const array& a, const array& b) {
  if (a.ndim() == 0 || b.ndim() == 0) {
    detail::throw_invalid("[{}] inputs must have at least one dimension, got shapes {} and {}", op,
                          detail::shape_str(a.shape()), detail::shape_str(b.shape()));
  }
}

// a as [..., M, K] and b as [..., K, N]: 1-D operands become a row / column.
std::pair<array, array> as_matrices(const char* op, array a, array b, StreamOrDevice s) {
  if (a.ndim() == 1) a = expand_dims(a, 0, s);
  if (b.ndim() == 1) b = expand_dims(b, 1, s);
  if (a.shape(-1) != b.shape(-2)) {
    detail::throw_invalid(
        "[{}] last dimension of the first input (shape {}) must match the second to last "
        "dimension of the second input (shape {})",
        op, detail::shape_str(a.shape()), detail::shape_str(b.shape()));
  }
  return {a, b};
}

// The axes a 1-D operand was given, to squeeze from a result of ndim dims.
std::vector<int> inserted_axes(int a_ndim, int b_ndim, int ndim) {
  std::vector<int> axes;
  if (a_ndim == 1) axes.push_back(ndim - 2);
  if (b_ndim == 1) axes.push_back(ndim - 1);
  return axes;
}

int32_t checked_dim(int64_t n, const char* op) {
  if (n > std::numeric_limits<int32_t>::max()) {
    detail::throw_invalid("[{}] a flattened dimension of {} elements exceeds the int32 shape limit",
                          op, n);
  }
  return static_cast<int32_t>(n);
}

}  // namespace

array matmul(const array& in_a, const array& in_b, StreamOrDevice s) {
  check_at_least_1d("matmul", in_a, in_b);
  auto [a, b] = as_matrices("matmul", in_a, in_b, s);
  auto out_type = promote_types(a.dtype(), b.dtype());
  if (!issubdtype(out_type, inexact)) {
    detail::throw_invalid(
        "[matmul] only inexact types are supported, but {} and {} (shapes {} and {}) promote to {}",
        dtype_to_string(in_a.dtype()), dtype_to_string(in_b.dtype()),
        detail::shape_str(in_a.shape()), detail::shape_str(in_b.shape()),
        dtype_to_string(out_type));
  }
  a = astype(a, out_type, s);
  b = astype(b, out_type, s);

  // A batch against one matrix is a single tall product.
  bool flattened_a = in_a.ndim() > 2 && in_b.ndim() <= 2;
  if (flattened_a) {
    a = flatten(a, 0, -2, s);
  } else if (in_a.ndim() > 2 || in_b.ndim() > 2) {
    auto batch = broadcast_shapes(batch_of(a.shape()), batch_of(b.shape()), "matmul");
    a = broadcast_to(a, with_matrix(batch, a.shape(-2), a.shape(-1)), s);
    b = broadcast_to(b, with_matrix(batch, b.shape(-2), b.shape(-1)), s);
  }

  auto out_shape = a.shape();
  out_shape.back() = b.shape(-1);
  auto out = array(std::move(out_shape), out_type, std::make_shared<Matmul>(to_stream(s)), {a, b});
  if (flattened_a) {
    auto rows = in_a.shape();
    rows.pop_back();
    out = unflatten(out, 0, std::move(rows), s);
  }
  auto axes = inserted_axes(static_cast<int>(in_a.ndim()), static_cast<int>(in_b.ndim()),
                            static_cast<int>(out.ndim()));
  return axes.empty() ? out : squeeze(out, axes, s);
}

array addmm(array c, array a, array b, const float& alpha, const float& beta, StreamOrDevice s) {
  const int in_a_ndim = static_cast<int>(a.ndim());
  const int in_b_ndim = static_cast<int>(b.ndim());
  check_at_least_1d("addmm", a, b);

  auto out_type = promote_types(promote_types(a.dtype(), b.dtype()), c.dtype());
  if (out_type == complex64) {
    return add(multiply(matmul(a, b, s), array(alpha), s), multiply(array(beta), c, s), s);
  }
  std::tie(a, b) = as_matrices("addmm", a, b, s);
  if (!issubdtype(out_type, floating)) {
    detail::throw_invalid(
        "[addmm] only real floating point types are supported, but {}, {} and {} promote to {}",
        dtype_to_string(c.dtype()), dtype_to_string(a.dtype()), dtype_to_string(b.dtype()),
        dtype_to_string(out_type));
  }
  a = astype(a, out_type, s);
  b = astype(b, out_type, s);
  c = astype(c, out_type, s);
  auto prim = std::make_shared<AddMM>(to_stream(s), alpha, beta);

  // A batch against one matrix with a vector or scalar c: one tall product.
  if (a.ndim() > 2 && b.ndim() == 2 && c.ndim() <= 1) {
    auto out_shape = a.shape();
    a = reshape(a, {-1, out_shape.back()}, s);
    out_shape.back() = b.shape(-1);
    if (in_b_ndim == 1) out_shape.pop_back();
    c = broadcast_to(c, {a.shape(0), b.shape(1)}, s);
    auto out = array({a.shape(0), b.shape(1)}, out_type, prim, {a, b, c});
    return reshape(out, std::move(out_shape), s);
  }

  if (a.ndim() > 2 || b.ndim() > 2) {
    auto batch = broadcast_shapes(batch_of(a.shape()), batch_of(b.shape()), "addmm");
    a = broadcast_to(a, with_matrix(batch, a.shape(-2), a.shape(-1)), s);
    b = broadcast_to(b, with_matrix(batch, b.shape(-2), b.shape(-1)), s);
  }
  auto out_shape = a.shape();
  out_shape.back() = b.shape(-1);

  // c broadcasts against the result as the user sees it (1-D dims removed),
  // then gets the removed dims back as size 1.
  auto visible_shape = out_shape;
  if (in_a_ndim == 1 || in_b_ndim == 1) {
    visible_shape.erase(visible_shape.end() - (in_a_ndim == 1 ? 2 : 1),
                        visible_shape.end() - (in_b_ndim == 1 ? 0 : 1));
  }
  c = broadcast_to(c, broadcast_shapes(c.shape(), visible_shape, "addmm"), s);
  if (in_a_ndim == 1 || in_b_ndim == 1) {
    auto c_shape = c.shape();
    if (in_b_ndim == 1) c_shape.push_back(1);
    if (in_a_ndim == 1) c_shape.insert(c_shape.end() - 1, 1);
    c = reshape(c, std::move(c_shape), s);
  }
  if (c.shape() != out_shape) {
    detail::throw_invalid("[addmm] c with shape {} must broadcast to the output shape {}",
                          detail::shape_str(c.shape()), detail::shape_str(out_shape));
  }
  auto out = array(std::move(out_shape), out_type, prim, {a, b, c});
  auto axes = inserted_axes(in_a_ndim, in_b_ndim, static_cast<int>(out.ndim()));
  return axes.empty() ? out : squeeze(out, axes, s);
}

array tensordot(const array& a, const array& b, const int axis, StreamOrDevice s) {
  if (axis < 0) detail::throw_invalid("[tensordot] axis must be >= 0, got {}", axis);
  if (static_cast<size_t>(axis) > std::min(a.ndim(), b.ndim())) {
    detail::throw_invalid("[tensordot] axis {} exceeds the dimensions of shapes {} and {}", axis,
                          detail::shape_str(a.shape()), detail::shape_str(b.shape()));
  }
  std::vector<int> axes_a, axes_b;
  for (int i = 0; i < axis; ++i) {
    axes_a.push_back(i - axis);
    axes_b.push_back(i);
  }
  return tensordot(a, b, axes_a, axes_b, s);
}

array tensordot(const array& a, const array& b, const std::vector<int>& axes_a,
                const std::vector<int>& axes_b, StreamOrDevice s) {
  if (axes_a.size() != axes_b.size()) {
    detail::throw_invalid("[tensordot] got {} axes for a but {} for b", axes_a.size(),
                          axes_b.size());
  }
  // Mark the contracted dims, checking the axes on the way.
  auto contracted = [](const array& x, const std::vector<int>& axes, const char* which) {
    std::vector<bool> mark(x.ndim(), false);
    std::vector<int> normalized;
    const int nd = static_cast<int>(x.ndim());
    for (int ax : axes) {
      int n = ax < 0 ? ax + nd : ax;
      if (n < 0 || n >= nd) {
        detail::throw_range("[tensordot] axis {} is out of range for {} with shape {}", ax, which,
                            detail::shape_str(x.shape()));
      }
      if (mark[n]) detail::throw_invalid("[tensordot] axis {} repeated for {}", ax, which);
      mark[n] = true;
      normalized.push_back(n);
    }
    return std::make_pair(mark, normalized);
  };
  auto [mark_a, ca] = contracted(a, axes_a, "a");
  auto [mark_b, cb] = contracted(b, axes_b, "b");
  int64_t csize = 1;
  for (size_t i = 0; i < ca.size(); ++i) {
    if (a.shape(ca[i]) != b.shape(cb[i])) {
      detail::throw_invalid(
          "[tensordot] a (shape {}) and b (shape {}) differ on contracted axes {} and {}",
          detail::shape_str(a.shape()), detail::shape_str(b.shape()), axes_a[i], axes_b[i]);
    }
    csize *= a.shape(ca[i]);
  }

  // a -> [free_a, contracted], b -> [contracted, free_b], one matmul.
  std::vector<int> perm_a, perm_b;
  Shape out_shape;
  int64_t free_a = 1, free_b = 1;
  for (int i = 0; i < static_cast<int>(a.ndim()); ++i) {
    if (mark_a[i]) continue;
    perm_a.push_back(i);
    free_a *= a.shape(i);
    out_shape.push_back(a.shape(i));
  }
  perm_a.insert(perm_a.end(), ca.begin(), ca.end());
  perm_b = cb;
  for (int i = 0; i < static_cast<int>(b.ndim()); ++i) {
    if (mark_b[i]) continue;
    perm_b.push_back(i);
    free_b *= b.shape(i);
    out_shape.push_back(b.shape(i));
  }
  const int32_t m = checked_dim(free_a, "tensordot"), k = checked_dim(csize, "tensordot"),
                n = checked_dim(free_b, "tensordot");
  auto x = reshape(transpose(a, perm_a, s), {m, k}, s);
  auto y = reshape(transpose(b, perm_b, s), {k, n}, s);
  return reshape(matmul(x, y, s), std::move(out_shape), s);
}

array outer(const array& a, const array& b, StreamOrDevice s) {
  const int32_t n = checked_dim(static_cast<int64_t>(a.size()), "outer");
  return multiply(reshape(a, {n, 1}, s), flatten(b, s), s);
}

array inner(const array& a, const array& b, StreamOrDevice s) {
  if (a.ndim() == 0 || b.ndim() == 0) return multiply(a, b, s);
  if (a.shape(-1) != b.shape(-1)) {
    detail::throw_invalid("[inner] a (shape {}) and b (shape {}) must have the same last dimension",
                          detail::shape_str(a.shape()), detail::shape_str(b.shape()));
  }
  return tensordot(a, b, {-1}, {-1}, s);
}

bool Matmul::is_equivalent(const Primitive& other) const {
  return dynamic_cast<const Matmul*>(&other) != nullptr;
}

std::vector<Shape> Matmul::output_shapes(const std::vector<array>& inputs) {
  auto shape = inputs[0].shape();
  shape.back() = inputs[1].shape(-1);
  return {shape};
}

bool AddMM::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const AddMM*>(&other);
  return o && o->alpha_ == alpha_ && o->beta_ == beta_;
}

std::vector<Shape> AddMM::output_shapes(const std::vector<array>& inputs) {
  auto shape = inputs[0].shape();
  shape.back() = inputs[1].shape(-1);
  return {shape};
}

}  // namespace lumen
