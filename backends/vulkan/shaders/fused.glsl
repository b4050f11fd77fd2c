// The fixed part of compile's fused kernels (backends/vulkan/codegen/
// fused_source.cpp writes the rest): push constants, the parameter table and
// the key reads of RandomBits steps.
//
// Parameter table (int64, written by kernels/compiled.cpp): the output
// addresses, the input addresses, four entries per generator (elements per
// key, words per key stream, first word, key layout), the collapsed shape
// (ndim entries) and per elementwise input its strides over that shape (in
// elements), then the key layouts of strided keys.
#ifndef LUMEN_FUSED_GLSL
#define LUMEN_FUSED_GLSL

#include "memory.glsl"
#include "threefry.glsl"

layout(local_size_x_id = 0) in;
// Every elementwise input contiguous or scalar and every pointer aligned:
// four elements per thread move with vector accesses.
layout(constant_id = 1) const bool VECTOR = false;
// Input modes (MODE_*) take constant ids 2 and up.

layout(push_constant) uniform Push {
  uint64_t table;
  uint64_t n;  // elements of each output
  uint ndim;   // of the collapsed shape
} pc;

const uint ELEMENTS_PER_THREAD = 4;

// Lane l of v, and v with lane l replaced, as selects: indexing a vector
// with a loop variable put the four elements in local memory on NVIDIA
// (a compiled gelu ran 1.5x slower than its five separate kernels).
uint64_t lane_of(u64vec4 v, uint l) { return l == 0u ? v.x : (l == 1u ? v.y : (l == 2u ? v.z : v.w)); }

u64vec4 with_lane(u64vec4 v, uint l, uint64_t x) {
  return u64vec4(l == 0u ? x : v.x, l == 1u ? x : v.y, l == 2u ? x : v.z, l == 3u ? x : v.w);
}

int64_t table_at(uint i) { return Int64Table(pc.table).v[i]; }
uint64_t address_at(uint i) { return uint64_t(table_at(i)); }

// e / d and e % d, in 32 bits where both fit (much cheaper).
uint64_t fused_divide(uint64_t e, uint64_t d, out uint64_t rest) {
  if (e <= 0xfffffffful && d <= 0xfffffffful) {
    uint q = uint(e) / uint(d);
    rest = uint64_t(uint(e) - q * uint(d));
    return uint64_t(q);
  }
  uint64_t q = e / d;
  rest = e - q * d;
  return q;
}

// Element i (a uint32) of a keys array: row-contiguous (key_layout 0), or
// through the table's ndim, shape and strides at index `key_layout`.
uint fused_key_word(uint64_t addr, int64_t key_layout, uint64_t i) {
  if (key_layout == 0) return Ptr32(addr + 4ul * i).v;
  uint at = uint(key_layout);
  int nd = int(table_at(at));
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; --d) {
    uint64_t c;
    i = fused_divide(i, uint64_t(table_at(at + 1u + uint(d))), c);
    off += int64_t(c) * table_at(at + 1u + uint(nd + d));
  }
  return Ptr32(addr + uint64_t(off * 4l)).v;
}

// Word w of a key's stream of `words` words in MLX's (and JAX's) layout, as
// backends/cpu/random_threefry.h (the reference) lays it out: the stream is
// split at half = words / 2; pair j in [0, half) hashes the counter
// (j, j + half + words % 2) into words j and j + half + words % 2, and for
// odd streams the middle word `half` is the first result of (half, 0).
// One hash per word: an element needs only its own.
uint threefry_stream_word(uvec2 key, uint64_t words, uint64_t w) {
  uint64_t half_words = words / 2ul;
  uint64_t second = half_words + (words & 1ul);
  if (w < half_words) return threefry2x32(key, uvec2(uint(w), uint(w + second))).x;
  if (w < second) return threefry2x32(key, uvec2(uint(half_words), 0u)).x;  // the middle word
  uint64_t j = w - second;
  return threefry2x32(key, uvec2(uint(j), uint(j + second))).y;
}

// Element e of a RandomBits output (32-bit words) whose parameters start at
// table index `at` and whose keys are at `keys`: word (first + e % per_key)
// of the stream of key e / per_key.
uint fused_random_word(uint at, uint64_t keys, uint64_t e) {
  uint64_t per_key = uint64_t(table_at(at));
  uint64_t words = uint64_t(table_at(at + 1u));
  uint64_t first = uint64_t(table_at(at + 2u));
  int64_t key_layout = table_at(at + 3u);
  uint64_t k = 0ul, i = e;
  if (per_key < pc.n) k = fused_divide(e, per_key, i);
  uvec2 key = uvec2(fused_key_word(keys, key_layout, 2ul * k), fused_key_word(keys, key_layout, 2ul * k + 1ul));
  return threefry_stream_word(key, words, first + i);
}

#endif
