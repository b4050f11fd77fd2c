// CPU kernel of BinaryMatmul.
//
// x @ W^T with few rows of x (M <= 8, decoding): per row of x, a lookup table
// of the dot product of every codeword with every vector-long slice of x
// (K/v x 2^b floats); each weight row then costs one table read per index
// instead of v multiply-adds, and each packed byte is read once per row of x.
// Vectors that straddle two scale groups get a table per part.
//
// Everything else (more rows, or x @ W): tiles of W are dequantized to
// float32 and multiplied by Eigen, with the contraction split into chunks when
// there are too few tiles to keep every thread busy; the chunks' partial sums
// are added in chunk order, so results do not depend on the thread count.
#include <algorithm>
#include <type_traits>

#include "backends/cpu/binary_format.h"
#include "backends/cpu/gemm.h"
#include "lumen/backend.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace binary {

std::vector<float> rows_as_float(const array& x) {
  std::vector<float> out(x.size());
  auto convert = [&](const auto* src) {
    detail::parallel_for(static_cast<int64_t>(x.size()), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = static_cast<float>(src[i]);
    });
  };
  if (x.dtype() == float16) convert(x.data<float16_t>());
  else if (x.dtype() == bfloat16) convert(x.data<bfloat16_t>());
  else convert(x.data<float>());
  return out;
}

void store_rows(const std::vector<float>& values, array& out) {
  auto write = [&](auto* dst) {
    using T = std::remove_pointer_t<decltype(dst)>;
    detail::parallel_for(static_cast<int64_t>(values.size()), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dst[i] = T(values[i]);
    });
  };
  if (out.dtype() == float16) write(out.data<float16_t>());
  else if (out.dtype() == bfloat16) write(out.data<bfloat16_t>());
  else write(out.data<float>());
}

}  // namespace binary

namespace {

constexpr int64_t kMaxGemvRows = 8;
constexpr int64_t kRowBlock = 64;      // weight rows per dequantized tile
constexpr int64_t kDepthChunk = 1024;  // contraction per tile (rounded to whole vectors)

struct Operands {
  const BinaryFormat& f;
  const uint32_t* idx;
  const uint32_t* codebook;
  const float16_t* scales;
};

// y[m, n] = sum_k x[m, k] W[n, k] through codeword lookup tables.
void gemv(const Operands& w, const std::vector<float>& x, int64_t rows, std::vector<float>& y) {
  const BinaryFormat& f = w.f;
  const int64_t vectors = f.vectors_per_row(), codes = f.codebook_size(), groups = f.groups_per_row();
  const binary::VectorGroups vg(f);
  // lo[m][j][c]: codeword c against vector j of row m (its first group's part);
  // hi: the part in the next group, for straddling vectors only.
  const size_t table = static_cast<size_t>(vectors * codes);
  std::vector<float> lo(rows * table), hi;
  const bool straddles = f.group_size % f.vector_size != 0;
  if (straddles) hi.assign(rows * table, 0.0f);
  detail::parallel_for(rows * vectors, 16, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t m = t / vectors, j = t % vectors;
      const float* xs = x.data() + m * f.k + j * f.vector_size;
      for (int64_t c = 0; c < codes; ++c) {
        float a = 0, h = 0;
        for (int i = 0; i < f.vector_size; ++i) {
          const float v = binary::sign_of(w.codebook[c], i) * xs[i];
          (i < vg.split[j] ? a : h) += v;
        }
        lo[m * table + j * codes + c] = a;
        if (straddles) hi[m * table + j * codes + c] = h;
      }
    }
  });
  detail::parallel_for(f.n, 16, [&](int64_t n0, int64_t n1) {
    std::vector<uint32_t> code(static_cast<size_t>(vectors));
    std::vector<float> sc(static_cast<size_t>(groups));
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t j = 0; j < vectors; ++j) code[j] = binary::read_index(w.idx, f, n, j);
      for (int64_t g = 0; g < groups; ++g) sc[g] = binary::scale_of(w.scales, f, n, g);
      for (int64_t m = 0; m < rows; ++m) {
        const float* l = lo.data() + m * table;
        float total = 0, group_sum = 0;
        int64_t group = 0;
        for (int64_t j = 0; j < vectors; ++j) {
          if (vg.first[j] != group) {
            total += sc[group] * group_sum;
            group = vg.first[j];
            group_sum = 0;
          }
          group_sum += l[j * codes + code[j]];
          if (straddles && vg.split[j] < f.vector_size) {
            total += sc[group] * group_sum;
            group += 1;
            group_sum = hi[m * table + j * codes + code[j]];
          }
        }
        total += sc[group] * group_sum;
        y[m * f.n + n] = total;
      }
    }
  });
}

// Rows [n0, n1) and depth [k0, k1) of W as float32, row-major [n1 - n0, k1 - k0].
void dequantize_tile(const Operands& w, int64_t n0, int64_t n1, int64_t k0, int64_t k1, float* out) {
  const BinaryFormat& f = w.f;
  const int64_t depth = k1 - k0;
  for (int64_t n = n0; n < n1; ++n) {
    float* dst = out + (n - n0) * depth;
    for (int64_t j = k0 / f.vector_size; j * f.vector_size < k1; ++j) {
      const uint32_t pattern = w.codebook[binary::read_index(w.idx, f, n, j)];
      for (int i = 0; i < f.vector_size; ++i) {
        const int64_t k = j * f.vector_size + i;
        if (k < k0 || k >= k1) continue;
        dst[k - k0] = binary::scale_of(w.scales, f, n, k / f.group_size) * binary::sign_of(pattern, i);
      }
    }
  }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// y = x W^T (x: rows x K) by dequantized tiles, split along K when the
// row blocks alone are too few for the threads.
void gemm_transposed(const Operands& w, const std::vector<float>& x, int64_t rows, std::vector<float>& y) {
  const BinaryFormat& f = w.f;
  const int64_t blocks = ceil_div(f.n, kRowBlock);
  const int64_t depth = std::max<int64_t>(f.vector_size, kDepthChunk / f.vector_size * f.vector_size);
  const int64_t max_splits = ceil_div(f.k, depth);
  const int64_t splits = std::clamp<int64_t>(ceil_div(detail::cpu_threads(), blocks), 1, max_splits);
  const int64_t per_split = ceil_div(max_splits, splits) * depth;
  std::vector<std::vector<float>> partial(static_cast<size_t>(splits));
  for (auto& p : partial) p.assign(static_cast<size_t>(rows * f.n), 0.0f);
  detail::parallel_for(blocks * splits, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> tile(static_cast<size_t>(kRowBlock * depth));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / splits, s = t % splits;
      const int64_t n0 = b * kRowBlock, n1 = std::min<int64_t>(f.n, n0 + kRowBlock);
      const int64_t s0 = s * per_split, s1 = std::min<int64_t>(f.k, s0 + per_split);
      for (int64_t k0 = s0; k0 < s1; k0 += depth) {
        const int64_t k1 = std::min(s1, k0 + depth);
        dequantize_tile(w, n0, n1, k0, k1, tile.data());
        // partial[s][m, n0 + j] += sum_k x[m, k] tile[j, k]
        gemm_accumulate<float>(rows, n1 - n0, k1 - k0, {x.data() + k0, f.k, 1}, {tile.data(), 1, k1 - k0},
                               partial[s].data() + n0, f.n, 1.0f);
      }
    }
  });
  y = std::move(partial[0]);
  for (int64_t s = 1; s < splits; ++s) {
    for (size_t i = 0; i < y.size(); ++i) y[i] += partial[s][i];
  }
}

// y = x W (x: rows x N), column blocks of the output in parallel.
void gemm_plain(const Operands& w, const std::vector<float>& x, int64_t rows, std::vector<float>& y) {
  const BinaryFormat& f = w.f;
  const int64_t depth = std::max<int64_t>(f.vector_size, kDepthChunk / f.vector_size * f.vector_size);
  y.assign(static_cast<size_t>(rows * f.k), 0.0f);
  detail::parallel_for(ceil_div(f.k, depth), 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> tile(static_cast<size_t>(kRowBlock * depth));
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t k0 = c * depth, k1 = std::min<int64_t>(f.k, k0 + depth);
      for (int64_t n0 = 0; n0 < f.n; n0 += kRowBlock) {
        const int64_t n1 = std::min<int64_t>(f.n, n0 + kRowBlock);
        dequantize_tile(w, n0, n1, k0, k1, tile.data());
        // y[m, k0 + j] += sum_n x[m, n] tile[n - n0, j]
        gemm_accumulate<float>(rows, k1 - k0, n1 - n0, {x.data() + n0, f.n, 1}, {tile.data(), k1 - k0, 1},
                               y.data() + k0, f.k, 1.0f);
      }
    }
  });
}

void binary_matmul_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& prim = static_cast<const BinaryMatmul&>(p);
  const BinaryFormat& f = prim.format();
  array& out = outputs[0];
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
  if (out.size() == 0) return;
  const Operands w{f, inputs[1].data<uint32_t>(), inputs[2].data<uint32_t>(), inputs[3].data<float16_t>()};
  const auto x = binary::rows_as_float(inputs[0]);
  std::vector<float> y(out.size());
  if (prim.transpose()) {
    const int64_t rows = static_cast<int64_t>(inputs[0].size()) / f.k;
    if (rows <= kMaxGemvRows) gemv(w, x, rows, y);
    else gemm_transposed(w, x, rows, y);
  } else {
    gemm_plain(w, x, static_cast<int64_t>(inputs[0].size()) / f.n, y);
  }
  binary::store_rows(y, out);
}

LUMEN_REGISTER_KERNEL(Device::cpu, BinaryMatmul, binary_matmul_kernel);

}  // namespace

}  // namespace lumen::cpu
