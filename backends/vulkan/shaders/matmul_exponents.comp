// First pass of the bfloat16 tensor-core path: the exponent range of each
// line (row of A or column of B) over one slice of k, written to the partials
// table that matmul_scales.comp reduces. Two layouts: ALONG_K, where a line's
// elements are contiguous and a workgroup reads one slice of one line, and
// across lines, where consecutive lines are adjacent and each invocation
// follows 8 of them down a slice of k.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "matmul.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool OPERAND_B = false;
layout(constant_id = 2) const bool ALONG_K = true;
// 16-byte loads along the contiguous axis (aligned, unit stride).
layout(constant_id = 3) const bool VEC = false;

const uint WG = gl_WorkGroupSize.x;

shared int range_max;
shared int range_min;

void include_element(uint b, inout int hi, inout int lo) {
  if ((b & 0x7fffu) == 0u) return;
  uint e = (b >> 7) & 0xffu;
  if (e == 0xffu) return;  // infinity and NaN convert exactly
  if (e == 0u) {
    hi = RANGE_UNUSABLE;
    return;
  }
  int x = int(e) - 127;
  hi = max(hi, x);
  lo = min(lo, x);
}

// The 8 elements at element offsets first, first + step, ...; those at or
// past `valid` count as zero.
uint[8] load8(uint64_t base, int64_t first, int64_t step, uint valid, bool vec) {
  uint h[8];
  if (vec && valid >= 8) {
    uvec4 w = Ptr4x32(base + uint64_t(first * 2)).v;
    uint words[4] = uint[4](w.x, w.y, w.z, w.w);
    for (uint q = 0; q < 4; ++q) {
      h[2 * q] = words[q] & 0xffffu;
      h[2 * q + 1] = words[q] >> 16;
    }
    return h;
  }
  for (uint q = 0; q < 8; ++q) h[q] = q < valid ? uint(Ptr16(base + uint64_t((first + int64_t(q) * step) * 2)).v) : 0u;
  return h;
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  MatrixStrides ms = matrix_strides();
  uint per_matrix = OPERAND_B ? pc.N : pc.M;
  uint lines = pc.batch * per_matrix;
  int64_t line_stride = OPERAND_B ? ms.b_cs : ms.a_rs;
  int64_t k_stride = OPERAND_B ? ms.b_rs : ms.a_cs;
  uint slices = OPERAND_B ? pc.slices_b : pc.slices_a;
  uint first_entry = OPERAND_B ? pc.slices_a * pc.batch * pc.M : 0;
  RangeTable partials = RangeTable(pc.partials);

  if (ALONG_K) {
    uint work = lines * slices;
    for (uint w = gl_WorkGroupID.x; w < work; w += gl_NumWorkGroups.x) {
      uint line = w / slices, slice = w - line * slices;
      uint bi = line / per_matrix, l = line - bi * per_matrix;
      int64_t oa, ob, oc;
      batch_offsets(bi, oa, ob, oc);
      uint64_t base = (OPERAND_B ? pc.b + uint64_t(ob * 2) : pc.a + uint64_t(oa * 2)) +
                      uint64_t(int64_t(l) * line_stride * 2);
      uint k = slice * SLICE_ALONG_K + tid * 8;
      int hi = RANGE_EMPTY_MAX, lo = RANGE_EMPTY_MIN;
      if (k < pc.K) {
        uint h[8] = load8(base, int64_t(k) * k_stride, k_stride, min(8u, pc.K - k), VEC);
        for (uint q = 0; q < 8; ++q) include_element(h[q], hi, lo);
      }
      if (tid == 0) {
        range_max = RANGE_EMPTY_MAX;
        range_min = RANGE_EMPTY_MIN;
      }
      barrier();
      atomicMax(range_max, hi);
      atomicMin(range_min, lo);
      barrier();
      if (tid == 0) partials.v[first_entry + slice * lines + line] = ivec2(range_max, range_min);
    }
    return;
  }

  uint groups = (per_matrix + WG * 8 - 1) / (WG * 8);
  uint work = pc.batch * groups * slices;
  for (uint w = gl_WorkGroupID.x; w < work; w += gl_NumWorkGroups.x) {
    uint slice = w % slices, rest = w / slices;
    uint g = rest % groups, bi = rest / groups;
    uint l0 = g * WG * 8 + tid * 8;
    if (l0 >= per_matrix) continue;
    int64_t oa, ob, oc;
    batch_offsets(bi, oa, ob, oc);
    uint64_t base = OPERAND_B ? pc.b + uint64_t(ob * 2) : pc.a + uint64_t(oa * 2);
    int hi[8], lo[8];
    for (uint q = 0; q < 8; ++q) {
      hi[q] = RANGE_EMPTY_MAX;
      lo[q] = RANGE_EMPTY_MIN;
    }
    // Unrolled: the slice's loads are all in flight at once.
    [[unroll]] for (uint kk = 0; kk < SLICE_ACROSS_LINES; ++kk) {
      uint k = slice * SLICE_ACROSS_LINES + kk;
      if (k >= pc.K) break;
      uint h[8] = load8(base, int64_t(k) * k_stride + int64_t(l0) * line_stride, line_stride,
                        min(8u, per_matrix - l0), VEC);
      for (uint q = 0; q < 8; ++q) include_element(h[q], hi[q], lo[q]);
    }
    for (uint q = 0; q < 8 && l0 + q < per_matrix; ++q) {
      partials.v[first_entry + slice * lines + bi * per_matrix + l0 + q] = ivec2(hi[q], lo[q]);
    }
  }
}
