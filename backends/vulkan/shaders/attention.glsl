// Shared by the attention shaders: the int64 stride table the host uploads
// per dispatch (q, k, v, mask: 4 strides each in elements, then sinks') and
// the masking of one score. Expects `DT`, `MASK` and `CAUSAL` constants.
#ifndef LUMEN_ATTENTION_GLSL
#define LUMEN_ATTENTION_GLSL

#include "math.glsl"
#include "values.glsl"

#define NEG_INF (-F_INF)
#define T_Q 0u
#define T_K 1u
#define T_V 2u
#define T_MASK 3u

int64_t table_stride(uint64_t table, uint tensor, uint dim) { return Int64Table(table).v[tensor * 4 + dim]; }

// Address of element [b, h, l, 0] of a tensor whose elements are elem_size bytes.
uint64_t table_row(uint64_t table, uint64_t base, uint tensor, uint b, uint h, uint l, uint elem_size) {
  int64_t off = int64_t(b) * table_stride(table, tensor, 0) + int64_t(h) * table_stride(table, tensor, 1) +
                int64_t(l) * table_stride(table, tensor, 2);
  return base + uint64_t(off * int64_t(elem_size));
}

// The score of key j for the query whose mask row starts at mask_row (query i):
// -inf where causality or a bool mask hides it, plus an additive mask.
float masked_score(float s, uint64_t mask_row, int64_t mask_step, uint i, uint j, int causal_offset) {
  if (CAUSAL && int(j) > int(i) + causal_offset) return NEG_INF;
  if (MASK == 1) {
    if (load_bits(DT_BOOL, mask_row + uint64_t(int64_t(j) * mask_step)) == 0) return NEG_INF;
  } else if (MASK == 2) {
    s += load_float(DT, mask_row + uint64_t(int64_t(j) * mask_step * dtype_size(DT)));
  }
  return s;
}

#endif
