// Second pass of the bfloat16 tensor-core path: per line, the exponent range
// over all of k (from matmul_exponents.comp's partials) and the power of two
// 2^s that maps the line into float16 exactly: s = 15 - max puts the largest
// element below 2^16, and the line qualifies when its smallest element then
// stays a normal float16 (>= 2^-14) and 2^s and 2^-s are normal floats.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "matmul.glsl"

layout(local_size_x_id = 0) in;

void main() {
  uint lines_a = pc.batch * pc.M, lines_b = pc.batch * pc.N;
  uint threads = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  RangeTable partials = RangeTable(pc.partials);
  Int32Table scales = Int32Table(pc.scales);
  for (uint line = gl_GlobalInvocationID.x; line < lines_a + lines_b; line += threads) {
    bool is_b = line >= lines_a;
    uint count = is_b ? lines_b : lines_a;
    uint slices = is_b ? pc.slices_b : pc.slices_a;
    uint first = is_b ? pc.slices_a * lines_a : 0;
    uint l = is_b ? line - lines_a : line;
    int hi = RANGE_EMPTY_MAX, lo = RANGE_EMPTY_MIN;
    for (uint s = 0; s < slices; ++s) {
      ivec2 r = partials.v[first + s * count + l];
      hi = max(hi, r.x);
      lo = min(lo, r.y);
    }
    int scale = 0;
    if (hi != RANGE_EMPTY_MAX) {
      scale = 15 - hi;
      bool exact = hi != RANGE_UNUSABLE && lo + scale >= -14 && scale >= -125 && scale <= 125;
      if (!exact) scale = SCALE_INEXACT;
    }
    scales.v[line] = scale;
  }
}
