// GumbelSample, stage 1 (filtered calls only): each row's filtering
// threshold, one workgroup per row. The top-k threshold is the smallest value
// v of s = logits / T with count(s > v) < k, the top-p one the smallest v
// with mass(s > v) < p * total, where mass is floor(exp(s - max) * 2^32) in
// integers; both found by four 8-bit radix passes over the order keys, with
// histograms in shared memory (masses in three 11-bit parts so that 32-bit
// atomics stay exact for V < 2^21). Writes max(top-k, top-p threshold), or
// -inf when both are off (or T = 0).
#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_memory_scope_semantics : require

#include "sampling.glsl"

layout(local_size_x_id = 0) in;
const uint WG = gl_WorkGroupSize.x;

// The limit of the weight above the threshold, float64 as in the plain
// composition where the device has it.
#if LUMEN_F64
#define limit_t double
#else
#define limit_t float
#endif

// Relaxed atomics on shared memory at workgroup scope (the default scope is
// the device's, which needs vulkanMemoryModelDeviceScope).
#define shared_add(m, v) atomicAdd(m, v, gl_ScopeWorkgroup, gl_StorageSemanticsShared, gl_SemanticsRelaxed)

shared uint count_bins[256];
shared uint mass_bins[3][256];
shared float reduce_f[WG];
shared uint64_t reduce_u[WG];
shared uint chosen_prefix;
shared uint64_t chosen_above;

float scaled(uint64_t r, uint j, float t) { return fdiv(logit(r, j), t); }

// floor(exp(s - m) * 2^32), as the plain composition's astype(int64); 0 for
// the non-finite cases (rows whose result does not depend on the threshold).
uint64_t mass_of(float s, float m) {
  precise float e = fexp(s - m) * 4294967296.0;
  return (e >= 0.0 && e <= 4294967296.0) ? uint64_t(e) : 0ul;
}

float workgroup_max(float v) {
  uint tid = gl_LocalInvocationID.x;
  reduce_f[tid] = v;
  barrier();
  for (uint h = WG / 2; h > 0; h /= 2) {
    if (tid < h) {
      float a = reduce_f[tid], b = reduce_f[tid + h];
      reduce_f[tid] = (isnan(a) || a >= b) ? a : b;
    }
    barrier();
  }
  float m = reduce_f[0];
  barrier();
  return m;
}

uint64_t workgroup_sum(uint64_t v) {
  uint tid = gl_LocalInvocationID.x;
  reduce_u[tid] = v;
  barrier();
  for (uint h = WG / 2; h > 0; h /= 2) {
    if (tid < h) reduce_u[tid] += reduce_u[tid + h];
    barrier();
  }
  uint64_t s = reduce_u[0];
  barrier();
  return s;
}

// The smallest value v of the row with weight(s > v) < limit (see the top).
float select_threshold(uint64_t r, float t, bool by_mass, float m, limit_t limit) {
  uint tid = gl_LocalInvocationID.x;
  if (tid == 0) {
    chosen_prefix = 0u;
    chosen_above = 0ul;
  }
  barrier();
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (uint b = tid; b < 256u; b += WG) {
      count_bins[b] = 0u;
      mass_bins[0][b] = 0u;
      mass_bins[1][b] = 0u;
      mass_bins[2][b] = 0u;
    }
    barrier();
    uint prefix = chosen_prefix;
    uint fixed_bits = shift == 24 ? 0u : (0xffffffffu << uint(shift + 8));
    for (uint j = tid; j < pc.V; j += WG) {
      float s = scaled(r, j, t);
      uint k = order_key(s);
      if ((k & fixed_bits) != prefix) continue;
      uint bin = (k >> uint(shift)) & 255u;
      shared_add(count_bins[bin], 1u);
      if (by_mass) {
        uint64_t q = mass_of(s, m);
        shared_add(mass_bins[0][bin], uint(q & 2047ul));
        shared_add(mass_bins[1][bin], uint((q >> 11) & 2047ul));
        shared_add(mass_bins[2][bin], uint(q >> 22));
      }
    }
    barrier();
    if (tid == 0) {
      int chosen = -1;
      uint64_t acc = chosen_above, above = chosen_above;
      for (int b = 255; b >= 0; --b) {
        if (count_bins[b] == 0u) continue;
        if (chosen >= 0 && !(limit_t(acc) < limit)) break;
        chosen = b;  // the top nonempty bin stands in when none qualifies (NaN rows)
        above = acc;
        acc += by_mass ? uint64_t(mass_bins[0][b]) + (uint64_t(mass_bins[1][b]) << 11) +
                             (uint64_t(mass_bins[2][b]) << 22)
                       : uint64_t(count_bins[b]);
      }
      chosen_prefix = prefix | (uint(max(chosen, 0)) << uint(shift));
      chosen_above = above;
    }
    barrier();
  }
  float v = key_value(chosen_prefix);
  barrier();
  return v;
}

void main() {
  uint tid = gl_LocalInvocationID.x;
  for (uint64_t r = gl_WorkGroupID.x; r < pc.rows; r += gl_NumWorkGroups.x) {
    float t = row_temperature(r);
    int k = row_top_k(r);
    float p = row_top_p(r);
    float cut = -F_INF;
    if (t != 0.0) {
      if (k > 0 && uint(k) < pc.V) cut = select_threshold(r, t, false, 0.0, limit_t(k));
      if (p < 1.0) {
        float m = -F_INF;
        for (uint j = tid; j < pc.V; j += WG) {
          float s = scaled(r, j, t);
          m = (isnan(m) || m >= s) ? m : s;
        }
        m = workgroup_max(m);
        uint64_t total = 0ul;
        for (uint j = tid; j < pc.V; j += WG) total += mass_of(scaled(r, j, t), m);
        total = workgroup_sum(total);
        cut = max(cut, select_threshold(r, t, true, m, limit_t(total) * limit_t(p)));
      }
    }
    if (tid == 0) Ptr32(pc.cut + r * 4ul).v = floatBitsToUint(cut);
  }
}
