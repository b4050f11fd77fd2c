// Reduce: every output (or segment of one, for a first pass whose partial
// results a second pass folds) folds its reduced elements. The host
// collapses the input into kept dims (whose row-major index is the output's)
// and reduced dims; both come in the table. Work is spread either
//   SPREAD_GROUP:  a group of `lanes` threads per output segment (the whole
//                  workgroup for long segments, several groups to a
//                  workgroup for short ones), threads striding over the
//                  reduced elements (vector loads when they are one dim of
//                  stride 1), then a group reduction; or
//   SPREAD_THREAD: a thread per output segment, walking its elements (for
//                  outputs adjacent in memory, so threads read side by side,
//                  and for short reductions).
// Segment s of output o is item o * segs + s (SPREAD_GROUP) or
// s * outputs + o (SPREAD_THREAD); the item's result is written at its
// index, so a single segment writes the outputs in order.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "index_table.glsl"
#include "workgroup.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint OP = RED_SUM;
layout(constant_id = 9) const uint DT_IN = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;

layout(push_constant) uniform Push {
  uint64_t in_addr;
  uint64_t out_addr;
  uint64_t items;    // outputs x segments
  uint64_t n_red;    // reduced elements per output
  // int64: kept shape[kd], kept strides[kd], reduced shape[rd], reduced strides[rd]
  uint64_t table;
  uint seg_len;      // reduced elements per segment
  uint segs;
  uint kd;
  uint rd;
  uint lanes;        // SPREAD_GROUP: threads per segment (a power of two up to WG)
  // How the pass runs: push constants rather than specializations, so that
  // one pipeline per op and dtypes serves every layout (each pipeline costs
  // a compile; the branches are uniform and outside the inner loops).
  uint spread;
  uint general;      // several reduced dims (else one, any stride)
  uint contiguous;   // one reduced dim of stride 1 (SPREAD_GROUP)
} pc;

const uint WG = REDUCE_WG;

ACC_T ident() { return acc_identity(OP, DT_IN); }
ACC_T comb(ACC_T a, ACC_T b) { return acc_combine(OP, DT_IN, a, b); }
ACC_T elem(uint64_t bits) { return acc_load(OP, DT_IN, bits); }
ACC_T load_at(uint64_t addr) { return elem(load_bits(DT_IN, addr)); }

// The elements of a 32-bit word (element size <= 4), folded pairwise.
ACC_T fold_word(uint w) {
  uint size = dtype_size(DT_IN);
  if (size == 4u) return elem(uint64_t(w));
  if (size == 2u) return comb(elem(uint64_t(w & 0xffffu)), elem(uint64_t(w >> 16)));
  return comb(comb(elem(uint64_t(w & 0xffu)), elem(uint64_t((w >> 8) & 0xffu))),
              comb(elem(uint64_t((w >> 16) & 0xffu)), elem(uint64_t(w >> 24))));
}

ACC_T fold_vec4(uvec4 w) {
  if (dtype_size(DT_IN) == 8u) return comb(elem(pack64(w.xy)), elem(pack64(w.zw)));
  return comb(comb(fold_word(w.x), fold_word(w.y)), comb(fold_word(w.z), fold_word(w.w)));
}

// Elements first, first + step, ... (`count` of them, bytes apart by
// `step`): this thread takes every `every`-th from its `lane`-th.
ACC_T fold_line(uint64_t first, int64_t step, uint count, uint lane, uint every) {
  ACC_T a = ident();
  uint64_t p = first + uint64_t(int64_t(lane) * step);
  int64_t stride = int64_t(every) * step;
  for (uint i = lane; i < count; i += every, p += uint64_t(stride)) a = comb(a, load_at(p));
  return a;
}

// The same for `count` consecutive elements from `first`, in 16-byte loads
// between a scalar head (up to 16-byte alignment) and tail. Four loads are
// issued before any is folded, so that enough bytes are in flight to keep
// the memory busy (into four accumulators).
ACC_T fold_contiguous(uint64_t first, uint count, uint lane, uint every) {
  uint size = dtype_size(DT_IN);
  uint head = min(uint((16u - uint(first % 16u)) % 16u) / size, count);
  uint per_vec = 16u / size;
  uint nvec = (count - head) / per_vec;
  ACC_T a0 = ident(), a1 = a0, a2 = a0, a3 = a0;
  for (uint h = lane; h < head; h += every) a0 = comb(a0, load_at(first + h * size));
  uint64_t vfirst = first + head * size;
  uint v = lane;
  for (; v + 3u * every < nvec; v += 4u * every) {
    uvec4 w0 = ReadPtr4x32(vfirst + uint64_t(v) * 16u).v;
    uvec4 w1 = ReadPtr4x32(vfirst + uint64_t(v + every) * 16u).v;
    uvec4 w2 = ReadPtr4x32(vfirst + uint64_t(v + 2u * every) * 16u).v;
    uvec4 w3 = ReadPtr4x32(vfirst + uint64_t(v + 3u * every) * 16u).v;
    a0 = comb(a0, fold_vec4(w0));
    a1 = comb(a1, fold_vec4(w1));
    a2 = comb(a2, fold_vec4(w2));
    a3 = comb(a3, fold_vec4(w3));
  }
  for (; v < nvec; v += every) a1 = comb(a1, fold_vec4(ReadPtr4x32(vfirst + uint64_t(v) * 16u).v));
  for (uint r = head + nvec * per_vec + lane; r < count; r += every) {
    a2 = comb(a2, load_at(first + uint64_t(r) * size));
  }
  return comb(comb(a0, a1), comb(a2, a3));
}

// Reduced elements [b, b + count) of the output at `base`, through the
// table (several reduced dims): run by run along the innermost one; this
// thread takes runs lane, lane + every, ...
ACC_T fold_general(uint64_t base, uint64_t b, uint count, uint lane, uint every) {
  Int64Table t = Int64Table(pc.table);
  uint last = 2u * pc.kd + pc.rd - 1u;
  uint64_t inner = uint64_t(t.v[last]);
  int64_t step = t.v[last + pc.rd] * int64_t(dtype_size(DT_IN));
  ACC_T a = ident();
  uint64_t r = b, e = b + count;
  uint k = 0u;
  while (r < e) {
    uint64_t pos;
    divmod(r, inner, pos);
    uint run = uint(min(inner - pos, e - r));
    if (k % every == lane) {
      uint64_t first = base + uint64_t(table_offset(pc.table, 2u * pc.kd, pc.rd, r) * int64_t(dtype_size(DT_IN)));
      a = comb(a, fold_line(first, step, run, 0u, 1u));
    }
    r += run;
    ++k;
  }
  return a;
}

ACC_T fold_item(uint64_t o, uint64_t s, uint lane, uint every) {
  uint64_t size = dtype_size(DT_IN);
  uint64_t base = pc.in_addr + uint64_t(table_offset(pc.table, 0u, pc.kd, o) * int64_t(size));
  uint64_t b = s * pc.seg_len;
  uint count = uint(min(uint64_t(pc.seg_len), pc.n_red - b));
  if (pc.general != 0u) return fold_general(base, b, count, lane, every);
  int64_t step = Int64Table(pc.table).v[2u * pc.kd + 1u] * int64_t(size);
  uint64_t first = base + uint64_t(int64_t(b) * step);
  if (pc.contiguous != 0u) return fold_contiguous(first, count, lane, every);
  return fold_line(first, step, count, lane, every);
}

void main() {
  uint64_t segs = pc.segs;
  uint64_t out_size = dtype_size(DT_OUT);
  if (pc.spread == SPREAD_THREAD) {
    uint64_t outputs = pc.items / segs;
    uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
    for (uint64_t w = gl_GlobalInvocationID.x; w < pc.items; w += threads) {
      uint64_t o;
      uint64_t s = divmod(w, outputs, o);
      store_bits(DT_OUT, pc.out_addr + w * out_size, acc_store(DT_OUT, fold_item(o, s, 0u, 1u)));
    }
    return;
  }
  // Groups of pc.lanes threads, WG / pc.lanes segments per workgroup (a push
  // constant, not a specialization: one pipeline serves every row length).
  uint tid = gl_LocalInvocationID.x;
  uint lane = tid % pc.lanes;
  uint64_t per_group = WG / pc.lanes;
  for (uint64_t w0 = uint64_t(gl_WorkGroupID.x) * per_group; w0 < pc.items;
       w0 += uint64_t(gl_NumWorkGroups.x) * per_group) {
    uint64_t w = w0 + tid / pc.lanes;
    ACC_T a = ident();
    if (w < pc.items) {
      uint64_t s;
      uint64_t o = divmod(w, segs, s);
      a = fold_item(o, s, lane, pc.lanes);
    }
    a = group_reduce(OP, DT_IN, a, pc.lanes);
    if (lane == 0u && w < pc.items) store_bits(DT_OUT, pc.out_addr + w * out_size, acc_store(DT_OUT, a));
  }
}
