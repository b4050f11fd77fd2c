// Threefry-2x32 (20 rounds) and MLX's (and JAX's) layout of its output
// words, as backends/cpu/random_threefry.h (the reference) computes them:
// a key's stream of W 32-bit words is split at half = W / 2; pair j in
// [0, half) hashes the counter (j, j + half + W % 2) into words j and
// j + half + W % 2, and for odd W the middle word `half` is the first result
// of the counter (half, 0). Counters are the word indices truncated to 32
// bits, as in MLX. Shared by the RandomBits kernel and compile's fused
// kernels (which draw a RandomBits step's words per element).
#ifndef LUMEN_THREEFRY_GLSL
#define LUMEN_THREEFRY_GLSL

#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

uint threefry_rotl(uint v, uint r) { return (v << r) | (v >> (32u - r)); }

// The two result words of counter (c.x, c.y) under key (k.x, k.y).
uvec2 threefry2x32(uvec2 k, uvec2 c) {
  uint ks0 = k.x, ks1 = k.y, ks2 = k.x ^ k.y ^ 0x1BD11BDAu;
  uint x0 = c.x + ks0, x1 = c.y + ks1;
  // five groups of four rounds, the key injected after each group
  for (uint i = 0u; i < 5u; ++i) {
    bool even = (i & 1u) == 0u;
    uvec4 rot = even ? uvec4(13u, 15u, 26u, 6u) : uvec4(17u, 29u, 16u, 24u);
    x0 += x1; x1 = threefry_rotl(x1, rot.x) ^ x0;
    x0 += x1; x1 = threefry_rotl(x1, rot.y) ^ x0;
    x0 += x1; x1 = threefry_rotl(x1, rot.z) ^ x0;
    x0 += x1; x1 = threefry_rotl(x1, rot.w) ^ x0;
    uint m = i % 3u;  // ks[(i + 1) % 3] and ks[(i + 2) % 3]
    x0 += m == 0u ? ks1 : (m == 1u ? ks2 : ks0);
    x1 += (m == 0u ? ks2 : (m == 1u ? ks0 : ks1)) + (i + 1u);
  }
  return uvec2(x0, x1);
}

// Word w of a key's stream of `words` words (one hash per call: a thread
// that needs both words of a pair can call threefry2x32 itself).
uint threefry_stream_word(uvec2 key, uint64_t words, uint64_t w) {
  uint64_t half_words = words / 2ul;
  uint64_t second = half_words + (words & 1ul);
  if (w < half_words) return threefry2x32(key, uvec2(uint(w), uint(w + second))).x;
  if (w < second) return threefry2x32(key, uvec2(uint(half_words), 0u)).x;  // the middle word
  uint64_t j = w - second;
  return threefry2x32(key, uvec2(uint(j), uint(j + second))).y;
}

#endif
