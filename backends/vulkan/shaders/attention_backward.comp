// Flash-attention backward of scaled dot-product attention, from the forward's
// saved logsumexp: P is recomputed, never stored, and no atomics are used.
// Two passes of this shader, picked by KEY_ROWS:
//  - query rows (dQ): one workgroup per query (b, h, i) walks its visible keys
//    in blocks of WG; dq = scale * sum_j ds_j k_j.
//  - key rows (dK, dV): one workgroup per key (b, h_kv, j) walks every query
//    row of the kv head's group in blocks of WG; dv = sum p_ij do_i and
//    dk = sum ds_ij q_i, accumulated in registers, so each key row's
//    gradients are written once.
// In a block, invocation t scores one (query, key) pair:
//   p = exp(scale * q.k + mask - lse), ds = p * (do.v - delta) * scale
// (ds already carries the scale of dS/dq), and p, ds go through shared memory
// to the invocations that own output features (e = t, t + WG, ...).
#version 460
#extension GL_GOOGLE_include_directive : require
#include "ids.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint MASK = 0;  // 0 none, 1 bool (true keeps), 2 additive (DT)
layout(constant_id = 3) const bool CAUSAL = false;
layout(constant_id = 4) const bool KEY_ROWS = false;

#include "attention.glsl"

#define T_DOUT 4u
#define T_LSE 5u
#define T_DELTA 6u

layout(push_constant) uniform Push {
  uint64_t q;
  uint64_t k;
  uint64_t v;
  uint64_t mask;
  uint64_t d_out;
  uint64_t lse;      // float32 [B, H_q, L_q]
  uint64_t delta;    // float32 [B, H_q, L_q]: sum(d_out * out) - d_lse
  uint64_t strides;  // q, k, v, mask, d_out, lse, delta: 4 each
  uint64_t grad_a;   // dq [B, H_q, L_q, D] or dk [B, H_kv, L_k, D], row-contiguous
  uint64_t grad_b;   // dv [B, H_kv, L_k, D_v] (key rows)
  uint B;
  uint Hq;
  uint Hkv;
  uint Lq;
  uint Lk;
  uint D;
  uint Dv;
  int causal_offset;
  float scale;
} pc;

const uint WG = gl_WorkGroupSize.x;
const uint MAX_FEATURES = 4;  // D, D_v <= 4 * WG
shared float col_p[WG];
shared float col_ds[WG];

float dot_rows(uint64_t a, int64_t a_step, uint64_t b, int64_t b_step, uint n) {
  uint size = dtype_size(DT);
  float acc = 0.0;
  for (uint d = 0; d < n; ++d) {
    acc += load_float(DT, a + uint64_t(int64_t(d) * a_step * size)) *
           load_float(DT, b + uint64_t(int64_t(d) * b_step * size));
  }
  return acc;
}

float row_float32(uint tensor, uint64_t base, uint b, uint h, uint i) {
  return uintBitsToFloat(Ptr32(table_row(pc.strides, base, tensor, b, h, i, 4)).v);
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint size = dtype_size(DT);
  uint group = pc.Hq / pc.Hkv;
  int64_t q_step = table_stride(pc.strides, T_Q, 3), k_step = table_stride(pc.strides, T_K, 3);
  int64_t v_step = table_stride(pc.strides, T_V, 3), m_step = table_stride(pc.strides, T_MASK, 3);
  int64_t do_step = table_stride(pc.strides, T_DOUT, 3);
  uint64_t rows = KEY_ROWS ? uint64_t(pc.B) * pc.Hkv * pc.Lk : uint64_t(pc.B) * pc.Hq * pc.Lq;
  for (uint64_t r = gl_WorkGroupID.x; r < rows; r += gl_NumWorkGroups.x) {
    // The fixed side of this workgroup: query (h, i) or key j of kv head hk.
    uint b, hk, h = 0, i = 0, j = 0, columns;
    if (KEY_ROWS) {
      j = uint(r % pc.Lk);
      hk = uint((r / pc.Lk) % pc.Hkv);
      b = uint(r / (uint64_t(pc.Lk) * pc.Hkv));
      columns = group * pc.Lq;
    } else {
      i = uint(r % pc.Lq);
      h = uint((r / pc.Lq) % pc.Hq);
      b = uint(r / (uint64_t(pc.Lq) * pc.Hq));
      hk = h / group;
      columns = CAUSAL ? uint(clamp(int(i) + pc.causal_offset + 1, 0, int(pc.Lk))) : pc.Lk;
    }
    float acc_a[MAX_FEATURES], acc_b[MAX_FEATURES];
    for (uint f = 0; f < MAX_FEATURES; ++f) {
      acc_a[f] = 0.0;
      acc_b[f] = 0.0;
    }
    for (uint c0 = 0; c0 < columns; c0 += WG) {
      uint nc = min(WG, columns - c0);
      float p = 0.0, ds = 0.0;
      if (tid < nc) {
        uint c = c0 + tid, ci = i, ch = h, cj = j;
        if (KEY_ROWS) {
          ch = hk * group + c / pc.Lq;
          ci = c % pc.Lq;
        } else {
          cj = c;
        }
        float lse = row_float32(T_LSE, pc.lse, b, ch, ci);
        uint64_t q_row = table_row(pc.strides, pc.q, T_Q, b, ch, ci, size);
        uint64_t k_row = table_row(pc.strides, pc.k, T_K, b, hk, cj, size);
        uint64_t mask_row = MASK == 0 ? 0
            : table_row(pc.strides, pc.mask, T_MASK, b, ch, ci, MASK == 1 ? 1 : size);
        float s = masked_score(pc.scale * dot_rows(q_row, q_step, k_row, k_step, pc.D), mask_row,
                               m_step, ci, cj, pc.causal_offset);
        if (s != NEG_INF && lse != NEG_INF) {
          p = fexp(s - lse);
          uint64_t do_row = table_row(pc.strides, pc.d_out, T_DOUT, b, ch, ci, size);
          uint64_t v_row = table_row(pc.strides, pc.v, T_V, b, hk, cj, size);
          float dp = dot_rows(do_row, do_step, v_row, v_step, pc.Dv);
          ds = p * (dp - row_float32(T_DELTA, pc.delta, b, ch, ci)) * pc.scale;
        }
      }
      col_p[tid] = p;
      col_ds[tid] = ds;
      barrier();
      if (tid < max(pc.D, pc.Dv)) {
        for (uint jj = 0; jj < nc; ++jj) {
          float pj = col_p[jj], dsj = col_ds[jj];
          if (pj == 0.0) continue;
          uint c = c0 + jj;
          if (KEY_ROWS) {
            uint ch = hk * group + c / pc.Lq, ci = c % pc.Lq;
            uint64_t q_row = table_row(pc.strides, pc.q, T_Q, b, ch, ci, size);
            uint64_t do_row = table_row(pc.strides, pc.d_out, T_DOUT, b, ch, ci, size);
            for (uint f = 0; f < MAX_FEATURES; ++f) {
              uint e = tid + f * WG;
              if (e < pc.D) acc_a[f] += dsj * load_float(DT, q_row + uint64_t(int64_t(e) * q_step * size));
              if (e < pc.Dv) acc_b[f] += pj * load_float(DT, do_row + uint64_t(int64_t(e) * do_step * size));
            }
          } else {
            uint64_t k_row = table_row(pc.strides, pc.k, T_K, b, hk, c, size);
            for (uint f = 0; f < MAX_FEATURES; ++f) {
              uint e = tid + f * WG;
              if (e < pc.D) acc_a[f] += dsj * load_float(DT, k_row + uint64_t(int64_t(e) * k_step * size));
            }
          }
        }
      }
      barrier();
    }
    uint64_t a_row = pc.grad_a + r * pc.D * size;
    uint64_t b_row = pc.grad_b + r * pc.Dv * size;
    for (uint f = 0; f < MAX_FEATURES; ++f) {
      uint e = tid + f * WG;
      if (e < pc.D) store_float(DT, a_row + e * size, acc_a[f]);
      if (KEY_ROWS && e < pc.Dv) store_float(DT, b_row + e * size, acc_b[f]);
    }
  }
}
