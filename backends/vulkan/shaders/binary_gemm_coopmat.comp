// BinaryMatmul x @ W^T on tensor cores (GL_NV_cooperative_matrix): float16 x
// [M, K] against the packed weights, decoded tile by tile into shared memory
// as float16 (exact: scale * +-1 with a float16 scale) and multiplied there,
// float32 accumulators, one rounding to float16 at the end. The packed bytes
// are the only copy of W read: no float16 W in global memory.
//
// A workgroup of 8 subgroups computes a BM x BN tile of the output (BN
// weight rows), its subgroups laid out WARPS_M x WARPS_N, each FM x FN
// fragments. The contraction moves in slices of BK (128 or 64) elements,
// one scale per weight row (GROUP a multiple of BK). An invocation decodes
// RUNS runs of 8 weights of one row: the run's RUN_BITS index bits (from a
// window of 3 words: a run may start at any bit), its 8-bit sign pattern
// (one codeword, or 8 / VECTOR side by side), then 8 float16 values, each
// the scale with its sign bit flipped where the pattern bit is clear (two
// integer operations per pair). The next DEPTH slices' words, scales and x
// are in flight while one is decoded and multiplied. Split-K (pc.splits > 1):
// tile t % tiles takes piece t / tiles of the contraction (pc.split_len
// long) and writes float32 partial sums, which binary_finish.comp adds in
// piece order.
//
// Formats: VECTOR in {1, 2, 4, 8} with 8 / VECTOR * BITS = RUN_BITS at most
// 8 (the default v = 8, b = 6; the plain 1-bit format), GROUP and K
// multiples of BK (kernels/binary_matmul.cpp checks).
// Portable counterpart: binary_gemm.comp. Built a second time with
// PORTABLE=1 (module binary_gemm_decoded): the same decoding and tiles, the
// products by plain float32 multiply-adds from shared memory, so that
// devices without cooperative matrices (lavapipe) test the decoder
// (LUMEN_VULKAN_BINARY_COOP_PORTABLE=1).
#version 460
#extension GL_GOOGLE_include_directive : require
#ifndef PORTABLE
#define PORTABLE 0
#endif
#if !PORTABLE
#extension GL_KHR_memory_scope_semantics : require
#extension GL_NV_cooperative_matrix : require
#endif
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F16;
layout(constant_id = 2) const uint CM_M = 16;
layout(constant_id = 3) const uint CM_N = 16;
layout(constant_id = 4) const uint CM_K = 16;
layout(constant_id = 5) const uint WARPS_M = 1;
layout(constant_id = 6) const uint FM = 1;
layout(constant_id = 7) const uint FN = 1;
// (8 to 10: VECTOR, BITS, GROUP of binary_format.glsl)
// Codebook entries (2^BITS) kept in shared memory.
layout(constant_id = 11) const uint CODES = 64;
// Slices whose loads (words, scale, x) are in flight ahead of the one
// decoded and multiplied.
layout(constant_id = 12) const uint DEPTH = 2;
// Elements of a slice of the contraction: 128 or 64, inside one scale group.
layout(constant_id = 13) const uint BK = 128;
// XCHUNK > 0 (one subgroup along M with one fragment each, e.g. the 16 x 128
// tile): x is staged XCHUNK slices at a time (two workgroup barriers per
// chunk), and each subgroup decodes exactly the 16 weight rows it multiplies
// into its own rows of W's tile, so a slice needs only subgroup barriers:
// the subgroups go at their own pace between chunks. XCHUNK is a multiple of
// DEPTH. 0: x and W staged per slice, two workgroup barriers per slice.
layout(constant_id = 14) const uint XCHUNK = 0;
// MEASUREMENT (wrong results): bit 0 skips the tensor-core products, bit 1
// the decoding (the words still loaded), bit 2 the slices' barriers.
layout(constant_id = 15) const uint PROBE = 0;
// Decoding by a table of the 8 halves' sign bits per 8-bit pattern (one
// 16-byte shared read and four XORs per run) instead of shifts of the
// pattern (a shift and a logic operation per pair).
layout(constant_id = 16) const bool SIGN_TABLE = false;
// KSPLIT 2, 4 or 8 (tensor-core build, one subgroup along M, two fragments
// along N: 32 weight rows a subgroup): the subgroups come in KSPLIT groups,
// each taking its part of every slice's contraction for the same weight rows
// (each x fragment read once per two products: half the x reads of shared
// memory; 4 or 8: 64- or 32-row tiles, more tiles); the groups' sums are
// added at the end. An invocation then decodes its part of one row's slice.
layout(constant_id = 17) const uint KSPLIT = 1;
// Decoding invocations laid out row-fastest within a subgroup (the 8 stores
// of a 16-byte phase go to 8 rows: no bank conflicts), not part-fastest.
layout(constant_id = 18) const bool ROW_LANES = false;
// STREAM (stream-K): the tiles' slices, tile after tile, dealt out evenly
// in contiguous runs to the workgroups (as many as the GPU holds at once):
// a workgroup takes the end of one tile, whole tiles, the start of another,
// each piece's float32 sums written to the slot of its place among the
// tile's workgroups (binary_finish.comp adds the slots in order).
layout(constant_id = 19) const bool STREAM = false;
// STAGES 2 (XCHUNK 0, DEPTH 2): x's and W's tiles double-buffered: slice
// s + 1 is decoded into one buffer while slice s is multiplied from the
// other, one workgroup barrier per slice (the decoding and the products of
// consecutive slices overlap).
layout(constant_id = 20) const uint STAGES = 1;
// ACC2 (tensor-core build): alternate fragments of a slice's contraction
// into two accumulators (two independent chains of products), added at the end.
layout(constant_id = 21) const bool ACC2 = false;

layout(buffer_reference, std430, buffer_reference_align = 4) readonly restrict buffer WordPtr { uint v; };
layout(buffer_reference, std430, buffer_reference_align = 2) readonly restrict buffer HalfPtr { uint16_t v; };
layout(buffer_reference, std430, buffer_reference_align = 16) readonly restrict buffer QuadPtr { uvec4 v; };

const uint WG = gl_WorkGroupSize.x;  // 256: 8 subgroups of 32
const uint WARPS_N = WG / 32u / WARPS_M / KSPLIT;
const uint WM = FM * CM_M, WN = FN * CM_N;
const uint BM = WARPS_M * WM, BN = WARPS_N * WN;
const uint UNIT = 8;  // float16 per 16-byte shared unit
// Index bits per run of 8 weights.
const uint PER_RUN = 8u / VECTOR;
const uint RUN_BITS = PER_RUN * BITS;
// Decoding: THREADS_PER_ROW invocations per weight row of the tile, RUNS runs each.
const uint THREADS_PER_ROW = WG / BN;
const uint RUNS = BK / 8u / THREADS_PER_ROW;
// x's slice (or chunk of XCHUNK slices): BM rows of XK float16 in X_CHUNKS
// 16-byte chunks, CHUNKS_X per invocation (the last round partial: 16 x 64
// is half a round).
const uint XK = XCHUNK > 0u ? XCHUNK * BK : BK;
const uint X_CHUNKS = BM * XK / UNIT;
const uint CHUNKS_X = (X_CHUNKS + WG - 1u) / WG;

// Shared tiles in 16-byte units, rows padded by one unit (the 8 rows a
// fragment load reads at once fall in distinct banks): x [BM][XK], W [BN][BK].
const uint PITCH = BK / UNIT + 1u, X_PITCH = XK / UNIT + 1u;
const uint X_UNITS = BM * X_PITCH, W_UNITS = BN * PITCH;
const uint FRAG_UNITS = CM_M * CM_N / 4u;  // a float32 fragment, for the epilogue
const uint STAGE_UNITS = X_UNITS + W_UNITS;  // one buffer of x's and W's tiles
const uint TILE_UNITS = STAGES * STAGE_UNITS;
// The epilogue's scratch fragments (a subgroup's each, or KSPLIT's groups' sums).
const uint SPLIT_UNITS = (KSPLIT - 1u) * WARPS_M * WARPS_N * FM * FN * FRAG_UNITS;
const uint EPI_UNITS = WG / 32u * FRAG_UNITS > SPLIT_UNITS ? WG / 32u * FRAG_UNITS : SPLIT_UNITS;
shared uvec4 smem[TILE_UNITS > EPI_UNITS ? TILE_UNITS : EPI_UNITS];
// Codeword c's sign pattern, inverted (a set bit: element negative), and the
// same shifted left by 15: the spread form the decoder shifts per pair.
shared uint spread[CODES];
// SIGN_TABLE: per inverted 8-bit pattern, the sign bits of its 8 halves.
shared uvec4 sign_bits[SIGN_TABLE ? 256 : 1];

const bool PLAIN = VECTOR == 1u && BITS == 1u;

// The run's inverted pattern, spread: bit i of ~pattern at bit i and i + 15.
uint run_spread(uint bits) {
  if (PER_RUN == 1u) return spread[bits];
  uint p = 0;
  if (PLAIN) {
    // Each bit picks codeword 0 or 1 (inverted bit 0 of each, kept in spread).
    p = (bits & (spread[1] != 0u ? 0xffu : 0u)) | (~bits & (spread[0] != 0u ? 0xffu : 0u));
  } else {
    [[unroll]] for (uint q = 0; q < PER_RUN; ++q) {
      p |= spread[(bits >> (q * BITS)) & INDEX_MASK] << (q * VECTOR);
    }
  }
  return p | (p << 15);
}

// An invocation's runs: SPAN_BITS bits of its row from bit span_start(),
// held in LANE_WORDS words from the one holding that bit.
const uint SPAN_BITS = RUNS * RUN_BITS;  // at most 64
const uint LANE_WORDS = 3;
uint span_start(uint part, uint k0) { return k0 / 8u * RUN_BITS + part * SPAN_BITS; }

// This invocation's words of its weight row (the row clamped to N - 1: rows
// past N decode a real row and are never stored; words past the row
// clamped to its last) and the row's scale bits for the slice at k0.
void load_row(uint n, uint part, uint k0, out uint words[LANE_WORDS], out uint scale) {
  n = min(n, pc.N - 1u);
  uint first = span_start(part, k0) / 32u;
  [[unroll]] for (uint q = 0; q < LANE_WORDS; ++q) words[q] = WordPtr(index_word(n, min(first + q, pc.words - 1u))).v;
  scale = uint(HalfPtr(scale_address(n, k0 / GROUP)).v);
}

// x's slice (chunk) at k0, up to k_end.
void load_x(uint tid, uint m0, uint k0, uint k_end, out uvec4 xr[CHUNKS_X]) {
  [[unroll]] for (uint l = 0; l < CHUNKS_X; ++l) {
    uint e = tid + l * WG, r = e / (XK / UNIT), c = e % (XK / UNIT);
    uint m = m0 + r, k = k0 + c * UNIT;
    xr[l] = m < pc.rows && e < X_CHUNKS && k < k_end ? QuadPtr(pc.x + (uint64_t(m) * pc.K + k) * 2u).v : uvec4(0);
  }
}

// (buf: the buffer's first unit, STAGES.)
void store_x(uint tid, uint buf, uvec4 xr[CHUNKS_X]) {
  [[unroll]] for (uint l = 0; l < CHUNKS_X; ++l) {
    uint e = tid + l * WG;
    if (e < X_CHUNKS) smem[buf + e / (XK / UNIT) * X_PITCH + e % (XK / UNIT)] = xr[l];
  }
}

// The row of W's tile this invocation decodes and its part of the slice:
// part-fastest (tid / THREADS_PER_ROW), row-fastest in a subgroup of 32
// (ROW_LANES), or with KSPLIT a subgroup's 32 rows, its group's part of
// the slice.
void decode_slot(uint tid, out uint row, out uint part) {
  uint warp = tid / 32u, lane = tid % 32u;
  if (KSPLIT > 1u) {
    row = warp % (WARPS_M * WARPS_N) * WN + lane;
    part = warp / (WARPS_M * WARPS_N);
  } else if (ROW_LANES && PORTABLE == 0) {
    const uint ROWS_PER_WARP = 32u / THREADS_PER_ROW;
    row = warp * ROWS_PER_WARP + lane % ROWS_PER_WARP;
    part = lane / ROWS_PER_WARP;
  } else {
    row = tid / THREADS_PER_ROW;
    part = tid % THREADS_PER_ROW;
  }
}

// Decodes this invocation's runs of its row into W's tile.
void decode(uint tid, uint buf, uint k0, uint words[LANE_WORDS], uint scale) {
  uint row, part;
  decode_slot(tid, row, part);
  uint shift = span_start(part, k0) % 32u;
  // The span's bits from bit 0 of (lo, hi).
  uint lo = uint(packUint2x32(uvec2(words[0], words[1])) >> shift);
  uint hi = uint(packUint2x32(uvec2(words[1], words[2])) >> shift);
  uint base = scale | (scale << 16);
  [[unroll]] for (uint r = 0; r < RUNS; ++r) {
    uint bit = r * RUN_BITS;  // a constant once unrolled
    uint bits = bit >= 32u ? hi >> (bit - 32u) : bit + RUN_BITS > 32u ? (lo >> bit) | (hi << (32u - bit)) : lo >> bit;
    uint s = run_spread(bits & ((1u << RUN_BITS) - 1u));
    uvec4 v;
    if (SIGN_TABLE) {
      v = uvec4(base) ^ sign_bits[s & 0xffu];
    } else {
      // Pair j: bit 2j of ~pattern to bit 15, bit 2j + 1 (at 2j + 16 in the
      // shifted copy) to bit 31.
      v.x = base ^ ((s << 15) & 0x80008000u);
      v.y = base ^ ((s << 13) & 0x80008000u);
      v.z = base ^ ((s << 11) & 0x80008000u);
      v.w = base ^ ((s << 9) & 0x80008000u);
    }
    smem[buf + X_UNITS + row * PITCH + part * RUNS + r] = v;
  }
}

// Output (m, n): rounded into out, or a float32 partial sum of the piece
// (binary_finish.comp adds the pieces in order).
void store_result(uint piece, uint m, uint n, float v) {
  if (pc.splits == 1u) {
    store_float(DT, pc.out_addr + (uint64_t(m) * pc.N + n) * 2u, v);
  } else {
    Ptr32(pc.partials + ((uint64_t(piece) * pc.rows + m) * pc.N + n) * 4u).v = floatBitsToUint(v);
  }
}

#if PORTABLE
// Outputs per invocation: rows tid % THREADS_PER_ROW + i * THREADS_PER_ROW of
// x against weight row tid / THREADS_PER_ROW, the row it decodes itself (so
// XCHUNK's subgroup barriers cover what it reads).
const uint OUTS = BM / THREADS_PER_ROW;
#define ACC float acc[OUTS]
#else
// (ACC2: fragments FN .. 2 FN - 1 the second chain's.)
const uint ACC_N = ACC2 ? 2u * FN : FN;
#define ACC fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N> acc[FM][ACC_N]
#endif

// The products of W's tile with x's slice at unit column xcol of x's tile
// (in the buffer at unit buf).
void slice_products(uint tid, uint buf, uint xcol, inout ACC) {
  if ((PROBE & 1u) != 0u) return;
#if PORTABLE
  // (Plain loops: a test path, kept quick to compile.)
  uint n = tid / THREADS_PER_ROW;
  for (uint i = 0; i < OUTS; ++i) {
    uint m = tid % THREADS_PER_ROW + i * THREADS_PER_ROW;
    for (uint u = 0; u < BK / UNIT; ++u) {
      uvec4 a = smem[buf + m * X_PITCH + xcol + u], b = smem[buf + X_UNITS + n * PITCH + u];
      for (uint q = 0; q < 4u; ++q) {
        vec2 xa = unpackHalf2x16(a[q]), wb = unpackHalf2x16(b[q]);
        acc[i] = fma(xa.x, wb.x, acc[i]);
        acc[i] = fma(xa.y, wb.y, acc[i]);
      }
    }
  }
#else
  uint warp = gl_SubgroupID, wm = warp % (WARPS_M * WARPS_N) / WARPS_N, wn = warp % WARPS_N;
  uint k_first = warp / (WARPS_M * WARPS_N) * (BK / KSPLIT);
  [[unroll]] for (uint q = 0; q < BK / KSPLIT / CM_K; ++q) {
    uint kk = k_first + q * CM_K;
    uint chain = ACC2 ? q % 2u * FN : 0u;
    fcoopmatNV<16, gl_ScopeSubgroup, CM_M, CM_K> fa[FM];
    [[unroll]] for (uint i = 0; i < FM; ++i) {
      coopMatLoadNV(fa[i], smem, buf + (wm * WM + i * CM_M) * X_PITCH + xcol + kk / UNIT, X_PITCH, false);
    }
    [[unroll]] for (uint j = 0; j < FN; ++j) {
      fcoopmatNV<16, gl_ScopeSubgroup, CM_K, CM_N> fb;
      coopMatLoadNV(fb, smem, buf + X_UNITS + (wn * WN + j * CM_N) * PITCH + kk / UNIT, PITCH, true);
      [[unroll]] for (uint i = 0; i < FM; ++i) acc[i][chain + j] = coopMatMulAddNV(fa[i], fb, acc[i][chain + j]);
    }
  }
#endif
}

// Between a subgroup's stores to its own rows of W's tile and its reads.
void subgroup_sync() {
  subgroupMemoryBarrierShared();
  subgroupBarrier();
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  uint wm = warp % (WARPS_M * WARPS_N) / WARPS_N, wn = warp % WARPS_N;
  for (uint c = tid; c < CODES; c += WG) {
    uint p = ~global_codeword(c) & ((1u << VECTOR) - 1u);
    spread[c] = PER_RUN == 1u ? p | (p << 15) : p;
  }
  if (SIGN_TABLE) {
    for (uint p = tid; p < 256u; p += WG) {
      uvec4 v;
      [[unroll]] for (uint q = 0; q < 4u; ++q) v[q] = (((p >> (2u * q)) & 1u) << 15) | (((p >> (2u * q + 1u)) & 1u) << 31);
      sign_bits[p] = v;
    }
  }
  uint tiles_m = (pc.rows + BM - 1u) / BM, tiles_n = (pc.N + BN - 1u) / BN;
  uint tiles = tiles_m * tiles_n;
  uint row, part;
  decode_slot(tid, row, part);
  uint dummy = 0;  // PROBE bit 1: the words folded here, so that they are loaded

  // Items: split-K, piece t / tiles of tile t % tiles (pc.split_len long),
  // every gl_NumWorkGroups.x-th t; or STREAM, this workgroup's run of the
  // tiles' slices [item, item_end), a piece per tile it touches.
  uint wg = gl_WorkGroupID.x, groups = gl_NumWorkGroups.x;
  uint slices = (pc.K + BK - 1u) / BK;
  uint64_t units = uint64_t(tiles) * slices;
  uint item = STREAM ? uint(uint64_t(wg) * units / groups) : wg;
  uint item_end = STREAM ? uint(uint64_t(wg + 1u) * units / groups) : tiles * pc.splits;
  while (item < item_end) {
    uint tile, piece, k_begin, k_end;
    if (STREAM) {
      tile = item / slices;
      uint end = min(item_end, (tile + 1u) * slices);
      k_begin = (item - tile * slices) * BK;
      k_end = min(pc.K, (end - tile * slices) * BK);
      // The first workgroup whose run holds slice 0 of the tile.
      uint first = uint(((uint64_t(tile) * slices + 1u) * groups + units - 1u) / units) - 1u;
      piece = wg - first;
      item = end;
    } else {
      tile = item % tiles;
      piece = item / tiles;
      k_begin = piece * pc.split_len;
      k_end = min(pc.K, k_begin + pc.split_len);
      item += groups;
    }
    uint m0 = tile % tiles_m * BM, n0 = tile / tiles_m * BN;
    ACC;
#if PORTABLE
    [[unroll]] for (uint i = 0; i < OUTS; ++i) acc[i] = 0.0;
#else
    [[unroll]] for (uint i = 0; i < FM; ++i) {
      [[unroll]] for (uint j = 0; j < ACC_N; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N>(0.0);
    }
#endif
    uint words[DEPTH][LANE_WORDS];
    uint scale[DEPTH];
    uvec4 xr[XCHUNK > 0u ? 1u : DEPTH][CHUNKS_X];
    [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
      if (k_begin + d * BK < k_end) {
        load_row(n0 + row, part, k_begin + d * BK, words[d], scale[d]);
        if (XCHUNK == 0u) load_x(tid, m0, k_begin + d * BK, k_end, xr[d]);
      }
    }
    if (XCHUNK > 0u) load_x(tid, m0, k_begin, k_end, xr[0]);
    barrier();  // the codebook (first tile), the previous tile's epilogue
    if (XCHUNK > 0u) {
      // Chunks of x; each subgroup decodes and multiplies its own rows of W.
      for (uint kc = k_begin; kc < k_end; kc += XK) {
        store_x(tid, 0u, xr[0]);
        if (kc + XK < k_end) load_x(tid, m0, kc + XK, k_end, xr[0]);
        barrier();  // x's chunk is stored
        for (uint i0 = 0; i0 < XCHUNK; i0 += DEPTH) {
          [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
            uint k0 = kc + (i0 + d) * BK;
            if (k0 < k_end) {
              if ((PROBE & 2u) != 0u) {
                dummy ^= words[d][0] ^ words[d][LANE_WORDS - 1u] ^ scale[d];
              } else {
                decode(tid, 0u, k0, words[d], scale[d]);
              }
              if (k0 + DEPTH * BK < k_end) load_row(n0 + row, part, k0 + DEPTH * BK, words[d], scale[d]);
              if ((PROBE & 4u) == 0u) subgroup_sync();
              slice_products(tid, 0u, (i0 + d) * (BK / UNIT), acc);
              if ((PROBE & 4u) == 0u) subgroup_sync();  // before the next slice's stores
            }
          }
        }
        barrier();  // every subgroup is done with x's chunk
      }
    } else if (STAGES == 2u) {
      // Slice s in buffer s % 2 (= its loads' ring slot: DEPTH is 2); the
      // first decoded before the loop, each next one beside the products.
      decode(tid, 0u, k_begin, words[0], scale[0]);
      store_x(tid, 0u, xr[0]);
      if (k_begin + 2u * BK < k_end) {
        load_row(n0 + row, part, k_begin + 2u * BK, words[0], scale[0]);
        load_x(tid, m0, k_begin + 2u * BK, k_end, xr[0]);
      }
      barrier();
      for (uint k1 = k_begin; k1 < k_end; k1 += 2u * BK) {
        [[unroll]] for (uint d = 0; d < 2u; ++d) {
          uint k0 = k1 + d * BK, kn = k0 + BK, other = 1u - d;
          if (k0 < k_end) {
            if (kn < k_end) {
              decode(tid, other * STAGE_UNITS, kn, words[other], scale[other]);
              store_x(tid, other * STAGE_UNITS, xr[other]);
              if (kn + 2u * BK < k_end) {
                load_row(n0 + row, part, kn + 2u * BK, words[other], scale[other]);
                load_x(tid, m0, kn + 2u * BK, k_end, xr[other]);
              }
            }
            slice_products(tid, d * STAGE_UNITS, 0u, acc);
            barrier();  // slice k0's buffer is free, slice kn's is written
          }
        }
      }
    } else {
      for (uint k1 = k_begin; k1 < k_end; k1 += DEPTH * BK) {
        [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
          uint k0 = k1 + d * BK;
          if (k0 < k_end) {
            if ((PROBE & 2u) != 0u) {
              dummy ^= words[d][0] ^ words[d][LANE_WORDS - 1u] ^ scale[d];
            } else {
              decode(tid, 0u, k0, words[d], scale[d]);
            }
            store_x(tid, 0u, xr[d]);
            if (k0 + DEPTH * BK < k_end) {
              load_row(n0 + row, part, k0 + DEPTH * BK, words[d], scale[d]);
              load_x(tid, m0, k0 + DEPTH * BK, k_end, xr[d]);
            }
            if ((PROBE & 4u) == 0u) barrier();
            slice_products(tid, 0u, 0u, acc);
            if ((PROBE & 4u) == 0u) barrier();  // every subgroup is done with the slice
          }
        }
      }
    }

#if PORTABLE
    [[unroll]] for (uint i = 0; i < OUTS; ++i) {
      uint m = m0 + tid % THREADS_PER_ROW + i * THREADS_PER_ROW, n = n0 + tid / THREADS_PER_ROW;
      if (m < pc.rows && n < pc.N) store_result(piece, m, n, acc[i] + (dummy == 0x9e3779b9u ? 1.0 : 0.0));
    }
#else
    if (ACC2) {
      [[unroll]] for (uint i = 0; i < FM; ++i) {
        [[unroll]] for (uint j = 0; j < FN; ++j) acc[i][j] = acc[i][j] + acc[i][FN + j];
      }
    }
    const uint TILE_WARPS = WARPS_M * WARPS_N;
    if (KSPLIT > 1u) {
      // The other groups' sums through shared memory into the first's, in
      // group order.
      barrier();  // every subgroup is done with the tiles
      uint group = warp / TILE_WARPS, slot = warp % TILE_WARPS * FM * FN;
      if (group > 0u) {
        [[unroll]] for (uint i = 0; i < FM; ++i) {
          [[unroll]] for (uint j = 0; j < FN; ++j) {
            uint at = ((group - 1u) * TILE_WARPS * FM * FN + slot + i * FN + j) * FRAG_UNITS;
            coopMatStoreNV(acc[i][j], smem, at, CM_N / 4u, false);
          }
        }
      }
      barrier();
      if (group == 0u) {
        [[unroll]] for (uint g = 1; g < KSPLIT; ++g) {
          [[unroll]] for (uint i = 0; i < FM; ++i) {
            [[unroll]] for (uint j = 0; j < FN; ++j) {
              fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N> other;
              uint at = ((g - 1u) * TILE_WARPS * FM * FN + slot + i * FN + j) * FRAG_UNITS;
              coopMatLoadNV(other, smem, at, CM_N / 4u, false);
              acc[i][j] = acc[i][j] + other;
            }
          }
        }
      }
      barrier();  // the scratch below reuses those sums' memory
    }
    // Out through this subgroup's scratch fragment (with XCHUNK its own rows
    // of W's tile: other subgroups may still read x): each invocation writes
    // a run of RUN consecutive elements of one fragment row.
    const uint RUN = CM_M * CM_N / 32u;
    uint scratch = XCHUNK > 0u && KSPLIT == 1u ? X_UNITS + warp * WN * PITCH : warp * FRAG_UNITS;
    uint fr = lane / (CM_N / RUN), fc = lane % (CM_N / RUN) * RUN;
    if (warp < TILE_WARPS) [[unroll]] for (uint i = 0; i < FM; ++i) {
      [[unroll]] for (uint j = 0; j < FN; ++j) {
        coopMatStoreNV(acc[i][j], smem, scratch, CM_N / 4u, false);
        subgroup_sync();
        uint m = m0 + wm * WM + i * CM_M + fr, n = n0 + wn * WN + j * CM_N + fc;
        [[unroll]] for (uint q = 0; q < RUN; ++q) {
          float v = uintBitsToFloat(smem[scratch + (fr * CM_N + fc + q) / 4u][(fc + q) % 4u]);
          if (dummy == 0x9e3779b9u) v += 1.0;
          if (m < pc.rows && n + q < pc.N) store_result(piece, m, n + q, v);
        }
        subgroupBarrier();
      }
    }
#endif
    barrier();  // the scratch is the next tile's x and W
  }
}
