// Matrix product for the dtypes the tiled kernels leave: float64 (devices
// with shaderFloat64) and complex64. One invocation per output element,
// accumulating in the dtype itself as the CPU backend does. Correct, not
// fast: these dtypes are rare on GPUs.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "matmul.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_C64;
layout(constant_id = 2) const bool HAS_C = false;

vec2 cmul(vec2 x, vec2 y) { return vec2(x.x * y.x - x.y * y.y, x.x * y.y + x.y * y.x); }

void main() {
  uint size = dtype_size(DT);
  MatrixStrides ms = matrix_strides();
  uint64_t total = uint64_t(pc.batch) * pc.M * pc.N;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t e = gl_GlobalInvocationID.x; e < total; e += threads) {
    uint j = uint(e % pc.N);
    uint64_t rest = e / pc.N;
    uint i = uint(rest % pc.M);
    uint bi = uint(rest / pc.M);
    int64_t oa, ob, oc;
    batch_offsets(bi, oa, ob, oc);
    int64_t pa = oa + int64_t(i) * ms.a_rs, pb = ob + int64_t(j) * ms.b_cs;
    int64_t pcel = oc + int64_t(i) * ms.c_rs + int64_t(j) * ms.c_cs;
    uint64_t dst = pc.out_addr + e * size;
    if (DT == DT_C64) {
      vec2 acc = vec2(0.0);
      for (uint k = 0; k < pc.K; ++k) {
        vec2 x = bits_to_complex(load_bits(DT, pc.a + uint64_t((pa + int64_t(k) * ms.a_cs) * size)));
        vec2 y = bits_to_complex(load_bits(DT, pc.b + uint64_t((pb + int64_t(k) * ms.b_rs) * size)));
        acc += cmul(x, y);
      }
      acc *= pc.alpha;
      if (HAS_C) acc += pc.beta * bits_to_complex(load_bits(DT, pc.c + uint64_t(pcel * size)));
      store_bits(DT, dst, complex_to_bits(acc));
    }
#if LUMEN_F64
    if (DT == DT_F64) {
      double acc = 0.0;
      for (uint k = 0; k < pc.K; ++k) {
        double x = uint64BitsToDouble(load_bits(DT, pc.a + uint64_t((pa + int64_t(k) * ms.a_cs) * size)));
        double y = uint64BitsToDouble(load_bits(DT, pc.b + uint64_t((pb + int64_t(k) * ms.b_rs) * size)));
        acc = fma(x, y, acc);
      }
      acc *= double(pc.alpha);
      if (HAS_C) acc += double(pc.beta) * uint64BitsToDouble(load_bits(DT, pc.c + uint64_t(pcel * size)));
      store_bits(DT, dst, doubleBitsToUint64(acc));
    }
#endif
  }
}
