// AsType: any dtype to any dtype (astype.glsl says how).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"
#include "astype.glsl"

layout(constant_id = 9) const uint DT_IN0 = DT_F32;
layout(constant_id = 10) const uint DT_OUT = DT_F32;
#define NUM_INPUTS 1

uint64_t element(uint64_t x, uint64_t unused1, uint64_t unused2) { return astype_bits(DT_IN0, DT_OUT, x); }

#include "elementwise_main.glsl"
