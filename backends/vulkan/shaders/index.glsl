// Walks of the gather/scatter kernels (kernels/indexing.cpp builds their
// tables): positions of a row-major walk shape, turned into element offsets
// by stride sets (set 0: destination, set 1: source, set 2 + k: index array
// k), plus index terms: the value of index array k at its offset, wrapped or
// clamped, times the stride of the axis it indexes. An index out of range is
// recorded in the stream's error record (kernels/index_errors.cpp), which the
// host turns into std::out_of_range when the stream finishes.
#ifndef LUMEN_INDEX_GLSL
#define LUMEN_INDEX_GLSL

#include "dtype.glsl"

// Table (int64): shape[nd], then (2 + nterms) stride sets of nd, then per
// term: address, dtype, axis size, limit, axis stride, clamp.
#define TERM_FIELDS 6

layout(buffer_reference, std430, buffer_reference_align = 8) buffer IndexErrorRecord {
  uint flag;
  uint op;
  int64_t index;
  int64_t size;
  int64_t limit;
};

// Element offset of walk position `e` in stride set `set`.
int64_t walk_offset(Int64Table t, int nd, uint64_t e, int set) {
  int64_t off = 0;
  uint64_t rest = e;
  int base = (1 + set) * nd;
  for (int d = nd - 1; d >= 0; --d) {
    uint64_t extent = uint64_t(t.v[d]);
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
    off += c * t.v[base + d];
    rest = q;
  }
  return off;
}

void report_index_error(uint64_t record, uint op, int64_t index, int64_t size, int64_t limit) {
  IndexErrorRecord r = IndexErrorRecord(record);
  if (atomicCompSwap(r.flag, 0u, 1u) == 0u) {
    r.op = op;
    r.index = index;
    r.size = size;
    r.limit = limit;
  }
}

// Adds term k's contribution at walk position `e` to `off`; false (after
// recording the error) when its index is out of range.
bool add_index_term(Int64Table t, int nd, int nterms, int k, uint64_t e, uint64_t record, uint op,
                    inout int64_t off) {
  int base = (3 + nterms) * nd + k * TERM_FIELDS;
  uint dt = uint(t.v[base + 1]);
  int64_t size = t.v[base + 2], limit = t.v[base + 3];
  int64_t at = walk_offset(t, nd, e, 2 + k);
  uint64_t bits = load_bits(dt, uint64_t(t.v[base]) + uint64_t(at * int64_t(dtype_size(dt))));
  int64_t i = bits_to_int(dt, bits);  // uint64 past 2^63 reads negative
  if (t.v[base + 5] != 0) {
    i = clamp(i, 0l, limit - 1);  // dynamic slices clamp their start
  } else {
    bool in_range;
    if (dtype_is_unsigned(dt)) {
      in_range = bits < uint64_t(limit);
    } else {
      if (i < 0) i += size;
      in_range = i >= 0 && i < limit;
    }
    if (!in_range) {
      report_index_error(record, op | (dtype_is_unsigned(dt) ? 0x100u : 0u), bits_to_int(dt, bits), size, limit);
      return false;
    }
  }
  off += i * t.v[base + 4];
  return true;
}

// Destination (set 0) or source (set 1) offset of position `e` plus every
// index term; false when an index is out of range.
bool indexed_offset(Int64Table t, int nd, int nterms, uint64_t e, int set, uint64_t record, uint op,
                    out int64_t off) {
  off = walk_offset(t, nd, e, set);
  bool ok = true;
  for (int k = 0; k < nterms; ++k) ok = add_index_term(t, nd, nterms, k, e, record, op, off) && ok;
  return ok;
}

#endif
