// The last pass of a split contraction (binary_gemv*.comp, binary_gemm.comp):
// out[e] = the sum of the splits' float32 partial sums of element e, added in
// split order (deterministic), rounded once to DT. The loads of 16 splits
// are issued before their adds: one memory round trip per 16 splits, not
// one per split.
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#include "binary_format.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint DT = DT_F32;
// Stream-K (binary_gemm_coopmat.comp's STREAM, STREAM_BM x STREAM_BN tiles of
// pc.split_len slices dealt to pc.chunks workgroups): element e adds the
// slots its tile's workgroups wrote, 0 to their count - 1. 0: pc.splits slots.
layout(constant_id = 2) const uint STREAM_BM = 0;
layout(constant_id = 3) const uint STREAM_BN = 0;

// The slots holding element (m, n)'s pieces.
uint pieces_of(uint m, uint n) {
  if (STREAM_BM == 0u) return pc.splits;
  uint tiles_m = (pc.rows + STREAM_BM - 1u) / STREAM_BM;
  uint tiles = tiles_m * ((pc.cols + STREAM_BN - 1u) / STREAM_BN);
  uint tile = m / STREAM_BM + n / STREAM_BN * tiles_m;
  uint64_t units = uint64_t(tiles) * pc.split_len, groups = pc.chunks;
  // The workgroups whose runs hold the tile's first and last slices.
  uint64_t first = ((uint64_t(tile) * pc.split_len + 1u) * groups + units - 1u) / units - 1u;
  uint64_t last = (uint64_t(tile + 1u) * pc.split_len * groups + units - 1u) / units - 1u;
  return uint(last - first) + 1u;
}

const uint BATCH = 16;

void main() {
  uint64_t count = uint64_t(pc.rows) * pc.cols;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t e = gl_GlobalInvocationID.x; e < count; e += threads) {
    uint pieces = pieces_of(uint(e / pc.cols), uint(e % pc.cols));
    float sum = 0.0;
    for (uint s0 = 0; s0 < pieces; s0 += BATCH) {
      float part[BATCH];
      [[unroll]] for (uint i = 0; i < BATCH; ++i) {
        part[i] = s0 + i < pieces ? uintBitsToFloat(Ptr32(pc.partials + (uint64_t(s0 + i) * count + e) * 4u).v) : 0.0;
      }
      [[unroll]] for (uint i = 0; i < BATCH; ++i) {
        if (s0 + i < pieces) sum += part[i];
      }
    }
    store_float(DT, pc.out_addr + e * dtype_size(DT), sum);
  }
}
