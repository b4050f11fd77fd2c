// Scatters (Scatter, ScatterAxis, SliceUpdate, DynamicSliceUpdate): each
// update position q writes or combines upd[walk_1(q)] into out[walk_0(q) +
// index terms(q)] (see index.glsl), in one of these passes:
//   PASS_ORDERED: invocation t applies positions t*mul + j*step, j < count,
//     in order, with plain loads and stores. The host picks mul/step/count so
//     that updates which may meet are in one invocation: results equal the
//     CPU's bit for bit.
//   PASS_ATOMIC: one position per invocation, combined with compare-and-swap
//     on the 32-bit word holding the element (elements of 1, 2, 4 bytes).
//     Integer and bool results are exact; float sums and products round in
//     the order updates arrive.
//   PASS_CLEAR, PASS_CLAIM, PASS_WRITE: assignment where the last update in
//     row-major order wins: a uint32 per output element (aux) takes the
//     largest q + 1 aimed at it, then only that update writes.
// Built once for every dtype but float64 (scatter) and once for float64
// (scatter_double, devices with shaderFloat64).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "index.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint DT = DT_F32;
layout(constant_id = 9) const uint REDUCE = 0;  // lumen's ScatterReduce: none, sum, prod, max, min
layout(constant_id = 10) const uint PASS = 0;

#define REDUCE_NONE 0
#define REDUCE_SUM 1
#define REDUCE_PROD 2
#define REDUCE_MAX 3
#define REDUCE_MIN 4

#define PASS_ORDERED 0
#define PASS_ATOMIC 1
#define PASS_CLEAR 2
#define PASS_CLAIM 3
#define PASS_WRITE 4

layout(buffer_reference, std430, buffer_reference_align = 4) buffer Word {
  uint v;
};

layout(push_constant) uniform Push {
  uint64_t out_addr;
  uint64_t upd;
  uint64_t aux;
  uint64_t table;
  uint64_t error;
  uint64_t threads;  // invocations with work
  uint64_t mul;
  uint64_t step;
  uint64_t count;
  uint ndim;
  uint nterms;
  uint op;
} pc;

// The CPU's combine (backends/cpu/indexing.cpp): halves compute in float;
// max/min keep the old value only when it compares greater/less (ties and
// NaNs take the update).
uint64_t combine(uint64_t a, uint64_t b) {
  if (REDUCE == REDUCE_NONE) return b;
  uint cls = dtype_class(DT);
  if (DT == DT_BOOL) {
    bool x = a != 0ul, y = b != 0ul;
    return (REDUCE == REDUCE_SUM || REDUCE == REDUCE_MAX) ? uint64_t(x || y) : uint64_t(x && y);
  }
  if (cls == CLASS_INT) {
    if (dtype_is_unsigned(DT)) {
      if (REDUCE == REDUCE_SUM) return int_to_bits(DT, int64_t(a + b));
      if (REDUCE == REDUCE_PROD) return int_to_bits(DT, int64_t(a * b));
      if (REDUCE == REDUCE_MAX) return a > b ? a : b;
      return a < b ? a : b;
    }
    int64_t x = bits_to_int(DT, a), y = bits_to_int(DT, b);
    if (REDUCE == REDUCE_SUM) return int_to_bits(DT, x + y);
    if (REDUCE == REDUCE_PROD) return int_to_bits(DT, x * y);
    if (REDUCE == REDUCE_MAX) return x > y ? a : b;
    return x < y ? a : b;
  }
  if (cls == CLASS_FLOAT) {
    float x = bits_to_float(DT, a), y = bits_to_float(DT, b);
    precise float r;
    if (REDUCE == REDUCE_SUM) r = x + y;
    else if (REDUCE == REDUCE_PROD) r = x * y;
    else if (REDUCE == REDUCE_MAX) return x > y ? a : b;
    else return x < y ? a : b;
    return float_to_bits(DT, r);
  }
#ifdef DOUBLE
  if (cls == CLASS_DOUBLE) {
    double x = uint64BitsToDouble(a), y = uint64BitsToDouble(b);
    precise double r;
    if (REDUCE == REDUCE_SUM) r = x + y;
    else if (REDUCE == REDUCE_PROD) r = x * y;
    else if (REDUCE == REDUCE_MAX) return x > y ? a : b;
    else return x < y ? a : b;
    return doubleBitsToUint64(r);
  }
#endif
  // complex64: sum and product only (the ops refuse max/min).
  vec2 x = bits_to_complex(a), y = bits_to_complex(b);
  precise vec2 r;
  if (REDUCE == REDUCE_SUM) {
    r = x + y;
  } else {
    precise float re = x.x * y.x - x.y * y.y;
    precise float im = x.x * y.y + x.y * y.x;
    r = vec2(re, im);
  }
  return complex_to_bits(r);
}

// Combines `b` into the element at `addr` with compare-and-swap on the
// 32-bit word holding it.
void combine_atomic(uint64_t addr, uint64_t b) {
  uint size = dtype_size(DT);
  uint64_t word = addr & ~3ul;
  uint shift = uint(addr - word) * 8u;
  uint mask = size == 4u ? 0xffffffffu : ((1u << (size * 8u)) - 1u);
  uint old = Word(word).v;
  for (;;) {
    uint cur = (old >> shift) & mask;
    uint next = uint(combine(uint64_t(cur), b)) & mask;
    uint seen = atomicCompSwap(Word(word).v, old, (old & ~(mask << shift)) | (next << shift));
    if (seen == old) break;
    old = seen;
  }
}

void main() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  uint size = dtype_size(DT);
  Int64Table t = Int64Table(pc.table);
  int nd = int(pc.ndim), nterms = int(pc.nterms);
  for (uint64_t i = gl_GlobalInvocationID.x; i < pc.threads; i += threads) {
    if (PASS == PASS_CLEAR) {
      Word(pc.aux + i * 4ul).v = 0u;
      continue;
    }
    for (uint64_t j = 0; j < pc.count; ++j) {
      uint64_t q = i * pc.mul + j * pc.step;
      int64_t d;
      if (!indexed_offset(t, nd, nterms, q, 0, pc.error, pc.op, d)) continue;
      uint64_t dst = pc.out_addr + uint64_t(d * int64_t(size));
      if (PASS == PASS_CLAIM) {
        atomicMax(Word(pc.aux + uint64_t(d) * 4ul).v, uint(q) + 1u);
        continue;
      }
      if (PASS == PASS_WRITE && Word(pc.aux + uint64_t(d) * 4ul).v != uint(q) + 1u) continue;
      uint64_t b = load_bits(DT, pc.upd + uint64_t(walk_offset(t, nd, q, 1) * int64_t(size)));
      if (PASS == PASS_ATOMIC) combine_atomic(dst, b);
      else if (REDUCE == REDUCE_NONE) store_bits(DT, dst, b);
      else store_bits(DT, dst, combine(load_bits(DT, dst), b));
    }
  }
}
