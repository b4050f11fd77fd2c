// Binary: every BinaryOp on two inputs of one dtype; comparisons write bool.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"
#include "ops.glsl"

layout(constant_id = 8) const uint OP = OP_ADD;
layout(constant_id = 9) const uint DT_IN0 = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;
#define NUM_INPUTS 2

uint64_t element(uint64_t a, uint64_t b, uint64_t unused) {
  uint64_t r = binary_bits(OP, DT_IN0, a, b);
  // Ops of a bool result on non-bool inputs (comparisons) give 0 or 1.
  return r;
}

#include "elementwise_main.glsl"
