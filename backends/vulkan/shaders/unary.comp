// Unary: every UnaryOp on every dtype the ops allow. Built once per compute
// class (CLASS: integers and bool, float, double, complex) for the exact ops
// and the ones the CPU passes through, and once per class and transcendental
// op (MATH_OP) for the others; see modules.cmake. The math per element is
// element_ops.glsl's, which compile's fused kernels share.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"
#include "ops.glsl"
#include "element_ops.glsl"

layout(constant_id = 8) const uint OP = OP_COPY;
layout(constant_id = 9) const uint DT_IN0 = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;
#define NUM_INPUTS 1

uint64_t element(uint64_t x, uint64_t unused1, uint64_t unused2) { return unary_element(OP, DT_IN0, x); }

#include "elementwise_main.glsl"
