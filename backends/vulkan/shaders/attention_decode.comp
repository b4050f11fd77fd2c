// Scaled dot-product attention, split-K decode (L_q <= 8): the keys are cut
// into chunks spread over many workgroups so that a few query rows still fill
// the device. A workgroup takes one (batch, kv head, row group, chunk) and all
// query rows of that kv head's group (every q head sharing it, every query),
// so each key and value byte is read once per row group. It writes a partial
// result per row: the chunk's running max m, its sum l of exp(s - m) and the
// unnormalized output; attention_merge.comp combines the chunks through them.
//
// Layout: LANES invocations share one key (each owns 8 consecutive features,
// one 16-byte load for 16-bit types when VEC), so WG / LANES keys go by per
// pass, loads coalesced over whole rows. Per pass: partial dot products ->
// shared, summed to scores (masked), row max and rescale factor, then every
// invocation accumulates p * v for its key into its 8 features of every row;
// the key lanes' accumulators are summed once per chunk.
#version 460
#extension GL_GOOGLE_include_directive : require
#include "ids.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint MASK = 0;  // 0 none, 1 bool (true keeps), 2 additive (DT)
layout(constant_id = 3) const bool CAUSAL = false;
// K and V rows are contiguous and 16-byte aligned, D and D_v multiples of 8.
layout(constant_id = 4) const bool VEC = false;

#include "attention.glsl"

layout(push_constant) uniform Push {
  uint64_t q;
  uint64_t k;
  uint64_t v;
  uint64_t mask;
  uint64_t partial;  // float32 [B, H_q, L_q, chunks, 2 + D_v]: m, l, output
  uint64_t strides;  // int64 element strides: q, k, v, mask (4 each)
  uint B;
  uint Hq;
  uint Hkv;
  uint Lq;
  uint Lk;
  uint D;
  uint Dv;
  int causal_offset;
  float scale;
  uint rows_per_group;  // query rows per workgroup, <= MAX_ROWS and * D <= MAX_ROWS * WG
  uint row_groups;
  uint chunks;
  uint chunk_keys;  // a multiple of WG / LANES
  uint lanes;       // invocations per key: ceil(max(D, D_v) / 8)
} pc;

const uint WG = gl_WorkGroupSize.x;
const uint MAX_ROWS = 8;
const uint SEG = 8;  // features per invocation

shared float q_rows[MAX_ROWS * WG];  // scaled queries, [row][D]
shared float scratch[MAX_ROWS * WG];  // partial dots [row][WG], then the lanes' outputs
shared float probs[MAX_ROWS * WG];    // scores, then probabilities: [row][key of the pass]
shared float row_max[MAX_ROWS];
shared float rescale[MAX_ROWS];
shared float lane_sum[WG];

// Features e0 .. e0 + 7 of the row at `row` (n features, `step` elements
// apart), zero past n.
void load_segment(uint64_t row, int64_t step, uint e0, uint n, out float x[SEG]) {
  uint size = dtype_size(DT);
  if (VEC) {
    if (e0 >= n) {
      for (uint u = 0; u < SEG; ++u) x[u] = 0.0;
    } else if (size == 2) {
      uvec4 w = Ptr4x32(row + e0 * 2).v;
      for (uint u = 0; u < 4; ++u) {
        x[2 * u] = bits_to_float(DT, w[u] & 0xffffu);
        x[2 * u + 1] = bits_to_float(DT, w[u] >> 16);
      }
    } else {
      uvec4 lo = Ptr4x32(row + e0 * 4).v, hi = Ptr4x32(row + e0 * 4 + 16).v;
      for (uint u = 0; u < 4; ++u) {
        x[u] = uintBitsToFloat(lo[u]);
        x[u + 4] = uintBitsToFloat(hi[u]);
      }
    }
  } else {
    for (uint u = 0; u < SEG; ++u) {
      uint e = e0 + u;
      x[u] = e < n ? load_float(DT, row + uint64_t(int64_t(e) * step * size)) : 0.0;
    }
  }
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint size = dtype_size(DT);
  const uint keys_per_pass = WG / pc.lanes;
  const uint lane = tid / pc.lanes;     // which key of the pass
  const uint e0 = (tid % pc.lanes) * SEG;  // first owned feature
  const bool has_key = lane < keys_per_pass;
  const uint group = pc.Hq / pc.Hkv;
  const uint group_rows = group * pc.Lq;
  const int64_t q_step = table_stride(pc.strides, T_Q, 3), k_step = table_stride(pc.strides, T_K, 3);
  const int64_t v_step = table_stride(pc.strides, T_V, 3), m_step = table_stride(pc.strides, T_MASK, 3);
  const uint64_t total = uint64_t(pc.B) * pc.Hkv * pc.row_groups * pc.chunks;

  for (uint64_t wg = gl_WorkGroupID.x; wg < total; wg += gl_NumWorkGroups.x) {
    uint chunk = uint(wg % pc.chunks);
    uint64_t rest = wg / pc.chunks;
    uint row0 = uint(rest % pc.row_groups) * pc.rows_per_group;
    rest /= pc.row_groups;
    uint hk = uint(rest % pc.Hkv);
    uint b = uint(rest / pc.Hkv);
    uint nr = min(pc.rows_per_group, group_rows - row0);

    // Row r of the workgroup is query i of head h.
    for (uint x = tid; x < nr * pc.D; x += WG) {
      uint r = x / pc.D, d = x % pc.D, gr = row0 + r;
      uint64_t q_row = table_row(pc.strides, pc.q, T_Q, b, hk * group + gr / pc.Lq, gr % pc.Lq, size);
      q_rows[x] = pc.scale * load_float(DT, q_row + uint64_t(int64_t(d) * q_step * size));
    }
    if (tid < nr) row_max[tid] = NEG_INF;
    uint k_begin = chunk * pc.chunk_keys;
    uint k_end = min(pc.Lk, k_begin + pc.chunk_keys);
    if (CAUSAL) k_end = uint(clamp(int(pc.Lq) + pc.causal_offset, int(k_begin), int(k_end)));
    float acc[MAX_ROWS][SEG];
    float sum[MAX_ROWS];  // of this lane's probabilities (counted by its e0 == 0 invocation)
    for (uint r = 0; r < MAX_ROWS; ++r) {
      sum[r] = 0.0;
      for (uint u = 0; u < SEG; ++u) acc[r][u] = 0.0;
    }
    barrier();

    float kx[SEG], vx[SEG];
    for (uint k0 = k_begin; k0 < k_end; k0 += keys_per_pass) {
      uint j = k0 + lane;
      bool valid = has_key && j < k_end;
      uint64_t k_row = table_row(pc.strides, pc.k, T_K, b, hk, valid ? j : 0, size);
      uint64_t v_row = table_row(pc.strides, pc.v, T_V, b, hk, valid ? j : 0, size);
      load_segment(k_row, k_step, e0, valid ? pc.D : 0, kx);
      load_segment(v_row, v_step, e0, valid ? pc.Dv : 0, vx);
      for (uint r = 0; r < MAX_ROWS; ++r) {
        if (r >= nr) break;
        float dot = 0.0;
        for (uint u = 0; u < SEG; ++u) {
          uint e = e0 + u;
          dot += e < pc.D ? q_rows[r * pc.D + e] * kx[u] : 0.0;
        }
        scratch[r * WG + tid] = dot;
      }
      barrier();
      for (uint x = tid; x < nr * keys_per_pass; x += WG) {
        uint r = x / keys_per_pass, key = x % keys_per_pass, jj = k0 + key;
        float s = NEG_INF;
        if (jj < k_end) {
          s = 0.0;
          for (uint l = 0; l < pc.lanes; ++l) s += scratch[r * WG + key * pc.lanes + l];
          uint gr = row0 + r, i = gr % pc.Lq;
          uint64_t mask_row = MASK == 0 ? 0
              : table_row(pc.strides, pc.mask, T_MASK, b, hk * group + gr / pc.Lq, i, MASK == 1 ? 1 : size);
          s = masked_score(s, mask_row, m_step, i, jj, pc.causal_offset);
        }
        probs[r * keys_per_pass + key] = s;
      }
      barrier();
      if (tid < nr) {
        float old_max = row_max[tid], m = old_max;
        for (uint key = 0; key < keys_per_pass; ++key) m = max(m, probs[tid * keys_per_pass + key]);
        rescale[tid] = old_max == NEG_INF ? 0.0 : exp(old_max - m);
        row_max[tid] = m;
      }
      barrier();
      for (uint x = tid; x < nr * keys_per_pass; x += WG) {
        float s = probs[x], m = row_max[x / keys_per_pass];
        probs[x] = s == NEG_INF ? 0.0 : exp(s - m);
      }
      barrier();
      for (uint r = 0; r < MAX_ROWS; ++r) {
        if (r >= nr) break;
        float a = rescale[r];
        float p = has_key ? probs[r * keys_per_pass + lane] : 0.0;
        sum[r] = sum[r] * a + (e0 == 0 ? p : 0.0);
        for (uint u = 0; u < SEG; ++u) acc[r][u] = acc[r][u] * a + p * vx[u];
      }
    }

    // Sum the key lanes' accumulators row by row and write the partial.
    for (uint r = 0; r < MAX_ROWS; ++r) {
      if (r >= nr) break;
      barrier();
      for (uint u = 0; u < SEG; ++u) scratch[tid * SEG + u] = acc[r][u];
      lane_sum[tid] = e0 == 0 && has_key ? sum[r] : 0.0;
      barrier();
      uint gr = row0 + r;
      uint64_t row = (uint64_t(b) * pc.Hq + hk * group + gr / pc.Lq) * pc.Lq + gr % pc.Lq;
      uint64_t dst = pc.partial + (row * pc.chunks + chunk) * (2 + pc.Dv) * 4;
      for (uint e = tid; e < pc.Dv; e += WG) {
        float o = 0.0;
        for (uint l = 0; l < keys_per_pass; ++l) o += scratch[l * pc.lanes * SEG + e];
        Ptr32(dst + (2 + e) * 4).v = floatBitsToUint(o);
      }
      if (tid == 0) {
        float l = 0.0;
        for (uint x = 0; x < keys_per_pass; ++x) l += lane_sum[x * pc.lanes];
        Ptr32(dst).v = floatBitsToUint(row_max[r]);
        Ptr32(dst + 4).v = floatBitsToUint(l);
      }
    }
    barrier();
  }
}
