// Scaled dot-product attention, portable path: one query row per workgroup
// (rows in a grid-stride loop). Keys go by in blocks of WG: each invocation
// scores one key of the block (float32 dot product, mask applied), the block's
// maximum (a tree reduction) and probabilities go through shared memory, and every invocation
// accumulates its own output features (e = tid, tid + WG, ...) with the online
// softmax's running max and sum (identical in every invocation that owns
// features). No [L_q, L_k]
// matrix exists. A query with nothing visible writes 0 and lse -inf.
// WRITE_LSE is a specialization constant: the variant without it has no lse
// code at all.
#version 460
#extension GL_GOOGLE_include_directive : require
#include "ids.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint MASK = 0;  // 0 none, 1 bool (true keeps), 2 additive (DT)
layout(constant_id = 3) const bool CAUSAL = false;
layout(constant_id = 4) const bool HAS_SINKS = false;
layout(constant_id = 5) const bool WRITE_LSE = false;

#include "attention.glsl"

layout(push_constant) uniform Push {
  uint64_t q;
  uint64_t k;
  uint64_t v;
  uint64_t mask;
  uint64_t sinks;
  uint64_t out_addr;  // [B, H_q, L_q, D_v] row-contiguous
  uint64_t lse;       // float32 [B, H_q, L_q]
  uint64_t strides;   // int64 element strides: q, k, v, mask (4 each), then sinks'
  uint B;
  uint Hq;
  uint Hkv;
  uint Lq;
  uint Lk;
  uint D;
  uint Dv;
  int causal_offset;  // query i sees key j iff j <= i + causal_offset
  float scale;
} pc;

const uint WG = gl_WorkGroupSize.x;
const uint MAX_FEATURES = 4;  // output features per invocation: D_v <= 4 * WG
shared float block_value[WG];
shared float partial[WG];

float workgroup_max(float v) {
  uint tid = gl_LocalInvocationID.x;
  partial[tid] = v;
  barrier();
  for (uint half_width = WG / 2; half_width > 0; half_width /= 2) {
    if (tid < half_width) partial[tid] = max(partial[tid], partial[tid + half_width]);
    barrier();
  }
  float m = partial[0];
  barrier();
  return m;
}

int64_t stride_of(uint tensor, uint dim) { return table_stride(pc.strides, tensor, dim); }

uint64_t row_address(uint64_t base, uint tensor, uint b, uint h, uint l, uint elem_size) {
  return table_row(pc.strides, base, tensor, b, h, l, elem_size);
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint size = dtype_size(DT);
  uint group = pc.Hq / pc.Hkv;
  uint64_t rows = uint64_t(pc.B) * pc.Hq * pc.Lq;
  int64_t q_step = stride_of(0, 3), k_step = stride_of(1, 3), v_step = stride_of(2, 3);
  int64_t m_step = stride_of(3, 3);
  for (uint64_t r = gl_WorkGroupID.x; r < rows; r += gl_NumWorkGroups.x) {
    uint i = uint(r % pc.Lq);
    uint h = uint((r / pc.Lq) % pc.Hq);
    uint b = uint(r / (uint64_t(pc.Lq) * pc.Hq));
    uint hk = h / group;
    uint64_t q_row = row_address(pc.q, 0, b, h, i, size);
    uint64_t mask_row = MASK == 0 ? 0 : row_address(pc.mask, 3, b, h, i, MASK == 1 ? 1 : size);
    int visible = CAUSAL ? clamp(int(i) + pc.causal_offset + 1, 0, int(pc.Lk)) : int(pc.Lk);
    uint k_end = uint(visible);

    float row_max = NEG_INF, row_sum = 0.0;
    float acc[MAX_FEATURES];
    for (uint f = 0; f < MAX_FEATURES; ++f) acc[f] = 0.0;

    for (uint k0 = 0; k0 < k_end; k0 += WG) {
      uint nk = min(WG, k_end - k0);
      uint j = k0 + tid;
      float s = NEG_INF;
      if (tid < nk) {
        uint64_t k_row = row_address(pc.k, 1, b, hk, j, size);
        float dot = 0.0;
        for (uint d = 0; d < pc.D; ++d) {
          dot += load_float(DT, q_row + uint64_t(int64_t(d) * q_step * size)) *
                 load_float(DT, k_row + uint64_t(int64_t(d) * k_step * size));
        }
        s = masked_score(pc.scale * dot, mask_row, m_step, i, j, pc.causal_offset);
      }
      float block_max = workgroup_max(s);
      if (block_max != NEG_INF) {  // uniform: every invocation saw the same scores
        float new_max = max(row_max, block_max);
        float rescale = row_max == NEG_INF ? 0.0 : fexp(row_max - new_max);
        block_value[tid] = tid < nk ? fexp(s - new_max) : 0.0;
        barrier();
        // Only invocations that own output features (tid < D_v; tid 0 among
        // them, which writes the lse) walk the block's values.
        if (tid < pc.Dv) {
          row_sum *= rescale;
          for (uint f = 0; f < MAX_FEATURES; ++f) acc[f] *= rescale;
          for (uint jj = 0; jj < nk; ++jj) {
            float p = block_value[jj];
            row_sum += p;
            if (p == 0.0) continue;
            uint64_t v_row = row_address(pc.v, 2, b, hk, k0 + jj, size);
            for (uint f = 0; f < MAX_FEATURES; ++f) {
              uint e = tid + f * WG;
              if (e < pc.Dv) acc[f] += p * load_float(DT, v_row + uint64_t(int64_t(e) * v_step * size));
            }
          }
        }
        row_max = new_max;
        barrier();
      }
    }
    if (HAS_SINKS) {  // one more logit in the denominator
      float sink = load_float(DT, pc.sinks + uint64_t(int64_t(h) * stride_of(4, 0) * size));
      float new_max = max(row_max, sink);
      float rescale = row_max == NEG_INF ? 0.0 : fexp(row_max - new_max);
      row_sum = row_sum * rescale + fexp(sink - new_max);
      for (uint f = 0; f < MAX_FEATURES; ++f) acc[f] *= rescale;
      row_max = new_max;
    }
    uint64_t out_row = pc.out_addr + r * pc.Dv * size;
    for (uint f = 0; f < MAX_FEATURES; ++f) {
      uint e = tid + f * WG;
      if (e < pc.Dv) store_float(DT, out_row + e * size, row_sum > 0.0 ? fdiv(acc[f], row_sum) : 0.0);
    }
    if (WRITE_LSE && tid == 0) {
      Ptr32(pc.lse + r * 4).v = floatBitsToUint(row_sum > 0.0 ? row_max + flog(row_sum) : NEG_INF);
    }
  }
}
