// Portable matrix product: a workgroup computes a BM x BN output tile, moving
// BK-deep slices of A and B through shared memory; each invocation keeps a
// TM x TN block of float32 accumulators (rows and columns interleaved across
// invocations, so shared-memory reads and global writes are consecutive).
// Any strides; float32, float16 and bfloat16, rounded once at the end.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "matmul.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint BM = 64;
layout(constant_id = 3) const uint BN = 64;
layout(constant_id = 4) const uint BK = 16;
layout(constant_id = 5) const uint TM = 4;
layout(constant_id = 6) const uint TN = 4;
// Which axis consecutive invocations read: k when A's rows are contiguous
// (a_cs == 1), else m; n when B's rows are contiguous, else k.
layout(constant_id = 7) const bool A_ALONG_K = true;
layout(constant_id = 8) const bool B_ALONG_N = true;
layout(constant_id = 9) const bool HAS_C = false;
// Skip the tiles whose tensor-core tile (gate_m x gate_n) had every line
// exact: matmul_coopmat.comp computed those.
layout(constant_id = 10) const bool GATED = false;

const uint WG = gl_WorkGroupSize.x;
const uint TX = BN / TN;  // invocations along n
const uint TY = BM / TM;  // invocations along m
// Rows padded by one element: the transposing stores hit distinct banks.
const uint A_PITCH = BM + 1;
const uint B_PITCH = BN + 1;
const uint A_LOADS = BM * BK / WG;
const uint B_LOADS = BK * BN / WG;

shared float As[BK * A_PITCH];
shared float Bs[BK * B_PITCH];
shared uint tile_needed;

// Whether the tensor-core tile holding output (m0, n0) of batch bi has a
// line that could not be scaled exactly.
bool tile_is_needed(uint bi, uint m0, uint n0) {
  uint tid = gl_LocalInvocationID.x;
  if (tid == 0) tile_needed = 0;
  barrier();
  uint gm0 = m0 / pc.gate_m * pc.gate_m, gn0 = n0 / pc.gate_n * pc.gate_n;
  Int32Table s = Int32Table(pc.scales);
  for (uint r = tid; r < pc.gate_m && gm0 + r < pc.M; r += WG) {
    if (s.v[bi * pc.M + gm0 + r] == SCALE_INEXACT) tile_needed = 1;
  }
  uint cols = pc.batch * pc.M;
  for (uint c = tid; c < pc.gate_n && gn0 + c < pc.N; c += WG) {
    if (s.v[cols + bi * pc.N + gn0 + c] == SCALE_INEXACT) tile_needed = 1;
  }
  barrier();
  bool needed = tile_needed != 0;
  barrier();
  return needed;
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint tx = tid % TX, ty = tid / TX;
  uint size = dtype_size(DT);
  MatrixStrides ms = matrix_strides();
  uint tiles_m = (pc.M + BM - 1) / BM, tiles_n = (pc.N + BN - 1) / BN;
  uint tiles = pc.batch * tiles_m * tiles_n;

  for (uint t = gl_WorkGroupID.x; t < tiles; t += gl_NumWorkGroups.x) {
    uint bi, tm, tn;
    tile_coords(t, tiles_m, tiles_n, bi, tm, tn);
    uint m0 = tm * BM, n0 = tn * BN;
    if (GATED && !tile_is_needed(bi, m0, n0)) continue;
    int64_t oa, ob, oc;
    batch_offsets(bi, oa, ob, oc);

    // The tile elements this invocation loads: fixed (m, k) / (k, n) slots
    // whose addresses move by BK along k each step.
    int64_t a_off[A_LOADS], b_off[B_LOADS];
    uint a_slot[A_LOADS], b_slot[B_LOADS];
    bool a_in[A_LOADS], b_in[B_LOADS];
    uint a_k[A_LOADS], b_k[B_LOADS];
    for (uint l = 0; l < A_LOADS; ++l) {
      uint e = tid + l * WG;
      uint m = A_ALONG_K ? e / BK : e % BM;
      uint k = A_ALONG_K ? e % BK : e / BM;
      a_slot[l] = k * A_PITCH + m;
      a_in[l] = m0 + m < pc.M;
      a_k[l] = k;
      a_off[l] = oa + int64_t(m0 + m) * ms.a_rs + int64_t(k) * ms.a_cs;
    }
    for (uint l = 0; l < B_LOADS; ++l) {
      uint e = tid + l * WG;
      uint n = B_ALONG_N ? e % BN : e / BK;
      uint k = B_ALONG_N ? e / BN : e % BK;
      b_slot[l] = k * B_PITCH + n;
      b_in[l] = n0 + n < pc.N;
      b_k[l] = k;
      b_off[l] = ob + int64_t(k) * ms.b_rs + int64_t(n0 + n) * ms.b_cs;
    }

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;

    for (uint k0 = 0; k0 < pc.K; k0 += BK) {
      for (uint l = 0; l < A_LOADS; ++l) {
        float v = 0.0;
        if (a_in[l] && k0 + a_k[l] < pc.K) {
          v = load_float(DT, pc.a + uint64_t((a_off[l] + int64_t(k0) * ms.a_cs) * int64_t(size)));
        }
        As[a_slot[l]] = v;
      }
      for (uint l = 0; l < B_LOADS; ++l) {
        float v = 0.0;
        if (b_in[l] && k0 + b_k[l] < pc.K) {
          v = load_float(DT, pc.b + uint64_t((b_off[l] + int64_t(k0) * ms.b_rs) * int64_t(size)));
        }
        Bs[b_slot[l]] = v;
      }
      barrier();
      for (uint k = 0; k < BK; ++k) {
        float av[TM], bv[TN];
        for (uint r = 0; r < TM; ++r) av[r] = As[k * A_PITCH + ty + r * TY];
        for (uint c = 0; c < TN; ++c) bv[c] = Bs[k * B_PITCH + tx + c * TX];
        for (uint r = 0; r < TM; ++r) {
          for (uint c = 0; c < TN; ++c) acc[r * TN + c] = fma(av[r], bv[c], acc[r * TN + c]);
        }
      }
      barrier();
    }

    for (uint r = 0; r < TM; ++r) {
      uint i = m0 + ty + r * TY;
      if (i >= pc.M) continue;
      for (uint c = 0; c < TN; ++c) {
        uint j = n0 + tx + c * TX;
        if (j >= pc.N) continue;
        store_result(DT, HAS_C, bi, i, j, acc[r * TN + c], oc + int64_t(i) * ms.c_rs + int64_t(j) * ms.c_cs);
      }
    }
  }
}
