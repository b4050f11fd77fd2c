// CPU kernels of BinaryQuantize and BinaryDequantize.
//
// Quantize: each run of v signs of a row (bit i set for w >= 0) is a pattern;
// the codebook is a k-means of the patterns under Hamming distance with
// majority-sign centroids, run on the histogram of distinct patterns (at most
// 2^v of them, v <= 16), seeded with the most frequent patterns: fully
// deterministic. Each vector takes its nearest codeword (ties: the lowest
// index); each group's scale is then mean(w * sign), the L2-optimal scale for
// the chosen signs, rounded to float16.
#include <algorithm>
#include <bit>
#include <cstring>

#include "backends/cpu/binary_format.h"
#include "backends/cpu/dispatch.h"
#include "lumen/backend.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

namespace {

constexpr int kMaxIterations = 25;

// Sign patterns of every vector of w (row-major [N, K] read through strides).
template <typename T>
std::vector<uint32_t> sign_patterns(const array& w, const BinaryFormat& f) {
  const int64_t vectors = f.vectors_per_row();
  std::vector<uint32_t> out(static_cast<size_t>(f.n * vectors));
  const T* data = w.data<T>();
  const int64_t rs = w.strides(0), cs = w.strides(1);
  detail::parallel_for(f.n, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t j = 0; j < vectors; ++j) {
        uint32_t p = 0;
        for (int i = 0; i < f.vector_size; ++i) {
          const int64_t k = j * f.vector_size + i;
          if (static_cast<double>(data[r * rs + k * cs]) >= 0) p |= 1u << i;
        }
        out[r * vectors + j] = p;
      }
    }
  });
  return out;
}

// The nearest codeword of each pattern in `patterns` (Hamming; ties: lowest).
std::vector<uint32_t> nearest(const std::vector<uint32_t>& patterns, const std::vector<uint32_t>& codebook) {
  std::vector<uint32_t> out(patterns.size());
  detail::parallel_for(static_cast<int64_t>(patterns.size()), 64, [&](int64_t b, int64_t e) {
    for (int64_t d = b; d < e; ++d) {
      int best = 33;
      uint32_t best_c = 0;
      for (size_t c = 0; c < codebook.size(); ++c) {
        const int dist = std::popcount(patterns[d] ^ codebook[c]);
        if (dist < best) {
          best = dist;
          best_c = static_cast<uint32_t>(c);
        }
      }
      out[d] = best_c;
    }
  });
  return out;
}

// The codebook for a histogram of patterns.
std::vector<uint32_t> cluster(const std::vector<uint64_t>& counts, const BinaryFormat& f) {
  const size_t size = static_cast<size_t>(f.codebook_size());
  std::vector<uint32_t> distinct;
  for (size_t p = 0; p < counts.size(); ++p) {
    if (counts[p] > 0) distinct.push_back(static_cast<uint32_t>(p));
  }
  // Seeds: the most frequent patterns, then the smallest unused ones.
  std::vector<uint32_t> by_count = distinct;
  std::stable_sort(by_count.begin(), by_count.end(),
                   [&](uint32_t a, uint32_t b) { return counts[a] > counts[b]; });
  std::vector<uint32_t> codebook(by_count.begin(), by_count.begin() + std::min(size, by_count.size()));
  std::vector<bool> used(counts.size(), false);
  for (uint32_t c : codebook) used[c] = true;
  for (uint32_t p = 0; codebook.size() < size; ++p) {
    if (!used[p]) codebook.push_back(p);
  }
  for (int it = 0; it < kMaxIterations; ++it) {
    auto assign = nearest(distinct, codebook);
    // Majority sign per bit over each centroid's members, weighted by count.
    std::vector<uint64_t> total(size, 0);
    std::vector<uint64_t> plus(size * f.vector_size, 0);
    for (size_t d = 0; d < distinct.size(); ++d) {
      const uint32_t c = assign[d];
      total[c] += counts[distinct[d]];
      for (int i = 0; i < f.vector_size; ++i) {
        if ((distinct[d] >> i) & 1u) plus[c * f.vector_size + i] += counts[distinct[d]];
      }
    }
    bool changed = false;
    for (size_t c = 0; c < size; ++c) {
      if (total[c] == 0) continue;  // an empty cluster keeps its centroid
      uint32_t next = codebook[c];
      for (int i = 0; i < f.vector_size; ++i) {
        const uint64_t p2 = 2 * plus[c * f.vector_size + i];
        if (p2 > total[c]) next |= 1u << i;
        if (p2 < total[c]) next &= ~(1u << i);
      }
      changed = changed || next != codebook[c];
      codebook[c] = next;
    }
    if (!changed) break;
  }
  return codebook;
}

template <typename T>
void quantize(const array& w, const BinaryFormat& f, array& indices, array& codebook_out, array& scales) {
  const int64_t vectors = f.vectors_per_row();
  auto patterns = sign_patterns<T>(w, f);
  std::vector<uint32_t> codebook;
  std::vector<uint32_t> index_of;  // pattern -> codeword
  if (f.vector_size == 1) {
    codebook = {0u, 1u};
    index_of = {0u, 1u};
  } else {
    std::vector<uint64_t> counts(size_t(1) << f.vector_size, 0);
    for (uint32_t p : patterns) ++counts[p];
    codebook = cluster(counts, f);
    // the nearest codeword of each pattern that occurs
    std::vector<uint32_t> seen;
    for (uint32_t p = 0; p < counts.size(); ++p) {
      if (counts[p] > 0) seen.push_back(p);
    }
    auto chosen = nearest(seen, codebook);
    index_of.assign(counts.size(), 0u);
    for (size_t d = 0; d < seen.size(); ++d) index_of[seen[d]] = chosen[d];
  }
  std::memcpy(codebook_out.data<uint32_t>(), codebook.data(), codebook.size() * sizeof(uint32_t));

  const int64_t groups = f.groups_per_row();
  uint32_t* idx = indices.data<uint32_t>();
  float16_t* sc = scales.data<float16_t>();
  // (the tiles' padding included)
  std::fill(idx, idx + indices.size(), 0u);
  std::fill(sc, sc + scales.size(), float16_t(0.0f));
  const T* data = w.data<T>();
  const int64_t rs = w.strides(0), cs = w.strides(1);
  detail::parallel_for(f.n, 8, [&](int64_t r0, int64_t r1) {
    std::vector<double> sums(static_cast<size_t>(groups));
    for (int64_t r = r0; r < r1; ++r) {
      std::fill(sums.begin(), sums.end(), 0.0);
      for (int64_t j = 0; j < vectors; ++j) {
        const uint32_t c = index_of[patterns[r * vectors + j]];
        binary::write_index(idx, f, r, j, c);
        for (int i = 0; i < f.vector_size; ++i) {
          const int64_t k = j * f.vector_size + i;
          sums[k / f.group_size] += static_cast<double>(data[r * rs + k * cs]) * binary::sign_of(codebook[c], i);
        }
      }
      for (int64_t g = 0; g < groups; ++g) {
        sc[f.scale_offset(r, g)] = float16_t(static_cast<float>(sums[g] / f.group_size));
      }
    }
  });
}

void allocate(array& a) { a.set_data(allocator::allocator(Device::cpu).malloc(a.nbytes())); }

void quantize_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& f = static_cast<const BinaryQuantize&>(p).format();
  for (auto& o : outputs) allocate(o);
  const array& w = inputs[0];
  switch (w.dtype()) {
    case float16: return quantize<float16_t>(w, f, outputs[0], outputs[1], outputs[2]);
    case bfloat16: return quantize<bfloat16_t>(w, f, outputs[0], outputs[1], outputs[2]);
    case float32: return quantize<float>(w, f, outputs[0], outputs[1], outputs[2]);
    case float64: return quantize<double>(w, f, outputs[0], outputs[1], outputs[2]);
    default: detail::throw_invalid("[BinaryQuantize] unsupported dtype {}", dtype_to_string(w.dtype()));
  }
}

void dequantize_kernel(const Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  const auto& f = static_cast<const BinaryDequantize&>(p).format();
  array& out = outputs[0];
  allocate(out);
  const uint32_t* idx = inputs[0].data<uint32_t>();
  const uint32_t* codebook = inputs[1].data<uint32_t>();
  const float16_t* sc = inputs[2].data<float16_t>();
  float* dst = out.data<float>();
  const int64_t vectors = f.vectors_per_row();
  detail::parallel_for(f.n, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t j = 0; j < vectors; ++j) {
        const uint32_t pattern = codebook[binary::read_index(idx, f, r, j)];
        for (int i = 0; i < f.vector_size; ++i) {
          const int64_t k = j * f.vector_size + i;
          dst[r * f.k + k] = binary::scale_of(sc, f, r, k / f.group_size) * binary::sign_of(pattern, i);
        }
      }
    }
  });
}

LUMEN_REGISTER_KERNEL(Device::cpu, BinaryQuantize, quantize_kernel);
LUMEN_REGISTER_KERNEL(Device::cpu, BinaryDequantize, dequantize_kernel);

}  // namespace

}  // namespace lumen::cpu
