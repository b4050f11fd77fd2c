// Scaled dot-product attention, flash prefill on tensor cores through
// GL_NV_cooperative_matrix (float16 x float16 -> float32 fragments of
// 16 x CM_N x 16). A workgroup of 8 subgroups (of 32) takes 128 query rows of
// one (batch, head), 16 per subgroup, held as float16 fragments of Q
// (unscaled, so float16 queries stay exact and the lse keeps float32
// accuracy; the scale multiplies the float32 scores). Keys and values go by in tiles of BK rows, converted to float16
// into shared memory by the whole workgroup; then each subgroup
//   S = Q K^T (fragments, float32) -> its shared scratch,
//   online softmax on S: two invocations per row (half the tile's columns
//   each), running max and sum in float32, P = exp(S - max) as float16 into
//   its shared P tile,
//   P V one output fragment at a time -> scratch, added into the output
//   rows the invocations hold in registers after rescaling them (a fragment
//   cannot be scaled per row).
// Causal tiles past the tile's last visible key are never loaded; the next
// tile's global loads are in flight while the current one is multiplied. bfloat16
// inputs are converted to float16 (exact for |x| in [2^-14, 65504]; smaller
// magnitudes keep float16's subnormal precision, larger ones overflow: see
// docs/attention.md). WRITE_LSE is a specialization constant, not a branch in
// the loop. Portable counterpart: attention.comp.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_KHR_shader_subgroup_vote : require
#extension GL_EXT_control_flow_attributes : require
#include "ids.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F16;  // DT_F16 or DT_BF16
layout(constant_id = 2) const uint MASK = 0;     // 0 none, 1 bool (true keeps), 2 additive (DT)
layout(constant_id = 3) const bool CAUSAL = false;
layout(constant_id = 4) const bool HAS_SINKS = false;
layout(constant_id = 5) const bool WRITE_LSE = false;
layout(constant_id = 6) const uint CM_N = 16;  // fragment columns: 16 or 8
layout(constant_id = 7) const uint D = 128;    // head dims, multiples of 16
layout(constant_id = 8) const uint DV = 128;
layout(constant_id = 9) const uint BK = 32;    // keys per tile, a multiple of 16
// q, k and v rows contiguous and 16-byte aligned (16-byte loads).
layout(constant_id = 10) const bool VEC = false;
// LAZY: the output stays in accumulator fragments (P V adds into them, no
// scratch round trip per fragment). The exponentials are taken against a
// reference max that moves only when a row's tile max passes it by more than
// LAZY_SLACK (so P <= e^8 still fits float16); only then are the fragments
// rescaled, row by row through the scratch. lse = reference + log(sum).
layout(constant_id = 11) const bool LAZY = true;
const float LAZY_SLACK = 8.0;

#include "attention.glsl"

const uint WG = gl_WorkGroupSize.x;  // 256
const uint KV_DT = DT;
#include "attention_tiles.glsl"

const uint WARPS = WG / 32;
const uint CM_M = 16, CM_K = 16;
const uint BQ = WARPS * CM_M;  // query rows per workgroup
// Shared memory in 16-byte units, rows padded by one unit against bank
// conflicts of fragment loads: the K and V tiles, then per subgroup its
// float32 scratch [16][BK] and its float16 P tile [16][BK]. Before the loop
// the K tile's place stages each subgroup's 16 query rows.
const uint K_PITCH = D / UNIT + 1;
const uint V_PITCH = DV / UNIT + 1;
const uint P_PITCH = BK / UNIT + 1;
const uint S_PITCH = BK / 4;
const uint K_UNITS = BK * K_PITCH, V_UNITS = BK * V_PITCH;
const uint S_UNITS = CM_M * S_PITCH, P_UNITS = CM_M * P_PITCH;
const uint WARP_UNITS = S_UNITS + P_UNITS;
const uint LOOP_UNITS = K_UNITS + V_UNITS + WARPS * WARP_UNITS;
const uint Q_UNITS = CM_M * K_PITCH;
const uint SMEM_UNITS = LOOP_UNITS > Q_UNITS ? LOOP_UNITS : Q_UNITS;
shared uvec4 smem[SMEM_UNITS];

const uint HALF_BK = BK / 2;        // scores per invocation per tile
const uint HALF_N = CM_N / 2;       // output columns per invocation per fragment
const uint O_REGS = DV / CM_N * HALF_N;

float scratch_at(uint base, uint pitch_floats, uint row, uint col) {
  uint e = row * pitch_floats + col;
  return uintBitsToFloat(smem[base + e / 4][e % 4]);
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint row = lane / 2, half_id = lane % 2;  // this invocation's row of the subgroup's 16
  const uint size = dtype_size(DT);
  const uint group = pc.Hq / pc.Hkv;
  const uint q_tiles = (pc.Lq + BQ - 1) / BQ;
  const uint64_t tiles = uint64_t(pc.B) * pc.Hq * q_tiles;
  const int64_t q_step = table_stride(pc.strides, T_Q, 3), m_step = table_stride(pc.strides, T_MASK, 3);
  const uint s_base = K_UNITS + V_UNITS + warp * WARP_UNITS, p_base = s_base + S_UNITS;

  for (uint64_t t = gl_WorkGroupID.x; t < tiles; t += gl_NumWorkGroups.x) {
    uint q0 = uint(t % q_tiles) * BQ;
    uint h = uint((t / q_tiles) % pc.Hq);
    uint b = uint(t / (uint64_t(q_tiles) * pc.Hq));
    uint hk = h / group;

    // Q as float16 fragments, one subgroup's rows at a time.
    fcoopmatNV<16, gl_ScopeSubgroup, CM_M, CM_K> qf[D / CM_K];
    for (uint w = 0; w < WARPS; ++w) {
      for (uint c = tid; c < CM_M * (D / UNIT); c += WG) {
        uint r = c / (D / UNIT), e0 = c % (D / UNIT) * UNIT, i = q0 + w * CM_M + r;
        uint64_t q_row = table_row(pc.strides, pc.q, T_Q, b, h, i < pc.Lq ? i : 0, size);
        smem[r * K_PITCH + e0 / UNIT] = load_unit(DT, q_row, q_step, e0, i < pc.Lq);
      }
      barrier();
      if (warp == w) {
        [[unroll]] for (uint kd = 0; kd < D / CM_K; ++kd) {
          coopMatLoadNV(qf[kd], smem, kd * CM_K / UNIT, K_PITCH, false);
        }
      }
      barrier();
    }

    const uint i = q0 + warp * CM_M + row;  // this invocation's query
    uint64_t mask_row = 0;
    if (MASK != 0 && i < pc.Lq) mask_row = table_row(pc.strides, pc.mask, T_MASK, b, h, i, MASK == 1 ? 1 : size);
    float m_run = NEG_INF, l_run = 0.0;  // with LAZY, m_run is the reference max
    float o[O_REGS];
    [[unroll]] for (uint x = 0; x < O_REGS; ++x) o[x] = 0.0;
    fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N> of[DV / CM_N];
    [[unroll]] for (uint n = 0; n < DV / CM_N; ++n) of[n] = fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N>(0.0);

    uint k_stop = pc.Lk;
    if (CAUSAL) k_stop = uint(clamp(int(q0 + BQ) + pc.causal_offset, 0, int(pc.Lk)));
    // K and V tiles as float16, loaded into registers one tile ahead.
    uvec4 k_next[K_LOADS], v_next[V_LOADS];
    const KvRows kv = kv_rows(b, hk);
    load_tile(0, kv, k_next, v_next);
    for (uint k0 = 0; k0 < k_stop; k0 += BK) {
      [[unroll]] for (uint l = 0; l < K_LOADS; ++l) {
        uint c = tid + l * WG;
        if (c < BK * (D / UNIT)) smem[c / (D / UNIT) * K_PITCH + c % (D / UNIT)] = k_next[l];
      }
      [[unroll]] for (uint l = 0; l < V_LOADS; ++l) {
        uint c = tid + l * WG;
        if (c < BK * (DV / UNIT)) smem[K_UNITS + c / (DV / UNIT) * V_PITCH + c % (DV / UNIT)] = v_next[l];
      }
      barrier();
      if (k0 + BK < k_stop) load_tile(k0 + BK, kv, k_next, v_next);

      // S = Q K^T into the scratch.
      [[unroll]] for (uint n = 0; n < BK / CM_N; ++n) {
        fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N> s = fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N>(0.0);
        [[unroll]] for (uint kd = 0; kd < D / CM_K; ++kd) {
          fcoopmatNV<16, gl_ScopeSubgroup, CM_K, CM_N> kf;
          coopMatLoadNV(kf, smem, n * CM_N * K_PITCH + kd * CM_K / UNIT, K_PITCH, true);
          s = coopMatMulAddNV(qf[kd], kf, s);
        }
        coopMatStoreNV(s, smem, s_base + n * CM_N / 4, S_PITCH, false);
      }
      subgroupMemoryBarrierShared();
      subgroupBarrier();

      // Online softmax: this invocation's half of its row.
      float sv[HALF_BK];
      float tile_max = NEG_INF;
      [[unroll]] for (uint c = 0; c < HALF_BK; ++c) {
        uint col = half_id * HALF_BK + c, j = k0 + col;
        float s = NEG_INF;
        if (i < pc.Lq && j < pc.Lk) s = masked_score(pc.scale * scratch_at(s_base, BK, row, col), mask_row, m_step, i, j, pc.causal_offset);
        sv[c] = s;
        tile_max = max(tile_max, s);
      }
      tile_max = max(tile_max, subgroupShuffleXor(tile_max, 1));
      float m_new = max(m_run, tile_max);
      float alpha = m_run == NEG_INF ? 0.0 : exp(m_run - m_new);
      if (LAZY) {
        bool rescale = m_run != NEG_INF && tile_max > m_run + LAZY_SLACK;
        if (m_run != NEG_INF && !rescale) m_new = m_run;
        alpha = rescale ? alpha : 1.0;
        if (subgroupAny(rescale)) {
          [[unroll]] for (uint n = 0; n < DV / CM_N; ++n) {
            subgroupBarrier();  // the scratch's previous values are read
            coopMatStoreNV(of[n], smem, s_base, CM_N / 4, false);
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            [[unroll]] for (uint c = 0; c < HALF_N; ++c) {
              uint e = row * CM_N + half_id * HALF_N + c;
              smem[s_base + e / 4][e % 4] = floatBitsToUint(uintBitsToFloat(smem[s_base + e / 4][e % 4]) * alpha);
            }
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            coopMatLoadNV(of[n], smem, s_base, CM_N / 4, false);
          }
        }
      }
      float p_sum = 0.0;
      [[unroll]] for (uint c = 0; c < HALF_BK; c += 2) {
        float p0 = sv[c] == NEG_INF ? 0.0 : exp(sv[c] - m_new);
        float p1 = sv[c + 1] == NEG_INF ? 0.0 : exp(sv[c + 1] - m_new);
        p_sum += p0 + p1;
        uint col = half_id * HALF_BK + c;
        smem[p_base + row * P_PITCH + col / UNIT][(col % UNIT) / 2] = packHalf2x16(vec2(p0, p1));
      }
      p_sum += subgroupShuffleXor(p_sum, 1);
      l_run = l_run * alpha + p_sum;
      m_run = m_new;
      subgroupMemoryBarrierShared();
      subgroupBarrier();

      // O = alpha O + P V, one output fragment at a time through the scratch.
      fcoopmatNV<16, gl_ScopeSubgroup, CM_M, CM_K> pf[BK / CM_K];
      [[unroll]] for (uint kk = 0; kk < BK / CM_K; ++kk) {
        coopMatLoadNV(pf[kk], smem, p_base + kk * CM_K / UNIT, P_PITCH, false);
      }
      [[unroll]] for (uint n = 0; n < DV / CM_N; ++n) {
        if (LAZY) {
          [[unroll]] for (uint kk = 0; kk < BK / CM_K; ++kk) {
            fcoopmatNV<16, gl_ScopeSubgroup, CM_K, CM_N> vf;
            coopMatLoadNV(vf, smem, K_UNITS + kk * CM_K * V_PITCH + n * CM_N / UNIT, V_PITCH, false);
            of[n] = coopMatMulAddNV(pf[kk], vf, of[n]);
          }
          continue;
        }
        fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N> pv = fcoopmatNV<32, gl_ScopeSubgroup, CM_M, CM_N>(0.0);
        [[unroll]] for (uint kk = 0; kk < BK / CM_K; ++kk) {
          fcoopmatNV<16, gl_ScopeSubgroup, CM_K, CM_N> vf;
          coopMatLoadNV(vf, smem, K_UNITS + kk * CM_K * V_PITCH + n * CM_N / UNIT, V_PITCH, false);
          pv = coopMatMulAddNV(pf[kk], vf, pv);
        }
        subgroupBarrier();  // the previous fragment's values are read
        coopMatStoreNV(pv, smem, s_base, CM_N / 4, false);
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        [[unroll]] for (uint c = 0; c < HALF_N; ++c) {
          uint x = n * HALF_N + c;
          o[x] = o[x] * alpha + scratch_at(s_base, CM_N, row, half_id * HALF_N + c);
        }
      }
      barrier();  // the K and V tiles are read
    }

    float o_scale = 1.0;  // of the outputs accumulated so far
    if (HAS_SINKS) {  // one more logit in the denominator
      float sink = load_float(DT, pc.sinks + uint64_t(int64_t(h) * table_stride(pc.strides, 4, 0) * size));
      float m_new = max(m_run, sink);
      float a = m_run == NEG_INF ? 0.0 : exp(m_run - m_new);
      l_run = l_run * a + exp(sink - m_new);
      o_scale = a;
      m_run = m_new;
    }
    if (LAZY) {  // the fragments' rows to this invocation's registers
      [[unroll]] for (uint n = 0; n < DV / CM_N; ++n) {
        subgroupBarrier();
        coopMatStoreNV(of[n], smem, s_base, CM_N / 4, false);
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        [[unroll]] for (uint c = 0; c < HALF_N; ++c) o[n * HALF_N + c] = scratch_at(s_base, CM_N, row, half_id * HALF_N + c);
      }
    }
    if (i < pc.Lq) {
      uint64_t r = (uint64_t(b) * pc.Hq + h) * pc.Lq + i;
      uint64_t out_row = pc.out_addr + r * DV * size;
      [[unroll]] for (uint n = 0; n < DV / CM_N; ++n) {
        [[unroll]] for (uint c = 0; c < HALF_N; ++c) {
          uint e = n * CM_N + half_id * HALF_N + c;
          store_float(DT, out_row + e * size, l_run > 0.0 ? o[n * HALF_N + c] * o_scale / l_run : 0.0);
        }
      }
      if (WRITE_LSE && half_id == 0) {
        Ptr32(pc.lse + r * 4).v = floatBitsToUint(l_run > 0.0 ? m_run + flog(l_run) : NEG_INF);
      }
    }
  }
}
