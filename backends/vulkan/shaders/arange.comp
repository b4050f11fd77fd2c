// Arange: out[i] for every i from a table of segments the host computed
// (kernels/arange.cpp). Within a segment the values are exactly
// (A + j * M) * 2^E, j = i - first: integers wrap in their width (E unused),
// floats are built bit by bit (no float arithmetic, so no flushing or
// rounding). A segment with E == RAW holds one value's bits in A.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "dtype.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint DT = DT_F32;

#define RAW 0x7fffffff

layout(push_constant) uniform Push {
  uint64_t out_addr;
  uint64_t n;
  uint64_t table;  // int64 per segment: first, A, M, E
  uint segments;
} pc;

int msb64(uint64_t a) {
  uint hi = uint(a >> 32);
  return hi != 0u ? 32 + findMSB(hi) : findMSB(uint(a));
}

// IEEE bits of m * 2^e (exactly representable) with `mant` fraction bits.
uint64_t ieee_bits(int64_t m, int e, int mant, int bias) {
  if (m == 0l) return 0ul;
  uint64_t sign = m < 0l ? (mant == 23 ? 0x80000000ul : 0x8000000000000000ul) : 0ul;
  uint64_t a = uint64_t(m < 0l ? -m : m);
  int msb = msb64(a);
  int ex = msb + e;
  int emin = 1 - bias;
  if (ex >= emin) {
    uint64_t frac = (a << uint(mant - msb)) & ((1ul << uint(mant)) - 1ul);
    return sign | (uint64_t(ex + bias) << uint(mant)) | frac;
  }
  return sign | (a << uint(e - (emin - mant)));  // subnormal: a multiple of the smallest step
}

void main() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  Int64Table t = Int64Table(pc.table);
  for (uint64_t i = gl_GlobalInvocationID.x; i < pc.n; i += threads) {
    // The last segment starting at or before i.
    uint lo = 0u, hi = pc.segments - 1u;
    while (lo < hi) {
      uint mid = (lo + hi + 1u) / 2u;
      if (uint64_t(t.v[4u * mid]) <= i) lo = mid;
      else hi = mid - 1u;
    }
    int64_t j = int64_t(i) - t.v[4u * lo];
    int64_t a = t.v[4u * lo + 1u], m = t.v[4u * lo + 2u];
    int e = int(t.v[4u * lo + 3u]);
    uint64_t bits;
    if (e == RAW) {
      bits = uint64_t(a);
    } else if (dtype_class(DT) == CLASS_INT) {
      bits = int_to_bits(DT, a + j * m);
    } else if (DT == DT_F64) {
      bits = ieee_bits(a + j * m, e, 52, 1023);
    } else {
      uint f = uint(ieee_bits(a + j * m, e, 23, 127));
      if (DT == DT_F16) bits = uint64_t(float_to_half_bits(uintBitsToFloat(f)));
      else if (DT == DT_BF16) bits = uint64_t(f >> 16);  // exact: the low half is zero
      else bits = uint64_t(f);  // float32, and complex64's real part (imaginary part 0)
    }
    store_bits(DT, pc.out_addr + i * dtype_size(DT), bits);
  }
}
