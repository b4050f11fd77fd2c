// Shared by the tensor-core attention prefills (attention_coopmat.comp,
// attention_flash.comp): their push block and the loads of Q, K and V rows
// as float16 into 16-byte units. Expects the constants DT (of Q), KV_DT (of K
// and V), D, DV, BK, VEC and WG, and attention.glsl.
#ifndef LUMEN_ATTENTION_TILES_GLSL
#define LUMEN_ATTENTION_TILES_GLSL

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
  uint D_unused;  // D and D_v are the constants
  uint Dv_unused;
  int causal_offset;
  float scale;
} pc;

const uint UNIT = 8;  // float16 per 16-byte unit

// Eight consecutive features e0.. of a row of dtype dt as float16 pairs;
// zeros when the row is past the end.
uvec4 load_unit(uint dt, uint64_t row, int64_t step, uint e0, bool valid) {
  if (!valid) return uvec4(0);
  uint size = dtype_size(dt);
  if (VEC && dt == DT_F16) return Ptr4x32(row + e0 * 2).v;
  float x[8];
  if (VEC) {
    uvec4 w = Ptr4x32(row + e0 * 2).v;
    for (uint u = 0; u < 4; ++u) {
      x[2 * u] = bits_to_float(dt, w[u] & 0xffffu);
      x[2 * u + 1] = bits_to_float(dt, w[u] >> 16);
    }
  } else {
    for (uint u = 0; u < 8; ++u) x[u] = load_float(dt, row + uint64_t(int64_t(e0 + u) * step * size));
  }
  uvec4 r;
  for (uint u = 0; u < 4; ++u) r[u] = packHalf2x16(vec2(x[2 * u], x[2 * u + 1]));
  return r;
}

// Units per invocation of a K and a V tile.
const uint K_LOADS = (BK * (D / UNIT) + WG - 1) / WG;
const uint V_LOADS = (BK * (DV / UNIT) + WG - 1) / WG;

// Where the K and V rows of one (batch, kv head) are: row j of K at
// k + j * k_rs bytes, its features k_step elements apart; likewise V.
struct KvRows {
  uint64_t k;
  int64_t k_rs;
  int64_t k_step;
  uint64_t v;
  int64_t v_rs;
  int64_t v_step;
};

KvRows kv_rows(uint b, uint hk) {
  const int64_t size = int64_t(dtype_size(KV_DT));
  KvRows r;
  r.k = table_row(pc.strides, pc.k, T_K, b, hk, 0, uint(size));
  r.k_rs = table_stride(pc.strides, T_K, 2) * size;
  r.k_step = table_stride(pc.strides, T_K, 3);
  r.v = table_row(pc.strides, pc.v, T_V, b, hk, 0, uint(size));
  r.v_rs = table_stride(pc.strides, T_V, 2) * size;
  r.v_step = table_stride(pc.strides, T_V, 3);
  return r;
}

// This invocation's units of the K (or V) tile from key k0 (unit c of a tile
// is row c / (D / UNIT), features (c % (D / UNIT)) * UNIT..).
void load_k_tile(uint k0, KvRows rows, out uvec4 kr[K_LOADS]) {
  uint tid = gl_LocalInvocationID.x;
  [[unroll]] for (uint l = 0; l < K_LOADS; ++l) {
    uint c = tid + l * WG, j = k0 + c / (D / UNIT);
    bool valid = c < BK * (D / UNIT) && j < pc.Lk;
    kr[l] = load_unit(KV_DT, rows.k + uint64_t(int64_t(valid ? j : 0) * rows.k_rs), rows.k_step, c % (D / UNIT) * UNIT, valid);
  }
}

void load_v_tile(uint k0, KvRows rows, out uvec4 vr[V_LOADS]) {
  uint tid = gl_LocalInvocationID.x;
  [[unroll]] for (uint l = 0; l < V_LOADS; ++l) {
    uint c = tid + l * WG, j = k0 + c / (DV / UNIT);
    bool valid = c < BK * (DV / UNIT) && j < pc.Lk;
    vr[l] = load_unit(KV_DT, rows.v + uint64_t(int64_t(valid ? j : 0) * rows.v_rs), rows.v_step, c % (DV / UNIT) * UNIT, valid);
  }
}

void load_tile(uint k0, KvRows rows, out uvec4 kr[K_LOADS], out uvec4 vr[V_LOADS]) {
  load_k_tile(k0, rows, kr);
  load_v_tile(k0, rows, vr);
}

#endif
