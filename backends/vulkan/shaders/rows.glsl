// Kernels that work row by row over the last axis of a strided input: the
// element offset where row r starts, from a table of the other dims' shape
// and strides (int64: shape[ndim], then strides[ndim]).
#ifndef LUMEN_ROWS_GLSL
#define LUMEN_ROWS_GLSL

#include "memory.glsl"

int64_t row_offset(uint64_t table, uint ndim, uint64_t r) {
  Int64Table t = Int64Table(table);
  int nd = int(ndim);
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; --d) {
    uint64_t extent = uint64_t(t.v[d]);
    uint64_t q = r / extent;
    off += int64_t(r - q * extent) * t.v[nd + d];
    r = q;
  }
  return off;
}

#endif
