// Element offsets through host-written tables of collapsed dimensions:
// at entry `first` of an Int64Table, shape[nd] and then strides[nd] (in
// elements). Also a read-only vector pointer for streaming loads.
#ifndef LUMEN_INDEX_TABLE_GLSL
#define LUMEN_INDEX_TABLE_GLSL

#include "memory.glsl"

layout(buffer_reference, std430, buffer_reference_align = 16) readonly restrict buffer ReadPtr4x32 { uvec4 v; };

// q = a / b and a - q * b, in 32 bits when both fit (much cheaper).
uint64_t divmod(uint64_t a, uint64_t b, out uint64_t rem) {
  if (a <= 0xfffffffful && b <= 0xfffffffful) {
    uint q = uint(a) / uint(b);
    rem = uint64_t(uint(a) - q * uint(b));
    return uint64_t(q);
  }
  uint64_t q = a / b;
  rem = a - q * b;
  return q;
}

// Offset of row-major linear index i of the dims at `first`.
int64_t table_offset(uint64_t table, uint first, uint nd, uint64_t i) {
  Int64Table t = Int64Table(table);
  if (nd == 1u) return int64_t(i) * t.v[first + 1u];
  int64_t off = 0;
  for (int d = int(nd) - 1; d >= 0; --d) {
    uint64_t c;
    i = divmod(i, uint64_t(t.v[first + uint(d)]), c);
    off += int64_t(c) * t.v[first + nd + uint(d)];
  }
  return off;
}

#endif
