// BinaryMatmul, x @ W^T for 1 to 4 rows of x (decoding) with a codeword . x
// table: formats of at most 256 codewords whose vectors stay inside their
// scale group (the default v = 8, b = 6; the plain 1-bit format reads 4 or 8
// signs as one index: FOLD).
//
// The contraction is split: workgroup w owns slice w % pc.splits, a run of
// SLICE_VECTORS vectors of every weight row. It tabulates codeword . x for
// every codeword and every vector of its slice once (the table fits shared
// memory: that is what sets the slice length), then streams the slice's
// packed indices of many weight rows: ROW_LANES adjacent invocations share a
// row, each reading LANE_UNITS units of the row's slice (a unit is the fewest
// whole words holding whole indices: 3 words = 16 indices for 6 bits), so a
// subgroup reads whole contiguous runs of words. An index costs one table
// read per row of x; float32 sums per scale group, times the group's scale.
// The row's lanes add their sums by a fixed butterfly of subgroup shuffles,
// and each slice writes float32 partial sums that binary_finish.comp adds in
// slice order (one slice: the kernel writes the output itself). Nothing is
// combined with atomics: results are the same on every run.
//
// Each workgroup walks steps of WG / ROW_LANES weight rows (steps
// w / pc.splits, + gl_NumWorkGroups.x / pc.splits, ...), loading the next
// step's words and scales before it reads the table for the current one.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint XR = 1;           // rows of x, 1 to 4
layout(constant_id = 3) const uint ROW_LANES = 8;    // invocations per weight row: a power of two <= the subgroup
layout(constant_id = 4) const uint LANE_UNITS = 1;   // units each of them reads
layout(constant_id = 5) const uint UNIT_WORDS = 3;   // BITS / gcd(BITS, 32)
layout(constant_id = 6) const uint FOLD = 1;         // indices of the weights read as one
layout(constant_id = 7) const uint CODEBOOK_WORDS = 64;  // the weights' own codebook: 2^(BITS / FOLD)
// (8 to 10: VECTOR, BITS, GROUP of binary_format.glsl)
layout(constant_id = 11) const uint ROUND_VECTORS = 64;  // vectors whose nibble sums shared memory holds at once

// Streamed once: read-only, not coherent with anything this kernel writes.
layout(buffer_reference, std430, buffer_reference_align = 4) readonly restrict buffer WordPtr { uint v; };
layout(buffer_reference, std430, buffer_reference_align = 2) readonly restrict buffer HalfPtr { uint16_t v; };

const uint WG = gl_WorkGroupSize.x;
const uint CODES = 1u << BITS;
const uint UNIT_VECTORS = UNIT_WORDS * 32u / BITS;
const uint LANE_WORDS = LANE_UNITS * UNIT_WORDS;
const uint LANE_VECTORS = LANE_UNITS * UNIT_VECTORS;
const uint SLICE_VECTORS = ROW_LANES * LANE_VECTORS;
const uint ROWS_PER_STEP = WG / ROW_LANES;
// The host makes one of LANE_VECTORS and GROUP / VECTOR divide the other:
// a lane's vectors are whole scale groups, or lie in one.
const uint GROUP_VECTORS = GROUP / VECTOR;
const bool WHOLE_GROUPS = LANE_VECTORS % GROUP_VECTORS == 0u;
const uint LANE_GROUPS = WHOLE_GROUPS ? LANE_VECTORS / GROUP_VECTORS : 1u;
const uint VECTORS_PER_SCALE = WHOLE_GROUPS ? GROUP_VECTORS : LANE_VECTORS;
// The weights' own vectors and indices (FOLD of them per table entry).
const uint CODE_VECTOR = VECTOR / FOLD, CODE_BITS = BITS / FOLD;
const uint NIBBLES = (VECTOR + 3u) / 4u;

shared float nibble_sums[XR * ROUND_VECTORS * NIBBLES * 16u];  // [row of x][vector of the round][nibble][16]
shared float table[XR * SLICE_VECTORS * CODES];  // [row of x][vector of the slice][codeword]
shared uint codebook[CODEBOOK_WORDS];

// The pattern of table entry `code`: FOLD codewords side by side.
uint folded_pattern(uint code) {
  uint pattern = 0;
  [[unroll]] for (uint u = 0; u < FOLD; ++u) {
    uint word = codebook[(code >> (u * CODE_BITS)) & ((1u << CODE_BITS) - 1u)];
    pattern |= (word & ((1u << CODE_VECTOR) - 1u)) << (u * CODE_VECTOR);
  }
  return pattern;
}

// The table, ROUND_VECTORS vectors at a time: first, per nibble (4
// elements) of a vector, the 16 signed sums of its elements; then entry
// (vector, code) adds the sums its pattern's nibbles pick (two reads for
// 8-element vectors). Every invocation keeps one codeword (CODES divides
// WG), so its pattern and nibbles are fixed.
void build_table(uint tid, uint slice) {
  for (uint c = tid; c < CODEBOOK_WORDS; c += WG) codebook[c] = global_codeword(c);
  barrier();
  uint pattern = folded_pattern(tid % CODES);
  uint size = dtype_size(DT);
  for (uint v0 = 0; v0 < SLICE_VECTORS; v0 += ROUND_VECTORS) {
    for (uint t = tid; t < XR * ROUND_VECTORS * NIBBLES; t += WG) {
      uint q = t % NIBBLES, rest = t / NIBBLES;
      uint v = rest % ROUND_VECTORS, m = rest / ROUND_VECTORS;
      uint k0 = (slice * SLICE_VECTORS + v0 + v) * VECTOR + 4u * q;
      bool live = v0 + v < SLICE_VECTORS;
      float x[4];
      [[unroll]] for (uint i = 0; i < 4u; ++i) {
        uint k = k0 + i;
        x[i] = live && 4u * q + i < VECTOR && k < pc.K ? load_float(DT, pc.x + (uint64_t(m) * pc.K + k) * size) : 0.0;
      }
      [[unroll]] for (uint p = 0; p < 16u; ++p) {
        float sum = 0.0;
        [[unroll]] for (uint i = 0; i < 4u; ++i) sum += ((p >> i) & 1u) != 0u ? x[i] : -x[i];
        nibble_sums[t * 16u + p] = sum;
      }
    }
    barrier();
    for (uint e = tid; e < XR * ROUND_VECTORS * CODES; e += WG) {
      uint rest = e / CODES;  // m * ROUND_VECTORS + v
      uint v = rest % ROUND_VECTORS, m = rest / ROUND_VECTORS;
      if (v0 + v >= SLICE_VECTORS) continue;
      float dot = 0.0;
      [[unroll]] for (uint q = 0; q < NIBBLES; ++q) dot += nibble_sums[(rest * NIBBLES + q) * 16u + ((pattern >> (4u * q)) & 15u)];
      table[(m * SLICE_VECTORS + v0 + v) * CODES + (e % CODES)] = dot;
    }
    barrier();
  }
}

// A lane's words of weight row n (0 past the row or past N) and the scales
// of its groups (0 past N, so padding contributes nothing).
void load_lane(uint n, uint word0, uint group0, out uint words[LANE_WORDS], out float scales[LANE_GROUPS]) {
  bool live = n < pc.N;
  uint64_t row = index_row(n);
  [[unroll]] for (uint q = 0; q < LANE_WORDS; ++q) {
    words[q] = live && word0 + q < pc.words ? WordPtr(row + uint64_t(word0 + q) * 4u).v : 0u;
  }
  uint groups = groups_per_row();
  uint64_t scale_row = pc.scales + uint64_t(n) * groups * 2u;
  [[unroll]] for (uint g = 0; g < LANE_GROUPS; ++g) {
    uint h = live && group0 + g < groups ? uint(HalfPtr(scale_row + uint64_t(group0 + g) * 2u).v) : 0u;
    scales[g] = unpackHalf2x16(h).x;
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
  uint table0 = lane * LANE_VECTORS * CODES;
  const uint table_row = SLICE_VECTORS * CODES;
  uint size = dtype_size(DT);

  uint steps = (pc.N + ROWS_PER_STEP - 1u) / ROWS_PER_STEP;
  uint step_stride = gl_NumWorkGroups.x / pc.splits;
  uint step = gl_WorkGroupID.x / pc.splits;
  uint words[LANE_WORDS];
  float scales[LANE_GROUPS];
  // The first step's loads are in flight while the table is built.
  load_lane(step * ROWS_PER_STEP + tid / ROW_LANES, word0, group0, words, scales);
  build_table(tid, slice);
  // Uniform per workgroup: every lane takes part in the shuffles.
  for (; step < steps; step += step_stride) {
    uint n = step * ROWS_PER_STEP + tid / ROW_LANES;
    uint cur_words[LANE_WORDS];
    float cur_scales[LANE_GROUPS];
    [[unroll]] for (uint q = 0; q < LANE_WORDS; ++q) cur_words[q] = words[q];
    [[unroll]] for (uint g = 0; g < LANE_GROUPS; ++g) cur_scales[g] = scales[g];
    if (step + step_stride < steps) load_lane(n + step_stride * ROWS_PER_STEP, word0, group0, words, scales);

    float acc[XR];
    [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = 0.0;
    [[unroll]] for (uint g = 0; g < LANE_GROUPS; ++g) {
      float part[XR];
      [[unroll]] for (uint m = 0; m < XR; ++m) part[m] = 0.0;
      [[unroll]] for (uint t = 0; t < VECTORS_PER_SCALE; ++t) {
        uint i = g * VECTORS_PER_SCALE + t;
        // Units hold whole indices: one that straddles a word ends in the
        // lane's next word.
        uint bit = i * BITS, q = bit >> 5, shift = bit & 31u;
        uint index = cur_words[q] >> shift;
        if (shift + BITS > 32u) index |= cur_words[min(q + 1u, LANE_WORDS - 1u)] << (32u - shift);
        uint entry = table0 + i * CODES + (index & INDEX_MASK);
        [[unroll]] for (uint m = 0; m < XR; ++m) part[m] += table[m * table_row + entry];
      }
      [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = fma(cur_scales[g], part[m], acc[m]);
    }
    [[unroll]] for (uint m = 0; m < XR; ++m) {
      float total = acc[m];
      [[unroll]] for (uint d = 1; d < ROW_LANES; d *= 2u) total += subgroupShuffleXor(total, d);
      if (lane == 0u && n < pc.N) {
        uint64_t e = uint64_t(m) * pc.N + n;
        if (pc.splits == 1u) {
          store_float(DT, pc.out_addr + e * size, total);
        } else {
          Ptr32(pc.partials + (uint64_t(slice) * XR * pc.N + e) * 4u).v = floatBitsToUint(total);
        }
      }
    }
  }
}
