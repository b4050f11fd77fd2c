// Matrix-vector product, memory-bound: out(bi, i) = sum_k A(i, k) v(k) for
// an A whose rows are contiguous along k (the host passes B transposed as A
// when the vector is on the left). One subgroup per row: its invocations
// stride along k with 16-byte loads when rows are aligned, and a subgroup
// sum combines them. v is operand b with stride b_rs along k; N is 1.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require

#include "matmul.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F16;
// Rows of A start 16-byte aligned (and a_cs == 1); v likewise with b_rs == 1.
layout(constant_id = 2) const bool VEC_A = false;
layout(constant_id = 3) const bool VEC_V = false;
layout(constant_id = 4) const bool HAS_C = false;

// The 16 bytes at addr as floats (4 float32 or 8 float16/bfloat16).
void load_chunk(uint64_t addr, out float v[8]) {
  uvec4 w = Ptr4x32(addr).v;
  if (DT == DT_F32) {
    v[0] = uintBitsToFloat(w.x);
    v[1] = uintBitsToFloat(w.y);
    v[2] = uintBitsToFloat(w.z);
    v[3] = uintBitsToFloat(w.w);
    return;
  }
  uint words[4] = uint[4](w.x, w.y, w.z, w.w);
  [[unroll]] for (uint q = 0; q < 4; ++q) {
    if (DT == DT_F16) {
      vec2 h = unpackHalf2x16(words[q]);
      v[2 * q] = h.x;
      v[2 * q + 1] = h.y;
    } else {
      v[2 * q] = uintBitsToFloat(words[q] << 16);
      v[2 * q + 1] = uintBitsToFloat(words[q] & 0xffff0000u);
    }
  }
}

void main() {
  uint size = dtype_size(DT);
  uint per_chunk = 16 / size;
  MatrixStrides ms = matrix_strides();
  uint lane = gl_SubgroupInvocationID, width = gl_SubgroupSize;
  uint rows = pc.batch * pc.M;
  uint row_step = gl_NumWorkGroups.x * gl_NumSubgroups;
  for (uint row = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID; row < rows; row += row_step) {
    uint bi = row / pc.M, i = row - bi * pc.M;
    int64_t oa, ob, oc;
    batch_offsets(bi, oa, ob, oc);
    uint64_t arow = pc.a + uint64_t((oa + int64_t(i) * ms.a_rs) * int64_t(size));
    uint64_t vbase = pc.b + uint64_t(ob * int64_t(size));
    float acc = 0.0;
    uint k_vec = 0;
    if (VEC_A) {
      k_vec = pc.K / per_chunk * per_chunk;
      // Two chunks per step: twice the loads in flight.
      uint step = width * per_chunk;
      for (uint k0 = lane * per_chunk; k0 < k_vec; k0 += 2 * step) {
        [[unroll]] for (uint u = 0; u < 2; ++u) {
          uint k = k0 + u * step;
          if (k >= k_vec) break;
          float av[8], vv[8];
          load_chunk(arow + uint64_t(k) * size, av);
          if (VEC_V) {
            load_chunk(vbase + uint64_t(k) * size, vv);
          } else {
            [[unroll]] for (uint q = 0; q < 8; ++q) {
              if (q < per_chunk) vv[q] = load_float(DT, vbase + uint64_t(int64_t(k + q) * ms.b_rs * int64_t(size)));
            }
          }
          [[unroll]] for (uint q = 0; q < 8; ++q) {
            if (q < per_chunk) acc = fma(av[q], vv[q], acc);
          }
        }
      }
    }
    for (uint k = k_vec + lane; k < pc.K; k += width) {
      float x = load_float(DT, arow + uint64_t(int64_t(k) * ms.a_cs * int64_t(size)));
      float y = load_float(DT, vbase + uint64_t(int64_t(k) * ms.b_rs * int64_t(size)));
      acc = fma(x, y, acc);
    }
    acc = subgroupAdd(acc);
    if (subgroupElect()) store_result(DT, HAS_C, bi, i, 0, acc, oc + int64_t(i) * ms.c_rs);
  }
}
