// Scaled dot-product attention, split-K decode (L_q <= 8) on tensor cores
// through GL_NV_cooperative_matrix, for float16 and bfloat16 with head dims
// multiples of 16 (kernels/attention_decode.cpp picks it where the device
// has NVIDIA's mma fragment layouts; attention_decode.comp elsewhere).
//
// Transposed, so that the few query rows of a decode are the narrow side of
// 16 x 8 fragments: S^T = K Q^T (16 keys x 8 rows) and O^T += V^T P^T (16
// features x 8 rows), a subgroup holding D_v / 16 fragments of 4 floats per
// invocation for its output. A workgroup takes one (batch, kv head, group of
// 8 rows, chunk), where a row group is up to 8 query rows of the kv head's
// group (q heads sharing it x queries); chunk c's subgroup w takes the 16-key
// tiles 8 c + w, 8 c + w + 8 chunks, ... (the workgroups of a head sweep K
// and V together). In the loop the subgroups share nothing but Q: each has
// its own buffer in shared memory and there is no workgroup barrier; at the
// end the 8 subgroups' results are merged through shared memory. Per tile,
// each invocation's 16-byte units of K are converted to float16 into the
// buffer, S^T is taken, V takes the buffer's place while the online softmax
// runs on S^T's own elements (a query row is a column: 8 invocations x 2
// elements), with a lazily moved reference max as in attention_flash.comp
// (P <= e^8 as float16), then O^T += V^T P^T. With PREFETCH the next
// tiles' K and V are loaded while this one is used. Each workgroup writes its
// chunk's partial (max, sum, unnormalized output) per row;
// attention_merge.comp combines them. On the H100 the arithmetic is nearly
// free (without the loads the kernel takes about half the time); the loads,
// their staging through registers and shared memory, and the merge pass set
// its pace (docs/attention.md).
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
layout(constant_id = 5) const uint DV = 128;
// K and V are loaded into registers PREFETCH tiles ahead (0, 1 or 2): the
// loads of the next tiles are in flight while this one is used.
layout(constant_id = 6) const uint PREFETCH = 1;
// Measurement only (wrong results; LUMEN_VULKAN_DECODE_MMA_PROBE): bit 0
// skips the products and the softmax, bit 1 the bfloat16 conversion, bit 2
// the loads of K and V.
layout(constant_id = 7) const uint PROBE = 0;
// Q's rows contiguous and 16-byte aligned (16-byte loads).
layout(constant_id = 8) const bool VEC_Q = false;
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
  uint rows_per_group;  // 8
  uint row_groups;
  uint chunks;  // workgroup chunks
  uint chunk_keys_unused;
  uint pitch;  // floats per partial: 4 + D_v rounded up to 4
  uint chunk_lanes_unused;
  uint merge_flags_unused;
} pc;

#define ACC fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>  // S^T, O^T
#define F16A fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>  // K, V^T
#define F16B fcoopmatNV<16, gl_ScopeSubgroup, 16, 8>   // Q^T, P^T

const uint WARPS = gl_WorkGroupSize.x / 32;
const uint UNIT = 8;  // float16 per 16-byte unit
const uint DK = D / UNIT, DVU = DV / UNIT;  // units per K and V row
const uint ND = D / 16, NV = DV / 16;       // fragments along D and D_v
// A subgroup's buffer: 16 rows of K or V, padded by one unit against bank
// conflicts of fragment loads (first the layout probe's 32 units, at the end
// the subgroup's output as 8 float32 rows of D_v).
const uint PITCH = (DK > DVU ? DK : DVU) + 1;
const uint BUF = 16 * PITCH;
// Then the workgroup's 8 rows of Q.
const uint Q_PITCH = DK + 1, Q_BASE = WARPS * BUF;
shared uvec4 smem[WARPS * BUF + 8 * Q_PITCH];
// The subgroups' maxima (base 2) and sums per row, for the merge.
shared float warp_max[WARPS * 8], warp_sum[WARPS * 8];

// Units of a 16-row K and V tile per invocation.
const uint KL = 16 * DK / 32, VL = 16 * DVU / 32;

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;
const float SLACK = 8.0 * LOG2E;  // e^8 in base 2

// Whether a 16 x 8 float32 fragment has the layout this kernel assumes: 4
// elements per invocation, elements 2y + x in row lane / 4 + 8 y, column
// 2 (lane % 4) + x (read from a matrix whose entries are their own indices,
// in the 32 units of smem from `base`).
bool layout_is_mma(uint base, uint lane) {
  for (uint e = lane; e < 128; e += 32) smem[base + e / 4][e % 4] = floatBitsToUint(float(e));
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  ACC m;
  coopMatLoadNV(m, smem, base, 2, false);
  bool ok = m.length() == 4;
  [[unroll]] for (int i = 0; i < 4; ++i) {
    const uint e = i < m.length() ? uint(m[i]) : 0xffffu;
    ok = ok && e / 8 == lane / 4 + 8 * (i / 2) && e % 8 == 2 * (lane % 4) + i % 2;
  }
  return subgroupAll(ok);
}

// The loaded units of two tiles (tile t in set t % 2; private globals:
// arrays sized by specialization constants).
uvec4 k_regs[2][KL], v_regs[2][VL];

// Unit c = lane + 32 l of a tile is row c / units, unit c % units of it; rows
// at or past L_k read as zeros. `rows` is the tile's first row, `rs` the row
// stride in bytes.
void load_k(uint set, uint64_t rows, uint rs, uint k0, uint lane) {
  [[unroll]] for (uint l = 0; l < KL; ++l) {
    const uint c = lane + 32 * l, r = c / DK;
    if (!DO_LOADS) k_regs[set][l] = uvec4(c, r, k0, 0);
    else k_regs[set][l] = k0 + r < pc.Lk ? ReadPtr4x32(rows + r * rs + c % DK * 16).v : uvec4(0);
  }
}

void load_v(uint set, uint64_t rows, uint rs, uint k0, uint lane) {
  [[unroll]] for (uint l = 0; l < VL; ++l) {
    const uint c = lane + 32 * l, r = c / DVU;
    if (!DO_LOADS) v_regs[set][l] = uvec4(c, r, k0, 1);
    else v_regs[set][l] = k0 + r < pc.Lk ? ReadPtr4x32(rows + r * rs + c % DVU * 16).v : uvec4(0);
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

void store_k(uint set, uint buf, uint lane) {
  [[unroll]] for (uint l = 0; l < KL; ++l) {
    const uint c = lane + 32 * l;
    smem[buf + c / DK * PITCH + c % DK] = to_half(k_regs[set][l]);
  }
}

void store_v(uint set, uint buf, uint lane) {
  [[unroll]] for (uint l = 0; l < VL; ++l) {
    const uint c = lane + 32 * l;
    smem[buf + c / DVU * PITCH + c % DVU] = to_half(v_regs[set][l]);
  }
}

// The subgroup's writes to its buffer seen by all of it.
void buffer_written() {
  subgroupMemoryBarrierShared();
  subgroupBarrier();
}

// Max and sum over the 8 invocations sharing a column (lane % 4).
float column_max(float x) {
  x = max(x, subgroupShuffleXor(x, 4));
  x = max(x, subgroupShuffleXor(x, 8));
  return max(x, subgroupShuffleXor(x, 16));
}

float column_sum(float x) {
  x += subgroupShuffleXor(x, 4);
  x += subgroupShuffleXor(x, 8);
  return x + subgroupShuffleXor(x, 16);
}

void main() {
  const uint warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint buf = warp * BUF;
  const uint size = dtype_size(DT);
  const uint group = pc.Hq / pc.Hkv, group_rows = group * pc.Lq;
  const int64_t q_step = table_stride(pc.strides, T_Q, 3), m_step = table_stride(pc.strides, T_MASK, 3);
  // Q's head and row strides in bytes.
  const int64_t q_hs = table_stride(pc.strides, T_Q, 1) * size, q_rs = table_stride(pc.strides, T_Q, 2) * size;
  const uint k_rs = uint(table_stride(pc.strides, T_K, 2) * size), v_rs = uint(table_stride(pc.strides, T_V, 2) * size);
  const float scale2 = pc.scale * LOG2E;
  // Keys any row sees: causal rows see keys j <= i + causal_offset.
  const uint k_end = CAUSAL ? uint(clamp(int(pc.Lq) + pc.causal_offset, 0, int(pc.Lk))) : pc.Lk;
  const uint k_stride = pc.chunks * WARPS * 16;
  // Element 2 y + x of a fragment: row lane / 4 + 8 y, column c0 + x.
  const uint c0 = 2 * (lane % 4);

  // The layout checked (a mismatch gives NaN rather than wrong numbers).
  const bool layout_ok = layout_is_mma(buf, lane);
  subgroupBarrier();  // the probe is read before K takes its memory

  const uint64_t units = uint64_t(pc.B) * pc.Hkv * pc.row_groups * pc.chunks;
  for (uint64_t u = gl_WorkGroupID.x; u < units; u += gl_NumWorkGroups.x) {
    const uint chunk = uint(u % pc.chunks);
    uint64_t rest = u / pc.chunks;
    const uint row0 = uint(rest % pc.row_groups) * 8;
    rest /= pc.row_groups;
    const uint hk = uint(rest % pc.Hkv), b = uint(rest / pc.Hkv);
    const uint nr = min(8u, group_rows - row0);

    // The first tile's loads go out before Q is read.
    const uint64_t k_head = table_row(pc.strides, pc.k, T_K, b, hk, 0, size);
    const uint64_t v_head = table_row(pc.strides, pc.v, T_V, b, hk, 0, size);
    const uint64_t q_head = table_row(pc.strides, pc.q, T_Q, b, hk * group, 0, size);
    const uint k_first = (chunk * WARPS + warp) * 16;
    [[unroll]] for (uint t = 0; t < PREFETCH; ++t) {
      const uint k0 = k_first + t * k_stride;
      if (k0 < k_end) {
        load_k(t, k_head + uint64_t(k0) * k_rs, k_rs, k0, lane);
        load_v(t, v_head + uint64_t(k0) * v_rs, v_rs, k0, lane);
      }
    }

    // Column r of Q^T is query gr % L_q of q head hk * group + gr / L_q (gr =
    // row0 + r), staged by the workgroup as rows of shared memory (rows past
    // nr are zeros) and read as fragments per tile (fewer registers held
    // through the loop). Q goes in unscaled.
    for (uint c = gl_LocalInvocationID.x; c < 8 * DK; c += gl_WorkGroupSize.x) {
      const uint r = c / DK, e0 = c % DK * UNIT;
      uvec4 w = uvec4(0);
      if (r < nr) {
        const uint gr = row0 + r;
        const uint64_t q_row = q_head + uint64_t(int64_t(gr / pc.Lq) * q_hs + int64_t(gr % pc.Lq) * q_rs);
        if (VEC_Q) {
          w = to_half(ReadPtr4x32(q_row + e0 * 2).v);
        } else {
          [[unroll]] for (uint t = 0; t < 4; ++t) {
            w[t] = packHalf2x16(vec2(load_float(DT, q_row + uint64_t(int64_t(e0 + 2 * t) * q_step * size)),
                                     load_float(DT, q_row + uint64_t(int64_t(e0 + 2 * t + 1) * q_step * size))));
          }
        }
      }
      smem[Q_BASE + r * Q_PITCH + c % DK] = w;
    }
    barrier();

    // This invocation's columns c0 + x: their queries, mask rows and
    // online-softmax state (its share of the sum).
    uint qi[2];
    uint64_t mask_row[2];
    float m_ref[2], l_part[2];
    [[unroll]] for (uint x = 0; x < 2; ++x) {
      const uint gr = row0 + min(c0 + x, nr - 1), h = hk * group + gr / pc.Lq;
      qi[x] = gr % pc.Lq;
      mask_row[x] = MASK == 0 ? 0 : table_row(pc.strides, pc.mask, T_MASK, b, h, qi[x], MASK == 1 ? 1 : size);
      m_ref[x] = NEG_INF;
      l_part[x] = 0.0;
    }
    ACC of[NV];
    [[unroll]] for (uint n = 0; n < NV; ++n) of[n] = ACC(0.0);

    // Tiles by pairs, so that each one's register set is a constant (with one
    // tile ahead too: the pair measured 0.0600 ms on the H100 against 0.0620
    // for one set and a plain loop).
    for (uint k_pair = k_first; k_pair < k_end; k_pair += 2 * k_stride) {
      [[unroll]] for (uint h = 0; h < 2; ++h) {
        const uint k0 = k_pair + h * k_stride;
        if (k0 >= k_end) break;
        // The tile PREFETCH ahead, and its register set.
        const uint ahead = k0 + PREFETCH * k_stride, ahead_set = (h + PREFETCH) % 2;
        if (PREFETCH == 0) {
          load_k(h, k_head + uint64_t(k0) * k_rs, k_rs, k0, lane);
          load_v(h, v_head + uint64_t(k0) * v_rs, v_rs, k0, lane);
        }
        store_k(h, buf, lane);
        buffer_written();
        if (PREFETCH > 0 && ahead < k_end) load_k(ahead_set, k_head + uint64_t(ahead) * k_rs, k_rs, ahead, lane);
        if (!DO_MATH) {
          subgroupBarrier();
          store_v(h, buf, lane);
          if (PREFETCH > 0 && ahead < k_end) load_v(ahead_set, v_head + uint64_t(ahead) * v_rs, v_rs, ahead, lane);
          buffer_written();
          continue;
        }
        // S^T = K Q^T in two chains of products.
        ACC s = ACC(0.0), s_odd = ACC(0.0);
        [[unroll]] for (uint kd = 0; kd < ND; ++kd) {
          F16A kf;
          F16B qf;
          coopMatLoadNV(kf, smem, buf + kd * 2, PITCH, false);
          coopMatLoadNV(qf, smem, Q_BASE + kd * 2, Q_PITCH, true);
          if (kd % 2 == 0) s = coopMatMulAddNV(kf, qf, s);
          else s_odd = coopMatMulAddNV(kf, qf, s_odd);
        }
        s = s + s_odd;
        subgroupBarrier();  // K read before V takes the buffer
        store_v(h, buf, lane);
        if (PREFETCH > 0 && ahead < k_end) load_v(ahead_set, v_head + uint64_t(ahead) * v_rs, v_rs, ahead, lane);

        // The online softmax down S^T's columns (base 2); masking only where a
        // tile reaches past L_k or the causal diagonal, or with a mask array.
        const bool edge = MASK != 0 || k0 + 16 > pc.Lk || (CAUSAL && int(k0 + 15) > pc.causal_offset);
        float tmax[2] = {NEG_INF, NEG_INF};
        [[unroll]] for (uint i = 0; i < 4; ++i) {
          const uint x = i % 2;
          float v = s[i] * scale2;
          if (edge) {
            const uint j = k0 + lane / 4 + 8 * (i / 2);
            v = j < pc.Lk ? masked_score(s[i] * pc.scale, mask_row[x], m_step, qi[x], j, pc.causal_offset) * LOG2E
                          : NEG_INF;
          }
          s[i] = v;
          tmax[x] = max(tmax[x], v);
        }
        float alpha[2], mu[2];
        [[unroll]] for (uint x = 0; x < 2; ++x) {
          tmax[x] = column_max(tmax[x]);
          const float m = m_ref[x];
          const bool rescale = m != NEG_INF && tmax[x] > m + SLACK;
          alpha[x] = rescale ? exp2(m - tmax[x]) : 1.0;
          if (m == NEG_INF || rescale) m_ref[x] = tmax[x];
          l_part[x] *= alpha[x];
          mu[x] = m_ref[x] == NEG_INF ? 0.0 : m_ref[x];
        }
        if (subgroupAny(alpha[0] != 1.0 || alpha[1] != 1.0)) {
          [[unroll]] for (uint n = 0; n < NV; ++n) {
            [[unroll]] for (uint i = 0; i < 4; ++i) of[n][i] *= alpha[i % 2];
          }
        }
        [[unroll]] for (uint i = 0; i < 4; ++i) {
          const float p = exp2(s[i] - mu[i % 2]);
          s[i] = p;
          l_part[i % 2] += p;
        }
        const F16B pf = F16B(s);

        buffer_written();  // V stored
        [[unroll]] for (uint n = 0; n < NV; ++n) {
          F16A vf;
          coopMatLoadNV(vf, smem, buf + n * 2, PITCH, true);
          of[n] = coopMatMulAddNV(vf, pf, of[n]);
        }
        subgroupBarrier();  // V read before the next K takes the buffer
      }
    }

    // The workgroup's partial per row: the subgroups' maxima and sums
    // through shared memory, each subgroup's output scaled to the common max
    // into its buffer (O^T element 2 y + x is feature 16 n + lane / 4 + 8 y
    // of row c0 + x), then summed feature by feature.
    [[unroll]] for (uint x = 0; x < 2; ++x) {
      const float l = column_sum(l_part[x]);
      if (lane < 4) {
        warp_max[warp * 8 + c0 + x] = m_ref[x];
        warp_sum[warp * 8 + c0 + x] = l;
      }
    }
    barrier();
    [[unroll]] for (uint x = 0; x < 2; ++x) {
      float mx = NEG_INF;
      for (uint w = 0; w < WARPS; ++w) mx = max(mx, warp_max[w * 8 + c0 + x]);
      const float f = m_ref[x] == NEG_INF ? 0.0 : exp2(m_ref[x] - mx);
      [[unroll]] for (uint n = 0; n < NV; ++n) {
        [[unroll]] for (uint y = 0; y < 2; ++y) {
          // Row c0 + x of the buffer's floats: D_v features.
          const uint e = (c0 + x) * DV + n * 16 + lane / 4 + 8 * y;
          smem[buf + e / 4][e % 4] = floatBitsToUint(of[n][2 * y + x] * f);
        }
      }
    }
    barrier();
    const uint tid = gl_LocalInvocationID.x;
    for (uint e = tid; e < 8 * DV; e += gl_WorkGroupSize.x) {
      const uint r = e / DV;
      if (r >= nr) break;
      const uint gr = row0 + r;
      const uint64_t row = (uint64_t(b) * pc.Hq + hk * group + gr / pc.Lq) * pc.Lq + gr % pc.Lq;
      const uint64_t dst = pc.partial + (row * pc.chunks + chunk) * pc.pitch * 4;
      float o = 0.0;
      for (uint w = 0; w < WARPS; ++w) o += uintBitsToFloat(smem[w * BUF + e / 4][e % 4]);
      Ptr32(dst + (4 + e % DV) * 4).v = floatBitsToUint(layout_ok ? o : F_NAN);
      if (e % DV == 0) {
        float mx = NEG_INF, l = 0.0;
        for (uint w = 0; w < WARPS; ++w) mx = max(mx, warp_max[w * 8 + r]);
        for (uint w = 0; w < WARPS; ++w) {
          const float m = warp_max[w * 8 + r];
          l += m == NEG_INF ? 0.0 : warp_sum[w * 8 + r] * exp2(m - mx);
        }
        Ptr2x32(dst).v = floatBitsToUint(layout_ok ? vec2(mx * LN2, l) : vec2(F_NAN));
      }
    }
    barrier();  // the buffers and maxima are read before the next unit writes them
  }
}
