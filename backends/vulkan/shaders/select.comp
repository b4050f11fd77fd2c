// Select: where(condition, x, y) with a bool condition.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "elementwise.glsl"

layout(constant_id = 9) const uint DT_VALUE = DT_F32;
#define NUM_INPUTS 3
#define DT_IN0 DT_BOOL
#define DT_IN1 DT_VALUE
#define DT_IN2 DT_VALUE
#define DT_OUT DT_VALUE

uint64_t element(uint64_t c, uint64_t x, uint64_t y) { return c != 0ul ? x : y; }

#include "elementwise_main.glsl"
