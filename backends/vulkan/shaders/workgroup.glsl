// Workgroup-wide reduction and inclusive scan of accumulators
// (accumulate.glsl) across the REDUCE_WG threads of a workgroup. Modules
// built with SUBGROUP=1 (float class, on devices with subgroup arithmetic)
// combine within subgroups with subgroup operations and pass one value per
// subgroup through shared memory; the others combine through shared memory
// alone. Every thread of the workgroup must call these (they hold barriers)
// and gets the result.
#ifndef LUMEN_WORKGROUP_GLSL
#define LUMEN_WORKGROUP_GLSL

#include "accumulate.glsl"

#ifndef SUBGROUP
#define SUBGROUP 0
#endif
#if SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared ACC_T wg_acc[REDUCE_WG];

#if SUBGROUP
// Subgroup reduction of the ops with a subgroup instruction; max/min turn
// NaN when any lane holds one (the instructions may drop NaN).
ACC_T subgroup_reduce(uint op, ACC_T v) {
  switch (op) {
    case RED_SUM: return subgroupAdd(v);
    case RED_PROD: return subgroupMul(v);
  }
  bool nan = subgroupAdd(isnan(v) ? 1u : 0u) != 0u;
  ACC_T r = op == RED_MAX ? subgroupMax(v) : subgroupMin(v);
  return nan ? ACC_T(uintBitsToFloat(0x7fc00000u)) : r;
}

ACC_T subgroup_inclusive(uint op, ACC_T v) {
  switch (op) {
    case RED_SUM: return subgroupInclusiveAdd(v);
    case RED_PROD: return subgroupInclusiveMul(v);
  }
  bool nan = subgroupInclusiveAdd(isnan(v) ? 1u : 0u) != 0u;
  ACC_T r = op == RED_MAX ? subgroupInclusiveMax(v) : subgroupInclusiveMin(v);
  return nan ? ACC_T(uintBitsToFloat(0x7fc00000u)) : r;
}

bool has_subgroup_op(uint op) { return op == RED_SUM || op == RED_PROD || op == RED_MAX || op == RED_MIN; }
#endif

ACC_T wg_reduce(uint op, uint dt, ACC_T v) {
  uint tid = gl_LocalInvocationID.x;
#if SUBGROUP
  if (has_subgroup_op(op)) {
    v = subgroup_reduce(op, v);
    if (subgroupElect()) wg_acc[gl_SubgroupID] = v;
    barrier();
    if (gl_SubgroupID == 0u) {
      ACC_T w = acc_identity(op, dt);
      for (uint i = gl_SubgroupInvocationID; i < gl_NumSubgroups; i += gl_SubgroupSize) {
        w = acc_combine(op, dt, w, wg_acc[i]);
      }
      w = subgroup_reduce(op, w);
      if (tid == 0u) wg_acc[0] = w;
    }
    barrier();
    ACC_T r = wg_acc[0];
    barrier();
    return r;
  }
#endif
  wg_acc[tid] = v;
  barrier();
  for (uint half_ = REDUCE_WG / 2u; half_ > 0u; half_ >>= 1) {
    if (tid < half_) wg_acc[tid] = acc_combine(op, dt, wg_acc[tid], wg_acc[tid + half_]);
    barrier();
  }
  ACC_T r = wg_acc[0];
  barrier();
  return r;
}

// Reduction within aligned groups of `lanes` threads (a power of two up to
// REDUCE_WG): every thread gets its group's result. A group that is one
// subgroup combines with subgroup operations alone (this assumes subgroups
// hold consecutive invocations, as NVIDIA, AMD, Intel and lavapipe lay them
// out for a one-dimensional workgroup); others halve through shared memory.
// `lanes` must be the same for the whole workgroup.
ACC_T group_reduce(uint op, uint dt, ACC_T v, uint lanes) {
  if (lanes == REDUCE_WG) return wg_reduce(op, dt, v);
  uint tid = gl_LocalInvocationID.x;
#if SUBGROUP
  if (has_subgroup_op(op) && lanes == gl_SubgroupSize) return subgroup_reduce(op, v);
#endif
  wg_acc[tid] = v;
  barrier();
  for (uint half_ = lanes / 2u; half_ > 0u; half_ >>= 1) {
    if (tid % lanes < half_) wg_acc[tid] = acc_combine(op, dt, wg_acc[tid], wg_acc[tid + half_]);
    barrier();
  }
  ACC_T r = wg_acc[tid - tid % lanes];
  barrier();
  return r;
}

// Inclusive scan in thread order: thread i gets v_0 (+) ... (+) v_i.
ACC_T wg_inclusive_scan(uint op, uint dt, ACC_T v) {
  uint tid = gl_LocalInvocationID.x;
#if SUBGROUP
  if (has_subgroup_op(op)) {
    v = subgroup_inclusive(op, v);
    if (gl_SubgroupInvocationID == gl_SubgroupSize - 1u) wg_acc[gl_SubgroupID] = v;
    barrier();
    if (tid == 0u) {
      // Exclusive prefix of the subgroup totals, in place (entry 0 unused:
      // no identity enters a combination, so -0.0 sums stay -0.0).
      ACC_T run = wg_acc[0];
      for (uint i = 1u; i < gl_NumSubgroups; ++i) {
        ACC_T total = wg_acc[i];
        wg_acc[i] = run;
        run = acc_combine(op, dt, run, total);
      }
    }
    barrier();
    if (gl_SubgroupID > 0u) v = acc_combine(op, dt, wg_acc[gl_SubgroupID], v);
    barrier();
    return v;
  }
#endif
  wg_acc[tid] = v;
  barrier();
  for (uint off = 1u; off < REDUCE_WG; off <<= 1) {
    ACC_T x = wg_acc[tid];
    if (tid >= off) x = acc_combine(op, dt, wg_acc[tid - off], x);
    barrier();
    wg_acc[tid] = x;
    barrier();
  }
  ACC_T r = wg_acc[tid];
  barrier();
  return r;
}

#endif
