// GumbelSample's finish: one invocation per row combines the row's chunk
// results (argmax's rule, sampling.glsl) and writes the int32 id. It also
// checks the row's runtime parameters (temperature >= 0, top_k >= 0,
// 0 < top_p <= 1) and records the first bad one in the stream's error record
// (pc.scratch; kernels/index_errors.cpp throws it as std::invalid_argument
// when the stream finishes), as the CPU kernel throws while it runs.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "sampling.glsl"
#include "index.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool FILTERED = false;
// The error record's op numbers of the three checks (IndexOp in
// kernels/index_errors.h).
layout(constant_id = 2) const uint BAD_TEMPERATURE = 0u;
layout(constant_id = 3) const uint BAD_TOP_K = 0u;
layout(constant_id = 4) const uint BAD_TOP_P = 0u;

void check_row(uint64_t r) {
  float t = row_temperature(r);
  if (!(t >= 0.0)) report_index_error(pc.scratch, BAD_TEMPERATURE, int64_t(r), int64_t(floatBitsToUint(t)), 0l);
  if (!FILTERED) return;
  int k = row_top_k(r);
  if (k < 0) report_index_error(pc.scratch, BAD_TOP_K, int64_t(r), int64_t(k), 0l);
  float p = row_top_p(r);
  if (!(p > 0.0 && p <= 1.0)) report_index_error(pc.scratch, BAD_TOP_P, int64_t(r), int64_t(floatBitsToUint(p)), 0l);
}

void main() {
  for (uint64_t r = gl_GlobalInvocationID.x; r < pc.rows; r += uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x) {
    check_row(r);
    float v = 0.0;
    uint vi = 0xffffffffu;
    for (uint c = 0u; c < pc.chunks; ++c) {
      uvec2 p = Ptr2x32(pc.partial + (r * pc.chunks + c) * 8ul).v;
      float ov = uintBitsToFloat(p.x);
      if (p.y != 0xffffffffu && (vi == 0xffffffffu || better(ov, p.y, v, vi))) {
        v = ov;
        vi = p.y;
      }
    }
    Ptr32(pc.out_addr + r * 4ul).v = vi;
  }
}
