// BinaryMatmul, x @ W^T for 1 to 4 rows of x (decoding) with a codeword . x
// table: formats of at most 256 codewords whose vectors stay inside their
// scale group (the default v = 8, b = 6; the plain 1-bit format reads 4 or 8
// signs as one index: FOLD). The second pass, after binary_table.comp.
//
// The contraction is split (binary_table.glsl): workgroup w owns slice
// w % pc.splits, copies that slice's table into shared memory, then streams
// the slice's packed indices of many weight rows: ROW_LANES adjacent
// invocations share a row, each reading its LANE_UNITS units (a subgroup
// reads whole contiguous runs of words). An index costs one table read per
// row of x; float32 sums per scale group, times the group's scale. The
// row's lanes add their sums by a fixed butterfly of subgroup shuffles, and
// each slice writes float32 partial sums that binary_finish.comp adds in
// slice order (one slice: the kernel writes the output itself). Nothing is
// combined with atomics: results are the same on every run.
//
// Each workgroup walks steps of WG / ROW_LANES weight rows (steps
// w / pc.splits, + gl_NumWorkGroups.x / pc.splits, ...) with the loads of
// the next DEPTH steps in flight: one step's loads per lane are too few
// bytes to cover the memory's latency (on the H100, 1 step ahead ran at
// 15% of its bandwidth).
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require

#include "binary_table.glsl"

layout(local_size_x_id = 0) in;

// Streamed once: read-only, not coherent with anything this kernel writes.
layout(buffer_reference, std430, buffer_reference_align = 4) readonly restrict buffer WordPtr { uint v; };
layout(buffer_reference, std430, buffer_reference_align = 2) readonly restrict buffer HalfPtr { uint16_t v; };
layout(buffer_reference, std430, buffer_reference_align = 16) readonly restrict buffer QuadPtr { uvec4 v; };

const uint WG = gl_WorkGroupSize.x;
const uint ROWS_PER_STEP = WG / ROW_LANES;

shared float table[XR * SLICE_ENTRIES];  // [row of x][slice entries]

// Steps of weight rows whose loads are in flight at once.
layout(constant_id = 12) const uint DEPTH = 2;
// FINISH: the last workgroup of a run of steps (a counter per run, zeroed by
// binary_table.comp) adds the slices' partial sums of its rows in slice
// order, instead of binary_finish.comp (one dispatch and barrier fewer).
layout(constant_id = 13) const bool FINISH = false;
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer SharedWord { uint v; };
const uint ROT_WORDS = STAGGER ? PERIOD_WORDS : 1u;
const uint ROT_BANKS = STAGGER ? LANE_BANKS : 1u;

// The BITS-bit index (unmasked) at bit `bit` of the n words w; `bit` is
// constant once the loops are unrolled. Units hold whole indices: one that
// straddles a word ends in the next word of the same array.
#define INDEX_AT(w, n, bit) \
  ((w[(bit) >> 5] >> ((bit)&31u)) | \
   (((bit)&31u) + BITS > 32u ? w[min(((bit) >> 5) + 1u, (n)-1u)] << (32u - ((bit)&31u)) : 0u))

// Period g's words of a lane (src), rotated right by `rotation` bits.
void rotate_period(uint src[LANE_WORDS], uint g, uint rotation, out uint w[ROT_WORDS]) {
  uint ws = rotation >> 5, bs = rotation & 31u;
  [[unroll]] for (uint k = 0; k < ROT_WORDS; ++k) {
    uint lo = 0u, hi = 0u;
    [[unroll]] for (uint j = 0; j < ROT_WORDS; ++j) {
      uint word = src[min(g * ROT_WORDS + j, LANE_WORDS - 1u)];
      if (j == (k + ws) % ROT_WORDS) lo = word;
      if (j == (k + ws + 1u) % ROT_WORDS) hi = word;
    }
    w[k] = bs == 0u ? lo : (lo >> bs) | (hi << (32u - bs));
  }
}

// The slice's table from global memory (binary_table.comp), 16 bytes at a
// time, every load issued before the first store (one round trip).
const uint COPY_QUADS = XR * SLICE_ENTRIES / 4u;
const uint COPY_LOADS = (COPY_QUADS + WG - 1u) / WG;
void copy_table(uint tid, uint slice) {
  uint64_t src = pc.table + uint64_t(slice) * XR * SLICE_ENTRIES * 4u;
  uvec4 v[COPY_LOADS];
  [[unroll]] for (uint i = 0; i < COPY_LOADS; ++i) {
    uint e = tid + i * WG;
    v[i] = e < COPY_QUADS ? QuadPtr(src + uint64_t(e) * 16u).v : uvec4(0);
  }
  [[unroll]] for (uint i = 0; i < COPY_LOADS; ++i) {
    uint e = tid + i * WG;
    if (e < COPY_QUADS) {
      [[unroll]] for (uint q = 0; q < 4u; ++q) table[4u * e + q] = uintBitsToFloat(v[i][q]);
    }
  }
  barrier();
}

// A lane's words of weight row n (0 past the row or past N) and the scales
// of its groups (0 past N, so padding contributes nothing).
void load_lane(uint n, uint word0, uint group0, out uint words[LANE_WORDS], out float scales[LANE_GROUPS]) {
  bool live = n < pc.N;
  [[unroll]] for (uint q = 0; q < LANE_WORDS; ++q) {
    words[q] = live && word0 + q < pc.words ? WordPtr(index_word(n, word0 + q)).v : 0u;
  }
  uint groups = groups_per_row();
  [[unroll]] for (uint g = 0; g < LANE_GROUPS; ++g) {
    uint h = live && group0 + g < groups ? uint(HalfPtr(scale_address(n, group0 + g)).v) : 0u;
    scales[g] = unpackHalf2x16(h).x;
  }
}

// One step: this lane's part of weight row n (its words and scales), the
// row's lanes' sums added by shuffles, written by lane 0. Every lane of the
// workgroup calls it (the shuffles), rows past N included.
void process_step(uint n, uint slice, uint lane, uint rotation, uint lane_banks[ROT_BANKS],
                  uint cur_words[LANE_WORDS], float cur_scales[LANE_GROUPS]) {
  float acc[XR];
  [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = 0.0;
  [[unroll]] for (uint g = 0; g < LANE_GROUPS; ++g) {
    // The period's words; with STAGGER rotated right by rotation bits
    // (row r reads vector (t + r * SUB) % PERIOD at position t).
    uint w[ROT_WORDS];
    if (STAGGER) rotate_period(cur_words, g, rotation, w);
    float part[XR];
    [[unroll]] for (uint m = 0; m < XR; ++m) part[m] = 0.0;
    [[unroll]] for (uint t = 0; t < PERIOD; ++t) {
      uint index, entry;
      if (STAGGER) {
        index = INDEX_AT(w, ROT_WORDS, t * BITS) & INDEX_MASK;
        entry = ((g * SUB + t % SUB) * CODES + index) * 32u + lane_banks[t / SUB];
      } else {
        index = INDEX_AT(cur_words, LANE_WORDS, (g * PERIOD + t) * BITS) & INDEX_MASK;
        entry = table_offset(lane, g * PERIOD + t, index);
      }
      [[unroll]] for (uint m = 0; m < XR; ++m) part[m] += table[m * SLICE_ENTRIES + entry];
    }
    [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = fma(cur_scales[g], part[m], acc[m]);
  }
  uint size = dtype_size(DT);
  [[unroll]] for (uint m = 0; m < XR; ++m) {
    float total = acc[m];
    [[unroll]] for (uint d = 1; d < ROW_LANES; d *= 2u) total += subgroupShuffleXor(total, d);
    if (lane == 0u && n < pc.N) {
      uint64_t e = uint64_t(m) * pc.N + n;
      if (pc.splits == 1u) {
        store_float(DT, pc.out_addr + e * size, total);
      } else {
        SharedWord(pc.partials + (uint64_t(slice) * XR * pc.N + e) * 4u).v = floatBitsToUint(total);
      }
    }
  }
}

// FINISH: after its partial sums, workgroup (slice, run `first`) counts
// itself in; the last of the run's pc.splits workgroups adds every slice's
// partial sums of the run's rows, in slice order (as binary_finish.comp).
void finish_run(uint tid, uint first, uint steps, uint step_stride) {
  memoryBarrierBuffer();
  barrier();
  uint64_t counters = pc.table + uint64_t(pc.splits) * XR * SLICE_ENTRIES * 4u;
  // The flag goes through table[0]: every step is done with the table.
  if (tid == 0u) {
    uint arrived = atomicAdd(SharedWord(counters + uint64_t(first) * 4u).v, 1u);
    table[0] = arrived == pc.splits - 1u ? 1.0 : 0.0;
  }
  barrier();
  if (table[0] == 0.0) return;
  memoryBarrierBuffer();
  uint size = dtype_size(DT);
  for (uint step = first; step < steps; step += step_stride) {
    for (uint e = tid; e < ROWS_PER_STEP * XR; e += WG) {
      uint m = e / ROWS_PER_STEP, n = step * ROWS_PER_STEP + e % ROWS_PER_STEP;
      if (n >= pc.N) continue;
      uint64_t at = uint64_t(m) * pc.N + n;
      float sum = 0.0;
      for (uint s = 0; s < pc.splits; ++s) {
        sum += uintBitsToFloat(SharedWord(pc.partials + (uint64_t(s) * XR * pc.N + at) * 4u).v);
      }
      store_float(DT, pc.out_addr + at * size, sum);
    }
  }
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint slice = gl_WorkGroupID.x % pc.splits;
  uint lane = tid % ROW_LANES;
  // This lane's first vector in its row, its first word and scale group.
  uint vector0 = slice * SLICE_VECTORS + lane * LANE_VECTORS;
  uint word0 = vector0 / UNIT_VECTORS * UNIT_WORDS;
  uint group0 = vector0 / GROUP_VECTORS;
  // STAGGER: this row's place among the subgroup's rows sharing a lane, its
  // rotation and the banks of its lane in the order it reads them.
  uint r = (tid / ROW_LANES) % LANE_BANKS;
  uint rotation = r * SUB * BITS;
  uint lane_banks[ROT_BANKS];
  [[unroll]] for (uint k = 0; k < ROT_BANKS; ++k) lane_banks[k] = lane * LANE_BANKS + (k + r) % LANE_BANKS;

  uint steps = (pc.N + ROWS_PER_STEP - 1u) / ROWS_PER_STEP;
  uint step_stride = gl_NumWorkGroups.x / pc.splits;
  uint row = tid / ROW_LANES;  // within a step
  // DEPTH steps' words and scales in flight: a ring, slot d holding step
  // first + (k * DEPTH + d) * step_stride; the first DEPTH load while the
  // table is copied.
  uint first = gl_WorkGroupID.x / pc.splits;
  uint ring_words[DEPTH][LANE_WORDS];
  float ring_scales[DEPTH][LANE_GROUPS];
  [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
    load_lane((first + d * step_stride) * ROWS_PER_STEP + row, word0, group0, ring_words[d], ring_scales[d]);
  }
  copy_table(tid, slice);
  // Uniform per workgroup: every lane takes part in the shuffles.
  for (uint base = first; base < steps; base += DEPTH * step_stride) {
    [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
      uint step = base + d * step_stride;
      if (step < steps) {
        uint cur_words[LANE_WORDS];
        float cur_scales[LANE_GROUPS];
        [[unroll]] for (uint q = 0; q < LANE_WORDS; ++q) cur_words[q] = ring_words[d][q];
        [[unroll]] for (uint g = 0; g < LANE_GROUPS; ++g) cur_scales[g] = ring_scales[d][g];
        uint next = step + DEPTH * step_stride;
        if (next < steps) load_lane(next * ROWS_PER_STEP + row, word0, group0, ring_words[d], ring_scales[d]);
        process_step(step * ROWS_PER_STEP + row, slice, lane, rotation, lane_banks, cur_words, cur_scales);
      }
    }
  }
  if (FINISH && pc.splits > 1u) finish_run(tid, first, steps, step_stride);
}
