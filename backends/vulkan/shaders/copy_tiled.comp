// Strided copy where the source's unit-stride dimension (K) is not the
// destination's (L, its innermost): 32 x 32 tiles staged in shared memory,
// so both the reads (along K) and the writes (along L) are coalesced. Other
// dimensions are batch dimensions, walked through a table. One workgroup of
// 256 (32 x 8) invocations per tile, grid-stride over tiles.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "memory.glsl"

layout(local_size_x_id = 0) in;  // 256
layout(constant_id = 8) const uint DT = DT_U32;  // any dtype of the element size

layout(push_constant) uniform Push {
  uint64_t dst;
  uint64_t src;
  uint64_t table;  // int64: batch shape[ndim], source strides[ndim], destination strides[ndim]
  uint64_t batches;
  int64_t src_stride_l;  // source stride along L (its stride along K is 1)
  int64_t dst_stride_k;  // destination stride along K (its stride along L is 1)
  uint extent_k;
  uint extent_l;
  uint ndim;
} pc;

shared uint64_t tile[32][33];

void main() {
  uint size = dtype_size(DT);
  uint tx = gl_LocalInvocationID.x % 32u, ty = gl_LocalInvocationID.x / 32u;
  uint tiles_k = (pc.extent_k + 31u) / 32u, tiles_l = (pc.extent_l + 31u) / 32u;
  uint64_t per_batch = uint64_t(tiles_k) * uint64_t(tiles_l);
  uint64_t tiles = per_batch * pc.batches;
  Int64Table t = Int64Table(pc.table);
  int nd = int(pc.ndim);
  for (uint64_t w = gl_WorkGroupID.x; w < tiles; w += gl_NumWorkGroups.x) {
    uint64_t b = w / per_batch;
    uint64_t r = w - b * per_batch;
    uint k0 = uint(r / uint64_t(tiles_l)) * 32u, l0 = uint(r % uint64_t(tiles_l)) * 32u;
    int64_t s = 0, d = 0;
    uint64_t rest = b;
    for (int i = nd - 1; i >= 0; --i) {
      uint64_t extent = uint64_t(t.v[i]);
      uint64_t q = rest / extent;
      int64_t c = int64_t(rest - q * extent);
      s += c * t.v[nd + i];
      d += c * t.v[2 * nd + i];
      rest = q;
    }
    // Read along K (unit source stride) ...
    for (uint j = ty; j < 32u; j += 8u) {
      uint k = k0 + tx, l = l0 + j;
      if (k < pc.extent_k && l < pc.extent_l) {
        tile[j][tx] = load_bits(DT, pc.src + uint64_t((s + int64_t(k) + int64_t(l) * pc.src_stride_l) * int64_t(size)));
      }
    }
    barrier();
    // ... write along L (unit destination stride).
    for (uint j = ty; j < 32u; j += 8u) {
      uint k = k0 + j, l = l0 + tx;
      if (k < pc.extent_k && l < pc.extent_l) {
        store_bits(DT, pc.dst + uint64_t((d + int64_t(k) * pc.dst_stride_k + int64_t(l)) * int64_t(size)), tile[tx][j]);
      }
    }
    barrier();
  }
}
