// General strided copy: every element of a source view into a destination
// view of the same shape (any strides on either side, 64-bit offsets).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "memory.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint DT = DT_U32;  // any dtype of the element size
layout(constant_id = 9) const bool SRC_CONTIGUOUS = false;
layout(constant_id = 10) const bool DST_CONTIGUOUS = false;
// Both contiguous and 16-byte aligned: the bulk moves 16 bytes per access.
layout(constant_id = 11) const bool VEC16 = false;
// Rows of 16 bytes: the innermost dimension has unit stride on both sides,
// and every run of 16 bytes along it starts 16-byte aligned on both (the
// host checked): one table walk and one vector access per run.
layout(constant_id = 12) const bool ROWS16 = false;

layout(push_constant) uniform Push {
  uint64_t dst;
  uint64_t src;
  uint64_t n;
  uint64_t table;  // int64: shape[ndim], source strides[ndim], destination strides[ndim]
  uint ndim;
} pc;

// Source and destination offsets of row-major position e.
void offsets(Int64Table t, int nd, uint64_t e, out int64_t s, out int64_t d) {
  uint64_t rest = e;
  s = 0;
  d = 0;
  for (int k = nd - 1; k >= 0; --k) {
    uint64_t extent = uint64_t(t.v[k]);
    uint64_t q;
    int64_t c;
    if ((rest >> 32) == 0ul && (extent >> 32) == 0ul) {  // 32-bit division where it suffices
      uint r32 = uint(rest), x32 = uint(extent);
      uint q32 = r32 / x32;
      q = uint64_t(q32);
      c = int64_t(r32 - q32 * x32);
    } else {
      q = rest / extent;
      c = int64_t(rest - q * extent);
    }
    s += c * t.v[nd + k];
    d += c * t.v[2 * nd + k];
    rest = q;
  }
}

void main() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  uint size = dtype_size(DT);
  Int64Table t = Int64Table(pc.table);
  int nd = int(pc.ndim);
  uint64_t first = 0;
  if (ROWS16) {
    uint64_t vec = uint64_t(16u / size);
    for (uint64_t c = gl_GlobalInvocationID.x; c * vec < pc.n; c += threads) {
      int64_t s, d;
      offsets(t, nd, c * vec, s, d);
      Ptr4x32(pc.dst + uint64_t(d * int64_t(size))).v = Ptr4x32(pc.src + uint64_t(s * int64_t(size))).v;
    }
    return;
  }
  if (VEC16) {
    uint64_t chunks = pc.n * size / 16ul;
    uint64_t c = gl_GlobalInvocationID.x;
    // Four loads in flight per invocation, then their stores.
    for (; c + 3ul * threads < chunks; c += 4ul * threads) {
      uvec4 a0 = Ptr4x32(pc.src + c * 16ul).v;
      uvec4 a1 = Ptr4x32(pc.src + (c + threads) * 16ul).v;
      uvec4 a2 = Ptr4x32(pc.src + (c + 2ul * threads) * 16ul).v;
      uvec4 a3 = Ptr4x32(pc.src + (c + 3ul * threads) * 16ul).v;
      Ptr4x32(pc.dst + c * 16ul).v = a0;
      Ptr4x32(pc.dst + (c + threads) * 16ul).v = a1;
      Ptr4x32(pc.dst + (c + 2ul * threads) * 16ul).v = a2;
      Ptr4x32(pc.dst + (c + 3ul * threads) * 16ul).v = a3;
    }
    for (; c < chunks; c += threads) Ptr4x32(pc.dst + c * 16ul).v = Ptr4x32(pc.src + c * 16ul).v;
    first = chunks * 16ul / size;  // the tail, element by element
  }
  for (uint64_t e = first + gl_GlobalInvocationID.x; e < pc.n; e += threads) {
    int64_t s = int64_t(e), d = int64_t(e);
    if (!SRC_CONTIGUOUS || !DST_CONTIGUOUS) {
      offsets(t, nd, e, s, d);
      if (SRC_CONTIGUOUS) s = int64_t(e);
      if (DST_CONTIGUOUS) d = int64_t(e);
    }
    store_bits(DT, pc.dst + uint64_t(d * int64_t(size)), load_bits(DT, pc.src + uint64_t(s * int64_t(size))));
  }
}
