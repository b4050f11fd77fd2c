// Softmax and LogSumExp over the last axis, a workgroup per row, in the
// float (float16, bfloat16, float32: float32 arithmetic) or double class.
//
// A row is read in 16-byte chunks of VEC elements (element by element when
// the row is strided or misaligned); thread t takes chunks t, t + WG, ...
// When the row fits (CACHED > 0: CACHED chunks per thread), its values stay
// in registers: one read, the max, exp(x - max) once per element, the sum,
// one write. Longer rows are read twice: a pass keeping a running max and a
// sum rescaled to it, then the pass that writes.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "index_table.glsl"
#include "math.glsl"
#include "workgroup.glsl"
#if CLASS == CLASS_FLOAT
#include "exp_float.glsl"
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 9) const uint DT = DT_F32;  // input and output
layout(constant_id = 10) const uint CACHED = 0;  // chunks per thread held in registers; 0: stream

layout(push_constant) uniform Push {
  uint64_t in_addr;
  uint64_t out_addr;
  uint64_t rows;
  uint64_t n;       // row length
  int64_t stride;   // of the last axis, in elements
  uint64_t table;   // int64: kept shape[kd], kept strides[kd] (row starts)
  uint kd;
  uint logsumexp;   // a push constant: Softmax and LogSumExp share pipelines
} pc;

#define LOGSUMEXP (pc.logsumexp != 0u)

const uint MAX_CACHED = 8;
const uint WG = REDUCE_WG;
#define VEC (16u / dtype_size(DT))

ACC_T exp_acc(ACC_T x) {
#if CLASS == CLASS_FLOAT
  return exp_float(x);
#else
  return exp_d(x);
#endif
}

ACC_T log_acc(ACC_T x) {
#if CLASS == CLASS_FLOAT
  return flog(x);
#else
  return log_d(x);
#endif
}

ACC_T value_of(uint64_t bits) { return acc_load(RED_SUM, DT, bits); }
ACC_T nan_max(ACC_T a, ACC_T b) { return acc_combine(RED_MAX, DT, a, b); }

// Element q of a 16-byte chunk.
uint64_t chunk_element(uvec4 w, uint q) {
  uint size = dtype_size(DT);
  if (size == 8u) return q == 0u ? pack64(w.xy) : pack64(w.zw);
  uint word = w[q * size / 4u];
  if (size == 4u) return uint64_t(word);
  return uint64_t((word >> (16u * (q & 1u))) & 0xffffu);
}

uvec4 chunk_with(uvec4 w, uint q, uint64_t bits) {
  uint size = dtype_size(DT);
  if (size == 8u) {
    uvec2 b = unpack32(bits);
    if (q == 0u) w.xy = b;
    else w.zw = b;
  } else if (size == 4u) {
    w[q] = uint(bits);
  } else {
    uint shift = 16u * (q & 1u);
    w[q / 2u] = (w[q / 2u] & ~(0xffffu << shift)) | (uint(bits) << shift);
  }
  return w;
}

struct Row {
  uint64_t in_addr;
  uint64_t out_addr;
  bool vector;  // 16-byte loads and stores
};

// Values of chunk c (elements past the row's end read as -inf).
void load_chunk(Row row, uint64_t c, out ACC_T v[8]) {
  uint64_t first = c * VEC;
  ACC_T neg_inf = acc_identity(RED_MAX, DT);
  if (row.vector && first + VEC <= pc.n) {
    uvec4 w = ReadPtr4x32(row.in_addr + first * dtype_size(DT)).v;
    [[unroll]] for (uint q = 0u; q < VEC; ++q) v[q] = value_of(chunk_element(w, q));
    return;
  }
  [[unroll]] for (uint q = 0u; q < VEC; ++q) {
    uint64_t i = first + q;
    v[q] = i < pc.n ? value_of(load_bits(DT, row.in_addr + uint64_t(int64_t(i) * pc.stride * int64_t(dtype_size(DT)))))
                    : neg_inf;
  }
}

void store_chunk(Row row, uint64_t c, ACC_T y[8]) {
  uint64_t first = c * VEC;
  if (row.vector && first + VEC <= pc.n) {
    uvec4 w = uvec4(0u);
    [[unroll]] for (uint q = 0u; q < VEC; ++q) w = chunk_with(w, q, acc_store(DT, y[q]));
    Ptr4x32(row.out_addr + first * dtype_size(DT)).v = w;
    return;
  }
  for (uint q = 0u; q < VEC && first + q < pc.n; ++q) {
    store_bits(DT, row.out_addr + (first + q) * dtype_size(DT), acc_store(DT, y[q]));
  }
}

void finish_row(uint64_t r, Row row, ACC_T m, ACC_T s) {
  if (LOGSUMEXP && gl_LocalInvocationID.x == 0u) {
    ACC_T lse = isinf(m) ? m : log_acc(s) + m;
    store_bits(DT, pc.out_addr + r * dtype_size(DT), acc_store(DT, lse));
  }
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  uint64_t chunks = (pc.n + VEC - 1u) / VEC;
  uint64_t size = dtype_size(DT);
  for (uint64_t r = gl_WorkGroupID.x; r < pc.rows; r += gl_NumWorkGroups.x) {
    Row row;
    row.in_addr = pc.in_addr + uint64_t(table_offset(pc.table, 0u, pc.kd, r) * int64_t(size));
    row.out_addr = pc.out_addr + r * pc.n * size;
    row.vector = pc.stride == 1 && row.in_addr % 16u == 0u && row.out_addr % 16u == 0u;
    ACC_T v[8];
    if (CACHED > 0u) {
      ACC_T x[MAX_CACHED][8];
      ACC_T m = acc_identity(RED_MAX, DT);
      [[unroll]] for (uint j = 0u; j < CACHED; ++j) {
        load_chunk(row, tid + j * WG, v);
        [[unroll]] for (uint q = 0u; q < VEC; ++q) {
          x[j][q] = v[q];
          m = nan_max(m, v[q]);
        }
      }
      m = wg_reduce(RED_MAX, DT, m);
      ACC_T s = ACC_T(0);
      [[unroll]] for (uint j = 0u; j < CACHED; ++j) {
        uint64_t first = (tid + j * WG) * VEC;
        [[unroll]] for (uint q = 0u; q < VEC; ++q) {
          x[j][q] = first + q < pc.n ? exp_acc(x[j][q] - m) : ACC_T(0);
          s += x[j][q];
        }
      }
      s = wg_reduce(RED_SUM, DT, s);
      if (LOGSUMEXP) {
        finish_row(r, row, m, s);
        continue;
      }
      ACC_T inv = ACC_T(1) / s;
      [[unroll]] for (uint j = 0u; j < CACHED; ++j) {
        uint64_t c = tid + j * WG;
        if (c >= chunks) break;
        [[unroll]] for (uint q = 0u; q < VEC; ++q) v[q] = x[j][q] * inv;
        store_chunk(row, c, v);
      }
      continue;
    }
    // Streaming: a running max m and the sum s of exp(x - m).
    ACC_T m = acc_identity(RED_MAX, DT), s = ACC_T(0);
    for (uint64_t c = tid; c < chunks; c += WG) {
      load_chunk(row, c, v);
      [[unroll]] for (uint q = 0u; q < VEC; ++q) {
        ACC_T e = v[q];
        if (isnan(e) || isnan(m)) {
          m = s = e + m;
        } else if (e > m) {
          s = s * exp_acc(m - e) + ACC_T(1);
          m = e;
        } else if (!(isinf(e) && e < ACC_T(0))) {
          s += exp_acc(e - m);
        }
      }
    }
    ACC_T row_max = wg_reduce(RED_MAX, DT, m);
    s = s == ACC_T(0) ? s : s * exp_acc(m - row_max);
    s = wg_reduce(RED_SUM, DT, s);
    if (LOGSUMEXP) {
      finish_row(r, row, row_max, s);
      continue;
    }
    ACC_T inv = ACC_T(1) / s;
    for (uint64_t c = tid; c < chunks; c += WG) {
      load_chunk(row, c, v);
      [[unroll]] for (uint q = 0u; q < VEC; ++q) v[q] = exp_acc(v[q] - row_max) * inv;
      store_chunk(row, c, v);
    }
  }
}
