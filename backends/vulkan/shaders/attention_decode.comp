// Scaled dot-product attention, split-K decode (L_q <= 8): the keys are cut
// into chunks spread over many workgroups so that a few query rows still fill
// the device. A workgroup takes one (batch, kv head, row group, chunk) and
// ROWS query rows of that kv head's group (q heads sharing it, queries), so
// each key and value byte is read once per row group. It writes a partial
// result per row: the chunk's max m, its sum l of exp(s - m) and the
// unnormalized output; attention_merge.comp (or, with MERGE, the last
// workgroup of the row group) combines the chunks through them.
//
// Layout: a "key lane" is LANES consecutive invocations of one subgroup that
// share a key, each owning SEGS segments of 8 features (16-byte loads for
// 16-bit types when VEC; segment s of lane x holds features (s * LANES + x) * 8
// on, so a key row is read by consecutive 16-byte loads). A key lane takes
// UNROLL keys per step (all of them loaded before any is used, to keep many
// loads in flight), sums its dot products with subgroup shuffles and keeps
// its own online softmax (max, sum, output features) in registers: the hot
// loop has no barrier and no shared memory. The key lanes are combined once
// per chunk through shared memory. The queries, scaled, live in registers
// (or shared memory: Q_SHARED). With ROW_SPLIT > 1, that many key lanes of a
// subgroup take the same keys, each for its share of the rows. The first
// step's loads go out before the queries' (EARLY), each next step's before
// the current one's arithmetic (PREFETCH), and with INTERLEAVE the chunks of
// a head take every chunks-th step, so that its workgroups sweep K and V
// together. What limits it on the H100 is latency with few warps: the
// defaults (LAZY, EXP2, ROW32, FULL_STEPS, no MERGE) keep it at 128
// registers, two workgroups per SM (the plain online softmax needs 155, and
// MERGE with FULL_STEPS 170: one).
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
// Invocations per key: a power of two no larger than the subgroup.
layout(constant_id = 5) const uint LANES = 16;
// 8-feature segments per invocation: LANES * SEGS * 8 >= max(D, D_v).
layout(constant_id = 6) const uint SEGS = 1;
// Query rows per workgroup (the host sets rows_per_group <= ROWS).
layout(constant_id = 7) const uint ROWS = 4;
// Keys per key lane and step.
layout(constant_id = 8) const uint UNROLL = 4;
// The scaled queries are read from shared memory in the loop rather than
// held in registers (fewer registers, more workgroups per SM).
layout(constant_id = 9) const bool Q_SHARED = false;
// The next step's keys and values are loaded before this step's are used
// (their loads overlap the arithmetic, for twice the load registers).
layout(constant_id = 10) const bool PREFETCH = false;
// ROW_SPLIT key lanes of one subgroup take the same keys for different rows
// (ROWS / ROW_SPLIT each): their loads are the same addresses, served once,
// and each invocation holds fewer rows' queries and outputs.
layout(constant_id = 11) const uint ROW_SPLIT = 1;
// LAZY: a key lane's reference max moves only when a step's max passes it
// by more than LAZY_SLACK (then the output and sum are rescaled); otherwise
// the probabilities are taken against it (at most e^8) and simply added.
layout(constant_id = 12) const bool LAZY = false;
// The first step's keys and values are loaded before the queries (their
// latencies overlap).
layout(constant_id = 13) const bool EARLY = false;
// Chunk c takes steps c, c + chunks, c + 2 chunks, ... of the keys rather
// than one run of them: at any time the workgroups of a head read one
// contiguous stretch of K and V, not stretches a chunk apart (a power-of-two
// stride that may load a few memory channels more than the others).
layout(constant_id = 14) const bool INTERLEAVE = false;
// MERGE: the last workgroup of a (batch, kv head, row group) to finish (a
// counter per one, left at zero) merges the chunks' partials, its rows side
// by side in partitions of MERGE_PART invocations (attention_merge.glsl;
// chunks <= MERGE_PART); else attention_merge.comp does.
layout(constant_id = 15) const bool MERGE = false;
layout(constant_id = 16) const uint MERGE_PART = 64;
// EXP2: scores in base 2 (log2 e folded into the scaled queries; exp2 in
// the loop; the partial's max back in base e).
layout(constant_id = 17) const bool EXP2 = false;
// Every K and V row offset of a head, (L_k - 1) * row stride in bytes,
// fits in 32 bits: row offsets in 32-bit arithmetic.
layout(constant_id = 18) const bool ROW32 = false;
// Steps wholly before k_end skip the per-key end check (FULL_STEPS).
layout(constant_id = 19) const bool FULL_STEPS = false;
const float LAZY_SLACK = 8.0;
const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;

float softmax_exp(float x) { return EXP2 ? exp2(x) : exp(x); }

#include "attention.glsl"
#include "index_table.glsl"

layout(push_constant) uniform Push {
  uint64_t q;
  uint64_t k;
  uint64_t v;
  uint64_t mask;
  uint64_t partial;  // float32 [B, H_q, L_q, chunks, pitch]: m, l, -, -, output
  uint64_t strides;  // int64: q, k, v, mask, sinks strides (4 each), then ADDR_*
  uint64_t out_addr; // MERGE: DT [B, H_q, L_q, D_v]
  uint64_t lse;      // MERGE with the lse: float32 [B, H_q, L_q]
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
  uint chunk_keys;  // a multiple of KEY_LANES * UNROLL
  uint pitch;       // floats per partial: 4 + D_v rounded up to 4
  uint chunk_lanes;  // MERGE: the merge's (attention_merge.glsl), for partitions of MERGE_PART
  uint merge_flags;  // MERGE: HAS_SINKS_BIT | WRITE_LSE_BIT
} pc;

// Slots of the int64 table after the strides: the sinks' and the counters'
// addresses. The merge's sinks and lse are flags, not specialization
// constants: they are outside the loop, and each constant doubles the
// pipelines to build.
const uint T_SINKS = 4u;
const uint ADDR_SINKS = 20u;
const uint ADDR_COUNTERS = 21u;
const uint HAS_SINKS_BIT = 1u;
const uint WRITE_LSE_BIT = 2u;
#define WRITE_LSE ((pc.merge_flags & WRITE_LSE_BIT) != 0u)
#include "attention_merge.glsl"

layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Counter { uint v; };

const uint WG = gl_WorkGroupSize.x;
const uint SEG = 8;                  // features per segment
const uint F = SEGS * SEG;           // features per invocation
const uint RPT = ROWS / ROW_SPLIT;   // rows per invocation
const uint KEY_LANES = WG / (LANES * ROW_SPLIT);  // keys side by side in a workgroup
const uint STEP = KEY_LANES * UNROLL;  // keys per step of the workgroup

shared float lane_max[ROWS * KEY_LANES];
shared float lane_sum[ROWS * KEY_LANES];
shared float scratch[WG * SEG];  // one segment of every invocation's output
shared vec4 q_shared[Q_SHARED ? ROWS * LANES * F / 4 : 1];  // [row][lane][feature] (Q_SHARED)
shared bool is_last;

// Where a kv head's keys and values are: row j of K at k_base + j * k_row
// bytes, its features k_step elements apart; likewise V.
struct KvRows {
  uint64_t k_base, v_base;
  int64_t k_row, v_row, k_step, v_step;
};

// Byte offset of key row j, `row` bytes apart (32-bit arithmetic with ROW32).
uint64_t row_offset(uint j, int64_t row) { return ROW32 ? uint64_t(j * uint(row)) : uint64_t(int64_t(j) * row); }

// The bits of features e0 .. e0 + 7 of the row at `row` (n features, `step`
// elements apart; zero past n): 16-bit types in pairs in words 0-3, float32
// one per word; `vec`: one or two 16-byte loads.
void load_segment_bits(uint64_t row, int64_t step, uint e0, uint n, bool vec, out uint w[SEG]) {
  uint size = dtype_size(DT);
  [[unroll]] for (uint u = 0; u < SEG; ++u) w[u] = 0;
  if (e0 >= n) return;
  if (vec) {
    uvec4 lo = ReadPtr4x32(row + e0 * size).v;
    [[unroll]] for (uint u = 0; u < 4; ++u) w[u] = lo[u];
    if (size == 4) {
      uvec4 hi = ReadPtr4x32(row + e0 * 4 + 16).v;
      [[unroll]] for (uint u = 0; u < 4; ++u) w[u + 4] = hi[u];
    }
  } else {
    [[unroll]] for (uint u = 0; u < SEG; ++u) {
      uint e = e0 + u;
      uint bits = e < n ? uint(load_bits(DT, row + uint64_t(int64_t(e) * step * size))) : 0;
      if (size == 2) w[u / 2] |= bits << (16 * (u % 2));
      else w[u] = bits;
    }
  }
}

// Feature t of a segment's bits.
float segment_feature(uint w_pair, uint w_own, uint t) {
  if (dtype_size(DT) == 2) return bits_to_float(DT, t % 2 == 0 ? w_pair & 0xffffu : w_pair >> 16);
  return uintBitsToFloat(w_own);
}

// This invocation's features of the UNROLL keys of a step: their bits loaded
// into k_bits, v_bits (8 words per segment; kept as bits while a PREFETCH
// is in flight), converted to kx, vx when the step begins (private globals:
// arrays sized by specialization constants cannot be function arguments).
uint k_bits[UNROLL * F], v_bits[UNROLL * F];
float kx[UNROLL * F], vx[UNROLL * F];

void unpack_step() {
  [[unroll]] for (uint x = 0; x < UNROLL * F; ++x) {
    uint pair = x - x % SEG + x % SEG / 2;
    kx[x] = segment_feature(k_bits[pair], k_bits[x], x % SEG);
    vx[x] = segment_feature(v_bits[pair], v_bits[x], x % SEG);
  }
}

// The step from key k0 into k_bits, v_bits (zeros past k_end).
void load_step(KvRows kv, uint k0, uint k_end, uint lane, uint key_lane) {
  if (VEC) {
    // 16-byte loads at a loop-invariant base (this lane's features) plus the
    // row's offset (32-bit with ROW32).
    uint size = dtype_size(DT);
    [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
      uint j = k0 + u * KEY_LANES + key_lane;
      bool valid = j < k_end;
      uint64_t k_off = row_offset(valid ? j : 0, kv.k_row), v_off = row_offset(valid ? j : 0, kv.v_row);
      [[unroll]] for (uint s = 0; s < SEGS; ++s) {
        uint e0 = (s * LANES + lane) * SEG;
        [[unroll]] for (uint h = 0; h < size / 2; ++h) {  // 16-byte pieces per segment
          uint64_t at = uint64_t(e0 * size + h * 16);
          uvec4 kw = valid && e0 < pc.D ? ReadPtr4x32(kv.k_base + at + k_off).v : uvec4(0);
          uvec4 vw = valid && e0 < pc.Dv ? ReadPtr4x32(kv.v_base + at + v_off).v : uvec4(0);
          [[unroll]] for (uint t = 0; t < 4; ++t) {
            k_bits[u * F + s * SEG + h * 4 + t] = kw[t];
            v_bits[u * F + s * SEG + h * 4 + t] = vw[t];
          }
        }
      }
    }
    return;
  }
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

// This invocation's rows: their scaled queries, mask rows and query
// indices, and the key lane's online softmax (max, sum, output features).
float qr[RPT * F];
uint64_t mask_row[RPT];
uint query[RPT];
float m[RPT], l[RPT], acc[RPT * F];

// The step from key k0 whose features are in kx, vx: its scores, then the
// key lane's online softmax over them. `tail`: the step may pass k_end
// (called with a constant: full steps skip the check).
void attend_step(uint k0, uint k_end, uint lane, uint part, uint key_lane, int64_t m_step, bool tail) {
  // Scores of the step's keys (every lane of a key lane gets the sum).
  float score[UNROLL * RPT];
  [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
    uint j = k0 + u * KEY_LANES + key_lane;
    [[unroll]] for (uint rr = 0; rr < RPT; ++rr) {
      float dot = 0.0;
      [[unroll]] for (uint f = 0; f < F; f += 4) {
        vec4 qv = Q_SHARED ? q_shared[((part * RPT + rr) * LANES + lane) * (F / 4) + f / 4]
                           : vec4(qr[rr * F + f], qr[rr * F + f + 1], qr[rr * F + f + 2], qr[rr * F + f + 3]);
        [[unroll]] for (uint t = 0; t < 4; ++t) dot = fma(qv[t], kx[u * F + f + t], dot);
      }
      [[unroll]] for (uint o = LANES / 2; o > 0; o >>= 1) dot += subgroupShuffleXor(dot, o);
      score[u * RPT + rr] =
          tail && j >= k_end ? NEG_INF
          : EXP2 && MASK == 2 ? LOG2E * masked_score(LN2 * dot, mask_row[rr], m_step, query[rr], j, pc.causal_offset)
                              : masked_score(dot, mask_row[rr], m_step, query[rr], j, pc.causal_offset);
    }
  }
  // The key lane's online softmax, UNROLL keys at a time.
  [[unroll]] for (uint rr = 0; rr < RPT; ++rr) {
    float mx = m[rr];
    [[unroll]] for (uint u = 0; u < UNROLL; ++u) mx = max(mx, score[u * RPT + rr]);
    bool rescale = true;
    if (LAZY) {
      rescale = mx > m[rr] + LAZY_SLACK;  // false while nothing is visible
      if (!rescale) mx = m[rr];
    }
    if (mx == NEG_INF) continue;  // nothing visible to this key lane yet
    if (rescale) {
      float a = softmax_exp(m[rr] - mx);
      m[rr] = mx;
      l[rr] *= a;
      [[unroll]] for (uint f = 0; f < F; ++f) acc[rr * F + f] *= a;
    }
    [[unroll]] for (uint u = 0; u < UNROLL; ++u) {
      float p = softmax_exp(score[u * RPT + rr] - mx);
      l[rr] += p;
      [[unroll]] for (uint f = 0; f < F; ++f) acc[rr * F + f] = fma(p, vx[u * F + f], acc[rr * F + f]);
    }
  }
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint size = dtype_size(DT);
  const uint lane = tid % LANES;
  const uint part = tid / LANES % ROW_SPLIT;  // which rows: part * RPT ..
  const uint key_lane = tid / (LANES * ROW_SPLIT);
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

    if (EARLY) load_step(kv, k_begin, k_end, lane, key_lane);

    // Row r of the workgroup is query gr % Lq of head hk * group + gr / Lq;
    // this invocation's row rr is row part * RPT + rr (rows past nr repeat
    // the last one, their results unused).
    const float q_scale = EXP2 ? pc.scale * LOG2E : pc.scale;
    [[unroll]] for (uint rr = 0; rr < RPT; ++rr) {
      uint gr = row0 + min(part * RPT + rr, nr - 1), h = hk * group + gr / pc.Lq, i = gr % pc.Lq;
      query[rr] = i;
      uint64_t q_row = table_row(pc.strides, pc.q, T_Q, b, h, i, size);
      mask_row[rr] = MASK == 0 ? 0 : table_row(pc.strides, pc.mask, T_MASK, b, h, i, MASK == 1 ? 1 : size);
      [[unroll]] for (uint s = 0; s < SEGS; ++s) {
        uint w[SEG];
        load_segment_bits(q_row, q_step, (s * LANES + lane) * SEG, pc.D, false, w);
        [[unroll]] for (uint t = 0; t < SEG; ++t) qr[rr * F + s * SEG + t] = q_scale * segment_feature(w[t / 2], w[t], t);
      }
    }
    if (Q_SHARED) {
      barrier();  // the previous workgroup item's readers are done
      if (key_lane == 0) {
        [[unroll]] for (uint x = 0; x < RPT * F / 4; ++x) {
          uint rr = x / (F / 4), f = x % (F / 4) * 4;
          q_shared[((part * RPT + rr) * LANES + lane) * (F / 4) + f / 4] =
              vec4(qr[rr * F + f], qr[rr * F + f + 1], qr[rr * F + f + 2], qr[rr * F + f + 3]);
        }
      }
      barrier();
    }
    [[unroll]] for (uint rr = 0; rr < RPT; ++rr) {
      m[rr] = NEG_INF;
      l[rr] = 0.0;
      [[unroll]] for (uint f = 0; f < F; ++f) acc[rr * F + f] = 0.0;
    }

    if (PREFETCH && !EARLY) load_step(kv, k_begin, k_end, lane, key_lane);
    for (uint k0 = k_begin; k0 < k_end; k0 += k_stride) {
      if (!PREFETCH && !(EARLY && k0 == k_begin)) load_step(kv, k0, k_end, lane, key_lane);
      unpack_step();
      if (PREFETCH && k0 + k_stride < k_end) load_step(kv, k0 + k_stride, k_end, lane, key_lane);
      if (FULL_STEPS && k0 + STEP <= k_end) attend_step(k0, k_end, lane, part, key_lane, m_step, false);
      else attend_step(k0, k_end, lane, part, key_lane, m_step, true);
    }

    // Combine the key lanes: the chunk's max M per row, each lane's share
    // scaled by exp(m - M), then summed feature by feature through shared.
    barrier();  // the previous workgroup item's readers are done
    if (lane == 0) {
      [[unroll]] for (uint rr = 0; rr < RPT; ++rr) lane_max[(part * RPT + rr) * KEY_LANES + key_lane] = m[rr];
    }
    barrier();
    [[unroll]] for (uint rr = 0; rr < RPT; ++rr) {
      float mx = NEG_INF;
      for (uint x = 0; x < KEY_LANES; ++x) mx = max(mx, lane_max[(part * RPT + rr) * KEY_LANES + x]);
      float w = m[rr] == NEG_INF ? 0.0 : softmax_exp(m[rr] - mx);
      l[rr] *= w;
      [[unroll]] for (uint f = 0; f < F; ++f) acc[rr * F + f] *= w;
    }
    if (lane == 0) {
      [[unroll]] for (uint rr = 0; rr < RPT; ++rr) lane_sum[(part * RPT + rr) * KEY_LANES + key_lane] = l[rr];
    }
    [[unroll]] for (uint r = 0; r < ROWS; ++r) {
      if (r >= nr) break;
      uint gr = row0 + r;
      uint64_t row = (uint64_t(b) * pc.Hq + hk * group + gr / pc.Lq) * pc.Lq + gr % pc.Lq;
      uint64_t dst = pc.partial + (row * pc.chunks + chunk) * pc.pitch * 4;
      [[unroll]] for (uint s = 0; s < SEGS; ++s) {
        barrier();
        if (part == r / RPT) {
          [[unroll]] for (uint t = 0; t < SEG; ++t) {
            scratch[(key_lane * LANES + lane) * SEG + t] = acc[r % RPT * F + s * SEG + t];
          }
        }
        barrier();
        // Entry x of a key lane's segment is feature (s * LANES) * 8 + x.
        for (uint x = tid; x < LANES * SEG; x += WG) {
          uint e = s * LANES * SEG + x;
          if (e >= pc.Dv) break;
          float o = 0.0;
          for (uint kl = 0; kl < KEY_LANES; ++kl) o += scratch[kl * LANES * SEG + x];
          PartialWord(dst + (4 + e) * 4).v = o;
        }
      }
      if (tid == 0) {
        float mx = NEG_INF, total_l = 0.0;
        for (uint x = 0; x < KEY_LANES; ++x) {
          mx = max(mx, lane_max[r * KEY_LANES + x]);
          total_l += lane_sum[r * KEY_LANES + x];
        }
        PartialPair(dst).v = vec2(EXP2 ? LN2 * mx : mx, total_l);
      }
    }
    if (!MERGE) continue;

    // The partials before the counter (release); the last workgroup's reads
    // after it (acquire).
    memoryBarrierBuffer();
    barrier();
    uint64_t counter = uint64_t(Int64Table(pc.strides).v[ADDR_COUNTERS]) + (wg / pc.chunks) * 4;
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
