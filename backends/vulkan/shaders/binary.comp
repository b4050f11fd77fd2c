// Binary: every BinaryOp on two inputs of one dtype; comparisons write bool.
// Built per compute class, and per class and transcendental op (MATH_OP:
// power, arctan2, logaddexp); see modules.cmake. The math per element is
// element_ops.glsl's, which compile's fused kernels share.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"
#include "ops.glsl"
#include "element_ops.glsl"

layout(constant_id = 8) const uint OP = OP_ADD;
layout(constant_id = 9) const uint DT_IN0 = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;
#define NUM_INPUTS 2

uint64_t element(uint64_t a, uint64_t b, uint64_t unused) { return binary_element(OP, DT_IN0, a, b); }

#include "elementwise_main.glsl"
