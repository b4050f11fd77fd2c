// vjp, jvp and vmap rules of the matrix products. Inputs arrive with equal
// batch dims (the ops broadcast them), so cotangents need no reduction here:
// the Broadcast rules sum them back.
#include <algorithm>

#include "lumen/elementwise.h"
#include "lumen/linalg.h"
#include "lumen/linalg_primitives.h"
#include "lumen/shape.h"
#include "transforms/detail/vmap_util.h"

namespace lumen {

namespace {

using VmapResult = std::pair<std::vector<array>, std::vector<int>>;

array swap_last(const array& x, const Stream& s) { return swapaxes(x, -1, -2, s); }

// Operands of a batched matrix product: batched ones get the batch axis in
// front and their example batch dims padded to `rank` (the largest example
// rank), so the op broadcasts them against unbatched operands.
array batch_front(const array& x, int axis, int rank, const Stream& s) {
  if (axis < 0) return x;
  auto moved = moveaxis(x, axis, 0, s);
  Shape shape{moved.shape(0)};
  shape.insert(shape.end(), rank - (static_cast<int>(x.ndim()) - 1), 1);
  shape.insert(shape.end(), moved.shape().begin() + 1, moved.shape().end());
  return reshape(moved, shape, s);
}

int example_rank(const std::vector<array>& inputs, const std::vector<int>& axes) {
  int r = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    r = std::max(r, static_cast<int>(inputs[i].ndim()) - (axes[i] >= 0 ? 1 : 0));
  }
  return r;
}

}  // namespace

std::vector<array> Matmul::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  auto s = stream();
  const array& c = cotangents[0];
  std::vector<array> vjps;
  for (int arg : argnums) {
    vjps.push_back(arg == 0 ? matmul(c, swap_last(primals[1], s), s)
                            : matmul(swap_last(primals[0], s), c, s));
  }
  return vjps;
}
std::vector<array> Matmul::jvp(const std::vector<array>& primals,
                               const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  auto s = stream();
  array out;
  for (size_t i = 0; i < argnums.size(); ++i) {
    auto term = argnums[i] == 0 ? matmul(tangents[i], primals[1], s)
                                : matmul(primals[0], tangents[i], s);
    out = out.is_valid() ? add(out, term, s) : term;
  }
  return {out};
}
VmapResult Matmul::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  int r = example_rank(inputs, axes);
  auto a = batch_front(inputs[0], axes[0], r, s);
  auto b = batch_front(inputs[1], axes[1], r, s);
  return {{matmul(a, b, s)}, {0}};
}

// inputs {a, b, c}: alpha * (a @ b) + beta * c
std::vector<array> AddMM::vjp(const std::vector<array>& primals,
                              const std::vector<array>& cotangents,
                              const std::vector<int>& argnums, const std::vector<array>&) {
  auto s = stream();
  const array& c = cotangents[0];
  auto scaled = [&](float k, const array& x) { return multiply(array(k, x.dtype()), x, s); };
  std::vector<array> vjps;
  for (int arg : argnums) {
    if (arg == 0) vjps.push_back(scaled(alpha_, matmul(c, swap_last(primals[1], s), s)));
    else if (arg == 1) vjps.push_back(scaled(alpha_, matmul(swap_last(primals[0], s), c, s)));
    else vjps.push_back(scaled(beta_, c));
  }
  return vjps;
}
std::vector<array> AddMM::jvp(const std::vector<array>& primals,
                              const std::vector<array>& tangents,
                              const std::vector<int>& argnums) {
  auto s = stream();
  array out;
  for (size_t i = 0; i < argnums.size(); ++i) {
    const array& t = tangents[i];
    array term = argnums[i] == 0   ? multiply(array(alpha_, t.dtype()), matmul(t, primals[1], s), s)
                 : argnums[i] == 1 ? multiply(array(alpha_, t.dtype()), matmul(primals[0], t, s), s)
                                   : multiply(array(beta_, t.dtype()), t, s);
    out = out.is_valid() ? add(out, term, s) : term;
  }
  return {out};
}
VmapResult AddMM::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto s = stream();
  int r = example_rank(inputs, axes);
  auto in = inputs;
  auto ax = axes;
  if (ax[0] < 0 && ax[1] < 0) {
    // Only c is batched: a carries the batch (a broadcast view) so the
    // product has it too.
    in[0] = detail::move_batch_axis(in[0], -1, 0, in[2].shape(ax[2]), s);
    ax[0] = 0;
  }
  auto a = batch_front(in[0], ax[0], r, s);
  auto b = batch_front(in[1], ax[1], r, s);
  auto c = batch_front(in[2], ax[2], r, s);
  return {{addmm(c, a, b, alpha_, beta_, s)}, {0}};
}

}  // namespace lumen
