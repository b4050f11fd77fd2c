// RoPE: x viewed as rows [B, ..., T] of D features (any strides). Each
// invocation rotates one feature pair of one row, (x1, x2) -> (x1 c - x2 s,
// x1 s + x2 c) with the angle (t + offset[b]) * scale * inv_freq[i] in float32
// (sine and cosine through math.glsl, as the CPU's), or copies one feature
// past `dims`. The output is row-contiguous.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "math.glsl"
#include "rows.glsl"
#include "values.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const bool TRADITIONAL = false;  // pairs (2i, 2i+1), else (i, i + dims/2)
layout(constant_id = 3) const bool FORWARD = true;       // false: the inverse rotation
layout(constant_id = 4) const bool HAS_FREQS = false;    // inv_freq = 1 / freqs[i]
layout(constant_id = 5) const bool OFFSET_UNSIGNED = false;

layout(push_constant) uniform Push {
  uint64_t x;
  uint64_t offset;
  uint64_t freqs;  // float32 [dims / 2]
  uint64_t out_addr;
  uint64_t table;  // rows of x: see rows.glsl
  int64_t x_step;  // x's stride along the last axis
  int64_t offset_step;  // 0: one offset for every batch entry
  int64_t freqs_step;
  uint64_t rows;
  uint D;
  uint ndim;
  uint T;
  uint rows_per_batch;  // rows / B
  uint half_dims;
  float log_step;  // log(base) / half_dims, computed as the CPU does
  float scale;
} pc;

void main() {
  uint size = dtype_size(DT);
  uint items = pc.half_dims + (pc.D - 2 * pc.half_dims);  // pairs, then features copied through
  uint64_t total = pc.rows * items;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t e = gl_GlobalInvocationID.x; e < total; e += threads) {
    uint64_t r = e / items;
    uint item = uint(e - r * items);
    uint64_t xrow = pc.x + uint64_t(row_offset(pc.table, pc.ndim, r) * int64_t(size));
    uint64_t orow = pc.out_addr + r * pc.D * size;
    if (item >= pc.half_dims) {
      uint j = 2 * pc.half_dims + (item - pc.half_dims);
      store_bits(DT, orow + j * size, load_bits(DT, xrow + uint64_t(int64_t(j) * pc.x_step * size)));
      continue;
    }
    uint i = item;
    uint bi = uint(r / pc.rows_per_batch);
    uint t = uint(r % pc.T);
    uint64_t oaddr = pc.offset + uint64_t(int64_t(bi) * pc.offset_step * 4);
    int64_t off = OFFSET_UNSIGNED ? int64_t(Ptr32(oaddr).v) : int64_t(int(Ptr32(oaddr).v));
    float pos = float(int64_t(t) + off) * pc.scale;
    float inv_freq = HAS_FREQS ? fdiv(1.0, uintBitsToFloat(Ptr32(pc.freqs + uint64_t(int64_t(i) * pc.freqs_step * 4)).v))
                               : fexp(-float(i) * pc.log_step);
    float theta = pos * inv_freq;
    float c = fcos(theta), s = FORWARD ? fsin(theta) : -fsin(theta);
    uint j1 = TRADITIONAL ? 2 * i : i;
    uint j2 = TRADITIONAL ? 2 * i + 1 : i + pc.half_dims;
    float x1 = load_float(DT, xrow + uint64_t(int64_t(j1) * pc.x_step * size));
    float x2 = load_float(DT, xrow + uint64_t(int64_t(j2) * pc.x_step * size));
    store_float(DT, orow + j1 * size, x1 * c - x2 * s);
    store_float(DT, orow + j2 * size, x1 * s + x2 * c);
  }
}
