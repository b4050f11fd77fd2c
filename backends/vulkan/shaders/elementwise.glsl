// The driver of elementwise kernels: out[i] = element(in0[i], in1[i], in2[i])
// over a row-contiguous output of n elements (64-bit indices). Each input is
// contiguous, a scalar, or strided (broadcast, transposed, sliced: walked
// through a table of the collapsed shape and its strides). When every input
// is contiguous or scalar and every pointer is aligned, a thread moves four
// elements with vector loads and stores.
//
// The including shader defines NUM_INPUTS, DT_IN0..DT_IN<NUM_INPUTS-1>,
// DT_OUT and `uint64_t element(uint64_t a, uint64_t b, uint64_t c)` on
// element bits, then includes elementwise_main.glsl.
#ifndef LUMEN_ELEMENTWISE_GLSL
#define LUMEN_ELEMENTWISE_GLSL

#include "memory.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE0 = MODE_CONTIGUOUS;
layout(constant_id = 2) const uint MODE1 = MODE_CONTIGUOUS;
layout(constant_id = 3) const uint MODE2 = MODE_CONTIGUOUS;
layout(constant_id = 4) const bool VECTOR = false;
// Kernel-specific constants use ids 8 and up.

layout(push_constant) uniform Push {
  uint64_t out_addr;
  uint64_t in_addr[3];
  uint64_t n;
  // int64 table: shape[ndim], then strides[ndim] of input 0, 1, 2 (in
  // elements; only for strided inputs).
  uint64_t table;
  uint ndim;
} pc;

const uint ELEMENTS_PER_THREAD = 4;

// Element offsets of the strided inputs for linear index e; also the
// position along the innermost dimension and its extent.
void strided_offsets(uint64_t e, out int64_t off[3], out uint64_t inner_pos, out uint64_t inner_extent) {
  Int64Table t = Int64Table(pc.table);
  int nd = int(pc.ndim);
  off[0] = 0;
  off[1] = 0;
  off[2] = 0;
  inner_pos = 0;
  inner_extent = 1;
  for (int d = nd - 1; d >= 0; --d) {
    uint64_t extent = uint64_t(t.v[d]);
    uint64_t q, c;
    if (e <= 0xfffffffful) {  // 32-bit division is much cheaper
      uint e32 = uint(e), x32 = uint(extent);
      q = uint64_t(e32 / x32);
      c = uint64_t(e32 - (e32 / x32) * x32);
    } else {
      q = e / extent;
      c = e - q * extent;
    }
    if (d == nd - 1) {
      inner_pos = c;
      inner_extent = extent;
    }
    if (MODE0 == MODE_STRIDED) off[0] += int64_t(c) * t.v[(1 + 0) * nd + d];
    if (MODE1 == MODE_STRIDED) off[1] += int64_t(c) * t.v[(1 + 1) * nd + d];
    if (MODE2 == MODE_STRIDED) off[2] += int64_t(c) * t.v[(1 + 2) * nd + d];
    e = q;
  }
}

int64_t inner_stride(uint k) {
  Int64Table t = Int64Table(pc.table);
  int nd = int(pc.ndim);
  return t.v[(1 + k) * nd + nd - 1];
}

#endif
