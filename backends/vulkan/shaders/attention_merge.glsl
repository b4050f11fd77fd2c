// Merging split-K attention partials (attention_merge.comp, and the decode
// kernel's last workgroup per head): per query row, the chunks' (max m_c,
// sum l_c, unnormalized output o_c) combine as
//   M = max(m_c, sink), l = sum_c l_c exp(m_c - M) + exp(sink - M),
//   out = sum_c o_c exp(m_c - M) / l, lse = M + log(l).
// A row with nothing visible gets 0 and lse -inf. The workgroup is cut into
// partitions of `part` invocations, one row each, merged side by side;
// invocation c of a partition takes chunk c's (m, l) (chunks <= part). The
// outputs go by passes of part / chunk_lanes 4-feature quads (16-byte
// loads), each quad summed over the chunks by chunk_lanes invocations,
// MERGE_BATCH chunks' loads issued together (the merge is a chain of load
// latencies otherwise), then summed through shared memory. Expects DT,
// WRITE_LSE and attention.glsl; every invocation of the workgroup must call
// merge_partials (it has barriers).
#ifndef LUMEN_ATTENTION_MERGE_GLSL
#define LUMEN_ATTENTION_MERGE_GLSL

// Partials, coherent: in the decode kernel the merging workgroup reads what
// the others wrote.
layout(buffer_reference, std430, buffer_reference_align = 16) coherent buffer PartialQuad { vec4 v; };
layout(buffer_reference, std430, buffer_reference_align = 8) coherent buffer PartialPair { vec2 v; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer PartialWord { float v; };

const uint MERGE_WG = gl_WorkGroupSize.x;
const uint MERGE_BATCH = 8;
shared float merge_weight[MERGE_WG];
shared vec4 merge_red[MERGE_WG];

// The max (or sum) of x over each partition of `part` invocations, given to
// all of them.
float merge_combine(float x, bool is_max, uint part) {
  uint tid = gl_LocalInvocationID.x, first = tid - tid % part;
  merge_red[tid].x = x;
  barrier();
  for (uint half_ = part / 2; half_ > 0; half_ >>= 1) {
    if (tid % part < half_) {
      float y = merge_red[tid + half_].x;
      merge_red[tid].x = is_max ? max(merge_red[tid].x, y) : merge_red[tid].x + y;
    }
    barrier();
  }
  float r = merge_red[first].x;
  barrier();
  return r;
}

// The row of this invocation's partition (`has_row`: it has one): its
// partials at `base` ([chunks][pitch] floats: m, l, -, -, output) into
// out_row (D_v elements of DT) and, with WRITE_LSE, the float at lse.
void merge_partials(bool has_row, uint part, uint64_t base, uint chunks, uint pitch, uint Dv, uint chunk_lanes,
                    float sink, uint64_t out_row, uint64_t lse) {
  uint tid = gl_LocalInvocationID.x, first = tid - tid % part, t = tid % part;
  uint size = dtype_size(DT);
  uint width = part / chunk_lanes;  // quads per pass
  uint cl = t / width, x = t % width;
  uint quads = (Dv + 3) / 4;
  vec2 ml = has_row && t < chunks ? PartialPair(base + uint64_t(t) * pitch * 4).v : vec2(NEG_INF, 0.0);
  float m = max(merge_combine(ml.x, true, part), sink);
  float w = ml.x == NEG_INF ? 0.0 : fexp(ml.x - m);
  merge_weight[tid] = w;
  float l = merge_combine(w * ml.y, false, part);  // its barriers publish merge_weight[]
  if (sink != NEG_INF && m != NEG_INF) l += fexp(sink - m);
  for (uint q0 = 0; q0 < quads; q0 += width) {
    uint qd = q0 + x;
    vec4 o = vec4(0.0);
    if (has_row && qd < quads) {
      for (uint c = cl; c < chunks; c += MERGE_BATCH * chunk_lanes) {
        vec4 loaded[MERGE_BATCH];
        [[unroll]] for (uint u = 0; u < MERGE_BATCH; ++u) {
          uint cu = c + u * chunk_lanes;
          loaded[u] = cu < chunks ? PartialQuad(base + (uint64_t(cu) * pitch + 4 + 4 * qd) * 4).v : vec4(0.0);
        }
        [[unroll]] for (uint u = 0; u < MERGE_BATCH; ++u) {
          uint cu = c + u * chunk_lanes;
          if (cu < chunks) o += merge_weight[first + cu] * loaded[u];
        }
      }
    }
    merge_red[tid] = o;
    barrier();
    if (has_row && cl == 0 && qd < quads) {
      for (uint y = 1; y < chunk_lanes; ++y) o += merge_red[first + y * width + x];
      [[unroll]] for (uint e4 = 0; e4 < 4; ++e4) {
        uint e = 4 * qd + e4;
        if (e < Dv) store_float(DT, out_row + e * size, l > 0.0 ? fdiv(o[e4], l) : 0.0);
      }
    }
    barrier();
  }
  if (WRITE_LSE && has_row && t == 0) Ptr32(lse).v = floatBitsToUint(l > 0.0 ? m + flog(l) : NEG_INF);
}

#endif
