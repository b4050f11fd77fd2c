// Float-class elements by address: loaded as float32 (exact for float16 and
// bfloat16), stored with one round-to-nearest-even to the dtype.
#ifndef LUMEN_VALUES_GLSL
#define LUMEN_VALUES_GLSL

#include "dtype.glsl"

float load_float(uint dt, uint64_t addr) { return bits_to_float(dt, load_bits(dt, addr)); }

void store_float(uint dt, uint64_t addr, float v) { store_bits(dt, addr, float_to_bits(dt, v)); }

#endif
