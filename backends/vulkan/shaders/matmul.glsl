// What every matrix-product shader shares: the push constants, the table of
// strides, the walk from an output batch index to each operand's matrix, and
// the epilogue out = alpha * acc + beta * c with one rounding to the dtype.
//
// Output element (bi, i, j) of [batch, M, N] is row-contiguous. Operand
// element (i, k) of A is at a + (batch offset + i * a_rs + k * a_cs) elements,
// likewise B (k, j) and C (i, j); strides may be 0 (broadcast) or anything
// else (transposed, sliced). backends/vulkan/kernels/matmul.cpp fills both.
#ifndef LUMEN_MATMUL_GLSL
#define LUMEN_MATMUL_GLSL

#include "values.glsl"

layout(push_constant) uniform Push {
  uint64_t a;
  uint64_t b;
  uint64_t c;
  uint64_t out_addr;
  // int64: a_rs, a_cs, b_rs, b_cs, c_rs, c_cs, then the batch shape[ndim]
  // and the batch strides of A, B and C ([ndim] each).
  uint64_t table;
  // int32 per output row of A (batch * M) then per column of B (batch * N):
  // the power of two the tensor-core path scales bfloat16 lines by, or
  // SCALE_INEXACT (matmul_scales.comp).
  uint64_t scales;
  // int32x2 per (k slice, line): the exponent ranges matmul_scales.comp
  // reduces; A's [slices_a][batch * M], then B's [slices_b][batch * N].
  uint64_t partials;
  uint M;
  uint N;
  uint K;
  uint batch;
  uint ndim;
  float alpha;
  float beta;
  // Tensor-core tile size, for the portable kernel that computes only the
  // tiles the tensor-core kernel left (0: compute every tile).
  uint gate_m;
  uint gate_n;
  uint slices_a;
  uint slices_b;
} pc;

#define SCALE_INEXACT 0x40000000

// Exponent ranges of bfloat16 lines (matmul_exponents.comp): the largest and
// smallest binary exponent of the line's nonzero finite elements.
#define RANGE_EMPTY_MAX -1000  // no such element
#define RANGE_EMPTY_MIN 1000
#define RANGE_UNUSABLE 2000    // a subnormal element: no exact scaling
layout(buffer_reference, std430, buffer_reference_align = 8) buffer RangeTable { ivec2 v[]; };
// k extent of one partial range per kernel layout (kernels/matmul_coopmat.cpp
// sizes the partials buffer with the same numbers).
#define SLICE_ALONG_K 2048
#define SLICE_ACROSS_LINES 16

layout(buffer_reference, std430, buffer_reference_align = 4) buffer Int32Table { int v[]; };

// Strides within a matrix, in elements.
struct MatrixStrides {
  int64_t a_rs, a_cs, b_rs, b_cs, c_rs, c_cs;
};

MatrixStrides matrix_strides() {
  Int64Table t = Int64Table(pc.table);
  MatrixStrides s;
  s.a_rs = t.v[0];
  s.a_cs = t.v[1];
  s.b_rs = t.v[2];
  s.b_cs = t.v[3];
  s.c_rs = t.v[4];
  s.c_cs = t.v[5];
  return s;
}

// Element offsets of output batch bi's matrices of A, B and C.
void batch_offsets(uint bi, out int64_t oa, out int64_t ob, out int64_t oc) {
  Int64Table t = Int64Table(pc.table);
  int nd = int(pc.ndim);
  oa = 0;
  ob = 0;
  oc = 0;
  uint rest = bi;
  for (int d = nd - 1; d >= 0; --d) {
    uint extent = uint(t.v[6 + d]);
    uint q = rest / extent;
    int64_t i = int64_t(rest - q * extent);
    oa += i * t.v[6 + nd + d];
    ob += i * t.v[6 + 2 * nd + d];
    oc += i * t.v[6 + 3 * nd + d];
    rest = q;
  }
}

// out(bi, i, j) = alpha * acc + beta * c(i, j), rounded once to dt. `c_elem`
// is C's element offset of (i, j) (unused without C).
void store_result(uint dt, bool has_c, uint bi, uint i, uint j, float acc, int64_t c_elem) {
  float v = pc.alpha * acc;
  uint size = dtype_size(dt);
  if (has_c) v += pc.beta * load_float(dt, pc.c + uint64_t(c_elem * int64_t(size)));
  uint64_t o = (uint64_t(bi) * pc.M + i) * pc.N + j;
  store_float(dt, pc.out_addr + o * size, v);
}

// Tile t of a grid of batch x tiles_m x tiles_n tiles. Within a matrix, tiles
// go down groups of 8 tile rows, column by column: the tiles running at once
// then share A's rows and B's columns in the cache.
void tile_coords(uint t, uint tiles_m, uint tiles_n, out uint bi, out uint tm, out uint tn) {
  const uint group = 8;
  uint per_matrix = tiles_m * tiles_n;
  bi = t / per_matrix;
  uint r = t - bi * per_matrix;
  uint group_tiles = group * tiles_n;
  uint g = r / group_tiles;
  uint first = g * group;
  uint rows = min(group, tiles_m - first);
  uint in_group = r - g * group_tiles;
  tm = first + in_group % rows;
  tn = in_group / rows;
}

#endif
