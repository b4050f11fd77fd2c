// BinaryMatmul, x @ W^T for one row of float16 or bfloat16 x through a
// float16 codeword . x table: binary_gemv_rotated.comp's design without its
// rotation. One vector's 64 float16 entries fill the 32 banks once, so the
// 32 invocations of a subgroup, reading the same vector of 32 rows at random
// codewords, never meet in a bank (two codewords in one word are a
// broadcast): an index costs a shift, a mask, a shared-memory read, a
// conversion and an add. Formats (after folding FOLD indices into one): an
// even number of index bits up to 6 (16 vectors are BITS / 2 whole words, a
// *unit*), units inside one scale group.
//
// Workgroup w owns slice w % pc.splits (UNITS units of every row): it stages
// the slice of x, takes its largest magnitude m, and builds the table of
// codeword . x * 2^e in float16, e such that VECTOR m 2^e < 2^15 (no overflow
// or flush to zero whatever x holds; an entry keeps float16's 11 bits, more
// than bfloat16's own 8, about x's float16 precision); the sums are float32
// and multiplied by 2^-e once. It then walks steps of WG weight rows, an
// invocation per row loading CHUNK units of it at a time in 16-byte loads
// (the next DEPTH chunks in flight), and writes float32 partial sums that
// binary_finish.comp adds in slice order (one slice: the output itself).
// Deterministic, but for ATOMIC_SUMS below (the order of its float adds is
// the order the workgroups reach them).
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#ifdef ATOMIC_SUMS
// (module binary_gemv_half_atomic: FINISH with the slices' sums added by
// float atomics into one float per row, for devices with them)
#extension GL_EXT_shader_atomic_float : require
#endif

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F16;
layout(constant_id = 2) const uint UNITS = 4;       // units per slice
layout(constant_id = 3) const uint FOLD = 1;        // indices of the weights read as one
layout(constant_id = 4) const uint CHUNK = 4;       // units an invocation loads at once (divides UNITS)
layout(constant_id = 5) const uint DEPTH = 1;       // chunks whose loads are in flight
layout(constant_id = 6) const uint LOAD_WORDS = 4;  // words per load: 4, 2 or 1 (alignment)
layout(constant_id = 7) const uint SCALE_LOAD = 4;  // scales per load: 4, 2 or 1 (alignment)
// (8 to 10: VECTOR, BITS, GROUP of binary_format.glsl, after folding)
// MEASUREMENT (wrong results): 1 builds no table (stores x's value), 2 reads
// no table (adds the indices), 4 skips the power-of-two scale's reduction
// (8, on the host: no finish pass).
layout(constant_id = 11) const uint PROBE = 0;
// FINISH: no binary_finish.comp; the last of the pc.splits workgroups that
// share a run of steps to finish (a counter per run at pc.table, left at
// zero) adds their partial sums for the run's rows, in slice order (the same
// sums as the finish pass). With ATOMIC_SUMS the workgroups add their sums
// into one float per row at pc.partials (zero before; float atomics, in the
// L2) and the last one only stores each row's float and zeroes it: one load
// per row in place of one per slice, the merge's tail on the H100.
layout(constant_id = 12) const bool FINISH = false;
layout(constant_id = 13) const uint SPLITS = 1;  // FINISH: pc.splits
const uint FINISH_STEPS = 4;  // steps of rows whose partial sums a round of the merge loads

layout(buffer_reference, std430, buffer_reference_align = 4) readonly restrict buffer WordPtr { uint v; };
layout(buffer_reference, std430, buffer_reference_align = 8) readonly restrict buffer PairPtr { uvec2 v; };
layout(buffer_reference, std430, buffer_reference_align = 16) readonly restrict buffer QuadPtr { uvec4 v; };
layout(buffer_reference, std430, buffer_reference_align = 2) readonly restrict buffer HalfPtr { uint16_t v; };
// Partial sums and counters, coherent: the last workgroup reads what the others wrote.
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CoherentWord { uint v; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CoherentFloat { float v; };

const uint WG = gl_WorkGroupSize.x;
const uint CODES = 1u << BITS;
const uint UNIT_VECTORS = 16u;
const uint UNIT_WORDS = BITS / 2u;
const uint SLICE_VECTORS = UNITS * UNIT_VECTORS;
const uint SLICE_ELEMENTS = SLICE_VECTORS * VECTOR;
const uint CHUNKS = UNITS / CHUNK;
const uint CHUNK_WORDS = CHUNK * UNIT_WORDS;
const uint UNITS_PER_GROUP = GROUP / (UNIT_VECTORS * VECTOR);
const uint CHUNK_GROUPS = (CHUNK + UNITS_PER_GROUP - 1u) / UNITS_PER_GROUP;
const uint SCALE_WORDS = (CHUNK_GROUPS + 1u) / 2u;  // the chunk's float16 scales, 2 a word
const uint CODE_VECTOR = VECTOR / FOLD, CODE_BITS = BITS / FOLD;

shared float16_t table[SLICE_VECTORS * CODES];
shared vec4 xs[SLICE_ELEMENTS / 4u];  // VECTOR is a multiple of 4
shared uint largest;                  // the bits of max |x| over the slice
shared bool is_last;                  // FINISH: this workgroup adds the run's partial sums

// Codeword c's pattern after folding (bit i set: element i is +1).
uint folded_pattern(uint c) {
  uint pattern = 0;
  [[unroll]] for (uint u = 0; u < FOLD; ++u) {
    uint word = global_codeword((c >> (u * CODE_BITS)) & ((1u << CODE_BITS) - 1u));
    pattern |= (word & ((1u << CODE_VECTOR) - 1u)) << (u * CODE_VECTOR);
  }
  return pattern;
}

// Stages the slice of x and builds its table scaled by 2^e; returns 2^-e,
// which undoes the scale (e = 0 where x holds no finite nonzero magnitude:
// infinities and NaNs then pass through as such).
float build_table(uint tid, uint slice) {
  const uint PER = (SLICE_ELEMENTS + WG - 1u) / WG;
  if (tid == 0u) largest = 0u;
  float v[PER];
  float m = 0.0;
  [[unroll]] for (uint l = 0; l < PER; ++l) {
    uint e = tid + l * WG;
    v[l] = e < SLICE_ELEMENTS ? load_float(DT, pc.x + (uint64_t(slice) * SLICE_ELEMENTS + e) * dtype_size(DT)) : 0.0;
    m = max(m, abs(v[l]));  // (a NaN reaches the output whichever operand max returns)
  }
  if ((PROBE & 4u) == 0u) {
    m = subgroupMax(m);
    barrier();  // `largest` cleared
    if (subgroupElect()) atomicMax(largest, floatBitsToUint(m));
  }
  [[unroll]] for (uint l = 0; l < PER; ++l) {
    uint e = tid + l * WG;
    if (e < SLICE_ELEMENTS) xs[e / 4u][e % 4u] = v[l];
  }
  barrier();
  float top = uintBitsToFloat(largest) * float(VECTOR);
  int e = 0;
  if (top > 0.0 && !isinf(top)) {
    frexp(top, e);  // top < 2^e
    e = clamp(15 - e, -100, 100);
  }
  float factor = ldexp(1.0, e);
  // Invocation tid computes codeword tid % CODES's entries of every
  // (WG / CODES)-th vector: a subgroup's stores are consecutive.
  const uint SPREAD = WG / CODES;  // CODES divides WG
  uint c = tid % CODES;
  uint pattern = folded_pattern(c);
  float signs[VECTOR];
  [[unroll]] for (uint i = 0; i < VECTOR; ++i) signs[i] = ((pattern >> i) & 1u) != 0u ? factor : -factor;
  for (uint j = tid / CODES; j < SLICE_VECTORS; j += SPREAD) {
    float dot = 0.0;
    if ((PROBE & 1u) != 0u) {
      table[j * CODES + c] = float16_t(xs[j * (VECTOR / 4u)].x);
      continue;
    }
    [[unroll]] for (uint q = 0; q < VECTOR / 4u; ++q) {
      vec4 x = xs[j * (VECTOR / 4u) + q];
      dot = fma(signs[4u * q], x.x, dot);
      dot = fma(signs[4u * q + 1u], x.y, dot);
      dot = fma(signs[4u * q + 2u], x.z, dot);
      dot = fma(signs[4u * q + 3u], x.w, dot);
    }
    table[j * CODES + c] = float16_t(dot);
  }
  barrier();
  return ldexp(1.0, -e);
}

// Chunk `chunk` of row n's slice (rows clamped to N - 1: rows past N load
// a real row and store nothing).
void load_chunk(uint n, uint unit0, out uint words[CHUNK_WORDS], out uint scales[SCALE_WORDS]) {
  n = min(n, pc.N - 1u);
  uint w0 = unit0 * UNIT_WORDS;
  [[unroll]] for (uint q = 0; q < CHUNK_WORDS; q += LOAD_WORDS) {
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
  uint g0 = unit0 / UNITS_PER_GROUP;
  [[unroll]] for (uint g = 0; g < CHUNK_GROUPS; g += SCALE_LOAD) {
    uint64_t scale_at = scale_address(n, g0 + g);  // (nor a scale load)
    if (SCALE_LOAD == 4u) {
      uvec2 v = PairPtr(scale_at).v;
      scales[g / 2u] = v.x;
      scales[g / 2u + 1u] = v.y;
    } else if (SCALE_LOAD == 2u) {
      scales[g / 2u] = WordPtr(scale_at).v;
    } else {
      uint h = uint(HalfPtr(scale_at).v);
      scales[g / 2u] = g % 2u == 0u ? h : scales[g / 2u] | (h << 16);
    }
  }
}

// The index at bit `bit` of a unit's words (bit is a constant once unrolled).
uint index_at(uint words[CHUNK_WORDS], uint first, uint bit) {
  uint word = first + (bit >> 5), shift = bit & 31u;
  if (shift + BITS <= 32u) return (words[word] >> shift) & INDEX_MASK;
  return ((words[word] >> shift) | (words[word + 1u] << (32u - shift))) & INDEX_MASK;
}

// Adds the chunk's units (table vectors from `vector0` on) into acc.
float add_chunk(uint words[CHUNK_WORDS], uint scales[SCALE_WORDS], uint vector0, float acc) {
  [[unroll]] for (uint p = 0; p < CHUNK; ++p) {
    uint base = (vector0 + p * UNIT_VECTORS) * CODES;
    float part = 0.0;
    [[unroll]] for (uint j = 0; j < UNIT_VECTORS; ++j) {
      uint at = base + j * CODES + index_at(words, p * UNIT_WORDS, j * BITS);
      part += (PROBE & 2u) != 0u ? float(at) : float(table[at]);
    }
    uint g = p / UNITS_PER_GROUP;
    vec2 pair = unpackHalf2x16(scales[g / 2u]);
    acc = fma(g % 2u == 0u ? pair.x : pair.y, part, acc);
  }
  return acc;
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint slice = gl_WorkGroupID.x % pc.splits;
  uint first = gl_WorkGroupID.x / pc.splits, stride = gl_NumWorkGroups.x / pc.splits;
  uint steps = (pc.N + WG - 1u) / WG;
  uint mine = first < steps ? (steps - first + stride - 1u) / stride : 0u;
  uint items = mine * CHUNKS;  // (step, chunk) pairs, chunk fastest
  uint unit0 = slice * UNITS;
  uint ring_words[DEPTH][CHUNK_WORDS];
  uint ring_scales[DEPTH][SCALE_WORDS];
  [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
    if (d < items) {
      load_chunk((first + d / CHUNKS * stride) * WG + tid, unit0 + d % CHUNKS * CHUNK, ring_words[d], ring_scales[d]);
    }
  }
  float inverse = build_table(tid, slice);
  float acc = 0.0;
  for (uint base = 0; base < items; base += DEPTH) {
    [[unroll]] for (uint d = 0; d < DEPTH; ++d) {
      uint i = base + d;
      if (i < items) {
        uint words[CHUNK_WORDS];
        uint scales[SCALE_WORDS];
        [[unroll]] for (uint q = 0; q < CHUNK_WORDS; ++q) words[q] = ring_words[d][q];
        [[unroll]] for (uint g = 0; g < SCALE_WORDS; ++g) scales[g] = ring_scales[d][g];
        uint next = i + DEPTH;
        if (next < items) {
          load_chunk((first + next / CHUNKS * stride) * WG + tid, unit0 + next % CHUNKS * CHUNK, ring_words[d],
                     ring_scales[d]);
        }
        uint chunk = i % CHUNKS;
        acc = add_chunk(words, scales, chunk * CHUNK * UNIT_VECTORS, acc);
        if (chunk == CHUNKS - 1u) {
          uint n = (first + i / CHUNKS * stride) * WG + tid;
          if (n < pc.N) {
            if (pc.splits == 1u) {
              store_float(DT, pc.out_addr + uint64_t(n) * dtype_size(DT), acc * inverse);
            } else {
#ifdef ATOMIC_SUMS
              atomicAdd(CoherentFloat(pc.partials + uint64_t(n) * 4u).v, acc * inverse);
#else
              CoherentWord(pc.partials + (uint64_t(slice) * pc.N + n) * 4u).v = floatBitsToUint(acc * inverse);
#endif
            }
          }
          acc = 0.0;
        }
      }
    }
  }
  if (!FINISH || pc.splits == 1u) return;
  // The partial sums before the count (release); the last workgroup's reads
  // after it (acquire).
  memoryBarrierBuffer();
  barrier();
  uint64_t counter = pc.table + uint64_t(first) * 4u;
  if (tid == 0u) is_last = atomicAdd(CoherentWord(counter).v, 1u) == pc.splits - 1u;
  barrier();
  if (!is_last) return;
  memoryBarrierBuffer();
#ifdef ATOMIC_SUMS
  // The rows' sums, complete: stored, and their floats left at zero.
  for (uint s0 = 0; s0 < mine; s0 += FINISH_STEPS) {
    float sum[FINISH_STEPS];
    [[unroll]] for (uint t = 0; t < FINISH_STEPS; ++t) {
      uint n = min((first + (s0 + t) * stride) * WG + tid, pc.N - 1u);
      sum[t] = CoherentFloat(pc.partials + uint64_t(n) * 4u).v;
    }
    [[unroll]] for (uint t = 0; t < FINISH_STEPS; ++t) {
      uint n = (first + (s0 + t) * stride) * WG + tid;
      if (s0 + t < mine && n < pc.N) {
        store_float(DT, pc.out_addr + uint64_t(n) * dtype_size(DT), sum[t]);
        CoherentFloat(pc.partials + uint64_t(n) * 4u).v = 0.0;
      }
    }
  }
  if (tid == 0u) CoherentWord(counter).v = 0u;
  return;
#endif
  for (uint s0 = 0; s0 < mine; s0 += FINISH_STEPS) {
    float part[FINISH_STEPS][SPLITS];
    [[unroll]] for (uint t = 0; t < FINISH_STEPS; ++t) {
      uint n = min((first + (s0 + t) * stride) * WG + tid, pc.N - 1u);
      [[unroll]] for (uint q = 0; q < SPLITS; ++q) {
        part[t][q] = s0 + t < mine ? uintBitsToFloat(CoherentWord(pc.partials + (uint64_t(q) * pc.N + n) * 4u).v) : 0.0;
      }
    }
    [[unroll]] for (uint t = 0; t < FINISH_STEPS; ++t) {
      uint n = (first + (s0 + t) * stride) * WG + tid;
      float sum = 0.0;
      [[unroll]] for (uint q = 0; q < SPLITS; ++q) sum += part[t][q];
      if (s0 + t < mine && n < pc.N) store_float(DT, pc.out_addr + uint64_t(n) * dtype_size(DT), sum);
    }
  }
  if (tid == 0u) CoherentWord(counter).v = 0u;
}
