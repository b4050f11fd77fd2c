// Matrix products (MLX names, signatures and semantics).
#pragma once

#include <vector>

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen {

// Matrix product with NumPy's rules: 1-D operands are treated as a row
// (first) or column (second) vector and that dim is removed from the result;
// batch dims broadcast. The promoted dtype must be inexact.
array matmul(const array& a, const array& b, StreamOrDevice s = {});

// alpha * (a @ b) + beta * c, c broadcast to the product's shape. Real
// floating dtypes use the fused AddMM primitive; complex64 is composed.
array addmm(array c, array a, array b, const float& alpha = 1.f, const float& beta = 1.f,
            StreamOrDevice s = {});

// Contraction of the last `axis` dims of a with the first `axis` dims of b.
array tensordot(const array& a, const array& b, const int axis = 2, StreamOrDevice s = {});
// Contraction of axes_a of a with axes_b of b (pairwise, same sizes).
array tensordot(const array& a, const array& b, const std::vector<int>& axes_a,
                const std::vector<int>& axes_b, StreamOrDevice s = {});

// Outer product of the flattened inputs: shape [a.size(), b.size()].
array outer(const array& a, const array& b, StreamOrDevice s = {});

// Contraction over the last dim of both (a plain product when either is a scalar).
array inner(const array& a, const array& b, StreamOrDevice s = {});

}  // namespace lumen
