// Sort, ArgSort, Partition, ArgPartition along one axis (partitions are
// full sorts, which satisfy them). Every element becomes a pair (key,
// index): the key is a uint64 whose unsigned order is the value order
// (NaN after every number, -0.0 equal to 0.0, complex by real then
// imaginary part), the index its position in the line. Pairs compare by key
// then index: all distinct, so any sorting network gives the stable order.
//   SORT_BLOCK: a workgroup sorts a tile of SORT_BLOCK_ELEMENTS pairs in
//     shared memory with a bitonic network: several short lines (each padded
//     to a power of two, `tile` elements), or one chunk of a long line;
//   SORT_MERGE: each pair finds its place in the merge of its run of
//     `width` pairs with the neighbouring run by binary search there.
// The last pass writes the output (values gathered from the input by index,
// or the indices); the others write pairs for the next merge pass.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "dtype.glsl"
#include "index_table.glsl"
#include "reduce_ids.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 9) const uint DT = DT_F32;

layout(push_constant) uniform Push {
  uint64_t in_addr;
  uint64_t out_addr;     // values or uint32 indices
  uint64_t keys_in;      // SORT_MERGE: pairs read, line l at l * n
  uint64_t index_in;
  uint64_t keys_out;     // SORT_WRITE_PAIRS: pairs written
  uint64_t index_out;
  uint64_t lines;
  uint64_t n;            // line length
  int64_t in_stride;     // along the axis, elements
  uint64_t inner;        // output elements after the axis
  uint64_t table;        // int64: kept shape[kd], kept strides[kd] (line starts)
  uint kd;
  uint tile;             // SORT_BLOCK: elements per line slot (power of two)
  uint width;            // SORT_MERGE: sorted run length
  // Push constants rather than specializations: one pipeline per dtype.
  uint pass_kind;        // SORT_BLOCK or SORT_MERGE
  uint write_kind;       // SORT_WRITE_*
} pc;

#define PASS pc.pass_kind
#define WRITE pc.write_kind


const uint WG = REDUCE_WG;
const uint BLOCK = SORT_BLOCK_ELEMENTS;
const uint64_t PAD_KEY = ~0ul;
const uint PAD_INDEX = 0xffffffffu;

// ---- keys ----

// Sign-magnitude float bits of `bits` width to an unsigned order: NaN
// (magnitude above the infinity's) last, -0.0 as 0.0.
uint64_t float_key(uint64_t u, uint bits, uint64_t inf) {
  uint64_t sign = 1ul << (bits - 1u);
  uint64_t all = bits == 64u ? ~0ul : (1ul << bits) - 1ul;
  if ((u & ~sign) > inf) return all;
  if (u == sign) u = 0ul;
  return (u & sign) != 0ul ? ~u & all : u | sign;
}

uint64_t sort_key(uint64_t b) {
  switch (DT) {
    case DT_I8:
    case DT_I16:
    case DT_I32:
    case DT_I64: return uint64_t(bits_to_int(DT, b)) ^ (1ul << 63);
    case DT_F16: return float_key(b, 16u, 0x7c00ul);
    case DT_BF16: return float_key(b, 16u, 0x7f80ul);
    case DT_F32: return float_key(b, 32u, 0x7f800000ul);
    case DT_F64: return float_key(b, 64u, 0x7ff0000000000000ul);
    case DT_C64: {
      uint64_t re = float_key(b & 0xfffffffful, 32u, 0x7f800000ul);
      uint64_t im = float_key(b >> 32, 32u, 0x7f800000ul);
      if (re == 0xfffffffful || im == 0xfffffffful) return ~0ul;
      return (re << 32) | im;
    }
  }
  return b;  // bool and unsigned integers
}

uint64_t key_at(uint64_t keys, uint64_t i) { return Ptr64(keys + i * 8u).v; }
uint index_at(uint64_t indices, uint64_t i) { return Ptr32(indices + i * 4u).v; }

bool pair_less(uint64_t ka, uint ia, uint64_t kb, uint ib) { return ka < kb || (ka == kb && ia < ib); }

// ---- lines ----

uint64_t line_start(uint64_t line) {
  return pc.in_addr + uint64_t(table_offset(pc.table, 0u, pc.kd, line) * int64_t(dtype_size(DT)));
}

uint64_t element_address(uint64_t start, uint64_t pos) {
  return start + uint64_t(int64_t(pos) * pc.in_stride * int64_t(dtype_size(DT)));
}

// Writes the element of rank `rank` in its line: the value at position
// `index` of the input line, or the index.
void write_output(uint64_t line, uint64_t rank, uint index) {
  uint64_t j;
  uint64_t o = divmod(line, pc.inner, j);
  uint64_t at = o * pc.n * pc.inner + j + rank * pc.inner;
  if (WRITE == SORT_WRITE_INDICES) {
    Ptr32(pc.out_addr + at * 4u).v = index;
  } else {
    uint64_t bits = load_bits(DT, element_address(line_start(line), uint64_t(index)));
    store_bits(DT, pc.out_addr + at * dtype_size(DT), bits);
  }
}

void write_pair(uint64_t line, uint64_t pos, uint64_t key, uint index) {
  if (WRITE == SORT_WRITE_PAIRS) {
    Ptr64(pc.keys_out + (line * pc.n + pos) * 8u).v = key;
    Ptr32(pc.index_out + (line * pc.n + pos) * 4u).v = index;
  } else {
    write_output(line, pos, index);
  }
}

// ---- SORT_BLOCK ----

shared uint64_t tile_keys[BLOCK];
shared uint tile_index[BLOCK];

void sort_tiles() {
  uint tid = gl_LocalInvocationID.x;
  uint size = pc.tile;
  uint64_t chunks = (pc.n + size - 1u) / size;  // per line: 1 unless the line is long
  uint64_t slots = pc.lines * chunks;
  uint per_tile = BLOCK / size;
  uint64_t tiles = (slots + per_tile - 1u) / per_tile;
  for (uint64_t t = gl_WorkGroupID.x; t < tiles; t += gl_NumWorkGroups.x) {
    for (uint i = tid; i < BLOCK; i += WG) {
      uint64_t slot = t * per_tile + i / size;
      uint64_t c;
      uint64_t line = divmod(slot, chunks, c);
      uint64_t pos = c * size + i % size;
      uint64_t key = PAD_KEY;
      uint index = PAD_INDEX;
      if (slot < slots && pos < pc.n) {
        key = sort_key(load_bits(DT, element_address(line_start(line), pos)));
        index = uint(pos);
      }
      tile_keys[i] = key;
      tile_index[i] = index;
    }
    barrier();
    // Bitonic network over each slot of `size` elements, ascending.
    for (uint k = 2u; k <= size; k <<= 1) {
      for (uint j = k >> 1; j > 0u; j >>= 1) {
        for (uint p = tid; p < BLOCK / 2u; p += WG) {
          uint a = 2u * j * (p / j) + p % j;
          uint b = a + j;
          bool descending = k < size && (a & k) != 0u;
          uint64_t ka = tile_keys[a], kb = tile_keys[b];
          uint ia = tile_index[a], ib = tile_index[b];
          if (pair_less(kb, ib, ka, ia) != descending) {
            tile_keys[a] = kb;
            tile_keys[b] = ka;
            tile_index[a] = ib;
            tile_index[b] = ia;
          }
        }
        barrier();
      }
    }
    for (uint i = tid; i < BLOCK; i += WG) {
      uint64_t slot = t * per_tile + i / size;
      uint64_t c;
      uint64_t line = divmod(slot, chunks, c);
      uint64_t pos = c * size + i % size;
      if (slot < slots && pos < pc.n) write_pair(line, pos, tile_keys[i], tile_index[i]);
    }
    barrier();
  }
}

// ---- SORT_MERGE ----

void merge_runs() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  uint64_t total = pc.lines * pc.n;
  uint64_t width = pc.width;
  for (uint64_t e = gl_GlobalInvocationID.x; e < total; e += threads) {
    uint64_t p;
    uint64_t line = divmod(e, pc.n, p);
    uint64_t key = key_at(pc.keys_in, e);
    uint id = index_at(pc.index_in, e);
    uint64_t run = p / width;
    uint64_t start = run * width;
    uint64_t partner = (run ^ 1ul) * width;
    uint64_t partner_len = partner < pc.n ? min(width, pc.n - partner) : 0ul;
    // Pairs of the partner run that come before this one.
    uint64_t base = line * pc.n + partner;
    uint64_t lo = 0, hi = partner_len;
    while (lo < hi) {
      uint64_t mid = (lo + hi) / 2u;
      if (pair_less(key_at(pc.keys_in, base + mid), index_at(pc.index_in, base + mid), key, id)) lo = mid + 1u;
      else hi = mid;
    }
    write_pair(line, min(start, partner) + (p - start) + lo, key, id);
  }
}

void main() {
  if (PASS == SORT_BLOCK) sort_tiles();
  else merge_runs();
}
