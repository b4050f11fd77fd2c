// ArgReduce: the index (uint32) of the first maximum or minimum along one
// axis; a NaN beats every number and the first NaN wins (the CPU's rule).
// A workgroup per output, threads striding along the axis and then
// combining (value, index) pairs; or a thread per output (outputs adjacent
// in memory, short axes). Values compare in their class (accumulate.glsl):
// integers as int64 (uint64 unsigned), floats as float, complex by real
// then imaginary part.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "accumulate.glsl"
#include "index_table.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const bool IS_MAX = true;
layout(constant_id = 9) const uint DT_IN = DT_F32;

layout(push_constant) uniform Push {
  uint64_t in_addr;
  uint64_t out_addr;  // uint32
  uint64_t outputs;
  uint64_t n;         // axis length
  int64_t stride;     // axis stride, elements
  uint64_t table;     // int64: kept shape[kd], kept strides[kd]
  uint kd;
  uint spread;        // a push constant: one pipeline per op and dtype
} pc;

const uint NONE = 0xffffffffu;  // no index yet

bool value_nan(ACC_T v) {
#if CLASS == CLASS_FLOAT || CLASS == CLASS_DOUBLE
  return isnan(v);
#elif CLASS == CLASS_COMPLEX
  return complex_is_nan(v);
#else
  return false;
#endif
}

bool value_less(ACC_T a, ACC_T b) {
#if CLASS == CLASS_INT
  return int_less(DT_IN, a, b);
#elif CLASS == CLASS_COMPLEX
  return complex_less(a, b);
#else
  return a < b;
#endif
}

// Whether (a, ia) comes before (b, ib): NaN first, then the larger (IS_MAX)
// or smaller value, then the lower index. A total order, so pairs combine
// in any grouping.
bool better(ACC_T a, uint ia, ACC_T b, uint ib) {
  if (ib == NONE) return ia != NONE;
  if (ia == NONE) return false;
  bool na = value_nan(a), nb = value_nan(b);
  if (na || nb) return na && (!nb || ia < ib);
  if (IS_MAX ? value_less(b, a) : value_less(a, b)) return true;
  if (value_less(a, b) || value_less(b, a)) return false;
  return ia < ib;
}

ACC_T value_at(uint64_t base, uint64_t i) {
  uint64_t addr = base + uint64_t(int64_t(i) * pc.stride * int64_t(dtype_size(DT_IN)));
  return acc_load(RED_MAX, DT_IN, load_bits(DT_IN, addr));
}

shared ACC_T best_value[REDUCE_WG];
shared uint best_index[REDUCE_WG];

void main() {
  uint64_t in_size = dtype_size(DT_IN);
  if (pc.spread == SPREAD_THREAD) {
    uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
    for (uint64_t o = gl_GlobalInvocationID.x; o < pc.outputs; o += threads) {
      uint64_t base = pc.in_addr + uint64_t(table_offset(pc.table, 0u, pc.kd, o) * int64_t(in_size));
      ACC_T v = value_at(base, 0);
      uint bi = 0u;
      for (uint64_t i = 1; i < pc.n; ++i) {
        ACC_T x = value_at(base, i);
        if (better(x, uint(i), v, bi)) {
          v = x;
          bi = uint(i);
        }
      }
      Ptr32(pc.out_addr + o * 4u).v = bi;
    }
    return;
  }
  uint tid = gl_LocalInvocationID.x;
  for (uint64_t o = gl_WorkGroupID.x; o < pc.outputs; o += gl_NumWorkGroups.x) {
    uint64_t base = pc.in_addr + uint64_t(table_offset(pc.table, 0u, pc.kd, o) * int64_t(in_size));
    ACC_T v = acc_identity(RED_MAX, DT_IN);
    uint bi = NONE;
    for (uint64_t i = tid; i < pc.n; i += REDUCE_WG) {
      ACC_T x = value_at(base, i);
      if (better(x, uint(i), v, bi)) {
        v = x;
        bi = uint(i);
      }
    }
    best_value[tid] = v;
    best_index[tid] = bi;
    barrier();
    for (uint half_ = REDUCE_WG / 2u; half_ > 0u; half_ >>= 1) {
      if (tid < half_ && better(best_value[tid + half_], best_index[tid + half_], best_value[tid], best_index[tid])) {
        best_value[tid] = best_value[tid + half_];
        best_index[tid] = best_index[tid + half_];
      }
      barrier();
    }
    if (tid == 0u) Ptr32(pc.out_addr + o * 4u).v = best_index[0];
    barrier();
  }
}
