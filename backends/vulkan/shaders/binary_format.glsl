// The sub-1-bit weight layout (ops/quantized.h, docs/quantized.md), as the
// GPU kernels of BinaryDequantize and BinaryMatmul read it; the same rules as
// backends/cpu/binary_format.h. W is [N, K]: row n holds K / VECTOR indices
// of BITS bits, packed from bit 0 of the row's first uint32 word upwards (an
// index may straddle two words; rows are padded to whole tiles); codeword c
// of the codebook has bit i set when element i of its pattern is +1; every
// GROUP consecutive elements of a row share one float16 scale. Rows' words
// and scales are K-tiled: tile t (TILE_WORDS words, SCALE_TILE scales) of
// every row side by side, row after row, then tile t + 1.
#ifndef LUMEN_BINARY_FORMAT_GLSL
#define LUMEN_BINARY_FORMAT_GLSL

#include "values.glsl"

// One push block for every binary kernel (kernels/binary_matmul.h mirrors it).
layout(push_constant) uniform Push {
  uint64_t x;         // [rows, contraction] row-contiguous, dtype DT
  uint64_t indices;   // uint32 [tiles, N, TILE_WORDS]
  uint64_t codebook;  // uint32 [2^BITS]
  uint64_t scales;    // float16 [tiles, N, SCALE_TILE]
  uint64_t out_addr;
  uint64_t partials;  // float32 [splits, rows, cols] of a split contraction
  uint64_t table;     // GEMV: the codeword . x table of binary_table.comp
  uint rows;          // rows of x (and of the output)
  uint cols;          // columns of the output: N for x @ W^T, K for x @ W
  uint N;
  uint K;
  uint words;      // uint32 words holding a row's indices (the tiles' padding not counted)
  uint splits;     // pieces the contraction is split into (1: the kernel writes out)
  uint split_len;  // contraction per piece
  uint chunks;     // GEMV: 16-byte chunks of a row per slice
  uint x_stride;   // GEMV: shared-memory floats per row of x
} pc;

layout(constant_id = 8) const uint VECTOR = 8;
layout(constant_id = 9) const uint BITS = 6;
layout(constant_id = 10) const uint GROUP = 128;

// BinaryFormat::kTileWords and kScaleTile (ops/quantized_primitives.h).
const uint TILE_WORDS = 12u;
const uint SCALE_TILE = 4u;

const uint INDEX_MASK = (1u << BITS) - 1u;
// Whether a vector can straddle two scale groups (e.g. VECTOR 10, GROUP 128).
const bool STRADDLES = GROUP % VECTOR != 0;

uint vectors_per_row() { return pc.K / VECTOR; }
uint groups_per_row() { return pc.K / GROUP; }

// The address of word w of row n's indices. Runs of words that do not
// cross a multiple of TILE_WORDS are contiguous (16-byte loads at multiples
// of 4 words never do).
uint64_t index_word(uint n, uint w) {
  uint t = w / TILE_WORDS;
  return pc.indices + ((uint64_t(t) * pc.N + n) * TILE_WORDS + (w - t * TILE_WORDS)) * 4u;
}

// The address of row n's scale of group g; runs of scales that do not cross
// a multiple of SCALE_TILE are contiguous.
uint64_t scale_address(uint n, uint g) {
  uint t = g / SCALE_TILE;
  return pc.scales + ((uint64_t(t) * pc.N + n) * SCALE_TILE + (g - t * SCALE_TILE)) * 2u;
}

// The index of vector j of row n (two word loads at most).
uint read_index(uint n, uint j) {
  uint bit = j * BITS;
  uint word = bit >> 5, shift = bit & 31u;
  uint v = Ptr32(index_word(n, word)).v >> shift;
  if (shift + BITS > 32u) v |= Ptr32(index_word(n, word + 1u)).v << (32u - shift);
  return v & INDEX_MASK;
}

// Index starting at bit `offset` of the 160 bits w, next (offset < 128).
uint index_in_chunk(uvec4 w, uint next, uint offset) {
  uint q = offset >> 5, shift = offset & 31u;
  uint lo = q == 0u ? w.x : q == 1u ? w.y : q == 2u ? w.z : w.w;
  uint v = lo >> shift;
  if (shift + BITS > 32u) {
    uint hi = q == 0u ? w.y : q == 1u ? w.z : q == 2u ? w.w : next;
    v |= hi << (32u - shift);
  }
  return v & INDEX_MASK;
}

uint global_codeword(uint c) { return Ptr32(pc.codebook + uint64_t(c) * 4u).v; }

float scale_at(uint n, uint group) {
  uint h = uint(Ptr16(scale_address(n, group)).v);
  return unpackHalf2x16(h).x;
}

// +1 or -1: element i of a codeword pattern.
float sign_of(uint pattern, uint i) { return ((pattern >> i) & 1u) != 0u ? 1.0 : -1.0; }

// x with the sign of element i of the pattern applied: a clear bit flips
// x's sign bit (a shift, one logic op and no branch per element).
float signed_value(uint pattern, uint i, float x) {
  return uintBitsToFloat(floatBitsToUint(x) ^ ((~pattern << (31u - i)) & 0x80000000u));
}

// Elements [0, split) of vector j lie in scale group `first`, the rest in first + 1.
void vector_groups(uint j, out uint first, out uint split) {
  uint k = j * VECTOR;
  first = k / GROUP;
  split = STRADDLES ? min(VECTOR, (first + 1u) * GROUP - k) : VECTOR;
}

#endif
