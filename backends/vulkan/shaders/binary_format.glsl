// The sub-1-bit weight layout (ops/quantized.h, docs/quantized.md), as the
// GPU kernels of BinaryDequantize and BinaryMatmul read it; the same rules as
// backends/cpu/binary_format.h. W is [N, K]: row n holds K / VECTOR indices
// of BITS bits, packed from bit 0 of the row's first uint32 word upwards (an
// index may straddle two words; rows are padded to whole words); codeword c
// of the codebook has bit i set when element i of its pattern is +1; every
// GROUP consecutive elements of a row share one float16 scale.
#ifndef LUMEN_BINARY_FORMAT_GLSL
#define LUMEN_BINARY_FORMAT_GLSL

#include "values.glsl"

// One push block for every binary kernel (kernels/binary_matmul.h mirrors it).
layout(push_constant) uniform Push {
  uint64_t x;         // [rows, contraction] row-contiguous, dtype DT
  uint64_t indices;   // uint32 [N, words]
  uint64_t codebook;  // uint32 [2^BITS]
  uint64_t scales;    // float16 [N, K / GROUP]
  uint64_t out_addr;
  uint64_t partials;  // float32 [splits, rows, cols] of a split contraction
  uint64_t table;     // GEMV: the codeword . x table of binary_table.comp
  uint rows;          // rows of x (and of the output)
  uint cols;          // columns of the output: N for x @ W^T, K for x @ W
  uint N;
  uint K;
  uint words;      // uint32 words per row of indices
  uint splits;     // pieces the contraction is split into (1: the kernel writes out)
  uint split_len;  // contraction per piece
  uint chunks;     // GEMV: 16-byte chunks of a row per slice
  uint x_stride;   // GEMV: shared-memory floats per row of x
} pc;

layout(constant_id = 8) const uint VECTOR = 8;
layout(constant_id = 9) const uint BITS = 6;
layout(constant_id = 10) const uint GROUP = 128;

const uint INDEX_MASK = (1u << BITS) - 1u;
// Whether a vector can straddle two scale groups (e.g. VECTOR 10, GROUP 128).
const bool STRADDLES = GROUP % VECTOR != 0;

uint vectors_per_row() { return pc.K / VECTOR; }
uint groups_per_row() { return pc.K / GROUP; }

uint64_t index_row(uint n) { return pc.indices + uint64_t(n) * pc.words * 4u; }

// The index of vector j of the row at `row` (two word loads at most).
uint read_index(uint64_t row, uint j) {
  uint bit = j * BITS;
  uint word = bit >> 5, shift = bit & 31u;
  uint v = Ptr32(row + uint64_t(word) * 4u).v >> shift;
  if (shift + BITS > 32u) v |= Ptr32(row + uint64_t(word + 1u) * 4u).v << (32u - shift);
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
  uint h = uint(Ptr16(pc.scales + (uint64_t(n) * groups_per_row() + group) * 2u).v);
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
