// Tensor-core matrix product through GL_NV_cooperative_matrix (float16 x
// float16 -> float32). A workgroup of 8 subgroups (of 32) computes a BM x BN
// output tile, its subgroups laid out WARPS_M x WARPS_N, each subgroup an
// FM x FN block of CM_M x CM_N fragments. A and B move through shared memory
// in BK-deep slices as float16. Global loads run ahead of the products in
// registers: with STAGES == 1 one slice ahead (two barriers per slice); with
// STAGES == 2 the tile is double-buffered (one barrier per slice) and the
// loads run PREFETCH (1 or 2) slices ahead, enough to cover the latency of
// global memory. kernels/matmul_coopmat.cpp picks the tile shape.
//
// FULL (every tile whole, K a multiple of BK, 16-byte loads on both
// operands) drops the bounds checks and walks each load's address with one
// add per slice.
//
// bfloat16 (SCALED): A and B arrive as float16 copies whose rows of A and
// columns of B were multiplied by a power of two that makes every element
// exact (matmul_scales.comp, matmul_convert.comp), so the products and their
// float32 sums are those of the bfloat16 values up to the power of two,
// undone here at the end. A tile holding a line with no such power is left
// to matmul_tiled.comp.
//
// Portable counterpart: matmul_tiled.comp (devices without the extension).
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require

#include "matmul.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F16;  // DT_F16 or DT_BF16
// The fragment shape the device offers: 16 x 16 x 16 or 16 x 8 x 16.
layout(constant_id = 2) const uint CM_M = 16;
layout(constant_id = 3) const uint CM_N = 16;
layout(constant_id = 4) const uint CM_K = 16;
// Shared A is [m][k] when A's rows are contiguous (a_cs == 1), else [k][m];
// shared B is [k][n] when B's rows are contiguous, else [n][k].
layout(constant_id = 5) const bool A_ALONG_K = true;
layout(constant_id = 6) const bool B_ALONG_N = true;
// 16-byte loads along the contiguous axis (aligned rows, unit stride).
layout(constant_id = 7) const bool VEC_A = false;
layout(constant_id = 8) const bool VEC_B = false;
layout(constant_id = 9) const bool HAS_C = false;
layout(constant_id = 10) const bool SCALED = false;
// Tile shape (see the header).
layout(constant_id = 11) const uint WARPS_M = 2;
layout(constant_id = 12) const uint FM = 4;
layout(constant_id = 13) const uint FN = 2;
layout(constant_id = 14) const uint BK = 32;
layout(constant_id = 15) const uint STAGES = 2;
layout(constant_id = 16) const bool FULL = false;
// 16-byte stores of the output (FULL, no C, output address 16-byte aligned).
layout(constant_id = 17) const bool VEC_OUT = false;
layout(constant_id = 18) const uint PREFETCH = 1;

const uint WG = gl_WorkGroupSize.x;  // 256
const uint WARPS_N = WG / 32 / WARPS_M;
const uint WM = FM * CM_M, WN = FN * CM_N;  // a subgroup's part of the tile
const uint BM = WARPS_M * WM, BN = WARPS_N * WN;

// Shared tiles in 16-byte units (UNIT = 8 float16), rows padded by 8
// elements so that the 8 rows a fragment load reads at once hit distinct
// banks.
const uint UNIT = 8;
const uint A_ROWS = A_ALONG_K ? BM : BK;
const uint A_COLS = A_ALONG_K ? BK : BM;
const uint A_PITCH = (A_COLS + UNIT) / UNIT;
const uint B_ROWS = B_ALONG_N ? BK : BN;
const uint B_COLS = B_ALONG_N ? BN : BK;
const uint B_PITCH = (B_COLS + UNIT) / UNIT;
const uint A_STAGE = A_ROWS * A_PITCH, B_STAGE = B_ROWS * B_PITCH;
const uint A_CHUNKS = A_ROWS * A_COLS / UNIT / WG;
const uint B_CHUNKS = B_ROWS * B_COLS / UNIT / WG;
// The epilogue reuses the tiles: per subgroup one float32 fragment.
const uint FRAG_UNITS = CM_M * CM_N / 4;
const uint TILE_UNITS = STAGES * (A_STAGE + B_STAGE);
const uint EPI_UNITS = WG / 32 * FRAG_UNITS;
const uint SMEM_UNITS = TILE_UNITS > EPI_UNITS ? TILE_UNITS : EPI_UNITS;

shared uvec4 smem[SMEM_UNITS];  // A stages, then B stages
shared int a_scale[BM];
shared int b_scale[BN];
shared uint tile_exact;

// Eight consecutive elements along a tile's contiguous axis: row r of rows
// (stride rs, extent r_ext), columns c..c+7 (stride cs, extent c_ext); zero
// outside the matrix.
uvec4 load_chunk(uint64_t base, uint r, uint c, int64_t rs, int64_t cs, uint r_ext, uint c_ext, bool vec) {
  if (r >= r_ext) return uvec4(0);
  int64_t row = int64_t(r) * rs;
  if (vec && c + 8 <= c_ext) return Ptr4x32(base + uint64_t((row + int64_t(c)) * 2)).v;
  uvec4 w = uvec4(0);
  [[unroll]] for (uint q = 0; q < 8; ++q) {
    uint h = c + q < c_ext ? uint(Ptr16(base + uint64_t((row + int64_t(c + q) * cs) * 2)).v) : 0u;
    w[q / 2] |= h << (16 * (q % 2));
  }
  return w;
}

// Where chunk l of this invocation sits in its tile: row, and column / 8.
uvec2 a_chunk_pos(uint tid, uint l) {
  uint e = tid + l * WG;
  return uvec2(e / (A_COLS / UNIT), e % (A_COLS / UNIT));
}
uvec2 b_chunk_pos(uint tid, uint l) {
  uint e = tid + l * WG;
  return uvec2(e / (B_COLS / UNIT), e % (B_COLS / UNIT));
}

// Byte addresses of this invocation's chunks at k = 0 of a FULL tile.
void chunk_addresses(uint tid, uint m0, uint n0, uint64_t a_base, uint64_t b_base, MatrixStrides ms,
                     out uint64_t pa[A_CHUNKS], out uint64_t pb[B_CHUNKS]) {
  [[unroll]] for (uint l = 0; l < A_CHUNKS; ++l) {
    uvec2 p = a_chunk_pos(tid, l);
    int64_t e = A_ALONG_K ? int64_t(m0 + p.x) * ms.a_rs + int64_t(p.y * UNIT)
                          : int64_t(p.x) * ms.a_cs + int64_t(m0 + p.y * UNIT);
    pa[l] = a_base + uint64_t(e * 2);
  }
  [[unroll]] for (uint l = 0; l < B_CHUNKS; ++l) {
    uvec2 p = b_chunk_pos(tid, l);
    int64_t e = B_ALONG_N ? int64_t(p.x) * ms.b_rs + int64_t(n0 + p.y * UNIT)
                          : int64_t(n0 + p.x) * ms.b_cs + int64_t(p.y * UNIT);
    pb[l] = b_base + uint64_t(e * 2);
  }
}

// Loads this invocation's chunks of the A and B slices at depth k0.
void load_slices(uint tid, uint m0, uint n0, uint k0, uint64_t a_base, uint64_t b_base, MatrixStrides ms,
                 uint64_t pa[A_CHUNKS], uint64_t pb[B_CHUNKS], out uvec4 ra[A_CHUNKS], out uvec4 rb[B_CHUNKS]) {
  if (FULL) {
    uint64_t da = uint64_t(int64_t(k0) * (A_ALONG_K ? 1 : ms.a_cs) * 2);
    uint64_t db = uint64_t(int64_t(k0) * (B_ALONG_N ? ms.b_rs : 1) * 2);
    [[unroll]] for (uint l = 0; l < A_CHUNKS; ++l) ra[l] = Ptr4x32(pa[l] + da).v;
    [[unroll]] for (uint l = 0; l < B_CHUNKS; ++l) rb[l] = Ptr4x32(pb[l] + db).v;
    return;
  }
  [[unroll]] for (uint l = 0; l < A_CHUNKS; ++l) {
    uvec2 p = a_chunk_pos(tid, l);
    uint row = p.x, c = p.y * UNIT;
    ra[l] = A_ALONG_K ? load_chunk(a_base, m0 + row, k0 + c, ms.a_rs, ms.a_cs, pc.M, pc.K, VEC_A)
                      : load_chunk(a_base, k0 + row, m0 + c, ms.a_cs, ms.a_rs, pc.K, pc.M, VEC_A);
  }
  [[unroll]] for (uint l = 0; l < B_CHUNKS; ++l) {
    uvec2 p = b_chunk_pos(tid, l);
    uint row = p.x, c = p.y * UNIT;
    rb[l] = B_ALONG_N ? load_chunk(b_base, k0 + row, n0 + c, ms.b_rs, ms.b_cs, pc.K, pc.N, VEC_B)
                      : load_chunk(b_base, n0 + row, k0 + c, ms.b_cs, ms.b_rs, pc.N, pc.K, VEC_B);
  }
}

void store_slices(uint tid, uint stage, uvec4 ra[A_CHUNKS], uvec4 rb[B_CHUNKS]) {
  uint a_off = stage * A_STAGE, b_off = STAGES * A_STAGE + stage * B_STAGE;
  [[unroll]] for (uint l = 0; l < A_CHUNKS; ++l) {
    uvec2 p = a_chunk_pos(tid, l);
    smem[a_off + p.x * A_PITCH + p.y] = ra[l];
  }
  [[unroll]] for (uint l = 0; l < B_CHUNKS; ++l) {
    uvec2 p = b_chunk_pos(tid, l);
    smem[b_off + p.x * B_PITCH + p.y] = rb[l];
  }
}

// Reads the tile's line scales; false when one of them is inexact.
bool load_scales(uint tid, uint bi, uint m0, uint n0) {
  if (tid == 0) tile_exact = 1;
  barrier();
  Int32Table s = Int32Table(pc.scales);
  for (uint r = tid; r < BM; r += WG) {
    int v = m0 + r < pc.M ? s.v[bi * pc.M + m0 + r] : 0;
    if (v == SCALE_INEXACT) tile_exact = 0;
    a_scale[r] = v;
  }
  for (uint c = tid; c < BN; c += WG) {
    int v = n0 + c < pc.N ? s.v[pc.batch * pc.M + bi * pc.N + n0 + c] : 0;
    if (v == SCALE_INEXACT) tile_exact = 0;
    b_scale[c] = v;
  }
  barrier();
  bool exact = tile_exact != 0;
  barrier();
  return exact;
}

// out = alpha * v + beta * c, rounded, for `count` consecutive elements of
// output row gi from column gj; `r`, `c` are their tile coordinates.
void store_run(uint bi, uint gi, uint gj, uint r, uint c, float v[8], uint count, int64_t oc, MatrixStrides ms) {
  if (SCALED) {
    [[unroll]] for (uint q = 0; q < 8; ++q) {
      if (q < count) v[q] = ldexp(v[q], -(a_scale[r] + b_scale[c + q]));
    }
  }
  if (VEC_OUT) {
    uint w[4] = uint[4](0, 0, 0, 0);
    [[unroll]] for (uint q = 0; q < 8; ++q) {
      if (q < count) w[q / 2] |= uint(float_to_bits(DT, pc.alpha * v[q])) << (16 * (q % 2));
    }
    uint64_t o = pc.out_addr + ((uint64_t(bi) * pc.M + gi) * pc.N + gj) * 2;
    if (count == 8) {
      Ptr4x32(o).v = uvec4(w[0], w[1], w[2], w[3]);
    } else {
      Ptr2x32(o).v = uvec2(w[0], w[1]);
    }
    return;
  }
  [[unroll]] for (uint q = 0; q < 8; ++q) {
    if (q < count && gi < pc.M && gj + q < pc.N) {
      store_result(DT, HAS_C, bi, gi, gj + q, v[q], oc + int64_t(gi) * ms.c_rs + int64_t(gj + q) * ms.c_cs);
    }
  }
}

// acc += this subgroup's part of the slice in shared stage `stage`.
void multiply_slice(uint stage, uint wm, uint wn, inout fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N> acc[FM][FN]) {
  uint a_off = stage * A_STAGE, b_off = STAGES * A_STAGE + stage * B_STAGE;
  [[unroll]] for (uint kk = 0; kk < BK; kk += CM_K) {
    fcoopmatNV<16, gl_ScopeSubgroup, CM_M, CM_K> fa[FM];
    [[unroll]] for (uint i = 0; i < FM; ++i) {
      uint m = wm * WM + i * CM_M;
      if (A_ALONG_K) {
        coopMatLoadNV(fa[i], smem, a_off + m * A_PITCH + kk / UNIT, A_PITCH, false);
      } else {
        coopMatLoadNV(fa[i], smem, a_off + kk * A_PITCH + m / UNIT, A_PITCH, true);
      }
    }
    [[unroll]] for (uint j = 0; j < FN; ++j) {
      uint n = wn * WN + j * CM_N;
      fcoopmatNV<16, gl_ScopeSubgroup, CM_K, CM_N> fb;
      if (B_ALONG_N) {
        coopMatLoadNV(fb, smem, b_off + kk * B_PITCH + n / UNIT, B_PITCH, false);
      } else {
        coopMatLoadNV(fb, smem, b_off + n * B_PITCH + kk / UNIT, B_PITCH, true);
      }
      [[unroll]] for (uint i = 0; i < FM; ++i) acc[i][j] = coopMatMulAddNV(fa[i], fb, acc[i][j]);
    }
  }
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  uint wm = warp / WARPS_N, wn = warp % WARPS_N;
  MatrixStrides ms = matrix_strides();
  uint tiles_m = (pc.M + BM - 1) / BM, tiles_n = (pc.N + BN - 1) / BN;
  uint tiles = pc.batch * tiles_m * tiles_n;

  for (uint t = gl_WorkGroupID.x; t < tiles; t += gl_NumWorkGroups.x) {
    uint bi, tm, tn;
    tile_coords(t, tiles_m, tiles_n, bi, tm, tn);
    uint m0 = tm * BM, n0 = tn * BN;
    if (SCALED && !load_scales(tid, bi, m0, n0)) continue;
    int64_t oa, ob, oc;
    batch_offsets(bi, oa, ob, oc);
    uint64_t a_base = pc.a + uint64_t(oa * 2), b_base = pc.b + uint64_t(ob * 2);
    uint64_t pa[A_CHUNKS], pb[B_CHUNKS];
    if (FULL) chunk_addresses(tid, m0, n0, a_base, b_base, ms, pa, pb);

    fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N> acc[FM][FN];
    [[unroll]] for (uint i = 0; i < FM; ++i) {
      [[unroll]] for (uint j = 0; j < FN; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N>(0.0);
    }

    uvec4 ra[A_CHUNKS], rb[B_CHUNKS];
    load_slices(tid, m0, n0, 0, a_base, b_base, ms, pa, pb, ra, rb);
    store_slices(tid, 0, ra, rb);
    if (PREFETCH == 2 && BK < pc.K) load_slices(tid, m0, n0, BK, a_base, b_base, ms, pa, pb, ra, rb);
    barrier();
    if (PREFETCH == 2) {
      // Two register sets: a slice is loaded two slices before its products
      // and stored to shared memory one slice before them.
      uvec4 ra2[A_CHUNKS], rb2[B_CHUNKS];
      for (uint k0 = 0; k0 < pc.K; k0 += 2 * BK) {
        if (k0 + 2 * BK < pc.K) load_slices(tid, m0, n0, k0 + 2 * BK, a_base, b_base, ms, pa, pb, ra2, rb2);
        multiply_slice(0, wm, wn, acc);
        if (k0 + BK < pc.K) store_slices(tid, 1, ra, rb);
        barrier();
        if (k0 + BK >= pc.K) break;
        if (k0 + 3 * BK < pc.K) load_slices(tid, m0, n0, k0 + 3 * BK, a_base, b_base, ms, pa, pb, ra, rb);
        multiply_slice(1, wm, wn, acc);
        if (k0 + 2 * BK < pc.K) store_slices(tid, 0, ra2, rb2);
        barrier();
      }
    } else {
      uint stage = 0;
      for (uint k0 = 0; k0 < pc.K; k0 += BK) {
        bool more = k0 + BK < pc.K;
        if (more) load_slices(tid, m0, n0, k0 + BK, a_base, b_base, ms, pa, pb, ra, rb);
        multiply_slice(stage, wm, wn, acc);
        if (STAGES == 1) {
          barrier();  // every subgroup is done with the slice
          if (more) store_slices(tid, 0, ra, rb);
        } else if (more) {
          stage ^= 1;
          store_slices(tid, stage, ra, rb);  // the other half: last read before the previous barrier
        }
        barrier();
      }
    }

    // Out through this subgroup's scratch fragment: each invocation takes a
    // run of RUN consecutive elements of one fragment row.
    const uint RUN = CM_M * CM_N / 32;
    uint scratch = warp * FRAG_UNITS;
    uint fr = lane / (CM_N / RUN), fc = lane % (CM_N / RUN) * RUN;
    [[unroll]] for (uint i = 0; i < FM; ++i) {
      [[unroll]] for (uint j = 0; j < FN; ++j) {
        coopMatStoreNV(acc[i][j], smem, scratch, CM_N / 4, false);
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        float v[8];
        [[unroll]] for (uint q = 0; q < 8; q += 4) {
          if (q < RUN) {
            vec4 x = uintBitsToFloat(smem[scratch + (fr * CM_N + fc + q) / 4]);
            v[q] = x.x;
            v[q + 1] = x.y;
            v[q + 2] = x.z;
            v[q + 3] = x.w;
          } else {
            v[q] = v[q + 1] = v[q + 2] = v[q + 3] = 0.0;
          }
        }
        uint r = wm * WM + i * CM_M + fr, c = wn * WN + j * CM_N + fc;
        store_run(bi, m0 + r, n0 + c, r, c, v, RUN, oc, ms);
        subgroupBarrier();
      }
    }
    barrier();  // the scratch is the next tile's A and B
  }
}
