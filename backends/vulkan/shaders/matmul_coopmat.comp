// Tensor-core matrix product through GL_NV_cooperative_matrix (float16 x
// float16 -> float32). A workgroup of 8 subgroups (of 32) computes a 128 x 128
// output tile; each subgroup a 64 x 32 part of it, as CM_M x CM_N fragments.
// A and B move through shared memory in 32-deep slices as float16, the next
// slice's global loads issued before the current slice's products.
//
// bfloat16 (SCALED): each row of A and each column of B is multiplied by a
// power of two that makes every element of it exactly a float16
// (matmul_scales.comp), so the products and their float32 sums are those of
// the bfloat16 values up to the power of two, undone at the end. A tile
// holding a line with no such power is left to matmul_tiled.comp.
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

const uint WG = gl_WorkGroupSize.x;  // 256
const uint BM = 128, BN = 128, BK = 32;
const uint WARPS_N = 4;
const uint WM = 64, WN = 32;  // a subgroup's part of the tile
const uint FM = WM / CM_M, FN = WN / CM_N;

// Shared tiles in 16-byte units (UNIT = 8 float16), rows padded by 8 elements.
const uint UNIT = 8;
const uint A_ROWS = A_ALONG_K ? BM : BK;
const uint A_COLS = A_ALONG_K ? BK : BM;
const uint A_PITCH = (A_COLS + 8) / UNIT;
const uint B_ROWS = B_ALONG_N ? BK : BN;
const uint B_COLS = B_ALONG_N ? BN : BK;
const uint B_PITCH = (B_COLS + 8) / UNIT;
const uint A_CHUNKS = A_ROWS * A_COLS / 8 / WG;
const uint B_CHUNKS = B_ROWS * B_COLS / 8 / WG;

shared uvec4 As[BM * (BK + 8) / 8];  // the larger of the two layouts
shared uvec4 Bs[BN * (BK + 8) / 8];
shared float Cs[8 * 16 * 16];        // per subgroup: one fragment on its way out
shared int a_scale[BM];
shared int b_scale[BN];
shared uint tile_exact;

float pow2(int s) { return uintBitsToFloat(uint(s + 127) << 23); }

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

// Two bfloat16 (low, high half of `w`) times their powers of two, as float16.
uint scale_pair(uint w, float lo, float hi) {
  return packHalf2x16(vec2(uintBitsToFloat(w << 16) * lo, uintBitsToFloat(w & 0xffff0000u) * hi));
}

// A chunk of lines `line0..line0+7` (one line when `same_line`) as float16.
float line_scale(bool is_a, uint line) { return pow2(is_a ? a_scale[line] : b_scale[line]); }

uvec4 scale_chunk(uvec4 w, bool is_a, bool same_line, uint line0) {
  uvec4 r;
  [[unroll]] for (uint q = 0; q < 4; ++q) {
    float lo = line_scale(is_a, same_line ? line0 : line0 + 2 * q);
    float hi = same_line ? lo : line_scale(is_a, line0 + 2 * q + 1);
    r[q] = scale_pair(w[q], lo, hi);
  }
  return r;
}

// Loads this invocation's chunks of the A and B slices at depth k0.
void load_slices(uint tid, uint m0, uint n0, uint k0, uint64_t a_base, uint64_t b_base, MatrixStrides ms,
                 out uvec4 ra[A_CHUNKS], out uvec4 rb[B_CHUNKS]) {
  [[unroll]] for (uint l = 0; l < A_CHUNKS; ++l) {
    uint e = tid + l * WG;
    uint row = e / (A_COLS / 8), c = e % (A_COLS / 8) * 8;
    ra[l] = A_ALONG_K ? load_chunk(a_base, m0 + row, k0 + c, ms.a_rs, ms.a_cs, pc.M, pc.K, VEC_A)
                      : load_chunk(a_base, k0 + row, m0 + c, ms.a_cs, ms.a_rs, pc.K, pc.M, VEC_A);
  }
  [[unroll]] for (uint l = 0; l < B_CHUNKS; ++l) {
    uint e = tid + l * WG;
    uint row = e / (B_COLS / 8), c = e % (B_COLS / 8) * 8;
    rb[l] = B_ALONG_N ? load_chunk(b_base, k0 + row, n0 + c, ms.b_rs, ms.b_cs, pc.K, pc.N, VEC_B)
                      : load_chunk(b_base, n0 + row, k0 + c, ms.b_cs, ms.b_rs, pc.N, pc.K, VEC_B);
  }
}

void store_slices(uint tid, uvec4 ra[A_CHUNKS], uvec4 rb[B_CHUNKS]) {
  [[unroll]] for (uint l = 0; l < A_CHUNKS; ++l) {
    uint e = tid + l * WG;
    uint row = e / (A_COLS / 8), c8 = e % (A_COLS / 8);
    uvec4 w = ra[l];
    if (SCALED) w = scale_chunk(w, true, A_ALONG_K, A_ALONG_K ? row : c8 * 8);
    As[row * A_PITCH + c8] = w;
  }
  [[unroll]] for (uint l = 0; l < B_CHUNKS; ++l) {
    uint e = tid + l * WG;
    uint row = e / (B_COLS / 8), c8 = e % (B_COLS / 8);
    uvec4 w = rb[l];
    if (SCALED) w = scale_chunk(w, false, !B_ALONG_N, B_ALONG_N ? c8 * 8 : row);
    Bs[row * B_PITCH + c8] = w;
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

    fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N> acc[FM][FN];
    [[unroll]] for (uint i = 0; i < FM; ++i) {
      [[unroll]] for (uint j = 0; j < FN; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N>(0.0);
    }

    uvec4 ra[A_CHUNKS], rb[B_CHUNKS];
    load_slices(tid, m0, n0, 0, a_base, b_base, ms, ra, rb);
    for (uint k0 = 0; k0 < pc.K; k0 += BK) {
      barrier();  // the previous slice's products are done with shared memory
      store_slices(tid, ra, rb);
      barrier();
      if (k0 + BK < pc.K) load_slices(tid, m0, n0, k0 + BK, a_base, b_base, ms, ra, rb);
      [[unroll]] for (uint kk = 0; kk < BK; kk += CM_K) {
        fcoopmatNV<16, gl_ScopeSubgroup, CM_M, CM_K> fa[FM];
        [[unroll]] for (uint i = 0; i < FM; ++i) {
          uint m = wm * WM + i * CM_M;
          if (A_ALONG_K) {
            coopMatLoadNV(fa[i], As, m * A_PITCH + kk / UNIT, A_PITCH, false);
          } else {
            coopMatLoadNV(fa[i], As, kk * A_PITCH + m / UNIT, A_PITCH, true);
          }
        }
        [[unroll]] for (uint j = 0; j < FN; ++j) {
          uint n = wn * WN + j * CM_N;
          fcoopmatNV<16, gl_ScopeSubgroup, CM_K, CM_N> fb;
          if (B_ALONG_N) {
            coopMatLoadNV(fb, Bs, kk * B_PITCH + n / UNIT, B_PITCH, false);
          } else {
            coopMatLoadNV(fb, Bs, n * B_PITCH + kk / UNIT, B_PITCH, true);
          }
          [[unroll]] for (uint i = 0; i < FM; ++i) acc[i][j] = coopMatMulAddNV(fa[i], fb, acc[i][j]);
        }
      }
    }

    // Out through this subgroup's scratch: scale back, alpha, beta * c, round.
    uint scratch = warp * CM_M * CM_N;
    [[unroll]] for (uint i = 0; i < FM; ++i) {
      [[unroll]] for (uint j = 0; j < FN; ++j) {
        coopMatStoreNV(acc[i][j], Cs, scratch, CM_N, false);
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        for (uint e = lane; e < CM_M * CM_N; e += gl_SubgroupSize) {
          uint r = wm * WM + i * CM_M + e / CM_N, c = wn * WN + j * CM_N + e % CM_N;
          uint gi = m0 + r, gj = n0 + c;
          if (gi >= pc.M || gj >= pc.N) continue;
          float v = Cs[scratch + e];
          if (SCALED) v = ldexp(v, -(a_scale[r] + b_scale[c]));
          store_result(DT, HAS_C, bi, gi, gj, v, oc + int64_t(gi) * ms.c_rs + int64_t(gj) * ms.c_cs);
        }
        subgroupBarrier();
      }
    }
  }
}
