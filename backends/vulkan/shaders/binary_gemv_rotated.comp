// BinaryMatmul, x @ W^T for 1 or 2 rows of x with a codeword . x table in
// shared memory read without bank conflicts: an invocation per weight row
// (or SPLIT side by side), one dispatch before binary_finish.comp. Formats (after folding FOLD
// indices into one): an even number of index bits up to 6 (a unit of 16
// vectors is BITS / 2 whole words), vectors of a multiple of 4 elements,
// units inside one scale group; the
// default v = 8, b = 6 and the plain 1-bit format read 4 signs at a time.
//
// Workgroup w owns slice w % pc.splits of the contraction (UNITS units of
// every row) and builds that slice's table itself from x, then walks steps
// of WG weight rows: an invocation loads its row's LANE_WORDS words and
// scales in 16-byte loads where aligned (the next DEPTH steps in flight),
// adds one table entry per index and row of x (float32 sums per unit, times
// the unit's scale) and writes float32 partial sums that binary_finish.comp
// adds in slice order (one slice: the output itself). Deterministic. The
// invocation's rotation and swap depend only on its place in the subgroup,
// not on which row or units it reads, so SPLIT invocations may share a row
// (its units dealt out in pairs) with no bank conflicts either.
//
// Bank conflicts: the 32 invocations of a subgroup read the same position
// of different rows at once, at random codewords. So a table row (one
// codeword) holds one vector per bank, and invocation r reads its unit's
// vectors rotated by r % 16 (its words are rotated once per unit): vector
// (j + r) % 16 at position j, in column j + r % 16 of a table in which
// column J holds vector J % 16 (each entry stored twice: no modulo at read
// time). Invocations r and r + 16 read the same column; the ones with
// r & 16 read the units of each pair swapped, and odd units' tables start
// 16 banks over. A read's shared-memory offset is then
// (field << 5) + lane + constant: two integer operations per index.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_shuffle : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint XR = 1;           // rows of x, 1 or 2
layout(constant_id = 3) const uint UNITS = 4;        // units per slice: even
layout(constant_id = 4) const uint FOLD = 1;         // indices of the weights read as one
layout(constant_id = 5) const uint DEPTH = 2;        // steps whose loads are in flight
layout(constant_id = 6) const uint LOAD_WORDS = 4;   // words per load: 4, 2 or 1 (alignment)
layout(constant_id = 7) const uint SCALE_LOAD = 1;   // scales per load: 4, 2 or 1 (alignment)
// (8 to 10: VECTOR, BITS, GROUP of binary_format.glsl, after folding)

// Streamed once: read-only.
layout(buffer_reference, std430, buffer_reference_align = 4) readonly restrict buffer WordPtr { uint v; };
layout(buffer_reference, std430, buffer_reference_align = 8) readonly restrict buffer PairPtr { uvec2 v; };
layout(buffer_reference, std430, buffer_reference_align = 16) readonly restrict buffer QuadPtr { uvec4 v; };
layout(buffer_reference, std430, buffer_reference_align = 2) readonly restrict buffer HalfPtr { uint16_t v; };

const uint WG = gl_WorkGroupSize.x;
const uint CODES = 1u << BITS;
const uint UNIT_VECTORS = 16u;
const uint UNIT_WORDS = BITS / 2u;
// SPLIT invocations share a weight row, side by side in a subgroup (its
// subgroup loads then cover runs of SPLIT * LANE_WORDS words), each reading
// LANE_UNITS units (even); their sums are added by subgroup shuffles.
layout(constant_id = 12) const uint SPLIT = 1;
// WHOLE: workgroup w owns step w of weight rows (and w + workgroups, ...)
// and walks every slice of them, rebuilding the table per slice and keeping
// the rows' sums in registers: whole rows per workgroup, one dispatch, no
// partial sums (the loads of the next DEPTH slices of its rows in flight).
layout(constant_id = 13) const bool WHOLE = false;
// MEASUREMENT (wrong results): WHOLE with the table built for the first
// slice only (the cost of rebuilding it).
layout(constant_id = 14) const bool PROBE_KEEP_TABLE = false;
// WHOLE: weight rows per workgroup (a multiple of 32 / SPLIT, at most
// WG / SPLIT; 0: WG / SPLIT), so that the workgroups can match the GPU's
// processors (e.g. 224: 128 workgroups for 28672 rows); the invocations
// past them only help build the tables.
layout(constant_id = 16) const uint STEP_ROWS = 0;
const uint LANE_UNITS = UNITS / SPLIT;
const uint ROWS_PER_STEP = gl_WorkGroupSize.x / SPLIT;
const uint LANE_WORDS = LANE_UNITS * UNIT_WORDS;
const uint SLICE_VECTORS = UNITS * UNIT_VECTORS;
const uint SLICE_ELEMENTS = SLICE_VECTORS * VECTOR;
// Scale groups of a lane's units (a unit lies inside one group).
const uint UNITS_PER_GROUP = GROUP / (UNIT_VECTORS * VECTOR);
const uint LANE_GROUPS = (LANE_UNITS + UNITS_PER_GROUP - 1u) / UNITS_PER_GROUP;
// The weights' own codewords (FOLD of them side by side per table code).
const uint CODE_VECTOR = VECTOR / FOLD, CODE_BITS = BITS / FOLD;

// Table: per row of x, units in pairs; unit u's codeword c, column J
// (vector J % 16 of the unit) at region(u) + c * 32 + J.
// COMPACT (half the table, so twice the units fit): each entry once, a
// pair's codeword row of 32 floats holding the even unit's 16 vectors, then
// the odd one's: entry (u, c, v) at u / 2 * PAIR + c * 32 + u % 2 * 16 + v.
// Invocation r reads column (j + r) % 16 (one more register per position,
// kept for the whole kernel) of its unit's half, the halves swapped with
// r & 16: the same 32 banks per position.
layout(constant_id = 11) const bool COMPACT = false;
const uint REGION = CODES * 32u;
const uint ODD_SHIFT = REGION + 16u;  // an odd unit's region after its even one
const uint PAIR = COMPACT ? REGION : 2u * REGION + 32u;
const uint TABLE_ROW = UNITS / 2u * PAIR;
uint region(uint u) { return u / 2u * PAIR + u % 2u * ODD_SHIFT; }

// NIBBLE (vectors of 8 after folding): an entry is the sum of two half
// sums, +-x0 +-x1 +-x2 +-x3 for the pattern's low 4 bits and the same of
// the high half, read from a table of the 16 sums of every half vector
// (built from x straight from memory: no staging). Two reads and an add
// per entry in place of 8 multiply-adds.
layout(constant_id = 15) const bool NIBBLE = false;
const bool HALVES = NIBBLE && VECTOR == 8u;
const uint HALF_PITCH = 17u;  // a half vector's 16 sums, padded: fewer bank conflicts
shared float table[XR * TABLE_ROW];
shared vec4 xs[HALVES ? 1u : XR * SLICE_ELEMENTS / 4u];  // VECTOR is a multiple of 4
shared float halves[HALVES ? XR * SLICE_VECTORS * 2u * HALF_PITCH : 1u];

// Codeword c's pattern after folding.
uint folded_pattern(uint c) {
  uint pattern = 0;
  [[unroll]] for (uint u = 0; u < FOLD; ++u) {
    uint word = global_codeword((c >> (u * CODE_BITS)) & ((1u << CODE_BITS) - 1u));
    pattern |= (word & ((1u << CODE_VECTOR) - 1u)) << (u * CODE_VECTOR);
  }
  return pattern;
}

// This invocation's codeword (tid % CODES) for the table, after folding.
uint g_pattern;

// x's elements of a slice an invocation stages for the table: the elements
// tid, tid + WG, ... of the slice (per row of x), or (NIBBLE) the 4 elements
// of each half vector it sums. Loaded ahead (WHOLE: during the previous
// slice), so that building the table waits on no memory.
const uint STAGED = HALVES ? XR * SLICE_VECTORS * 4u : XR * SLICE_ELEMENTS;  // items
const uint STAGE_ITEMS = (STAGED + WG - 1u) / WG;
const uint STAGE_FLOATS = STAGE_ITEMS * (HALVES ? 4u : 1u);

void load_stage(uint tid, uint slice, out float xv[STAGE_FLOATS]) {
  uint size = dtype_size(DT);
  [[unroll]] for (uint l = 0; l < STAGE_ITEMS; ++l) {
    uint e = tid + l * WG;
    if (HALVES) {
      uint hv = e / 2u, m = hv / (SLICE_VECTORS * 2u), h = hv % (SLICE_VECTORS * 2u);
      uint64_t addr = pc.x + (uint64_t(m) * pc.K + slice * SLICE_ELEMENTS + h * 4u) * size;
      [[unroll]] for (uint i = 0; i < 4u; ++i) xv[l * 4u + i] = e < STAGED ? load_float(DT, addr + i * size) : 0.0;
    } else {
      uint m = e / SLICE_ELEMENTS, i = e % SLICE_ELEMENTS;
      xv[l] = e < STAGED ? load_float(DT, pc.x + (uint64_t(m) * pc.K + uint64_t(slice) * SLICE_ELEMENTS + i) * size) : 0.0;
    }
  }
}

// The slice's table from its staged x (xv): x's elements into shared
// memory (or, NIBBLE, the 8 sums +-x0 +-x1 +-x2 +-x3 of patterns q0 .. q0 + 7
// of a half vector: bit i of a pattern set means +x_i), then each invocation
// computes one codeword's entries for vectors rotated by its place, so that a
// subgroup's two stores of an entry hit 32 banks.
void build_table(uint tid, float xv[STAGE_FLOATS]) {
  [[unroll]] for (uint l = 0; l < STAGE_ITEMS; ++l) {
    uint e = tid + l * WG;
    if (e < STAGED) {
      if (HALVES) {
        uint at = e / 2u * HALF_PITCH + e % 2u * 8u;
        float x0 = xv[l * 4u], x1 = xv[l * 4u + 1u], x2 = xv[l * 4u + 2u], x3 = xv[l * 4u + 3u];
        float top = e % 2u != 0u ? x3 : -x3;
        [[unroll]] for (uint i = 0; i < 8u; ++i) {
          halves[at + i] = ((i & 1u) != 0u ? x0 : -x0) + ((i & 2u) != 0u ? x1 : -x1) + ((i & 4u) != 0u ? x2 : -x2) + top;
        }
      } else {
        xs[e / 4u][e % 4u] = xv[l];
      }
    }
  }
  barrier();
  const uint SPREAD = WG / CODES;  // invocations per codeword (CODES divides WG)
  const uint PER_UNIT = UNIT_VECTORS > SPREAD ? UNIT_VECTORS / SPREAD : 1u;
  uint c = tid % CODES, g = tid / CODES;
  float signs[VECTOR];
  [[unroll]] for (uint i = 0; i < VECTOR; ++i) signs[i] = ((g_pattern >> i) & 1u) != 0u ? 1.0 : -1.0;
  uint lo = g_pattern & 15u, hi = (g_pattern >> 4) & 15u;
  uint half_flip = (tid / 16u) % 2u * 16u;
  for (uint b = 0; b < XR * UNITS; ++b) {
    uint m = b / UNITS, u = b % UNITS;
    uint base = m * TABLE_ROW + (COMPACT ? u / 2u * PAIR + u % 2u * 16u : region(u)) + c * 32u;
    [[unroll]] for (uint i = 0; i < PER_UNIT; ++i) {
      uint k = g + i * SPREAD;
      if (k < UNIT_VECTORS) {
        uint jv = (k + c) % UNIT_VECTORS;
        float dot = 0.0;
        if (HALVES) {
          uint h0 = (m * SLICE_VECTORS + u * UNIT_VECTORS + jv) * 2u * HALF_PITCH;
          dot = halves[h0 + lo] + halves[h0 + HALF_PITCH + hi];
        } else {
          uint x0 = (m * SLICE_ELEMENTS + (u * UNIT_VECTORS + jv) * VECTOR) / 4u;
          [[unroll]] for (uint q = 0; q < VECTOR / 4u; ++q) {
            vec4 x = xs[x0 + q];
            dot = fma(signs[4u * q], x.x, dot);
            dot = fma(signs[4u * q + 1u], x.y, dot);
            dot = fma(signs[4u * q + 2u], x.z, dot);
            dot = fma(signs[4u * q + 3u], x.w, dot);
          }
        }
        if (COMPACT) {
          table[base + jv] = dot;
        } else {
          table[base + (jv ^ half_flip)] = dot;
          table[base + (jv ^ half_flip ^ 16u)] = dot;
        }
      }
    }
  }
  barrier();
}

// Row n's words from unit u0 on (rows clamped to N - 1: steps past N load a
// real row and store nothing).
void load_words(uint n, uint u0, out uint words[LANE_WORDS]) {
  n = min(n, pc.N - 1u);
  uint w0 = u0 * UNIT_WORDS;
  [[unroll]] for (uint q = 0; q < LANE_WORDS; q += LOAD_WORDS) {
    uint64_t at = index_word(n, w0 + q);  // (a load never crosses a tile)
    if (LOAD_WORDS == 4u) {
      uvec4 v = QuadPtr(at).v;
      words[q] = v.x;
      words[q + 1u] = v.y;
      words[q + 2u] = v.z;
      words[q + 3u] = v.w;
    } else if (LOAD_WORDS == 2u) {
      uvec2 v = PairPtr(at).v;
      words[q] = v.x;
      words[q + 1u] = v.y;
    } else {
      words[q] = WordPtr(at).v;
    }
  }
}

// Row n's scales of the groups from unit u0's on (clamped as the words).
void load_scales(uint n, uint u0, out uint scales[LANE_GROUPS]) {
  n = min(n, pc.N - 1u);
  uint g0 = u0 / UNITS_PER_GROUP;
  [[unroll]] for (uint g = 0; g < LANE_GROUPS; g += SCALE_LOAD) {
    uint64_t scale_at = scale_address(n, g0 + g);  // (nor a scale load)
    if (SCALE_LOAD == 4u) {
      uvec2 v = PairPtr(scale_at).v;
      scales[g] = v.x & 0xffffu;
      scales[g + 1u] = v.x >> 16;
      scales[g + 2u] = v.y & 0xffffu;
      scales[g + 3u] = v.y >> 16;
    } else if (SCALE_LOAD == 2u) {
      uint v = WordPtr(scale_at).v;
      scales[g] = v & 0xffffu;
      scales[g + 1u] = v >> 16;
    } else {
      scales[g] = uint(HalfPtr(scale_at).v);
    }
  }
}

// The field of BITS bits at bit `bit` of the unit's words, shifted to bit 5
// and masked (bit is a constant once unrolled).
uint field_at(uint w[UNIT_WORDS], uint bit) {
  uint word = bit >> 5, shift = bit & 31u;
  const uint MASK = INDEX_MASK << 5;
  if (shift + BITS <= 32u) return (shift >= 5u ? w[word] >> (shift - 5u) : w[word] << (5u - shift)) & MASK;
  uint64_t pair = packUint2x32(uvec2(w[word], w[min(word + 1u, UNIT_WORDS - 1u)]));
  return uint(pair >> (shift - 5u)) & MASK;
}

// This invocation's place: its row slot in a step, its first unit's offset
// in a slice, its table regions, rotation and swap (set by main).
uint g_slot, g_unit, g_lane_base, g_lane_even, g_lane_odd, g_h, g_rot_words, g_rot_shift;

// COMPACT: position j's column (j + r) % 16, in the other half with h.
uint column_of(uint j) { return ((j + gl_LocalInvocationID.x % 16u) & 15u) | (g_h << 4); }

// Adds this invocation's units of one slice (its words and scales, as
// loaded) into acc, through the slice's table.
void add_units(uint words[LANE_WORDS], uint scales[LANE_GROUPS], inout float acc[XR]) {
  [[unroll]] for (uint p = 0; p < LANE_UNITS; ++p) {
    // Unit p, or its pair's other unit when swapped, rotated by r vectors.
    uint src[UNIT_WORDS];
    [[unroll]] for (uint k = 0; k < UNIT_WORDS; ++k) {
      src[k] = g_h != 0u ? words[(p ^ 1u) * UNIT_WORDS + k] : words[p * UNIT_WORDS + k];
    }
    uint w[UNIT_WORDS];
    [[unroll]] for (uint k = 0; k < UNIT_WORDS; ++k) {
      uint lo = src[k], hi = src[(k + 1u) % UNIT_WORDS];
      [[unroll]] for (uint s = 1; s < UNIT_WORDS; ++s) {
        if (g_rot_words == s) {
          lo = src[(k + s) % UNIT_WORDS];
          hi = src[(k + s + 1u) % UNIT_WORDS];
        }
      }
      w[k] = uint(packUint2x32(uvec2(lo, hi)) >> g_rot_shift);
    }
    uint lane = p % 2u == 0u ? g_lane_even : g_lane_odd;
    const uint OFFSET = p % 2u == 0u ? region(p) : region(p) - ODD_SHIFT;
    float part[XR];
    [[unroll]] for (uint m = 0; m < XR; ++m) part[m] = 0.0;
    [[unroll]] for (uint j = 0; j < UNIT_VECTORS; ++j) {
      uint at = COMPACT ? (field_at(w, j * BITS) | (column_of(j) ^ (p % 2u * 16u))) + g_lane_base + p / 2u * PAIR
                        : field_at(w, j * BITS) + lane + OFFSET + j;
      [[unroll]] for (uint m = 0; m < XR; ++m) part[m] += table[at + m * TABLE_ROW];
    }
    uint bits = g_h != 0u ? scales[(p ^ 1u) / UNITS_PER_GROUP] : scales[p / UNITS_PER_GROUP];
    float scale = unpackHalf2x16(bits).x;
    [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = fma(scale, part[m], acc[m]);
  }
}

// The row's lanes add their sums (a butterfly: the same order every run),
// and its first lane stores them: into the output, or slice `slice`'s
// partial sums when the contraction is split.
void store_row(uint n, uint slice, bool split, inout float acc[XR]) {
  [[unroll]] for (uint b = 1; b < SPLIT; b *= 2u) {
    [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] += subgroupShuffleXor(acc[m], b);
  }
  if (n < pc.N && gl_LocalInvocationID.x % SPLIT == 0u) {
    [[unroll]] for (uint m = 0; m < XR; ++m) {
      if (!split) {
        store_float(DT, pc.out_addr + (uint64_t(m) * pc.N + n) * dtype_size(DT), acc[m]);
      } else {
        Ptr32(pc.partials + ((uint64_t(slice) * XR + m) * pc.N + n) * 4u).v = floatBitsToUint(acc[m]);
      }
    }
  }
}

// WHOLE: steps of rows, every slice of each.
void whole_rows(uint tid) {
  const uint ROWS = STEP_ROWS > 0u ? STEP_ROWS : ROWS_PER_STEP;
  bool busy = g_slot < ROWS;
  uint steps = (pc.N + ROWS - 1u) / ROWS, slices = pc.splits;
  float xv[STAGE_FLOATS];
  for (uint step = gl_WorkGroupID.x; step < steps; step += gl_NumWorkGroups.x) {
    uint n = step * ROWS + g_slot;
    uint ring_words[DEPTH][LANE_WORDS];
    uint ring_scales[DEPTH][LANE_GROUPS];
    [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
      if (d < slices && busy) {
        load_words(n, d * UNITS + g_unit, ring_words[d]);
        load_scales(n, d * UNITS + g_unit, ring_scales[d]);
      }
    }
    float acc[XR];
    [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = 0.0;
    if (step == gl_WorkGroupID.x) load_stage(tid, 0u, xv);
    for (uint s0 = 0; s0 < slices; s0 += DEPTH) {
      [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
        uint slice = s0 + d;
        if (slice < slices) {
          // (Its first barrier: every invocation is done with the last table.)
          if (!PROBE_KEEP_TABLE || (slice == 0u && step == gl_WorkGroupID.x)) build_table(tid, xv);
          // The next slice's x (or the next step's first), in flight while this one is read.
          if (slice + 1u < slices || step + gl_NumWorkGroups.x < steps) load_stage(tid, (slice + 1u) % slices, xv);
          uint words[LANE_WORDS];
          uint scales[LANE_GROUPS];
          [[unroll]] for (uint q = 0; q < LANE_WORDS; ++q) words[q] = ring_words[d][q];
          [[unroll]] for (uint g = 0; g < LANE_GROUPS; ++g) scales[g] = ring_scales[d][g];
          uint next = slice + DEPTH;
          if (next < slices && busy) {
            load_words(n, next * UNITS + g_unit, ring_words[d]);
            load_scales(n, next * UNITS + g_unit, ring_scales[d]);
          }
          if (busy) add_units(words, scales, acc);
        }
      }
    }
    if (busy) store_row(n, 0u, false, acc);
  }
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  g_pattern = folded_pattern(tid % CODES);
  // This invocation's row within a step, and its first unit in a slice.
  g_slot = tid / SPLIT;
  g_unit = tid % SPLIT * LANE_UNITS;
  // Its units' table regions: after the pairs of the lanes before it.
  g_lane_base = tid % SPLIT * (LANE_UNITS / 2u) * PAIR;
  // This invocation's place in its subgroup of 32: rotation r and swap h.
  uint r = tid % 16u;
  g_h = (tid / 16u) % 2u;
  // Rotating a unit right by r vectors: whole words, then bits.
  uint rot_bits = r * BITS;
  g_rot_words = rot_bits >> 5;
  g_rot_shift = rot_bits & 31u;
  // Offsets added to (field << 5): at even positions this unit (or, swapped,
  // the next one), at odd ones the previous one or this one.
  g_lane_even = r + g_h * ODD_SHIFT + g_lane_base;
  g_lane_odd = r + (1u - g_h) * ODD_SHIFT + g_lane_base;
  if (WHOLE) {
    whole_rows(tid);
    return;
  }

  uint slice = gl_WorkGroupID.x % pc.splits;
  uint first = gl_WorkGroupID.x / pc.splits, step_stride = gl_NumWorkGroups.x / pc.splits;
  uint steps = (pc.N + ROWS_PER_STEP - 1u) / ROWS_PER_STEP;
  uint u0 = slice * UNITS + g_unit;
  uint ring_words[DEPTH][LANE_WORDS];
  uint ring_scales[DEPTH][LANE_GROUPS];
  [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
    uint n = (first + d * step_stride) * ROWS_PER_STEP + g_slot;
    load_words(n, u0, ring_words[d]);
    load_scales(n, u0, ring_scales[d]);
  }
  {
    float xv[STAGE_FLOATS];
    load_stage(tid, slice, xv);
    build_table(tid, xv);
  }

  for (uint base = first; base < steps; base += DEPTH * step_stride) {
    [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
      uint step = base + d * step_stride;
      if (step < steps) {
        uint words[LANE_WORDS];
        uint scales[LANE_GROUPS];
        [[unroll]] for (uint q = 0; q < LANE_WORDS; ++q) words[q] = ring_words[d][q];
        [[unroll]] for (uint g = 0; g < LANE_GROUPS; ++g) scales[g] = ring_scales[d][g];
        uint next = step + DEPTH * step_stride;
        if (next < steps) {
          load_words(next * ROWS_PER_STEP + g_slot, u0, ring_words[d]);
          load_scales(next * ROWS_PER_STEP + g_slot, u0, ring_scales[d]);
        }
        float acc[XR];
        [[unroll]] for (uint m = 0; m < XR; ++m) acc[m] = 0.0;
        add_units(words, scales, acc);
        store_row(step * ROWS_PER_STEP + g_slot, slice, pc.splits != 1u, acc);
      }
    }
  }
}
