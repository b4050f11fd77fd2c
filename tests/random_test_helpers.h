// Helpers shared by the random tests: an independent threefry reference
// (MLX's sequential loop, written plainly) and readers for MLX's known answers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <lumen/random_primitives.h>

#include "test_util.h"

namespace lumen::test {

// Threefry-2x32, 20 rounds, as in Salmon et al. (Random123) and JAX.
inline std::pair<uint32_t, uint32_t> ref_threefry(uint32_t k0, uint32_t k1, uint32_t c0,
                                                  uint32_t c1) {
  const uint32_t rot[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  const uint32_t ks[3] = {k0, k1, 0x1BD11BDAu ^ k0 ^ k1};
  uint32_t x[2] = {c0 + ks[0], c1 + ks[1]};
  for (uint32_t round = 0; round < 20; ++round) {
    x[0] += x[1];
    uint32_t r = rot[round % 8];
    x[1] = ((x[1] << r) | (x[1] >> (32 - r))) ^ x[0];
    if (round % 4 == 3) {
      uint32_t inj = round / 4 + 1;
      x[0] += ks[inj % 3];
      x[1] += ks[(inj + 1) % 3] + inj;
    }
  }
  return {x[0], x[1]};
}

// Word k of a key's stream of `words` words (MLX's layout: the second half
// of the stream holds the second outputs of the first half's counters).
inline uint32_t ref_word(uint32_t k0, uint32_t k1, uint64_t words, uint64_t k) {
  uint64_t half = words / 2, odd = words % 2;
  if (odd && k == half) return ref_threefry(k0, k1, static_cast<uint32_t>(half), 0).first;
  if (k < half) {
    return ref_threefry(k0, k1, static_cast<uint32_t>(k), static_cast<uint32_t>(k + half + odd))
        .first;
  }
  uint64_t j = k - half - odd;
  return ref_threefry(k0, k1, static_cast<uint32_t>(j), static_cast<uint32_t>(k)).second;
}

// Bytes [first, first + count) of the key's stream of `total` bytes.
inline std::vector<uint8_t> ref_stream_bytes(uint32_t k0, uint32_t k1, uint64_t total,
                                             uint64_t first, uint64_t count) {
  std::vector<uint8_t> out(count);
  uint64_t words = (total + 3) / 4;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t b = first + i;
    out[i] = static_cast<uint8_t>(ref_word(k0, k1, words, b / 4) >> (8 * (b % 4)));
  }
  return out;
}

// The bytes of an array in row-major order (a contiguous copy on the CPU).
inline std::vector<uint8_t> bytes_of(const array& a) {
  auto c = contiguous_copy(a);
  c.eval();
  const uint8_t* p = c.data<uint8_t>();
  return std::vector<uint8_t>(p, p + c.nbytes());
}

// Largest distance in ulps between two arrays of float32/float16/bfloat16 bytes.
inline int64_t max_ulp_distance(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, int width) {
  auto ordered = [width](const uint8_t* p) -> int64_t {
    uint32_t u = 0;
    std::memcpy(&u, p, width);
    uint32_t sign = width == 4 ? 0x80000000u : 0x8000u;
    int64_t mag = u & (sign - 1);
    return (u & sign) ? -mag : mag;
  };
  int64_t worst = 0;
  for (size_t i = 0; i + width <= a.size(); i += width) {
    worst = std::max(worst, std::abs(ordered(a.data() + i) - ordered(b.data() + i)));
  }
  return worst;
}

// A file of MLX's outputs from ../shared/refs/mlx-random/.
inline std::vector<uint8_t> read_ref(const std::string& name) {
  std::string path = std::string(LUMEN_REFS_DIR) + "/mlx-random/" + name + ".bin";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("missing reference file " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

}  // namespace lumen::test
