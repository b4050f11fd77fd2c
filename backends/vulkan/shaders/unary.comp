// Unary: every UnaryOp on every dtype the ops allow (Real and Imag read
// complex64 and write float32).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"
#include "ops.glsl"

layout(constant_id = 8) const uint OP = OP_COPY;
layout(constant_id = 9) const uint DT_IN0 = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;
#define NUM_INPUTS 1

uint64_t element(uint64_t x, uint64_t unused1, uint64_t unused2) {
  if (OP == OP_REAL || OP == OP_IMAG) {
    vec2 z = bits_to_complex(x);
    return float_to_bits(DT_F32, OP == OP_REAL ? z.x : z.y);
  }
  return unary_bits(OP, DT_IN0, x);
}

#include "elementwise_main.glsl"
