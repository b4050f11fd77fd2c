// Threefry-2x32 (20 rounds) and MLX's layout of its output words, shared by
// the CPU kernels of RandomBits and the fused RandomUniform/RandomNormal.
//
// Layout (MLX's and JAX's): a key's stream of W 32-bit words (the output
// bytes rounded up to whole words) is split at half = W / 2. Pair j in
// [0, half) hashes the counter (j, j + half + odd) and its two results are
// words j and j + half + odd; when W is odd the middle word `half` is the
// first result of the counter (half, 0). Output bytes are the words'
// little-endian bytes, cut at the request's size. Counters are 32-bit words,
// as in MLX: the 64-bit word indices are truncated when passed to the hash.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace lumen::cpu::threefry {

struct Key {
  uint32_t k0, k1;
};

inline uint32_t rotl(uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }

inline std::pair<uint32_t, uint32_t> hash(Key key, uint32_t c0, uint32_t c1) {
  const uint32_t ks[3] = {key.k0, key.k1, key.k0 ^ key.k1 ^ 0x1BD11BDAu};
  static constexpr int rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  uint32_t x0 = c0 + ks[0];
  uint32_t x1 = c1 + ks[1];
  for (int i = 0; i < 5; ++i) {
    for (int r : rot[i % 2]) {
      x0 += x1;
      x1 = rotl(x1, r) ^ x0;
    }
    x0 += ks[(i + 1) % 3];
    x1 += ks[(i + 2) % 3] + static_cast<uint32_t>(i + 1);
  }
  return {x0, x1};
}

// The words [w0, w1) of a stream of `words` words, as a list of work items:
// the pairs that produce them (up to two runs of pair indices) and, for odd
// streams, the middle word. Items can be split among threads freely; each
// hash runs once and emits the one or two of its words inside the window.
class WordWindow {
 public:
  WordWindow(uint64_t words, uint64_t w0, uint64_t w1)
      : half_(words / 2), second_(words / 2 + words % 2), w0_(w0), w1_(w1) {
    // pairs whose first word is in the window
    a0_ = std::min(w0, half_);
    a1_ = std::min(w1, half_);
    // pairs whose second word is in the window
    b0_ = std::max(w0, second_) - second_;
    b1_ = std::max(w1, second_) - second_;
    b0_ = std::min(b0_, b1_);
    if (b0_ <= a1_ && a0_ <= b1_ && a0_ < a1_ && b0_ < b1_) {  // overlapping runs: merge
      a0_ = std::min(a0_, b0_);
      a1_ = std::max(a1_, b1_);
      b0_ = b1_ = 0;
    }
    middle_ = words % 2 == 1 && w0 <= half_ && half_ < w1;
  }

  uint64_t items() const { return (a1_ - a0_) + (b1_ - b0_) + (middle_ ? 1 : 0); }

  // The item list's parts, for kernels that walk it themselves (the GPU's):
  // pairs [a0, a0 + na), then pairs [b0, b0 + nb), then the middle word.
  struct Runs {
    uint64_t a0, na, b0, nb;
    bool middle;
  };
  Runs runs() const { return {a0_, a1_ - a0_, b0_, b1_ - b0_, middle_}; }

  // Calls emit(word_index, value) for the words of items [begin, end).
  template <typename Emit>
  void run(Key key, uint64_t begin, uint64_t end, Emit&& emit) const {
    const uint64_t na = a1_ - a0_, nb = b1_ - b0_;
    auto pairs = [&](uint64_t j0, uint64_t j1) {
      for (uint64_t j = j0; j < j1; ++j) {
        auto [lo, hi] = hash(key, static_cast<uint32_t>(j), static_cast<uint32_t>(j + second_));
        if (j >= w0_ && j < w1_) emit(j, lo);
        uint64_t k = j + second_;
        if (k >= w0_ && k < w1_) emit(k, hi);
      }
    };
    if (begin < na) pairs(a0_ + begin, a0_ + std::min(end, na));
    if (end > na && begin < na + nb) {
      pairs(b0_ + (std::max(begin, na) - na), b0_ + (std::min(end, na + nb) - na));
    }
    if (middle_ && end == na + nb + 1)
      emit(half_, hash(key, static_cast<uint32_t>(half_), 0).first);
  }

 private:
  uint64_t half_, second_, w0_, w1_;
  uint64_t a0_ = 0, a1_ = 0, b0_ = 0, b1_ = 0;
  bool middle_ = false;
};

// Where a RandomBits block of per_key elements of `width` bytes sits in each
// key's stream of stream_elems elements (starting at element `first`; a
// chunked request's piece is such a window), and the words that cover it.
// The CPU and GPU kernels both lay out their work from this.
struct BlockBytes {
  uint64_t stream_words;  // words in the key's whole stream
  int64_t byte0;          // the block's first byte in the key's stream
  int64_t nbytes;         // the block's bytes per key
  WordWindow words;
  BlockBytes(int64_t per_key, int64_t width, int64_t first, int64_t stream_elems)
      : stream_words(static_cast<uint64_t>((stream_elems * width + 3) / 4)),
        byte0(first * width),
        nbytes(per_key * width),
        words(stream_words, static_cast<uint64_t>(byte0 / 4), static_cast<uint64_t>((byte0 + nbytes + 3) / 4)) {}
  uint64_t end_word() const { return static_cast<uint64_t>((byte0 + nbytes + 3) / 4); }
};

}  // namespace lumen::cpu::threefry
