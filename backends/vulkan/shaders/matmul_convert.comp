// Third pass of the bfloat16 tensor-core path: a float16 copy of one operand
// with each line (row of A, column of B) times its power of two from
// matmul_scales.comp, exact by construction, so that matmul_coopmat.comp
// reads float16 as it does for float16 products. Lines with no such power
// (SCALE_INEXACT) get meaningless values: their tiles are computed by
// matmul_tiled.comp from the bfloat16 operand.
//
// The copy is [batch][ROWS][COLS], row-contiguous, with COLS the operand's
// contiguous axis (A: k when ALONG, else m; B: n when ALONG, else k), so
// reads and writes both run along memory. An invocation converts 8
// consecutive columns.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "matmul.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool IS_B = false;
// A: the copy is [m][k] (else [k][m]); B: [k][n] (else [n][k]).
layout(constant_id = 2) const bool ALONG = true;
// 16-byte loads and stores: unit stride along COLS, aligned rows, COLS % 8 == 0.
layout(constant_id = 3) const bool VEC = false;

float pow2(int s) { return uintBitsToFloat(uint(s + 127) << 23); }

void main() {
  MatrixStrides ms = matrix_strides();
  uint lines = IS_B ? pc.N : pc.M;
  // The copy's shape and the source's strides along its rows and columns.
  uint rows = IS_B ? (ALONG ? pc.K : pc.N) : (ALONG ? pc.M : pc.K);
  uint cols = IS_B ? (ALONG ? pc.N : pc.K) : (ALONG ? pc.K : pc.M);
  int64_t rs = IS_B ? (ALONG ? ms.b_rs : ms.b_cs) : (ALONG ? ms.a_rs : ms.a_cs);
  int64_t cs = IS_B ? (ALONG ? ms.b_cs : ms.b_rs) : (ALONG ? ms.a_cs : ms.a_rs);
  // Whether the scaled line is the copy's row (else its column).
  bool line_is_row = IS_B ? !ALONG : ALONG;
  uint64_t src = IS_B ? pc.b : pc.a;
  uint64_t dst = pc.out_addr;
  Int32Table scales = Int32Table(pc.scales);
  uint first_scale = IS_B ? pc.batch * pc.M : 0;

  uint chunks_per_row = (cols + 7) / 8;
  uint64_t chunks = uint64_t(pc.batch) * rows * chunks_per_row;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t e = gl_GlobalInvocationID.x; e < chunks; e += threads) {
    uint c = uint(e % chunks_per_row) * 8;
    uint64_t br = e / chunks_per_row;
    uint r = uint(br % rows), bi = uint(br / rows);
    int64_t oa, ob, oc;
    batch_offsets(bi, oa, ob, oc);
    uint64_t base = src + uint64_t(((IS_B ? ob : oa) + int64_t(r) * rs) * 2);
    uint64_t to = dst + ((uint64_t(bi) * rows + r) * cols + c) * 2;
    uint line_base = first_scale + bi * lines;
    float row_scale = line_is_row ? pow2(scales.v[line_base + r]) : 1.0;
    uvec4 w = uvec4(0);
    if (VEC) w = Ptr4x32(base + uint64_t(int64_t(c) * 2)).v;
    [[unroll]] for (uint q = 0; q < 8; ++q) {
      if (c + q >= cols) break;
      uint bits = VEC ? (w[q / 2] >> (16 * (q % 2))) & 0xffffu
                      : uint(Ptr16(base + uint64_t(int64_t(c + q) * cs * 2)).v);
      float f = uintBitsToFloat(bits << 16) * (line_is_row ? row_scale : pow2(scales.v[line_base + c + q]));
      uint h = packHalf2x16(vec2(f, 0.0)) & 0xffffu;
      if (VEC) {
        w[q / 2] = (w[q / 2] & ~(0xffffu << (16 * (q % 2)))) | (h << (16 * (q % 2)));
      } else {
        Ptr16(to + q * 2).v = uint16_t(h);
      }
    }
    if (VEC) Ptr4x32(to).v = w;
  }
}
