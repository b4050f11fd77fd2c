#include "lumen/quantized.h"

#include "core/detail/errors.h"
#include "lumen/elementwise.h"
#include "lumen/quantized_primitives.h"
#include "lumen/shape.h"

namespace lumen {

namespace {

constexpr int kMaxVectorSize = 16;

void check_format(const char* op, int64_t n, int64_t k, int group_size, int vector_size,
                  int index_bits) {
  if (vector_size < 1 || vector_size > kMaxVectorSize) {
    detail::throw_invalid("[{}] vector_size must be in [1, {}], got {}", op, kMaxVectorSize,
                          vector_size);
  }
  if (vector_size == 1 ? index_bits != 1 : (index_bits < 1 || index_bits > vector_size)) {
    detail::throw_invalid(
        "[{}] index_bits must be 1 for vector_size 1 and in [1, vector_size] otherwise, got "
        "index_bits {} for vector_size {}",
        op, index_bits, vector_size);
  }
  if (group_size < 1) detail::throw_invalid("[{}] group_size must be positive, got {}", op, group_size);
  if (n < 1 || k < 1) detail::throw_invalid("[{}] the matrix must not be empty, got shape ({}, {})", op, n, k);
  if (k % group_size != 0 || k % vector_size != 0) {
    detail::throw_invalid(
        "[{}] the input dimension K = {} must be divisible by group_size {} and by vector_size {}",
        op, k, group_size, vector_size);
  }
}

Shape indices_shape(const BinaryFormat& f) {
  return {static_cast<int32_t>(f.index_tiles()), f.n, static_cast<int32_t>(BinaryFormat::kTileWords)};
}

Shape scales_shape(const BinaryFormat& f) {
  return {static_cast<int32_t>(f.scale_tiles()), f.n, static_cast<int32_t>(BinaryFormat::kScaleTile)};
}

BinaryFormat format_of(const BinaryWeights& w) {
  if (w.shape.size() != 2) {
    detail::throw_invalid("[binary weights] shape must have 2 dimensions, got {}",
                          detail::shape_str(w.shape));
  }
  BinaryFormat f{w.shape[0], w.shape[1], w.group_size, w.vector_size, w.index_bits};
  check_format("binary weights", f.n, f.k, f.group_size, f.vector_size, f.index_bits);
  auto expect = [](const char* what, const array& a, Dtype dtype, const Shape& shape) {
    if (a.dtype() != dtype || a.shape() != shape) {
      detail::throw_invalid("[binary weights] {} must be {} of shape {}, got {} of shape {}", what,
                            dtype_to_string(dtype), detail::shape_str(shape),
                            dtype_to_string(a.dtype()), detail::shape_str(a.shape()));
    }
  };
  expect("indices", w.indices, uint32, indices_shape(f));
  expect("codebook", w.codebook, uint32, {static_cast<int32_t>(f.codebook_size())});
  expect("scales", w.scales, float16, scales_shape(f));
  return f;
}

// The kernels read the packed fields dense (a view of some rows is copied).
std::vector<array> packed_inputs(const BinaryWeights& w, const Stream& s) {
  return {contiguous(w.indices, false, s), contiguous(w.codebook, false, s), contiguous(w.scales, false, s)};
}

}  // namespace

double BinaryWeights::index_bits_per_weight() const {
  return static_cast<double>(index_bits) / vector_size;
}

double BinaryWeights::total_bits_per_weight() const {
  const double weights = static_cast<double>(shape.at(0)) * shape.at(1);
  const double bits = 8.0 * (indices.nbytes() + codebook.nbytes() + scales.nbytes());
  return bits / weights;
}

BinaryWeights binary_quantize(const array& w, int group_size, int vector_size, int index_bits,
                              StreamOrDevice s) {
  if (w.ndim() != 2) {
    detail::throw_invalid("[binary_quantize] w must be a matrix [N, K], got shape {}",
                          detail::shape_str(w.shape()));
  }
  if (!issubdtype(w.dtype(), floating)) {
    detail::throw_invalid("[binary_quantize] w must be real floating point, got {}",
                          dtype_to_string(w.dtype()));
  }
  check_format("binary_quantize", w.shape(0), w.shape(1), group_size, vector_size, index_bits);
  const BinaryFormat f{w.shape(0), w.shape(1), group_size, vector_size, index_bits};
  auto stream = to_stream(s);
  auto outs = array::make_arrays(
      {indices_shape(f), {static_cast<int32_t>(f.codebook_size())}, scales_shape(f)},
      {uint32, uint32, float16}, std::make_shared<BinaryQuantize>(stream, f), {w});
  return {outs[0], outs[1], outs[2], w.shape(), group_size, vector_size, index_bits};
}

array binary_dequantize(const BinaryWeights& w, StreamOrDevice s) {
  const BinaryFormat f = format_of(w);
  auto stream = to_stream(s);
  return array(Shape{f.n, f.k}, float32, std::make_shared<BinaryDequantize>(stream, f),
               packed_inputs(w, stream));
}

array binary_matmul(const array& x, const BinaryWeights& w, bool transpose, StreamOrDevice s) {
  const BinaryFormat f = format_of(w);
  if (x.dtype() != float32 && x.dtype() != float16 && x.dtype() != bfloat16) {
    detail::throw_invalid("[binary_matmul] x must be float32, float16 or bfloat16, got {}",
                          dtype_to_string(x.dtype()));
  }
  const int32_t inner = transpose ? f.k : f.n;
  if (x.ndim() == 0 || x.shape(-1) != inner) {
    detail::throw_invalid(
        "[binary_matmul] the last dimension of x (shape {}) must be {} for weights of shape ({}, {}) "
        "with transpose = {}",
        detail::shape_str(x.shape()), inner, f.n, f.k, transpose);
  }
  auto stream = to_stream(s);
  Shape out_shape = x.shape();
  out_shape.back() = transpose ? f.n : f.k;
  // Kernels read x as rows of the contracted dimension.
  auto inputs = packed_inputs(w, stream);
  inputs.insert(inputs.begin(), contiguous(x, false, stream));
  return array(std::move(out_shape), x.dtype(), std::make_shared<BinaryMatmul>(stream, f, transpose),
               std::move(inputs));
}

bool BinaryQuantize::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const BinaryQuantize*>(&other);
  return o && o->format_ == format_;
}

bool BinaryDequantize::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const BinaryDequantize*>(&other);
  return o && o->format_ == format_;
}

bool BinaryMatmul::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const BinaryMatmul*>(&other);
  return o && o->format_ == format_ && o->transpose_ == transpose_;
}

std::vector<Shape> BinaryMatmul::output_shapes(const std::vector<array>& inputs) {
  Shape shape = inputs[0].shape();
  shape.back() = transpose_ ? format_.n : format_.k;
  return {shape};
}

}  // namespace lumen
