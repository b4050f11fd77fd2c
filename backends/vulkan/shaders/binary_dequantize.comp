// BinaryDequantize: the float32 [N, K] matrix scale * sign, an invocation per
// vector of a row (index, codeword and scale read once, VECTOR elements
// written). BinaryMatmul's tensor-core route has it write float16 (exact:
// the scales are float16).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OUT_DT = DT_F32;  // or DT_F16

void main() {
  uint vectors = vectors_per_row();
  uint64_t total = uint64_t(pc.N) * vectors;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t t = gl_GlobalInvocationID.x; t < total; t += threads) {
    uint n = uint(t / vectors), j = uint(t % vectors);
    uint pattern = global_codeword(read_index(index_row(n), j));
    uint first, split;
    vector_groups(j, first, split);
    float lo = scale_at(n, first);
    float hi = split < VECTOR ? scale_at(n, first + 1u) : lo;
    uint size = dtype_size(OUT_DT);
    uint64_t dst = pc.out_addr + (uint64_t(n) * pc.K + uint64_t(j) * VECTOR) * size;
    for (uint i = 0; i < VECTOR; ++i) store_float(OUT_DT, dst + i * size, (i < split ? lo : hi) * sign_of(pattern, i));
  }
}
