// Scan (cumsum, cumprod, cummax, cummin, logcumsumexp) along one axis into a
// row-contiguous output. Lines are read through the input's strides.
//   SPREAD_GROUP:  a workgroup per line, in chunks of K * WG elements: each
//                  thread scans K consecutive elements, a workgroup scan of
//                  the thread totals gives each thread its prefix, and a
//                  carry passes from chunk to chunk;
//   SPREAD_THREAD: a thread per line, sequentially (many lines, each
//                  thread's neighbours on the neighbouring lines).
// A line's first element starts the running value (no identity enters a
// combination, so an inclusive cumsum of -0.0 stays -0.0); exclusive scans
// write the identity first, as the CPU.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "index_table.glsl"
#include "workgroup.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint OP = RED_SUM;
layout(constant_id = 9) const uint DT_IN = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;

layout(push_constant) uniform Push {
  uint64_t in_addr;
  uint64_t out_addr;
  uint64_t lines;
  uint64_t n;          // line length
  int64_t in_stride;   // along the axis, elements
  uint64_t inner;      // output elements after the axis (its stride in the output)
  uint64_t table;      // int64: kept shape[kd], kept strides[kd] (line starts)
  uint kd;
  // Push constants rather than specializations: fewer pipelines to compile.
  uint spread;
  uint reverse;
  uint inclusive;
} pc;

#define REVERSE (pc.reverse != 0u)
#define INCLUSIVE (pc.inclusive != 0u)

const uint K = 4;
const uint WG = REDUCE_WG;

ACC_T comb(ACC_T a, ACC_T b) { return acc_combine(OP, DT_IN, a, b); }

struct Line {
  uint64_t in_addr;   // element 0 of the line
  uint64_t out_addr;
  uint64_t out_step;  // bytes between consecutive output elements
};

Line line_at(uint64_t l) {
  Line line;
  line.in_addr = pc.in_addr + uint64_t(table_offset(pc.table, 0u, pc.kd, l) * int64_t(dtype_size(DT_IN)));
  uint64_t j;
  uint64_t o = divmod(l, pc.inner, j);
  line.out_addr = pc.out_addr + (o * pc.n * pc.inner + j) * dtype_size(DT_OUT);
  line.out_step = pc.inner * dtype_size(DT_OUT);
  return line;
}

// Position along the axis of the t-th element in scan order.
uint64_t position(uint64_t t) { return REVERSE ? pc.n - 1u - t : t; }

ACC_T load_element(Line line, uint64_t t) {
  int64_t off = int64_t(position(t)) * pc.in_stride * int64_t(dtype_size(DT_IN));
  return acc_load(OP, DT_IN, load_bits(DT_IN, line.in_addr + uint64_t(off)));
}

void store_element(Line line, uint64_t t, ACC_T v) {
  store_bits(DT_OUT, line.out_addr + position(t) * line.out_step, acc_store(DT_OUT, v));
}

shared ACC_T thread_prefix[WG];

void main() {
  ACC_T identity = acc_identity(OP, DT_IN);
  if (pc.spread == SPREAD_THREAD) {
    uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
    for (uint64_t l = gl_GlobalInvocationID.x; l < pc.lines; l += threads) {
      Line line = line_at(l);
      ACC_T run = identity;
      for (uint64_t t = 0; t < pc.n; ++t) {
        ACC_T x = load_element(line, t);
        ACC_T next = t == 0 ? x : comb(run, x);
        store_element(line, t, INCLUSIVE ? next : run);
        run = next;
      }
    }
    return;
  }
  uint tid = gl_LocalInvocationID.x;
  for (uint64_t l = gl_WorkGroupID.x; l < pc.lines; l += gl_NumWorkGroups.x) {
    Line line = line_at(l);
    bool have_carry = false;
    ACC_T carry = identity;
    for (uint64_t c0 = 0; c0 < pc.n; c0 += K * WG) {
      uint64_t t0 = c0 + tid * K;
      uint count = t0 < pc.n ? uint(min(uint64_t(K), pc.n - t0)) : 0u;
      // This thread's elements, scanned in place.
      ACC_T x[K];
      ACC_T total = identity;
      for (uint j = 0u; j < K; ++j) {
        if (j >= count) break;
        ACC_T v = load_element(line, t0 + j);
        if (j == 0u) total = v;
        else total = comb(total, v);
        x[j] = total;
      }
      ACC_T incl = wg_inclusive_scan(OP, DT_IN, total);
      thread_prefix[tid] = incl;
      barrier();
      bool have_prev = tid > 0u;
      ACC_T prev = have_prev ? thread_prefix[tid - 1u] : identity;
      ACC_T chunk_total = thread_prefix[WG - 1u];
      barrier();
      // What precedes this thread's first element.
      bool have_before = have_carry || have_prev;
      ACC_T before = have_carry ? (have_prev ? comb(carry, prev) : carry) : prev;
      for (uint j = 0u; j < count; ++j) {
        ACC_T v;
        if (INCLUSIVE) {
          v = have_before ? comb(before, x[j]) : x[j];
        } else if (j == 0u) {
          v = before;  // the identity when nothing precedes
        } else {
          v = have_before ? comb(before, x[j - 1u]) : x[j - 1u];
        }
        store_element(line, t0 + j, v);
      }
      carry = have_carry ? comb(carry, chunk_total) : chunk_total;
      have_carry = true;
    }
  }
}
