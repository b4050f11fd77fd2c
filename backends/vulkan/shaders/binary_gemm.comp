// BinaryMatmul, the portable tiled kernel: x @ W^T (TRANSPOSE) with more rows
// of x than the GEMV kernel takes, and x @ W (the vjp's orientation) at any
// size. A workgroup computes a BM x BN output tile from BK-deep slices: x's
// slice is copied to shared memory, W's is decoded there (an invocation per
// vector: index, codeword and scale read once, VECTOR weights written as
// float32), and each invocation keeps TM x TN float32 accumulators. Two
// layouts: 16 x 16 invocations of 4 x 4 (BM = BN = 64, rows and columns
// interleaved as in matmul_tiled.comp), and for at most 16 rows of x one row
// of 256 invocations of 16 x 1 (BM = 16, BN = 256: an invocation reads x's
// column as four 16-byte broadcasts and one weight per 16 multiply-adds).
//
// Split-K: when the output tiles are too few to fill the GPU, the
// contraction is cut into pc.splits pieces of pc.split_len (whole slices);
// piece s writes float32 partial sums to pc.partials[s], and
// binary_finish.comp adds them in piece order: deterministic.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const bool TRANSPOSE = true;
// Invocations along m: 16 (4 x 4 each) or 1 (16 x 1 each, few rows of x).
layout(constant_id = 3) const uint TY = 16;

const uint WG = gl_WorkGroupSize.x;  // 256
const bool NARROW = TY == 1u;
const uint TX = WG / TY;
const uint TM = NARROW ? 16u : 4u, TN = NARROW ? 1u : 4u;
const uint BM = TY * TM, BN = TX * TN;
// x @ W^T contracts over K in whole vectors; x @ W over rows of W.
const uint DEPTH = NARROW ? 16u : 32u;
const uint SLICE_VECTORS = VECTOR >= DEPTH ? 1u : DEPTH / VECTOR;
const uint BK = TRANSPOSE ? SLICE_VECTORS * VECTOR : DEPTH;
// x @ W: vectors of a row that can touch BN consecutive columns.
const uint SPAN_VECTORS = BN / VECTOR + 2u;
const uint A_PITCH = BM + 1, B_PITCH = BN;

// x's slice: [BK][A_PITCH] floats, or [BK][BM / 4] vec4 when NARROW.
shared float As[NARROW ? 1u : BK * A_PITCH];
shared vec4 As4[NARROW ? BK * BM / 4u : 1u];
shared float Bs[BK * B_PITCH];

// Small codebooks live in shared memory (1-bit: two entries read per weight).
const uint CODES = 1u << BITS;
const bool SHARED_CODEBOOK = CODES <= 256u;
shared uint codebook_s[SHARED_CODEBOOK ? CODES : 1u];

uint codeword(uint c) { return SHARED_CODEBOOK ? codebook_s[c] : global_codeword(c); }

// Vector jv of W's row n, decoded: the pattern and the scales of its two parts.
void decode_vector(uint n, uint jv, out uint pattern, out uint split, out float lo, out float hi) {
  pattern = codeword(read_index(n, jv));
  uint first;
  vector_groups(jv, first, split);
  lo = scale_at(n, first);
  hi = split < VECTOR ? scale_at(n, first + 1u) : lo;
}

// A decode task covers RUN vectors of a column: at least 8 weights where
// vectors are short (8 plain 1-bit signs from one or two word loads and one
// scale, not a load of each per weight).
const uint RUN = VECTOR >= 8u ? 1u : SLICE_VECTORS < 8u / VECTOR ? SLICE_VECTORS : 8u / VECTOR;
const uint RUNS = (SLICE_VECTORS + RUN - 1u) / RUN;

// W^T's slice: Bs[kk][j] = W[n0 + j, c0 + kk].
void decode_transposed(uint tid, uint n0, uint c0, uint c_end) {
  for (uint task = tid; task < BN * RUNS; task += WG) {
    uint q = task / BN, j = task - q * BN;  // neighbours write neighbouring columns
    uint n = n0 + j, v0 = q * RUN;
    uint count = min(RUN, SLICE_VECTORS - v0);
    // Vectors of the run inside the piece (c_end and c0 are whole vectors).
    uint live = n < pc.N && c0 + v0 * VECTOR < c_end ? min(count, (c_end - c0) / VECTOR - v0) : 0u;
    uint jv0 = c0 / VECTOR + v0;
    // The run's indices: RUN * BITS <= 8 bits from one 64-bit window.
    uint64_t window = 0ul;
    if (live > 0u) {
      uint bit = jv0 * BITS, word = bit >> 5, shift = bit & 31u;
      uint lo = Ptr32(index_word(n, word)).v;
      uint hi = shift + live * BITS > 32u ? Ptr32(index_word(n, word + 1u)).v : 0u;
      window = packUint2x32(uvec2(lo, hi)) >> shift;
    }
    uint scale_group = ~0u;
    float scale = 0.0;
    for (uint r = 0; r < count; ++r) {
      uint kbase = (v0 + r) * VECTOR;
      if (r >= live) {
        for (uint i = 0; i < VECTOR; ++i) Bs[(kbase + i) * B_PITCH + j] = 0.0;
        continue;
      }
      uint jv = jv0 + r;
      uint pattern = codeword(uint(window >> (r * BITS)) & INDEX_MASK);
      uint first, split;
      vector_groups(jv, first, split);
      if (first != scale_group) {
        scale_group = first;
        scale = scale_at(n, first);
      }
      float hi = split < VECTOR ? scale_at(n, first + 1u) : scale;
      for (uint i = 0; i < VECTOR; ++i) Bs[(kbase + i) * B_PITCH + j] = (i < split ? scale : hi) * sign_of(pattern, i);
    }
  }
}

// W's slice: Bs[kk][j] = W[c0 + kk, n0 + j] (columns past K are left as they
// are: they only reach outputs that are not stored).
void decode_plain(uint tid, uint n0, uint c0, uint c_end) {
  uint first_vec = n0 / VECTOR;
  uint last_vec = (min(n0 + BN, pc.K) - 1u) / VECTOR;
  for (uint task = tid; task < BK * SPAN_VECTORS; task += WG) {
    uint kk = task / SPAN_VECTORS, jv = first_vec + task - kk * SPAN_VECTORS;
    if (jv > last_vec) continue;
    uint n = c0 + kk;
    uint pattern = 0, split = VECTOR;
    float lo = 0.0, hi = 0.0;  // rows past the piece are zeros
    if (n < c_end) decode_vector(n, jv, pattern, split, lo, hi);
    for (uint i = 0; i < VECTOR; ++i) {
      uint col = jv * VECTOR + i;
      if (col >= n0 && col < n0 + BN) Bs[kk * B_PITCH + col - n0] = (i < split ? lo : hi) * sign_of(pattern, i);
    }
  }
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint tx = tid % TX, ty = tid / TX;
  uint size = dtype_size(DT);
  uint contraction = TRANSPOSE ? pc.K : pc.N;
  uint tiles_m = (pc.rows + BM - 1u) / BM, tiles_n = (pc.cols + BN - 1u) / BN;
  uint tiles = tiles_m * tiles_n * pc.splits;
  if (SHARED_CODEBOOK) {
    for (uint c = tid; c < CODES; c += WG) codebook_s[c] = global_codeword(c);
    barrier();
  }

  for (uint t = gl_WorkGroupID.x; t < tiles; t += gl_NumWorkGroups.x) {
    // Consecutive workgroups: the pieces of one tile, then the row tiles of
    // one column of W (sharing its decoded weights in the cache).
    uint piece = t % pc.splits, tile = t / pc.splits;
    uint tm = tile % tiles_m, tn = tile / tiles_m;
    uint m0 = tm * BM, n0 = tn * BN;
    uint c_begin = piece * pc.split_len, c_end = min(c_begin + pc.split_len, contraction);

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;

    for (uint c0 = c_begin; c0 < c_end; c0 += BK) {
      for (uint l = tid; l < BM * BK; l += WG) {
        uint i = l / BK, kk = l - i * BK;
        float v = 0.0;
        if (m0 + i < pc.rows && c0 + kk < c_end) {
          v = load_float(DT, pc.x + (uint64_t(m0 + i) * contraction + c0 + kk) * size);
        }
        if (NARROW) {
          As4[kk * (BM / 4u) + i / 4u][i % 4u] = v;
        } else {
          As[kk * A_PITCH + i] = v;
        }
      }
      if (TRANSPOSE) {
        decode_transposed(tid, n0, c0, c_end);
      } else {
        decode_plain(tid, n0, c0, c_end);
      }
      barrier();
      for (uint kk = 0; kk < BK; ++kk) {
        float av[TM], bv[TN];
        if (NARROW) {
          for (uint r = 0; r < TM; r += 4) {
            vec4 a = As4[kk * (BM / 4u) + r / 4u];
            av[r] = a.x;
            av[r + 1] = a.y;
            av[r + 2] = a.z;
            av[r + 3] = a.w;
          }
        } else {
          for (uint r = 0; r < TM; ++r) av[r] = As[kk * A_PITCH + ty + r * TY];
        }
        for (uint q = 0; q < TN; ++q) bv[q] = Bs[kk * B_PITCH + tx + q * TX];
        for (uint r = 0; r < TM; ++r) {
          for (uint q = 0; q < TN; ++q) acc[r * TN + q] = fma(av[r], bv[q], acc[r * TN + q]);
        }
      }
      barrier();
    }

    for (uint r = 0; r < TM; ++r) {
      uint i = m0 + ty + r * TY;
      if (i >= pc.rows) continue;
      for (uint q = 0; q < TN; ++q) {
        uint j = n0 + tx + q * TX;
        if (j >= pc.cols) continue;
        uint64_t e = uint64_t(i) * pc.cols + j;
        if (pc.splits == 1u) {
          store_float(DT, pc.out_addr + e * size, acc[r * TN + q]);
        } else {
          uint64_t at = uint64_t(piece) * pc.rows * pc.cols + e;
          Ptr32(pc.partials + at * 4u).v = floatBitsToUint(acc[r * TN + q]);
        }
      }
    }
  }
}
