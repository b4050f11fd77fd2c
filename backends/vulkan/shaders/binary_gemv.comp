// BinaryMatmul, x @ W^T with at most 8 rows of x (decoding): memory-bound, so
// every packed index word is read once, in 16-byte chunks.
//
// A row of indices is cut into 16-byte chunks; an index belongs to the chunk
// holding its first bit (one that runs past the chunk takes one word of the
// next). A slice is `pc.chunks` consecutive chunks of every row, and the
// workgroup owns one slice: it keeps the matching elements of the rows of x
// in shared memory (float32) with the codebook, and an invocation takes one
// chunk of one weight row: per index, the codeword's signs applied to x and
// summed, times the vector's group scale, for every row of x at once. The
// chunks of a row are then added in chunk order through shared memory. With
// several slices each writes float32 partial sums that binary_finish.comp
// adds in slice order: results never depend on scheduling.
//
// LUT (few rows of x, codebooks of at most 256 codewords, no vector across
// two groups): the workgroup first tabulates codeword . x for every codeword
// and every vector of its slice, so that an index then costs one table read
// per row of x instead of VECTOR sign-and-adds. Indices of few bits are read
// FOLD at a time as one (VECTOR and BITS are then FOLD times the weights'):
// four plain 1-bit signs index one 16-entry table.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
// Rows of indices start 16-byte aligned (words % 4 == 0).
layout(constant_id = 2) const bool VEC = false;
// Rows of x (1 to 8) and the shared floats holding their slice (rows * pc.x_stride).
layout(constant_id = 3) const uint XR = 1;
layout(constant_id = 4) const uint X_FLOATS = 1;
// 2^BITS: the codebook sits in shared memory; 1: read through the cache.
layout(constant_id = 5) const uint CODEBOOK_WORDS = 1;
// Shared floats of the codeword . x table (1: no table): rows * vectors of
// the slice * LUT_PITCH, a row of x's tables pc.x_stride / VECTOR * LUT_PITCH apart.
layout(constant_id = 6) const uint LUT_FLOATS = 1;
layout(constant_id = 7) const uint FOLD = 1;

const uint WG = gl_WorkGroupSize.x;
// The weights' own vectors and indices (FOLD of them per table entry).
const uint CODE_VECTOR = VECTOR / FOLD, CODE_BITS = BITS / FOLD;
const bool SHARED_CODEBOOK = CODEBOOK_WORDS == (1u << CODE_BITS);
const bool LUT = LUT_FLOATS > 1u;
// One vector's table, padded by one float: neighbouring vectors' entries
// for the same codeword fall in different banks.
const uint LUT_PITCH = (1u << BITS) + 1u;

shared float xs[X_FLOATS];
shared float lut[LUT_FLOATS];
shared uint codebook[CODEBOOK_WORDS];
shared float sums[XR * WG];

// The first vector whose index starts in chunk c or later.
uint first_vector(uint c) { return (c * 128u + BITS - 1u) / BITS; }

uvec4 load_chunk(uint n, uint c) {
  uint w0 = c * 4u;
  if (VEC) return Ptr4x32(index_word(n, w0)).v;  // (4 words never cross a tile)
  uvec4 w = uvec4(0);
  [[unroll]] for (uint q = 0; q < 4; ++q) {
    if (w0 + q < pc.words) w[q] = Ptr32(index_word(n, w0 + q)).v;
  }
  return w;
}

// Chunk c of weight row n and the word after it (when `needs_next`);
// nothing for rows past N or invocations without a chunk.
void load_row_chunk(uint n, uint c, bool has_chunk, bool needs_next, inout uvec4 w, inout uint next) {
  if (!has_chunk || n >= pc.N) return;
  w = load_chunk(n, c);
  if (needs_next) next = Ptr32(index_word(n, 4u * c + 4u)).v;
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint size = dtype_size(DT);
  uint vectors = vectors_per_row();
  uint row_chunks = (pc.words + 3u) / 4u;
  uint per_row = pc.chunks;
  uint rows_per_block = WG / per_row;
  uint blocks = (pc.N + rows_per_block - 1u) / rows_per_block;

  if (SHARED_CODEBOOK) {
    for (uint c = tid; c < CODEBOOK_WORDS; c += WG) codebook[c] = global_codeword(c);
  }
  // This workgroup's slice (the host dispatches a multiple of pc.splits workgroups).
  uint slice = gl_WorkGroupID.x % pc.splits;
  uint block_step = gl_NumWorkGroups.x / pc.splits;
  uint c_first = slice * per_row, c_end = min(c_first + per_row, row_chunks);
  uint k_first = first_vector(c_first) * VECTOR;
  uint k_len = min(first_vector(c_end), vectors) * VECTOR - k_first;
  for (uint e = tid; e < XR * k_len; e += WG) {
    uint m = e / k_len, k = e - m * k_len;
    xs[m * pc.x_stride + k] = load_float(DT, pc.x + (uint64_t(m) * pc.K + k_first + k) * size);
  }
  barrier();
  uint lut_row = pc.x_stride / VECTOR * LUT_PITCH;
  if (LUT) {
    uint codes = 1u << BITS, slice_vectors = k_len / VECTOR;
    for (uint e = tid; e < XR * slice_vectors * codes; e += WG) {
      uint code = e % codes, rest = e / codes;
      uint v = rest % slice_vectors, m = rest / slice_vectors;
      uint pattern = 0;
      [[unroll]] for (uint u = 0; u < FOLD; ++u) {
        uint word = codebook[(code >> (u * CODE_BITS)) & ((1u << CODE_BITS) - 1u)];
        pattern |= (word & ((1u << CODE_VECTOR) - 1u)) << (u * CODE_VECTOR);
      }
      float dot = 0.0;
      [[unroll]] for (uint i = 0; i < VECTOR; ++i) dot += signed_value(pattern, i, xs[m * pc.x_stride + v * VECTOR + i]);
      lut[m * lut_row + v * LUT_PITCH + code] = dot;
    }
    barrier();
  }

  uint local_row = tid / per_row;
  uint c = c_first + tid % per_row;
  bool has_chunk = local_row < rows_per_block && c < c_end;
  uint j_begin = first_vector(c), j_end = min(first_vector(c + 1u), vectors);
  // The word after the chunk is read when the chunk's last index runs into it.
  bool needs_next = j_end > j_begin && (j_end - 1u) * BITS + BITS > (c + 1u) * 128u;
  // Each block's chunk is loaded one block ahead: its latency overlaps the
  // current block's arithmetic.
  uint b = gl_WorkGroupID.x / pc.splits;
  uvec4 w_ahead = uvec4(0);
  uint next_ahead = 0;
  load_row_chunk(b * rows_per_block + local_row, c, has_chunk, needs_next, w_ahead, next_ahead);
  for (; b < blocks; b += block_step) {
    uint n = b * rows_per_block + local_row;
    uvec4 w = w_ahead;
    uint next = next_ahead;
    if (b + block_step < blocks) {
      load_row_chunk((b + block_step) * rows_per_block + local_row, c, has_chunk, needs_next, w_ahead, next_ahead);
    }
    float acc[XR];
    [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = 0.0;
    if (has_chunk && n < pc.N) {
      uint scale_group = 0xffffffffu;
      float scale = 0.0;
      for (uint j = j_begin; j < j_end; ++j) {
        uint index = index_in_chunk(w, next, j * BITS - c * 128u);
        uint first, split;
        vector_groups(j, first, split);
        if (first != scale_group) {
          scale_group = first;
          scale = scale_at(n, first);
        }
        uint base = j * VECTOR - k_first;
        if (LUT) {
          uint entry = base / VECTOR * LUT_PITCH + index;
          [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = fma(scale, lut[m * lut_row + entry], acc[m]);
          continue;
        }
        uint pattern = SHARED_CODEBOOK ? codebook[index] : global_codeword(index);
        float scale_hi = STRADDLES && split < VECTOR ? scale_at(n, first + 1u) : 0.0;
        [[unroll]] for (uint m = 0; m < XR; ++m) {
          float lo = 0.0, hi = 0.0;
          [[unroll]] for (uint i = 0; i < VECTOR; ++i) {
            float v = signed_value(pattern, i, xs[m * pc.x_stride + base + i]);
            if (!STRADDLES || i < split) {
              lo += v;
            } else {
              hi += v;
            }
          }
          acc[m] = fma(scale, lo, acc[m]);
          if (STRADDLES) acc[m] = fma(scale_hi, hi, acc[m]);
        }
      }
    }
    [[unroll]] for (uint m = 0; m < XR; ++m) sums[m * WG + tid] = acc[m];
    barrier();
    for (uint t = tid; t < rows_per_block * XR; t += WG) {
      uint r = t / XR, m = t - r * XR;
      uint out_n = b * rows_per_block + r;
      if (out_n < pc.N) {
        float total = 0.0;
        for (uint q = 0; q < c_end - c_first; ++q) total += sums[m * WG + r * per_row + q];
        uint64_t e = uint64_t(m) * pc.N + out_n;
        if (pc.splits == 1u) {
          store_float(DT, pc.out_addr + e * size, total);
        } else {
          Ptr32(pc.partials + (uint64_t(slice) * XR * pc.N + e) * 4u).v = floatBitsToUint(total);
        }
      }
    }
    barrier();
  }
}
