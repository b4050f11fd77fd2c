// BinaryDequantize: the float32 [N, K] matrix scale * sign, an invocation per
// run of RUN vectors of a row making at least 8 weights (one vector, or
// plain 1-bit signs 8 at a time: indices from one or two word reads, scales
// read once per group), written in 16-byte stores where aligned.
// BinaryMatmul's tensor-core route has it write float16 (exact: the scales
// are float16).
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OUT_DT = DT_F32;  // or DT_F16

layout(buffer_reference, std430, buffer_reference_align = 16) buffer QuadPtr { uvec4 v; };

const uint RUN = VECTOR >= 8u ? 1u : 8u / VECTOR;
const uint SPAN = RUN * VECTOR;  // weights of a run: 6 to 16

void main() {
  uint vectors = vectors_per_row();
  uint runs = (vectors + RUN - 1u) / RUN;
  uint64_t total = uint64_t(pc.N) * runs;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  uint size = dtype_size(OUT_DT);
  for (uint64_t t = gl_GlobalInvocationID.x; t < total; t += threads) {
    uint n = uint(t / runs), j0 = uint(t % runs) * RUN;
    uint count = min(RUN, vectors - j0);
    // The run's indices: at most 16 bits from one 64-bit window.
    uint bit = j0 * BITS, word = bit >> 5, shift = bit & 31u;
    uint lo = Ptr32(index_word(n, word)).v;
    uint hi = shift + count * BITS > 32u ? Ptr32(index_word(n, word + 1u)).v : 0u;
    uint64_t window = packUint2x32(uvec2(lo, hi)) >> shift;
    uint out_bits[SPAN];
    uint scale_group = ~0u;
    float scale = 0.0;
    [[unroll]] for (uint r = 0; r < RUN; ++r) {
      if (r >= count) break;
      uint pattern = global_codeword(uint(window >> (r * BITS)) & INDEX_MASK);
      uint first, split;
      vector_groups(j0 + r, first, split);
      if (first != scale_group) {
        scale_group = first;
        scale = scale_at(n, first);
      }
      float second = split < VECTOR ? scale_at(n, first + 1u) : scale;
      [[unroll]] for (uint i = 0; i < VECTOR; ++i) {
        out_bits[r * VECTOR + i] = uint(float_to_bits(OUT_DT, (i < split ? scale : second) * sign_of(pattern, i)));
      }
    }
    uint64_t dst = pc.out_addr + (uint64_t(n) * pc.K + uint64_t(j0) * VECTOR) * size;
    const uint PER_QUAD = OUT_DT == DT_F16 ? 8u : 4u;
    if ((OUT_DT == DT_F16 || OUT_DT == DT_F32) && SPAN % PER_QUAD == 0u && count == RUN && (dst & 15ul) == 0ul) {
      [[unroll]] for (uint q = 0; q < SPAN / PER_QUAD; ++q) {
        uvec4 v;
        [[unroll]] for (uint c = 0; c < 4u; ++c) {
          uint e = q * PER_QUAD + c * (PER_QUAD / 4u);
          v[c] = OUT_DT == DT_F16 ? out_bits[e] | (out_bits[e + 1u] << 16) : out_bits[e];
        }
        QuadPtr(dst + q * 16u).v = v;
      }
    } else {
      for (uint e = 0; e < count * VECTOR; ++e) store_bits(OUT_DT, dst + e * size, uint64_t(out_bits[e]));
    }
  }
}
