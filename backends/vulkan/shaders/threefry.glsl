// Threefry-2x32 with 20 rounds (Salmon et al.; MLX's and JAX's generator),
// as the CPU computes it (backends/cpu/random_threefry.h), and key loading.
// Counters are 32-bit words: 64-bit word indices are truncated before they
// reach the hash, as in MLX.
#ifndef LUMEN_THREEFRY_GLSL
#define LUMEN_THREEFRY_GLSL

#include "memory.glsl"

uint threefry_rotl(uint v, uint r) { return (v << r) | (v >> (32u - r)); }

// Four rounds with rotations a, b, c, d, then key injection number n.
#define THREEFRY_ROUNDS4(a, b, c, d)                        \
  x0 += x1; x1 = threefry_rotl(x1, a) ^ x0;                 \
  x0 += x1; x1 = threefry_rotl(x1, b) ^ x0;                 \
  x0 += x1; x1 = threefry_rotl(x1, c) ^ x0;                 \
  x0 += x1; x1 = threefry_rotl(x1, d) ^ x0;
#define THREEFRY_INJECT(ka, kb, n) x0 += ka; x1 += kb + n;

// The two output words of counter c under key k (written out: no tables).
uvec2 threefry2x32(uvec2 k, uvec2 c) {
  uint k2 = k.x ^ k.y ^ 0x1BD11BDAu;
  uint x0 = c.x + k.x;
  uint x1 = c.y + k.y;
  THREEFRY_ROUNDS4(13u, 15u, 26u, 6u) THREEFRY_INJECT(k.y, k2, 1u)
  THREEFRY_ROUNDS4(17u, 29u, 16u, 24u) THREEFRY_INJECT(k2, k.x, 2u)
  THREEFRY_ROUNDS4(13u, 15u, 26u, 6u) THREEFRY_INJECT(k.x, k.y, 3u)
  THREEFRY_ROUNDS4(17u, 29u, 16u, 24u) THREEFRY_INJECT(k.y, k2, 4u)
  THREEFRY_ROUNDS4(13u, 15u, 26u, 6u) THREEFRY_INJECT(k2, k.x, 5u)
  return uvec2(x0, x1);
}

// A key's two uint32 words: at `addr` and `step` elements further.
uvec2 load_key(uint64_t addr, int64_t step) {
  return uvec2(Ptr32(addr).v, Ptr32(addr + uint64_t(step * 4)).v);
}

#endif
