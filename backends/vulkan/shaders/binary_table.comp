// The table GEMV's first pass: the codeword . x table of every slice of the
// contraction (layout: binary_table.glsl), float32 [slices][rows of x]
// [SLICE_ENTRIES] at pc.table; an invocation per entry, which it writes at
// its own offset (coalesced). Entries of vectors past K are 0. Then zeroes
// pc.chunks counters after the table (0 without the GEMV's FINISH).
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "binary_table.glsl"

layout(local_size_x_id = 0) in;

// The pattern of table entry `code`: FOLD codewords side by side.
uint folded_pattern(uint code) {
  uint pattern = 0;
  [[unroll]] for (uint u = 0; u < FOLD; ++u) {
    uint word = global_codeword((code >> (u * CODE_BITS)) & ((1u << CODE_BITS) - 1u));
    pattern |= (word & ((1u << CODE_VECTOR) - 1u)) << (u * CODE_VECTOR);
  }
  return pattern;
}

void main() {
  uint total = pc.splits * XR * SLICE_ENTRIES;
  uint threads = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uint size = dtype_size(DT);
  for (uint a = gl_GlobalInvocationID.x; a < total; a += threads) {
    uint block = a / SLICE_ENTRIES, r = a % SLICE_ENTRIES;  // block: slice * XR + m
    uint slice = block / XR, m = block % XR;
    uint lane, t, c;
    table_entry(r, lane, t, c);
    uint vector = slice * SLICE_VECTORS + lane * LANE_VECTORS + t;
    uint pattern = folded_pattern(c);
    float dot = 0.0;
    [[unroll]] for (uint i = 0; i < VECTOR; ++i) {
      uint k = vector * VECTOR + i;
      float x = k < pc.K ? load_float(DT, pc.x + (uint64_t(m) * pc.K + k) * size) : 0.0;
      dot += signed_value(pattern, i, x);
    }
    Ptr32(pc.table + uint64_t(a) * 4u).v = floatBitsToUint(dot);
  }
  // The GEMV's finishing counters (binary_gemv_table.comp's FINISH): pc.chunks
  // of them after the table.
  for (uint a = gl_GlobalInvocationID.x; a < pc.chunks; a += threads) {
    Ptr32(pc.table + (uint64_t(total) + a) * 4u).v = 0u;
  }
}
