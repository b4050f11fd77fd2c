// Scaled dot-product attention, split-K decode (L_q <= 8). The keys are cut
// into chunks spread over many workgroups so that a few query rows still fill
// the device. A workgroup takes one (batch, kv head, row group, chunk) and
// ROWS query rows of that kv head's group (q heads sharing it, queries), so
// each key and value byte is read once per row group, by 16-byte loads.
//
// Layout: a "key lane" is LANES consecutive invocations of one subgroup; lane
// x owns SEGS segments of 8 features (segment s: features (s * LANES + x) * 8
// on, so a row is read by consecutive 16-byte loads) of UNROLL keys per step
// (key u of key lane kl is k0 + u * KEY_LANES + kl), and the scaled queries'
// and the output accumulators' same features for every row.
//
// Scores: each lane has N = ROWS * UNROLL partial dot products (index
// r * UNROLL + u). A transposing butterfly of subgroup shuffles sums them
// over the key lane while halving the values each lane keeps, so that lane x
// ends with whole scores: VPL = N / LANES of them (or one, shared by
// LANES / N lanes, when N < LANES), all of row x / (LANES / ROWS). N - 1
// shuffles per step instead of N * log2(LANES), and each score's softmax
// (masking, exponential, sum) is done once rather than by every lane.
// Softmax: per key lane and row a reference max that moves only when a score
// passes it by more than 2^SLACK (then the row's accumulators are rescaled);
// the probabilities p = 2^(s - ref) (scores in log2 units) go back to every
// lane by shuffles, and each lane adds p * v to its output features.
//
// Each workgroup writes a float32 partial per row (max, sum, unnormalized
// output, natural-log units); with MERGE the last workgroup of a (batch, kv
// head, row group) to finish (a counter per one, left at zero) merges the
// chunks' partials itself, its rows side by side (attention_merge.glsl;
// chunks <= MERGE_PART), else attention_merge.comp does. PROBE (measurement only, wrong results): the loop only loads K and
// V, to time the memory side of this layout.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#include "ids.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint MASK = 0;  // 0 none, 1 bool (true keeps), 2 additive (DT)
layout(constant_id = 3) const bool CAUSAL = false;
// K and V rows are contiguous and 16-byte aligned, D and D_v multiples of 8.
layout(constant_id = 4) const bool VEC = false;
// Invocations per key lane: a power of two no larger than the subgroup.
layout(constant_id = 5) const uint LANES = 16;
// 8-feature segments per invocation: LANES * SEGS * 8 >= max(D, D_v).
layout(constant_id = 6) const uint SEGS = 1;
// Query rows per workgroup, a power of two <= LANES (the host sets
// rows_per_group <= ROWS; padding rows repeat the last one).
layout(constant_id = 7) const uint ROWS = 4;
// Keys per key lane and step, a power of two.
layout(constant_id = 8) const uint UNROLL = 4;
// The next step's keys and values are loaded before this step's are used.
layout(constant_id = 9) const bool PREFETCH = false;
layout(constant_id = 10) const bool MERGE = true;
layout(constant_id = 11) const bool PROBE = false;
// The scaled queries are read from shared memory in the loop rather than
// held in registers (fewer registers: more workgroups per SM).
layout(constant_id = 12) const bool Q_SHARED = false;
// Chunk c takes steps c, c + chunks, c + 2 chunks, ... of the keys rather
// than one run of them: at any time the workgroups of a head read one
// contiguous stretch of K and V, not stretches a chunk apart (a power-of-two
// stride that may load a few memory channels more than the others).
layout(constant_id = 13) const bool INTERLEAVE = false;

#include "attention.glsl"

layout(push_constant) uniform Push {
  uint64_t q;
  uint64_t k;
  uint64_t v;
  uint64_t mask;
  uint64_t partial;   // float32 [B, H_q, L_q, chunks, pitch]: m, l, -, -, output
  uint64_t strides;   // int64: q, k, v, mask, sinks strides (4 each), then ADDR_*
  uint64_t out_addr;  // MERGE: DT [B, H_q, L_q, D_v]
  uint64_t lse;       // MERGE, WRITE_LSE: float32 [B, H_q, L_q]
  uint B;
  uint Hq;
  uint Hkv;
  uint Lq;
  uint Lk;
  uint D;
  uint Dv;
  int causal_offset;
  float scale;
  uint rows_per_group;  // <= ROWS
  uint row_groups;
  uint chunks;
  uint chunk_keys;   // a multiple of STEP
  uint pitch;        // floats per partial: 4 + D_v rounded up to 4
  uint chunk_lanes;  // the merge's (attention_merge.glsl), for partitions of MERGE_PART
  uint merge_flags;  // MERGE: HAS_SINKS | WRITE_LSE bits
} pc;

// The merge's sinks and lse are flags, not specialization constants: they
// are outside the loop, and each constant doubles the pipelines to build.
const uint HAS_SINKS_BIT = 1u;
const uint WRITE_LSE_BIT = 2u;
#define WRITE_LSE ((pc.merge_flags & WRITE_LSE_BIT) != 0u)
#include "attention_merge.glsl"

// Slots of the int64 table after the strides: the sinks' and the counters'
// addresses.
const uint T_SINKS = 4u;
const uint ADDR_SINKS = 20u;
const uint ADDR_COUNTERS = 21u;

const uint WG = gl_WorkGroupSize.x;
const uint SEG = 8;                       // features per segment
const uint F = SEGS * SEG;                // features per invocation
const uint KEY_LANES = WG / LANES;        // keys side by side in a workgroup
const uint STEP = KEY_LANES * UNROLL;     // keys per workgroup step
const uint N = ROWS * UNROLL;             // dot products per lane and step
const bool WIDE = N >= LANES;             // whole lanes of scores after the butterfly
const uint VPL = WIDE ? N / LANES : 1;    // scores per lane
const uint REP = WIDE ? 1 : LANES / N;    // lanes holding each score
const uint ROW_LANES = LANES / ROWS;      // lanes whose scores are one row's
const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;
const float SLACK = 8.0;  // log2 units: p <= 256 against the reference
const uint MERGE_PART = WG / ROWS;  // invocations merging one row (MERGE)

layout(buffer_reference, std430, buffer_reference_align = 16) readonly restrict buffer KvQuad { uvec4 v; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Counter { uint v; };

shared float key_max[ROWS * KEY_LANES];
shared float key_sum[ROWS * KEY_LANES];
shared float scratch[WG * SEG];  // one segment of every invocation's output
shared bool is_last;
// Q_SHARED: quad g of lane x's features of row r at (r * F / 4 + g) * LANES + x.
shared vec4 q_shared[Q_SHARED ? ROWS * F / 4 * LANES : 1];

// The bits of features e0 .. e0 + 7 of the row at `row` (n features, `step`
// elements apart; zero past n): 16-bit types in pairs in words 0-3, float32
// one per word; `vec`: one or two 16-byte loads.
void load_segment_bits(uint64_t row, int64_t step, uint e0, uint n, bool vec, out uint w[SEG]) {
  uint size = dtype_size(DT);
  [[unroll]] for (uint t = 0; t < SEG; ++t) w[t] = 0;
  if (e0 >= n) return;
  if (vec) {
    uvec4 lo = KvQuad(row + e0 * size).v;
    [[unroll]] for (uint t = 0; t < 4; ++t) w[t] = lo[t];
    if (size == 4) {
      uvec4 hi = KvQuad(row + e0 * 4 + 16).v;
      [[unroll]] for (uint t = 0; t < 4; ++t) w[t + 4] = hi[t];
    }
  } else {
    [[unroll]] for (uint t = 0; t < SEG; ++t) {
      uint e = e0 + t;
      uint bits = e < n ? uint(load_bits(DT, row + uint64_t(int64_t(e) * step * size))) : 0;
      if (size == 2) w[t / 2] |= bits << (16 * (t % 2));
      else w[t] = bits;
    }
  }
}

// Feature t of a segment whose words are w (w[t / 2] for 16-bit types).
float segment_feature(uint w_pair, uint w_own, uint t) {
  if (DT == DT_BF16) return uintBitsToFloat(t % 2 == 0 ? w_pair << 16 : w_pair & 0xffff0000u);
  if (DT == DT_F16) return unpackHalf2x16(w_pair)[t % 2];
  return uintBitsToFloat(w_own);
}

// This invocation's words of a step's keys and values (8 per segment) as
// loaded (private globals: arrays sized by specialization constants cannot
// be function arguments).
uint k_bits[UNROLL * F], v_bits[UNROLL * F];
float qs[ROWS * F];

struct KvRows {
  uint64_t k_base, v_base;
  int64_t k_row, v_row, k_step, v_step;
};

// The step from key k0 into k_bits, v_bits (zeros past k_end).
void load_step(KvRows kv, uint k0, uint k_end, uint lane, uint key_lane) {
  [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
    uint j = k0 + u * KEY_LANES + key_lane;
    bool valid = j < k_end;
    uint64_t k_row = kv.k_base + uint64_t(int64_t(valid ? j : 0) * kv.k_row);
    uint64_t v_row = kv.v_base + uint64_t(int64_t(valid ? j : 0) * kv.v_row);
    [[unroll]] for (uint s = 0; s < SEGS; ++s) {
      uint e0 = (s * LANES + lane) * SEG;
      uint w[SEG];
      load_segment_bits(k_row, kv.k_step, e0, valid ? pc.D : 0, VEC, w);
      [[unroll]] for (uint t = 0; t < SEG; ++t) k_bits[u * F + s * SEG + t] = w[t];
      load_segment_bits(v_row, kv.v_step, e0, valid ? pc.Dv : 0, VEC, w);
      [[unroll]] for (uint t = 0; t < SEG; ++t) v_bits[u * F + s * SEG + t] = w[t];
    }
  }
}

// One butterfly stage at shuffle distance o (a literal, so that every index
// is a constant once the loops are unrolled; a macro, not a function with
// its array indexed by a parameter): C values in dots[] before it (its
// count, from LANES / 2 on). While several remain, the lanes with bit o set
// keep the upper half and send the lower one (the others the reverse),
// adding what they receive; once one remains, the stage only adds the
// partner's.
#define BUTTERFLY_STAGE(o)                                                  \
  if ((o) < LANES) {                                                        \
    const uint C = max(1u, N * 2u * (o) / LANES);                           \
    bool upper = (lane & (o)) != 0u;                                        \
    if (C == 1u) {                                                          \
      dots[0] += subgroupShuffleXor(dots[0], (o));                          \
    } else {                                                                \
      [[unroll]] for (uint i = 0; i < C / 2u; ++i) {                        \
        float lo = dots[i], hi = dots[i + C / 2u];                          \
        dots[i] = (upper ? hi : lo) + subgroupShuffleXor(upper ? lo : hi, (o)); \
      }                                                                     \
    }                                                                       \
  }

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint size = dtype_size(DT);
  const uint lane = tid % LANES;
  const uint key_lane = tid / LANES;
  const uint lane_base = gl_SubgroupInvocationID - lane;  // the key lane's first subgroup invocation
  const uint my_row = lane / ROW_LANES;                    // the row of this lane's scores
  const uint my_key = lane % ROW_LANES * UNROLL / ROW_LANES;  // the step's key u of its first score
  const bool owner = lane % REP == 0;  // counts its scores in the row's sum
  const uint group = pc.Hq / pc.Hkv;
  const uint group_rows = group * pc.Lq;
  const int64_t q_step = table_stride(pc.strides, T_Q, 3), k_step = table_stride(pc.strides, T_K, 3);
  const int64_t v_step = table_stride(pc.strides, T_V, 3), m_step = table_stride(pc.strides, T_MASK, 3);
  const uint64_t total = uint64_t(pc.B) * pc.Hkv * pc.row_groups * pc.chunks;

  for (uint64_t wg = gl_WorkGroupID.x; wg < total; wg += gl_NumWorkGroups.x) {
    uint chunk = uint(wg % pc.chunks);
    uint64_t head_group = wg / pc.chunks;  // (b, hk, row group)
    uint row0 = uint(head_group % pc.row_groups) * pc.rows_per_group;
    uint hk = uint(head_group / pc.row_groups % pc.Hkv);
    uint b = uint(head_group / pc.row_groups / pc.Hkv);
    uint nr = min(pc.rows_per_group, group_rows - row0);

    // This chunk's steps: from k_begin, k_stride apart, before k_end.
    uint k_begin = INTERLEAVE ? chunk * STEP : chunk * pc.chunk_keys;
    uint k_end = INTERLEAVE ? pc.Lk : min(pc.Lk, k_begin + pc.chunk_keys);
    uint k_stride = INTERLEAVE ? pc.chunks * STEP : STEP;
    if (CAUSAL) k_end = uint(clamp(int(pc.Lq) + pc.causal_offset, INTERLEAVE ? 0 : int(k_begin), int(k_end)));

    KvRows kv;
    kv.k_base = table_row(pc.strides, pc.k, T_K, b, hk, 0, size);
    kv.v_base = table_row(pc.strides, pc.v, T_V, b, hk, 0, size);
    kv.k_row = table_stride(pc.strides, T_K, 2) * size;
    kv.v_row = table_stride(pc.strides, T_V, 2) * size;
    kv.k_step = k_step;
    kv.v_step = v_step;

    // The first step's loads go out before the queries'.
    load_step(kv, k_begin, k_end, lane, key_lane);

    // Row r of the workgroup is query gr % Lq of head hk * group + gr / Lq
    // (rows past nr repeat the last one, their results unused).
    uint query_mine = 0;
    uint64_t mask_mine = 0;
    [[unroll]] for (uint r = 0; r < ROWS; ++r) {
      uint gr = row0 + min(r, nr - 1), h = hk * group + gr / pc.Lq, i = gr % pc.Lq;
      uint64_t q_row = table_row(pc.strides, pc.q, T_Q, b, h, i, size);
      if (r == my_row) {
        query_mine = i;
        mask_mine = MASK == 0 ? 0 : table_row(pc.strides, pc.mask, T_MASK, b, h, i, MASK == 1 ? 1 : size);
      }
      [[unroll]] for (uint s = 0; s < SEGS; ++s) {
        uint w[SEG];
        load_segment_bits(q_row, q_step, (s * LANES + lane) * SEG, pc.D, false, w);
        [[unroll]] for (uint t = 0; t < SEG; ++t) qs[r * F + s * SEG + t] = pc.scale * segment_feature(w[t / 2], w[t], t);
      }
    }
    if (Q_SHARED) {
      barrier();  // the previous workgroup item's readers are done
      if (key_lane == 0) {
        [[unroll]] for (uint g = 0; g < ROWS * F / 4; ++g) {
          q_shared[g * LANES + lane] = vec4(qs[4 * g], qs[4 * g + 1], qs[4 * g + 2], qs[4 * g + 3]);
        }
      }
      barrier();
    }
    float m_ref[ROWS], acc[ROWS * F];
    [[unroll]] for (uint r = 0; r < ROWS; ++r) m_ref[r] = NEG_INF;
    [[unroll]] for (uint x = 0; x < ROWS * F; ++x) acc[x] = 0.0;
    float m_mine = NEG_INF, l_mine = 0.0;
    uint probe = 0;

    for (uint k0 = k_begin; k0 < k_end; k0 += k_stride) {
      float kf[UNROLL * F], vf[UNROLL * F];
      [[unroll]] for (uint x = 0; x < UNROLL * F; ++x) {
        uint pair = x - x % SEG + x % SEG / 2;
        kf[x] = segment_feature(k_bits[pair], k_bits[x], x % SEG);
        vf[x] = segment_feature(v_bits[pair], v_bits[x], x % SEG);
      }
      // The next step's loads: with PREFETCH now, under this step's
      // arithmetic; else once it is done.
      bool more = k0 + k_stride < k_end;
      if (PREFETCH && more) load_step(kv, k0 + k_stride, k_end, lane, key_lane);
      if (PROBE) {
        [[unroll]] for (uint x = 0; x < UNROLL * F; ++x) probe ^= floatBitsToUint(kf[x]) ^ floatBitsToUint(vf[x]);
        if (!PREFETCH && more) load_step(kv, k0 + k_stride, k_end, lane, key_lane);
        continue;
      }
      float dots[N];
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
          float d = 0.0;
          [[unroll]] for (uint f = 0; f < F; ++f) {
            float qv = Q_SHARED ? q_shared[(r * F / 4 + f / 4) * LANES + lane][f % 4] : qs[r * F + f];
            d = fma(qv, kf[u * F + f], d);
          }
          dots[r * UNROLL + u] = d;
        }
      }
      BUTTERFLY_STAGE(32u)
      BUTTERFLY_STAGE(16u)
      BUTTERFLY_STAGE(8u)
      BUTTERFLY_STAGE(4u)
      BUTTERFLY_STAGE(2u)
      BUTTERFLY_STAGE(1u)
      // This lane's scores (log2 units), masked; past k_end -inf.
      float s[VPL];
      bool over = false;
      [[unroll]] for (uint x = 0; x < VPL; ++x) {
        uint j = k0 + (my_key + x) * KEY_LANES + key_lane;
        s[x] = j < k_end ? LOG2E * masked_score(dots[x], mask_mine, m_step, query_mine, j, pc.causal_offset) : NEG_INF;
        over = over || s[x] > m_mine + SLACK;
      }
      // Whether any lane of the key lane has such a score (uniform within it).
      uint any_over = over ? 1u : 0u;
      [[unroll]] for (uint o = 1; o < LANES; o <<= 1) any_over |= subgroupShuffleXor(any_over, o);
      if (any_over != 0u) {
        // Move the reference of every row some score passed to the key
        // lane's max of that row.
        float best = NEG_INF;
        [[unroll]] for (uint x = 0; x < VPL; ++x) best = max(best, s[x]);
        [[unroll]] for (uint r = 0; r < ROWS; ++r) {
          float c = my_row == r ? best : NEG_INF;
          [[unroll]] for (uint o = 1; o < LANES; o <<= 1) c = max(c, subgroupShuffleXor(c, o));
          if (c > m_ref[r]) {
            float a = exp2(m_ref[r] - c);  // 0 from -inf
            [[unroll]] for (uint f = 0; f < F; ++f) acc[r * F + f] *= a;
            if (my_row == r) {
              l_mine *= a;
              m_mine = c;
            }
            m_ref[r] = c;
          }
        }
      }
      float p[VPL];
      [[unroll]] for (uint x = 0; x < VPL; ++x) {
        p[x] = s[x] == NEG_INF ? 0.0 : exp2(s[x] - m_mine);
        if (owner) l_mine += p[x];
      }
      // Every lane takes each (row, key)'s p from the lane holding it.
      [[unroll]] for (uint r = 0; r < ROWS; ++r) {
        [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
          uint i = r * UNROLL + u;
          float pr = subgroupShuffle(p[WIDE ? i % VPL : 0], lane_base + (WIDE ? i / VPL : i * REP));
          [[unroll]] for (uint f = 0; f < F; ++f) acc[r * F + f] = fma(pr, vf[u * F + f], acc[r * F + f]);
        }
      }
      if (!PREFETCH && more) load_step(kv, k0 + k_stride, k_end, lane, key_lane);
    }
    if (PROBE) {
      acc[0] = uintBitsToFloat(probe & 0x007fffffu);
      m_ref[0] = 0.0;
    }

    // The key lanes' rows combine: the workgroup's max M per row, each key
    // lane's share scaled by 2^(m - M), summed feature by feature.
    [[unroll]] for (uint o = 1; o < ROW_LANES; o <<= 1) l_mine += subgroupShuffleXor(l_mine, o);
    barrier();  // the previous workgroup item's readers are done
    if (lane == 0) {
      [[unroll]] for (uint r = 0; r < ROWS; ++r) key_max[r * KEY_LANES + key_lane] = m_ref[r];
    }
    if (lane % ROW_LANES == 0) key_sum[my_row * KEY_LANES + key_lane] = l_mine;
    barrier();
    [[unroll]] for (uint r = 0; r < ROWS; ++r) {
      float mx = NEG_INF;
      for (uint x = 0; x < KEY_LANES; ++x) mx = max(mx, key_max[r * KEY_LANES + x]);
      float w = m_ref[r] == NEG_INF ? 0.0 : exp2(m_ref[r] - mx);
      [[unroll]] for (uint f = 0; f < F; ++f) acc[r * F + f] *= w;
    }
    [[unroll]] for (uint r = 0; r < ROWS; ++r) {
      if (r >= nr) break;
      uint gr = row0 + r;
      uint64_t row = (uint64_t(b) * pc.Hq + hk * group + gr / pc.Lq) * pc.Lq + gr % pc.Lq;
      uint64_t dst = pc.partial + (row * pc.chunks + chunk) * pc.pitch * 4;
      [[unroll]] for (uint s = 0; s < SEGS; ++s) {
        barrier();
        [[unroll]] for (uint t = 0; t < SEG; ++t) scratch[tid * SEG + t] = acc[r * F + s * SEG + t];
        barrier();
        // Entry y of a key lane's segment is feature s * LANES * 8 + y.
        for (uint y = tid; y < LANES * SEG; y += WG) {
          uint e = s * LANES * SEG + y;
          if (e >= pc.Dv) break;
          float o = 0.0;
          for (uint kl = 0; kl < KEY_LANES; ++kl) o += scratch[kl * LANES * SEG + y];
          PartialWord(dst + (4 + e) * 4).v = o;
        }
      }
      if (tid == 0) {
        float mx = NEG_INF, l = 0.0;
        for (uint x = 0; x < KEY_LANES; ++x) mx = max(mx, key_max[r * KEY_LANES + x]);
        for (uint x = 0; x < KEY_LANES; ++x) {
          float m = key_max[r * KEY_LANES + x];
          if (m != NEG_INF) l += key_sum[r * KEY_LANES + x] * exp2(m - mx);
        }
        PartialPair(dst).v = vec2(mx == NEG_INF ? NEG_INF : mx * LN2, l);
      }
    }
    if (!MERGE) continue;

    // The partials before the counter (release); the last workgroup's reads
    // after it (acquire).
    memoryBarrierBuffer();
    barrier();
    uint64_t counter = uint64_t(Int64Table(pc.strides).v[ADDR_COUNTERS]) + head_group * 4;
    if (tid == 0) is_last = atomicAdd(Counter(counter).v, 1u) == pc.chunks - 1;
    barrier();
    if (!is_last) continue;
    memoryBarrierBuffer();
    // Partition tid / MERGE_PART of the workgroup merges row row0 + that.
    uint r = tid / MERGE_PART, gr = row0 + min(r, nr - 1), h = hk * group + gr / pc.Lq;
    uint64_t row = (uint64_t(b) * pc.Hq + h) * pc.Lq + gr % pc.Lq;
    float sink = NEG_INF;
    if ((pc.merge_flags & HAS_SINKS_BIT) != 0u && r < nr) {
      uint64_t sinks = uint64_t(Int64Table(pc.strides).v[ADDR_SINKS]);
      sink = load_float(DT, sinks + uint64_t(int64_t(h) * table_stride(pc.strides, T_SINKS, 0) * size));
    }
    merge_partials(r < nr, MERGE_PART, pc.partial + row * pc.chunks * pc.pitch * 4, pc.chunks, pc.pitch, pc.Dv,
                   pc.chunk_lanes, sink, pc.out_addr + row * pc.Dv * size, pc.lse + row * 4);
    if (tid == 0) Counter(counter).v = 0;
  }
}
