// Scaled dot-product attention, split-K decode (L_q <= 8) on tensor cores
// through GL_NV_cooperative_matrix, for float16 and bfloat16 with head dims
// multiples of 16 (kernels/attention_decode.cpp picks it where the device's
// fragments have NVIDIA's mma layout; attention_decode.comp elsewhere).
//
// The unit of work is a subgroup: one (batch, kv head, row group, chunk),
// where a row group is up to 16 query rows of the kv head's group (q heads
// sharing it x queries) and chunk c takes the 16-key tiles c, c + chunks, ...
// (so the subgroups of a head sweep K and V together). Subgroups share
// nothing but the workgroup's shared memory, split into one tile buffer each:
// the loop has no workgroup barrier. Per tile, each invocation's 16-byte
// units of K are converted to float16 into the buffer, S = Q K^T is taken as
// a 16 x 16 fragment (Q's rows past the group's are zeros), then V takes the
// buffer's place while the softmax runs on S's own elements (as in
// attention_flash.comp: a row lies in a quad of invocations, a lazily moved
// reference max, P <= e^8 as float16), and O += P V. The next tile's K and V
// are loaded while this one is used. Each subgroup writes its chunk's
// partial (max, sum, unnormalized output) per row; attention_merge.comp
// combines the chunks through them. What the scalar kernel spends on a key
// (a dot product per row from shuffled partial sums) is here a share of two
// 16 x 16 x D products, so the loop is left with the loads, the bfloat16
// conversion and the shared-memory traffic.
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
layout(constant_id = 1) const uint DT = DT_F16;  // of Q, K and V: DT_F16 or DT_BF16
layout(constant_id = 2) const uint MASK = 0;     // 0 none, 1 bool (true keeps), 2 additive (DT)
layout(constant_id = 3) const bool CAUSAL = false;
layout(constant_id = 4) const uint D = 128;  // head dims, multiples of 16
layout(constant_id = 5) const uint DV = 128;  // a multiple of 16 * DG
// The elements of an accumulator fragment in an invocation's second row
// (attention_flash.comp's LAYOUT_HI).
layout(constant_id = 6) const uint LAYOUT_HI = 0xf0;
// Measurement only (wrong results; LUMEN_VULKAN_DECODE_MMA_PROBE): bit 0
// skips the products and the softmax, bit 1 the bfloat16 conversion, bit 2
// the loads of K and V.
layout(constant_id = 7) const uint PROBE = 0;
// Subgroups sharing a key group, each for DV / DG output features.
layout(constant_id = 8) const uint DG = 2;
const bool DO_MATH = (PROBE & 1u) == 0, DO_CONVERT = (PROBE & 2u) == 0, DO_LOADS = (PROBE & 4u) == 0;

#include "attention.glsl"
#include "index_table.glsl"

// DecodePush of kernels/attention_decode.cpp (attention_decode.comp's block;
// out_addr, lse, chunk_lanes and merge_flags unused here).
layout(push_constant) uniform Push {
  uint64_t q;
  uint64_t k;
  uint64_t v;
  uint64_t mask;
  uint64_t partial;  // float32 [B, H_q, L_q, chunks, pitch]: m, l, -, -, output
  uint64_t strides;  // int64: q, k, v, mask strides (4 each)
  uint64_t out_addr;
  uint64_t lse;
  uint B;
  uint Hq;
  uint Hkv;
  uint Lq;
  uint Lk;
  uint D_unused;  // D and D_v are the constants
  uint Dv_unused;
  int causal_offset;
  float scale;
  uint rows_per_group;  // 16
  uint row_groups;
  uint chunks;  // partial chunks: workgroup chunks x KG
  uint chunk_keys_unused;
  uint pitch;  // floats per partial: 4 + D_v rounded up to 4
  uint chunk_lanes_unused;
  uint merge_flags_unused;
} pc;

#define ACC fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>
#define F16 fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>

const uint WG = gl_WorkGroupSize.x;
const uint WARPS = WG / 32;
const uint KG = WARPS / DG;  // key groups of 16 keys per tile
const uint BK = 16 * KG;     // keys per tile
const uint UNIT = 8;         // float16 per 16-byte unit
const uint DK = D / UNIT, DVU = DV / UNIT;  // units per K and V row
const uint ND = D / 16, NVG = DV / 16 / DG;  // fragments along D, and along a subgroup's D_v share
// Shared memory in 16-byte units, rows padded by one unit against bank
// conflicts of fragment loads: Q (16 rows), the K tile, the V tile; before
// the loop the K tile's memory holds the subgroups' layout probes.
const uint K_PITCH = DK + 1, V_PITCH = DVU + 1;
const uint Q_BASE = 0, K_BASE = 16 * K_PITCH, V_BASE = K_BASE + BK * K_PITCH;
const uint SMEM_UNITS = V_BASE + BK * V_PITCH > K_BASE + WARPS * 64 ? V_BASE + BK * V_PITCH : K_BASE + WARPS * 64;
shared uvec4 smem[SMEM_UNITS];

// Units of a K and a V tile per invocation.
const uint KL = (BK * DK + WG - 1) / WG, VL = (BK * DVU + WG - 1) / WG;

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;
const float SLACK = 8.0 * LOG2E;  // e^8 in base 2

#include "attention_fragment.glsl"

// The loaded units of the next tile (private globals: arrays sized by
// specialization constants).
uvec4 k_regs[KL], v_regs[VL];

// Unit c = tid + WG l of a tile is row c / units, unit c % units of it; rows
// at or past L_k read as zeros. `rows` is the tile's first row, `rs` the row
// stride in bytes.
void load_tile(uint64_t k_rows, uint k_rs, uint64_t v_rows, uint v_rs, uint k0, uint tid) {
  [[unroll]] for (uint l = 0; l < KL; ++l) {
    const uint c = tid + WG * l, r = c / DK;
    if (!DO_LOADS) k_regs[l] = uvec4(c, r, k0, 0);
    else k_regs[l] = c < BK * DK && k0 + r < pc.Lk ? ReadPtr4x32(k_rows + r * k_rs + c % DK * 16).v : uvec4(0);
  }
  [[unroll]] for (uint l = 0; l < VL; ++l) {
    const uint c = tid + WG * l, r = c / DVU;
    if (!DO_LOADS) v_regs[l] = uvec4(c, r, k0, 1);
    else v_regs[l] = c < BK * DVU && k0 + r < pc.Lk ? ReadPtr4x32(v_rows + r * v_rs + c % DVU * 16).v : uvec4(0);
  }
}

// Eight 16-bit features as float16 pairs (bfloat16: widened exactly, then
// rounded to float16, as the tensor-core prefill does).
uvec4 to_half(uvec4 w) {
  if (DT == DT_F16 || !DO_CONVERT) return w;
  uvec4 r;
  [[unroll]] for (uint u = 0; u < 4; ++u) {
    r[u] = packHalf2x16(vec2(uintBitsToFloat(w[u] << 16), uintBitsToFloat(w[u] & 0xffff0000u)));
  }
  return r;
}

void store_tile(uint tid) {
  [[unroll]] for (uint l = 0; l < KL; ++l) {
    const uint c = tid + WG * l;
    if (c < BK * DK) smem[K_BASE + c / DK * K_PITCH + c % DK] = to_half(k_regs[l]);
  }
  [[unroll]] for (uint l = 0; l < VL; ++l) {
    const uint c = tid + WG * l;
    if (c < BK * DVU) smem[V_BASE + c / DVU * V_PITCH + c % DVU] = to_half(v_regs[l]);
  }
}

void main() {
  const uint tid = gl_LocalInvocationID.x, warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint kg = warp / DG, dg = warp % DG;  // this subgroup's key group and D_v share
  const uint size = dtype_size(DT);
  const uint group = pc.Hq / pc.Hkv, group_rows = group * pc.Lq;
  const int64_t q_step = table_stride(pc.strides, T_Q, 3), m_step = table_stride(pc.strides, T_MASK, 3);
  const uint k_rs = uint(table_stride(pc.strides, T_K, 2) * size), v_rs = uint(table_stride(pc.strides, T_V, 2) * size);
  const float scale2 = pc.scale * LOG2E;
  // Keys any row sees: causal rows see keys j <= i + causal_offset.
  const uint k_end = CAUSAL ? uint(clamp(int(pc.Lq) + pc.causal_offset, 0, int(pc.Lk))) : pc.Lk;
  const uint wg_chunks = pc.chunks / KG;
  const uint k_stride = wg_chunks * BK;

  // The columns of this invocation's elements, and the layout checked again
  // (a mismatch gives NaN rather than wrong numbers).
  uint probed_hi, col_bits;
  const bool layout_ok = probe_layout(K_BASE + warp * 64, lane, probed_hi, col_bits) && subgroupAll(probed_hi == LAYOUT_HI);

  const uint64_t units = uint64_t(pc.B) * pc.Hkv * pc.row_groups * wg_chunks;
  for (uint64_t u = gl_WorkGroupID.x; u < units; u += gl_NumWorkGroups.x) {
    const uint wg_chunk = uint(u % wg_chunks), chunk = wg_chunk * KG + kg;
    uint64_t rest = u / wg_chunks;
    const uint row0 = uint(rest % pc.row_groups) * 16;
    rest /= pc.row_groups;
    const uint hk = uint(rest % pc.Hkv), b = uint(rest / pc.Hkv);
    const uint nr = min(16u, group_rows - row0);

    // The first tile's loads go out before Q is read.
    const uint64_t k_head = table_row(pc.strides, pc.k, T_K, b, hk, 0, size);
    const uint64_t v_head = table_row(pc.strides, pc.v, T_V, b, hk, 0, size);
    uint k0 = wg_chunk * BK;
    if (k0 < k_end) load_tile(k_head + uint64_t(k0) * k_rs, k_rs, v_head + uint64_t(k0) * v_rs, v_rs, k0, tid);

    // Row r of Q's fragment is query gr % L_q of q head hk * group + gr / L_q
    // (gr = row0 + r); rows past nr are zeros. Q goes in unscaled.
    barrier();  // the previous unit's (or the probes') readers are done
    for (uint c = tid; c < 16 * DK; c += WG) {
      const uint r = c / DK, e0 = c % DK * UNIT;
      uvec4 w = uvec4(0);
      if (r < nr) {
        const uint gr = row0 + r;
        const uint64_t q_row = table_row(pc.strides, pc.q, T_Q, b, hk * group + gr / pc.Lq, gr % pc.Lq, size);
        [[unroll]] for (uint t = 0; t < 4; ++t) {
          w[t] = packHalf2x16(vec2(load_float(DT, q_row + uint64_t(int64_t(e0 + 2 * t) * q_step * size)),
                                   load_float(DT, q_row + uint64_t(int64_t(e0 + 2 * t + 1) * q_step * size))));
        }
      }
      smem[Q_BASE + r * K_PITCH + c % DK] = w;
    }

    // This invocation's rows (x = 0: lane / 4, 1: lane / 4 + 8): their
    // queries, mask rows and online-softmax state (the DG subgroups of a key
    // group keep the same state).
    uint qi[2];
    uint64_t mask_row[2];
    float m_ref[2], l_part[2];
    [[unroll]] for (uint x = 0; x < 2; ++x) {
      const uint gr = row0 + min(lane / 4 + 8 * x, nr - 1), h = hk * group + gr / pc.Lq;
      qi[x] = gr % pc.Lq;
      mask_row[x] = MASK == 0 ? 0 : table_row(pc.strides, pc.mask, T_MASK, b, h, qi[x], MASK == 1 ? 1 : size);
      m_ref[x] = NEG_INF;
      l_part[x] = 0.0;
    }
    ACC of[NVG];
    [[unroll]] for (uint n = 0; n < NVG; ++n) of[n] = ACC(0.0);

    for (; k0 < k_end; k0 += k_stride) {
      store_tile(tid);
      barrier();
      const uint next = k0 + k_stride;
      if (next < k_end) load_tile(k_head + uint64_t(next) * k_rs, k_rs, v_head + uint64_t(next) * v_rs, v_rs, next, tid);
      const uint j0 = k0 + 16 * kg;  // this subgroup's first key
      if (DO_MATH && j0 < k_end) {
        // S = Q K^T for the key group, in two chains of products.
        ACC s = ACC(0.0), s_odd = ACC(0.0);
        [[unroll]] for (uint kd = 0; kd < ND; ++kd) {
          F16 qf, kf;
          coopMatLoadNV(qf, smem, Q_BASE + kd * 2, K_PITCH, false);
          coopMatLoadNV(kf, smem, K_BASE + 16 * kg * K_PITCH + kd * 2, K_PITCH, true);
          if (kd % 2 == 0) s = coopMatMulAddNV(qf, kf, s);
          else s_odd = coopMatMulAddNV(qf, kf, s_odd);
        }
        s = s + s_odd;

        // The online softmax on S's elements (base 2); masking only where a
        // key group reaches past L_k or the causal diagonal, or with a mask.
        const bool edge = MASK != 0 || j0 + 16 > pc.Lk || (CAUSAL && int(j0 + 15) > pc.causal_offset);
        float tmax[2] = {NEG_INF, NEG_INF};
        [[unroll]] for (int e = 0; e < s.length(); ++e) {
          const bool hi = ((LAYOUT_HI >> e) & 1u) != 0;
          float v = s[e] * scale2;
          if (edge) {
            const uint j = j0 + ((col_bits >> (4 * e)) & 15u);
            v = j < pc.Lk ? masked_score(s[e] * pc.scale, hi ? mask_row[1] : mask_row[0], m_step, hi ? qi[1] : qi[0],
                                         j, pc.causal_offset) * LOG2E
                          : NEG_INF;
          }
          s[e] = v;
          if (hi) tmax[1] = max(tmax[1], v);
          else tmax[0] = max(tmax[0], v);
        }
        float alpha[2], mu[2];
        [[unroll]] for (uint x = 0; x < 2; ++x) {
          tmax[x] = max(tmax[x], subgroupShuffleXor(tmax[x], 1));
          tmax[x] = max(tmax[x], subgroupShuffleXor(tmax[x], 2));
          const float m = m_ref[x];
          const bool rescale = m != NEG_INF && tmax[x] > m + SLACK;
          alpha[x] = rescale ? exp2(m - tmax[x]) : 1.0;
          if (m == NEG_INF || rescale) m_ref[x] = tmax[x];
          l_part[x] *= alpha[x];
          mu[x] = m_ref[x] == NEG_INF ? 0.0 : m_ref[x];
        }
        if (subgroupAny(alpha[0] != 1.0 || alpha[1] != 1.0)) {
          [[unroll]] for (uint n = 0; n < NVG; ++n) {
            [[unroll]] for (int e = 0; e < of[n].length(); ++e) {
              of[n][e] *= ((LAYOUT_HI >> e) & 1u) != 0 ? alpha[1] : alpha[0];
            }
          }
        }
        float sum0 = 0.0, sum1 = 0.0;
        [[unroll]] for (int e = 0; e < s.length(); ++e) {
          const bool hi = ((LAYOUT_HI >> e) & 1u) != 0;
          const float p = exp2(s[e] - (hi ? mu[1] : mu[0]));
          s[e] = p;
          if (hi) sum1 += p;
          else sum0 += p;
        }
        l_part[0] += sum0;
        l_part[1] += sum1;
        const F16 pf = F16(s);

        // O += P V over this subgroup's share of the features.
        [[unroll]] for (uint n = 0; n < NVG; ++n) {
          F16 vf;
          coopMatLoadNV(vf, smem, V_BASE + 16 * kg * V_PITCH + (dg * NVG + n) * 2, V_PITCH, false);
          of[n] = coopMatMulAddNV(pf, vf, of[n]);
        }
      }
      barrier();  // the tile is read before the next one is stored
    }

    // The partials of this subgroup's chunk: (max in base e, sum) per row
    // from the first subgroup of the key group, then the output share, two
    // neighbouring elements per 8-byte store.
    [[unroll]] for (uint x = 0; x < 2; ++x) {
      float l = l_part[x];
      l += subgroupShuffleXor(l, 1);
      l += subgroupShuffleXor(l, 2);
      const uint r = lane / 4 + 8 * x;
      if (dg == 0 && lane % 4 == 0 && r < nr) {
        const uint gr = row0 + r;
        const uint64_t row = (uint64_t(b) * pc.Hq + hk * group + gr / pc.Lq) * pc.Lq + gr % pc.Lq;
        const vec2 ml = vec2(m_ref[x] * LN2, l);
        Ptr2x32(pc.partial + (row * pc.chunks + chunk) * pc.pitch * 4).v =
            layout_ok ? floatBitsToUint(ml) : uvec2(floatBitsToUint(F_NAN));
      }
    }
    [[unroll]] for (uint n = 0; n < NVG; ++n) {
      [[unroll]] for (int e = 0; e < of[n].length(); e += 2) {
        const uint r = lane / 4 + (((LAYOUT_HI >> e) & 1u) != 0 ? 8 : 0);
        if (r >= nr) continue;
        const uint gr = row0 + r;
        const uint64_t row = (uint64_t(b) * pc.Hq + hk * group + gr / pc.Lq) * pc.Lq + gr % pc.Lq;
        const uint col = (dg * NVG + n) * 16 + ((col_bits >> (4 * e)) & 15u);
        const vec2 o = layout_ok ? vec2(of[n][e], of[n][e + 1]) : vec2(F_NAN);
        Ptr2x32(pc.partial + ((row * pc.chunks + chunk) * pc.pitch + 4 + col) * 4).v = floatBitsToUint(o);
      }
    }
  }
}
