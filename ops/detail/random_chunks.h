// The chunked random path's policy (DESIGN, "The signature primitives"):
// half-precision requests that no fused primitive covers, of at least
// `threshold_bytes` float32-equivalent bytes and with 4 or more rows, are
// generated in K = clamp(ceil(float32 bytes / piece_bytes), 4, 256) pieces
// along axis 0 (at most one piece per row). Pieces read their bits through
// threefry counter offsets (windows of RandomBits), so the result is
// bit-identical to the unchunked composition. Off while tracing.
#pragma once

#include <cstdint>

#include <lumen/array.h>

namespace lumen::random::detail {

struct ChunkPolicy {
  int64_t threshold_bytes = int64_t(512) << 20;
  int64_t piece_bytes = int64_t(256) << 20;
};

ChunkPolicy chunk_policy();
// Replaces the policy (tests use small sizes); returns the previous one.
ChunkPolicy set_chunk_policy(ChunkPolicy policy);

// K for a request of `shape` and `dtype` (1: not chunked), tracing aside.
int chunk_count(const Shape& shape, Dtype dtype);

}  // namespace lumen::random::detail
