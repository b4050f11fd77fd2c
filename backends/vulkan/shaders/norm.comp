// RMSNorm and LayerNorm over the last axis: one row per workgroup (rows in a
// grid-stride loop), float32 sums reduced through shared memory, the output
// rounded once per element. x may be any view; weight and bias are [D] with
// any stride, or scalars (stride 0); the output is row-contiguous.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "math.glsl"
#include "rows.glsl"
#include "values.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const bool LAYER = false;  // LayerNorm (with bias), else RMSNorm

layout(push_constant) uniform Push {
  uint64_t x;
  uint64_t w;
  uint64_t b;
  uint64_t out_addr;
  uint64_t table;  // rows of x: see rows.glsl
  int64_t x_step;  // x's stride along the last axis
  int64_t w_step;
  int64_t b_step;
  uint64_t rows;
  uint D;
  uint ndim;
  float eps;
} pc;

const uint WG = gl_WorkGroupSize.x;
shared float partial[WG];

float workgroup_sum(float v) {
  uint tid = gl_LocalInvocationID.x;
  partial[tid] = v;
  barrier();
  for (uint half_width = WG / 2; half_width > 0; half_width /= 2) {
    if (tid < half_width) partial[tid] += partial[tid + half_width];
    barrier();
  }
  float total = partial[0];
  barrier();
  return total;
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint size = dtype_size(DT);
  float d = float(pc.D);
  for (uint64_t r = gl_WorkGroupID.x; r < pc.rows; r += gl_NumWorkGroups.x) {
    uint64_t xrow = pc.x + uint64_t(row_offset(pc.table, pc.ndim, r) * int64_t(size));
    uint64_t orow = pc.out_addr + r * pc.D * size;
    float mean = 0.0, sum = 0.0;
    if (LAYER) {
      for (uint j = tid; j < pc.D; j += WG) sum += load_float(DT, xrow + uint64_t(int64_t(j) * pc.x_step * size));
      mean = fdiv(workgroup_sum(sum), d);
      sum = 0.0;
    }
    for (uint j = tid; j < pc.D; j += WG) {
      float v = load_float(DT, xrow + uint64_t(int64_t(j) * pc.x_step * size)) - mean;
      sum += v * v;
    }
    float inv = fdiv(1.0, fsqrt(fdiv(workgroup_sum(sum), d) + pc.eps));
    for (uint j = tid; j < pc.D; j += WG) {
      float v = load_float(DT, xrow + uint64_t(int64_t(j) * pc.x_step * size));
      float w = load_float(DT, pc.w + uint64_t(int64_t(j) * pc.w_step * size));
      float y = (v - mean) * inv * w;
      if (LAYER) y += load_float(DT, pc.b + uint64_t(int64_t(j) * pc.b_step * size));
      store_float(DT, orow + j * size, y);
    }
  }
}
