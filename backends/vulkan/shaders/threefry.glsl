// Threefry-2x32 (20 rounds), the hash behind RandomBits and the fused random
// kernels, and key loading. The same function as the CPU's
// (backends/cpu/random_threefry.h): counters are 32-bit words, so 64-bit
// word indices are truncated to uint before they reach the hash, as in MLX.
//
// The round function is written out (no tables, no loops): each round is an
// add, a rotate (a funnel shift on NVIDIA) and an xor, and the key schedule
// folds into constants of the unrolled code.
#ifndef LUMEN_THREEFRY_GLSL
#define LUMEN_THREEFRY_GLSL

#include "memory.glsl"

// A kernel whose throughput is the hash's sets this to a runtime 1 (a push
// constant): the rounds' additions then compile to integer multiply-adds,
// which NVIDIA issues on the FMA pipe beside the shifts and xors on the
// integer pipe, instead of all three on the integer pipe.
uint threefry_one = 1u;

#define THREEFRY_ROUND(r)          \
  x0 = x1 * threefry_one + x0;     \
  x1 = ((x1 << (r)) | (x1 >> (32 - (r)))) ^ x0;

#define THREEFRY_FOUR_EVEN() THREEFRY_ROUND(13) THREEFRY_ROUND(15) THREEFRY_ROUND(26) THREEFRY_ROUND(6)
#define THREEFRY_FOUR_ODD() THREEFRY_ROUND(17) THREEFRY_ROUND(29) THREEFRY_ROUND(16) THREEFRY_ROUND(24)

// The two output words of counter (c.x, c.y) under key (k.x, k.y).
uvec2 threefry2x32(uvec2 k, uvec2 c) {
  uint k2 = k.x ^ k.y ^ 0x1BD11BDAu;
  uint x0 = c.x + k.x;
  uint x1 = c.y + k.y;
  THREEFRY_FOUR_EVEN()
  x0 += k.y;
  x1 += k2 + 1u;
  THREEFRY_FOUR_ODD()
  x0 += k2;
  x1 += k.x + 2u;
  THREEFRY_FOUR_EVEN()
  x0 += k.x;
  x1 += k.y + 3u;
  THREEFRY_FOUR_ODD()
  x0 += k.y;
  x1 += k2 + 4u;
  THREEFRY_FOUR_EVEN()
  x0 += k2;
  x1 += k.x + 5u;
  return uvec2(x0, x1);
}

// A key's two uint32 words: at `addr` and `step` elements further.
uvec2 load_key(uint64_t addr, int64_t step) {
  return uvec2(Ptr32(addr).v, Ptr32(addr + uint64_t(step * 4)).v);
}

#endif
