// Gathers (Gather, GatherAxis, DynamicSlice): out[e] = src[walk(e) + index
// terms(e)] for every row-major position e of the output (see index.glsl).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "index.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint DT = DT_U32;  // any dtype of the element size

layout(push_constant) uniform Push {
  uint64_t out_addr;
  uint64_t src;
  uint64_t n;
  uint64_t table;
  uint64_t error;
  uint ndim;
  uint nterms;
  uint op;
} pc;

void main() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  uint size = dtype_size(DT);
  Int64Table t = Int64Table(pc.table);
  int nd = int(pc.ndim), nterms = int(pc.nterms);
  for (uint64_t e = gl_GlobalInvocationID.x; e < pc.n; e += threads) {
    int64_t s;
    uint64_t v = 0;
    if (indexed_offset(t, nd, nterms, e, 1, pc.error, pc.op, s)) {
      v = load_bits(DT, pc.src + uint64_t(s * int64_t(size)));
    }
    store_bits(DT, pc.out_addr + e * size, v);
  }
}
