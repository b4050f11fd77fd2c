// Gathers (Gather, GatherAxis, DynamicSlice): out[e] = src[walk(e) + index
// terms(e)] for every row-major position e of the output (see index.glsl).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "index.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint DT = DT_U32;  // any dtype of the element size
// Runs of 16 bytes along the innermost dimension are consecutive on both
// sides and share their index values (the host checked): one vector each.
layout(constant_id = 9) const bool VEC16 = false;
// With VEC16, rows (runs along the innermost dimension) of at least 1 KiB:
// one workgroup per row, which reads the row's index values once.
layout(constant_id = 10) const bool ROWS = false;

layout(push_constant) uniform Push {
  uint64_t out_addr;
  uint64_t src;
  uint64_t n;
  uint64_t table;
  uint64_t error;
  uint64_t row_len;  // elements along the innermost dimension (ROWS)
  uint ndim;
  uint nterms;
  uint op;
} pc;

void main() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  uint size = dtype_size(DT);
  Int64Table t = Int64Table(pc.table);
  int nd = int(pc.ndim), nterms = int(pc.nterms);
  if (ROWS) {
    uint64_t chunks = pc.row_len * size / 16ul, rows = pc.n / pc.row_len;
    for (uint64_t r = gl_WorkGroupID.x; r < rows; r += gl_NumWorkGroups.x) {
      int64_t s;
      bool ok = indexed_offset(t, nd, nterms, r * pc.row_len, 1, pc.error, pc.op, s);
      uint64_t from = pc.src + uint64_t(s * int64_t(size)), to = pc.out_addr + r * pc.row_len * size;
      // Up to four loads in flight per invocation, then their stores.
      uint64_t w = uint64_t(gl_WorkGroupSize.x);
      for (uint64_t j = gl_LocalInvocationID.x; j < chunks; j += 4ul * w) {
        uvec4 v[4];
        for (uint u = 0u; u < 4u; ++u) {
          uint64_t at = j + uint64_t(u) * w;
          v[u] = ok && at < chunks ? Ptr4x32(from + at * 16ul).v : uvec4(0u);
        }
        for (uint u = 0u; u < 4u; ++u) {
          uint64_t at = j + uint64_t(u) * w;
          if (at < chunks) Ptr4x32(to + at * 16ul).v = v[u];
        }
      }
    }
    return;
  }
  if (VEC16) {
    uint64_t vec = uint64_t(16u / size);
    for (uint64_t c = gl_GlobalInvocationID.x; c * vec < pc.n; c += threads) {
      int64_t s;
      uvec4 v = uvec4(0u);
      if (indexed_offset(t, nd, nterms, c * vec, 1, pc.error, pc.op, s)) {
        v = Ptr4x32(pc.src + uint64_t(s * int64_t(size))).v;
      }
      Ptr4x32(pc.out_addr + c * 16ul).v = v;
    }
    return;
  }
  for (uint64_t e = gl_GlobalInvocationID.x; e < pc.n; e += threads) {
    int64_t s;
    uint64_t v = 0;
    if (indexed_offset(t, nd, nterms, e, 1, pc.error, pc.op, s)) {
      v = load_bits(DT, pc.src + uint64_t(s * int64_t(size)));
    }
    store_bits(DT, pc.out_addr + e * size, v);
  }
}
