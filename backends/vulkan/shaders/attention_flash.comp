// Scaled dot-product attention, flash prefill on tensor cores through
// GL_NV_cooperative_matrix with the softmax in registers (16 x 16 x 16
// float16 fragments, float32 accumulators). A workgroup of 8 subgroups takes
// 8 * 16 * RB query rows of one (batch, head): RB blocks of 16 rows per
// subgroup, each block's Q held as float16 fragments (unscaled). Keys and
// values go by in tiles of BK rows, converted to float16 into shared memory
// (STAGES buffers: with 2, the next tile is stored while this one is used and
// one barrier per tile suffices). Per tile each subgroup
//   S = Q K^T in accumulator fragments (each K fragment feeds RB products),
//   the online softmax on the fragments' own elements: the kernel needs
//   NVIDIA's mma layout, where the 4 invocations of a quad share two rows
//   (lane / 4 and lane / 4 + 8), so a row's max is two shuffles; which
//   elements lie in which row is the constant LAYOUT_HI (the host reads the
//   layout once, attention_layout.comp), their columns are read at the start
//   from a loaded matrix whose entries are their own indices (a layout other
//   than the constant's gives NaN, see `layout_ok`),
//   P = exp2(S - reference max) converted to a float16 fragment and used
//   directly as the A operand of P V, added into the output fragments.
// The reference max of a row moves only when a tile's max passes it by more
// than e^8 (P <= e^8 fits float16); only then are the row's output elements
// and sum rescaled, in registers. Scores are kept in base 2
// (scale * log2(e) folded in). Row sums stay per invocation until the end.
// Causal: tiles past the workgroup's last visible key are not loaded, a
// subgroup skips tiles none of its rows sees, and only tiles crossing the
// diagonal (or the key tail, or any tile with a mask array) are masked.
// bfloat16 inputs go in as float16 as in attention_coopmat.comp (the scratch
// variant, for devices whose fragment layout is unknown).
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
layout(constant_id = 6) const uint CM_N = 16;  // must be 16 here
layout(constant_id = 7) const uint D = 128;    // head dims, multiples of 16
layout(constant_id = 8) const uint DV = 128;
layout(constant_id = 9) const uint BK = 64;    // keys per tile, a multiple of 16
// q, k and v rows contiguous and 16-byte aligned (16-byte loads).
layout(constant_id = 10) const bool VEC = false;
layout(constant_id = 11) const uint RB = 1;      // 16-row query blocks per subgroup
layout(constant_id = 12) const uint STAGES = 1;  // K/V tile buffers: 1 or 2
// Which elements of an accumulator fragment lie in the second of the two
// rows an invocation holds (bit i: element i): the host reads the layout once
// (attention_layout.comp) and picks this kernel only where it has the shape
// `probe_layout` checks; a constant, so the row selects fold away.
layout(constant_id = 13) const uint LAYOUT_HI = 0xf0;
// K and V arrive as float16 copies (bfloat16 inputs converted once by
// attention_kv_half.comp rather than per tile by every workgroup).
layout(constant_id = 14) const bool KV_HALF = false;
const uint KV_DT = KV_HALF ? DT_F16 : DT;
// Unmasked tiles with a positive scale take the max on the raw scores and
// fold the scale into the exponent's fma (one multiply less per score;
// slower on the H100, so the host leaves it off).
layout(constant_id = 15) const bool FOLD = false;
// With one stage: the next tile's K and V are loaded into registers while
// this tile is used (PREFETCH), or only when they are stored (fewer registers
// held through the products).
layout(constant_id = 16) const bool PREFETCH = true;
// For measuring where the time goes (wrong results; docs/attention.md):
// bit 0 no softmax (P = S), bit 1 no Q K^T products, bit 2 no P V products,
// bit 3 no fragment loads from the K/V tiles (Q's fragments stand in), bit 4
// no K/V tiles loaded or stored (the barriers stay).
layout(constant_id = 17) const uint PROBE = 0;
// The quad's row maxima gathered only where a reference may move (below).
layout(constant_id = 18) const bool LAZY_MAX = true;

#include "attention.glsl"

const uint WG = gl_WorkGroupSize.x;  // 256
#include "attention_tiles.glsl"

#define ACC fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>
#define F16 fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>

const uint WARPS = WG / 32;
const uint BQ = WARPS * 16 * RB;  // query rows per workgroup
const uint NB = BK / 16;          // score fragments per row block and tile
const uint ND = D / 16, NV = DV / 16;
// Fragments per subgroup: Q, scores (or P) of a tile, output.
const uint QF = RB * ND, SF = RB * NB, OF = RB * NV;
// Shared memory in 16-byte units, rows padded by one unit against bank
// conflicts of fragment loads: STAGES x (K tile, V tile). Before the loop the
// same memory holds each subgroup's layout probe, then stages Q.
const uint K_PITCH = D / UNIT + 1;
const uint V_PITCH = DV / UNIT + 1;
const uint K_UNITS = BK * K_PITCH, V_UNITS = BK * V_PITCH;
const uint STAGE_UNITS = K_UNITS + V_UNITS;
const uint LOOP_UNITS = STAGES * STAGE_UNITS;
// Q is staged for Q_GROUP subgroups at once, as many as the loop's memory
// holds (at least one).
const uint Q_WARP_UNITS = 16 * RB * K_PITCH;
const uint Q_GROUP = LOOP_UNITS >= WARPS * Q_WARP_UNITS ? WARPS
                     : LOOP_UNITS >= 4 * Q_WARP_UNITS   ? 4
                     : LOOP_UNITS >= 2 * Q_WARP_UNITS   ? 2
                                                        : 1;
const uint Q_UNITS = Q_GROUP * Q_WARP_UNITS;
const uint PROBE_UNITS = WARPS * 64;  // a 16 x 16 float32 matrix per subgroup
const uint PRE_UNITS = Q_UNITS > PROBE_UNITS ? Q_UNITS : PROBE_UNITS;
const uint SMEM_UNITS = LOOP_UNITS > PRE_UNITS ? LOOP_UNITS : PRE_UNITS;
shared uvec4 smem[SMEM_UNITS];

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;
const float SLACK = 8.0 * LOG2E;  // e^8 in base 2

// Reads which element of an accumulator fragment holds which (row, column):
// bit i of `hi` says element i is in row lane / 4 + 8 rather than lane / 4,
// bits 4i.. of `cols` its column. True when every invocation's elements have
// that shape (at most 8 of them), elements 2i and 2i + 1 being neighbours in
// a row (the output is stored in pairs).
bool probe_layout(uint warp, uint lane, out uint hi, out uint cols) {
  const uint base = warp * 64;
  for (uint e = lane; e < 256; e += 32) smem[base + e / 4][e % 4] = floatBitsToUint(float(e));
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  ACC m;
  coopMatLoadNV(m, smem, base, 4, false);
  hi = 0;
  cols = 0;
  bool ok = m.length() <= 8 && m.length() % 2 == 0;
  uint prev = 0;
  for (int i = 0; i < m.length() && i < 8; ++i) {
    uint e = uint(m[i]), r = e / 16;
    ok = ok && (r == lane / 4 || r == lane / 4 + 8);
    ok = ok && (i % 2 == 0 ? e % 2 == 0 : e == prev + 1);
    if (r >= 8) hi |= 1u << i;
    cols |= (e % 16) << (4 * i);
    prev = e;
  }
  return subgroupAll(ok);
}

// This invocation's K (V) units of a tile into the K (V) buffer of stage st.
void store_k(uint st, uvec4 kr[K_LOADS]) {
  if ((PROBE & 16) != 0) return;
  const uint tid = gl_LocalInvocationID.x, base = st * STAGE_UNITS;
  [[unroll]] for (uint l = 0; l < K_LOADS; ++l) {
    uint c = tid + l * WG;
    if (c < BK * (D / UNIT)) smem[base + c / (D / UNIT) * K_PITCH + c % (D / UNIT)] = kr[l];
  }
}

void store_v(uint st, uvec4 vr[V_LOADS]) {
  if ((PROBE & 16) != 0) return;
  const uint tid = gl_LocalInvocationID.x, base = st * STAGE_UNITS + K_UNITS;
  [[unroll]] for (uint l = 0; l < V_LOADS; ++l) {
    uint c = tid + l * WG;
    if (c < BK * (DV / UNIT)) smem[base + c / (DV / UNIT) * V_PITCH + c % (DV / UNIT)] = vr[l];
  }
}

// S = Q K^T for the K tile of stage st: each K fragment feeds RB products,
// consecutive products go to different accumulators.
void tile_scores(F16 qf[QF], uint st, out ACC s[SF]) {
  const uint kb = st * STAGE_UNITS;
  [[unroll]] for (uint x = 0; x < SF; ++x) s[x] = ACC(0.0);
  [[unroll]] for (uint kd = 0; kd < ND; ++kd) {
    [[unroll]] for (uint n = 0; n < NB; ++n) {
      F16 kf;
      if ((PROBE & 8) != 0) kf = qf[(kd + n) % QF];
      else coopMatLoadNV(kf, smem, kb + n * 16 * K_PITCH + kd * 16 / UNIT, K_PITCH, true);
      if ((PROBE & 2) != 0) continue;
      [[unroll]] for (uint rb = 0; rb < RB; ++rb) s[rb * NB + n] = coopMatMulAddNV(qf[rb * ND + kd], kf, s[rb * NB + n]);
    }
  }
}

// O += P V for the V tile of stage st: each V fragment feeds RB products.
void add_pv(F16 pf[SF], uint st, inout ACC of[OF]) {
  const uint vb = st * STAGE_UNITS + K_UNITS;
  [[unroll]] for (uint kk = 0; kk < NB; ++kk) {
    [[unroll]] for (uint n = 0; n < NV; ++n) {
      F16 vf;
      if ((PROBE & 8) != 0) vf = pf[(kk + n) % SF];
      else coopMatLoadNV(vf, smem, vb + kk * 16 * V_PITCH + n * 16 / UNIT, V_PITCH, false);
      if ((PROBE & 4) != 0) continue;
      [[unroll]] for (uint rb = 0; rb < RB; ++rb) of[rb * NV + n] = coopMatMulAddNV(pf[rb * NB + kk], vf, of[rb * NV + n]);
    }
  }
}

// The rows an invocation holds (x = 2 rb + 0: lane / 4, 1: lane / 4 + 8) and
// their online-softmax state.
struct Rows {
  uint qi[2 * RB];           // query index
  uint64_t mask_row[2 * RB]; // its mask row (MASK != 0)
  float m_ref[2 * RB];       // reference max, base 2
  float l_part[2 * RB];      // this invocation's share of the row's sum
};

// Whether a subgroup whose first query is row0 sees any key of the tile at k0.
bool sees(uint k0, uint row0) { return !CAUSAL || int(k0) <= int(row0 + 16 * RB - 1) + pc.causal_offset; }

// The online softmax of the scores of the tile at k0, on the fragments'
// elements (element e lies in row 2 rb + bit e of hi_bits, column bits 4e.. of
// col_bits): reference maxima and sums move (rescaling the output rows when
// theirs does), and P = exp2(S - reference) comes back as float16.
void softmax_tile(inout ACC s[SF], uint k0, uint row0, uint hi_bits, uint col_bits, int64_t m_step,
                  inout Rows rows, inout ACC of[OF], out F16 pf[SF]) {
  if ((PROBE & 1) != 0) {
    [[unroll]] for (uint x = 0; x < SF; ++x) pf[x] = F16(s[x]);
    return;
  }
  const float scale2 = pc.scale * LOG2E;
  // Tiles that need per-element masking.
  const bool edge = MASK != 0 || k0 + BK > pc.Lk || (CAUSAL && int(k0 + BK - 1) > int(row0) + pc.causal_offset);
  const bool fold = FOLD && !edge && pc.scale > 0.0;
  [[unroll]] for (uint rb = 0; rb < RB; ++rb) {
    // Selects, not indexing by the element's row, keep the per-row values
    // in registers.
    float tmax0 = NEG_INF, tmax1 = NEG_INF;
    [[unroll]] for (uint n = 0; n < NB; ++n) {
      for (int e = 0; e < s[rb * NB + n].length(); ++e) {
        const bool hi = ((hi_bits >> e) & 1u) != 0;
        float v = s[rb * NB + n][e];
        if (!fold) {
          v *= scale2;
          if (edge) {
            uint i = hi ? rows.qi[2 * rb + 1] : rows.qi[2 * rb], j = k0 + n * 16 + ((col_bits >> (4 * e)) & 15u);
            uint64_t mrow = hi ? rows.mask_row[2 * rb + 1] : rows.mask_row[2 * rb];
            v = i < pc.Lq && j < pc.Lk
                    ? masked_score(s[rb * NB + n][e] * pc.scale, mrow, m_step, i, j, pc.causal_offset) * LOG2E
                    : NEG_INF;
          }
          s[rb * NB + n][e] = v;
        }
        if (hi) tmax1 = max(tmax1, v);
        else tmax0 = max(tmax0, v);
      }
    }
    float tmax[2] = {fold ? tmax0 * scale2 : tmax0, fold ? tmax1 * scale2 : tmax1};
    float mu[2];
    // A row's reference can move only on its first visible tile or where an
    // invocation's own max passes reference + slack: only then (rarely after
    // the first tile) are the quad's maxima gathered (LAZY_MAX; the same
    // results either way).
    bool move = !LAZY_MAX;
    [[unroll]] for (uint x = 0; x < 2; ++x) {
      const float m = rows.m_ref[2 * rb + x];
      move = move || m == NEG_INF || tmax[x] > m + SLACK;
      mu[x] = m;
    }
    if (subgroupAny(move)) {
      float alpha[2];
      [[unroll]] for (uint x = 0; x < 2; ++x) {
        tmax[x] = max(tmax[x], subgroupShuffleXor(tmax[x], 1));
        tmax[x] = max(tmax[x], subgroupShuffleXor(tmax[x], 2));
        float m = rows.m_ref[2 * rb + x];
        bool rescale = m != NEG_INF && tmax[x] > m + SLACK;
        alpha[x] = rescale ? exp2(m - tmax[x]) : 1.0;
        if (m == NEG_INF || rescale) rows.m_ref[2 * rb + x] = tmax[x];
        rows.l_part[2 * rb + x] *= alpha[x];
        mu[x] = rows.m_ref[2 * rb + x] == NEG_INF ? 0.0 : rows.m_ref[2 * rb + x];
      }
      if (subgroupAny(alpha[0] != 1.0 || alpha[1] != 1.0)) {
        [[unroll]] for (uint n = 0; n < NV; ++n) {
          for (int e = 0; e < of[rb * NV + n].length(); ++e) {
            of[rb * NV + n][e] *= ((hi_bits >> e) & 1u) != 0 ? alpha[1] : alpha[0];
          }
        }
      }
    }
    float sum0 = 0.0, sum1 = 0.0;
    [[unroll]] for (uint n = 0; n < NB; ++n) {
      for (int e = 0; e < s[rb * NB + n].length(); ++e) {
        const bool hi = ((hi_bits >> e) & 1u) != 0;
        const float m = hi ? mu[1] : mu[0];
        float p = exp2(fold ? fma(s[rb * NB + n][e], scale2, -m) : s[rb * NB + n][e] - m);
        s[rb * NB + n][e] = p;
        if (hi) sum1 += p;
        else sum0 += p;
      }
      pf[rb * NB + n] = F16(s[rb * NB + n]);
    }
    rows.l_part[2 * rb] += sum0;
    rows.l_part[2 * rb + 1] += sum1;
  }
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  const uint size = dtype_size(DT);
  const uint group = pc.Hq / pc.Hkv;
  const uint q_tiles = (pc.Lq + BQ - 1) / BQ;
  const uint64_t tiles = uint64_t(pc.B) * pc.Hq * q_tiles;
  const int64_t q_step = table_stride(pc.strides, T_Q, 3), m_step = table_stride(pc.strides, T_MASK, 3);

  // The columns of this invocation's elements, and the layout checked again
  // (a mismatch gives NaN rather than wrong numbers).
  uint probed_hi, col_bits;
  const bool layout_ok = probe_layout(warp, lane, probed_hi, col_bits) && subgroupAll(probed_hi == LAYOUT_HI);
  const uint hi_bits = LAYOUT_HI;
  barrier();  // the probes' memory stages Q next

  for (uint64_t t = gl_WorkGroupID.x; t < tiles; t += gl_NumWorkGroups.x) {
    // Causal: the longest query tiles (the last) start first, so the short
    // ones fill the end of the dispatch.
    uint q0 = uint(CAUSAL ? q_tiles - 1 - t % q_tiles : t % q_tiles) * BQ;
    uint h = uint((t / q_tiles) % pc.Hq);
    uint b = uint(t / (uint64_t(q_tiles) * pc.Hq));
    uint hk = h / group;
    const uint row0 = q0 + warp * 16 * RB;  // this subgroup's first query

    // Q as float16 fragments, staged for Q_GROUP subgroups at a time.
    F16 qf[QF];
    for (uint w0 = 0; w0 < WARPS; w0 += Q_GROUP) {
      [[unroll]] for (uint c = tid; c < Q_GROUP * 16 * RB * (D / UNIT); c += WG) {
        uint r = c / (D / UNIT), e0 = c % (D / UNIT) * UNIT, i = q0 + w0 * 16 * RB + r;
        uint64_t q_row = table_row(pc.strides, pc.q, T_Q, b, h, i < pc.Lq ? i : 0, size);
        smem[r * K_PITCH + e0 / UNIT] = load_unit(DT, q_row, q_step, e0, i < pc.Lq);
      }
      barrier();
      if (warp >= w0 && warp < w0 + Q_GROUP) {
        [[unroll]] for (uint rb = 0; rb < RB; ++rb) {
          [[unroll]] for (uint kd = 0; kd < ND; ++kd) {
            coopMatLoadNV(qf[rb * ND + kd], smem, ((warp - w0) * RB + rb) * 16 * K_PITCH + kd * 16 / UNIT, K_PITCH,
                          false);
          }
        }
      }
      barrier();
    }

    Rows rows;
    [[unroll]] for (uint x = 0; x < 2 * RB; ++x) {
      rows.qi[x] = row0 + (x / 2) * 16 + lane / 4 + (x % 2) * 8;
      rows.mask_row[x] = 0;
      if (MASK != 0 && rows.qi[x] < pc.Lq) {
        rows.mask_row[x] = table_row(pc.strides, pc.mask, T_MASK, b, h, rows.qi[x], MASK == 1 ? 1 : size);
      }
      rows.m_ref[x] = NEG_INF;
      rows.l_part[x] = 0.0;
    }
    ACC of[OF];
    [[unroll]] for (uint n = 0; n < OF; ++n) of[n] = ACC(0.0);

    uint k_stop = pc.Lk;
    if (CAUSAL) k_stop = uint(clamp(int(q0 + BQ) + pc.causal_offset, 0, int(pc.Lk)));
    // K and V tiles as float16, loaded into registers ahead of their use.
    const KvRows kv = kv_rows(b, hk);
    uvec4 k_next[K_LOADS], v_next[V_LOADS];
    F16 pf[SF];
    if (STAGES == 2 || PREFETCH) load_tile(0, kv, k_next, v_next);
    if (STAGES == 2) {
      store_k(0, k_next);
      store_v(0, v_next);
      barrier();
    }
    uint st = 0;
    for (uint k0 = 0; k0 < k_stop; k0 += BK) {
      if (STAGES == 1) {
        if (!PREFETCH) load_tile(k0, kv, k_next, v_next);
        store_k(0, k_next);
        store_v(0, v_next);
        barrier();
      }
      const bool more = k0 + BK < k_stop;
      if (more && (STAGES == 2 || PREFETCH)) load_tile(k0 + BK, kv, k_next, v_next);
      if (sees(k0, row0)) {
        ACC s[SF];
        tile_scores(qf, st, s);
        softmax_tile(s, k0, row0, hi_bits, col_bits, m_step, rows, of, pf);
        add_pv(pf, st, of);
      }
      if (STAGES == 2) {
        if (more) {
          store_k(st ^ 1u, k_next);
          store_v(st ^ 1u, v_next);
        }
        st ^= 1u;
      }
      barrier();  // STAGES 1: the tile is read; 2: the next one is stored
    }

    // Row sums over the quad, then the sink, then out = O / sum.
    float l_row[2 * RB], o_scale[2 * RB];
    [[unroll]] for (uint x = 0; x < 2 * RB; ++x) {
      float l = rows.l_part[x];
      l += subgroupShuffleXor(l, 1);
      l += subgroupShuffleXor(l, 2);
      o_scale[x] = 1.0;
      if (HAS_SINKS) {
        float sink = load_float(DT, pc.sinks + uint64_t(int64_t(h) * table_stride(pc.strides, 4, 0) * size)) * LOG2E;
        float m_new = max(rows.m_ref[x], sink);
        float a = rows.m_ref[x] == NEG_INF ? 0.0 : exp2(rows.m_ref[x] - m_new);
        l = l * a + exp2(sink - m_new);
        o_scale[x] = a;
        rows.m_ref[x] = m_new;
      }
      l_row[x] = l;
    }
    // Elements e, e + 1 are neighbours in a row: one 4-byte store.
    [[unroll]] for (uint rb = 0; rb < RB; ++rb) {
      [[unroll]] for (uint n = 0; n < NV; ++n) {
        for (int e = 0; e < of[rb * NV + n].length(); e += 2) {
          const bool hi = ((hi_bits >> e) & 1u) != 0;
          uint i = hi ? rows.qi[2 * rb + 1] : rows.qi[2 * rb];
          if (i >= pc.Lq) continue;
          uint col = n * 16 + ((col_bits >> (4 * e)) & 15u);
          uint64_t r = (uint64_t(b) * pc.Hq + h) * pc.Lq + i;
          float l = hi ? l_row[2 * rb + 1] : l_row[2 * rb];
          float f = l > 0.0 ? (hi ? o_scale[2 * rb + 1] : o_scale[2 * rb]) / l : 0.0;
          float o0 = layout_ok ? of[rb * NV + n][e] * f : F_NAN, o1 = layout_ok ? of[rb * NV + n][e + 1] * f : F_NAN;
          Ptr32(pc.out_addr + (r * DV + col) * size).v = uint(float_to_bits(DT, o0)) | (uint(float_to_bits(DT, o1)) << 16);
        }
      }
    }
    if (WRITE_LSE && lane % 4 == 0) {
      [[unroll]] for (uint x = 0; x < 2 * RB; ++x) {
        if (rows.qi[x] >= pc.Lq) continue;
        uint64_t r = (uint64_t(b) * pc.Hq + h) * pc.Lq + rows.qi[x];
        float lse = l_row[x] > 0.0 ? rows.m_ref[x] * LN2 + flog(l_row[x]) : NEG_INF;
        Ptr32(pc.lse + r * 4).v = floatBitsToUint(layout_ok ? lse : F_NAN);
      }
    }
  }
}
