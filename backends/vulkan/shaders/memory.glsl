// Memory access through buffer device addresses: every tensor is a 64-bit
// pointer, so one tensor may be larger than maxStorageBufferRange. Elements
// move as raw bits; dtype.glsl turns bits into values.
#ifndef LUMEN_MEMORY_GLSL
#define LUMEN_MEMORY_GLSL

#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_16bit_storage : require

#include "float_controls.glsl"
#include "ids.h"

layout(buffer_reference, std430, buffer_reference_align = 1) buffer Ptr8 { uint8_t v; };
layout(buffer_reference, std430, buffer_reference_align = 2) buffer Ptr16 { uint16_t v; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer Ptr32 { uint v; };
layout(buffer_reference, std430, buffer_reference_align = 8) buffer Ptr64 { uint64_t v; };
layout(buffer_reference, std430, buffer_reference_align = 8) buffer Ptr2x32 { uvec2 v; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer Ptr4x32 { uvec4 v; };
// Tables of 64-bit integers (shapes and strides) written by the host.
layout(buffer_reference, std430, buffer_reference_align = 8) readonly buffer Int64Table { int64_t v[]; };

uint dtype_size(uint dt) {
  if (dt == DT_BOOL || dt == DT_U8 || dt == DT_I8) return 1;
  if (dt == DT_U16 || dt == DT_I16 || dt == DT_F16 || dt == DT_BF16) return 2;
  if (dt == DT_U32 || dt == DT_I32 || dt == DT_F32) return 4;
  return 8;
}

// The bits of the element at `addr`, zero-extended.
uint64_t load_bits(uint dt, uint64_t addr) {
  uint size = dtype_size(dt);
  if (size == 1) return uint64_t(uint(Ptr8(addr).v));
  if (size == 2) return uint64_t(uint(Ptr16(addr).v));
  if (size == 4) return uint64_t(Ptr32(addr).v);
  return Ptr64(addr).v;
}

void store_bits(uint dt, uint64_t addr, uint64_t bits) {
  uint size = dtype_size(dt);
  if (size == 1) Ptr8(addr).v = uint8_t(uint(bits));
  else if (size == 2) Ptr16(addr).v = uint16_t(uint(bits));
  else if (size == 4) Ptr32(addr).v = uint(bits);
  else Ptr64(addr).v = bits;
}

// Four consecutive elements in one or two vector accesses; `addr` is aligned
// to min(4 * size, 16) bytes.
u64vec4 load4_bits(uint dt, uint64_t addr) {
  uint size = dtype_size(dt);
  if (size == 1) {
    uint w = Ptr32(addr).v;
    return u64vec4(w & 0xffu, (w >> 8) & 0xffu, (w >> 16) & 0xffu, w >> 24);
  }
  if (size == 2) {
    uvec2 w = Ptr2x32(addr).v;
    return u64vec4(w.x & 0xffffu, w.x >> 16, w.y & 0xffffu, w.y >> 16);
  }
  if (size == 4) return u64vec4(Ptr4x32(addr).v);
  uvec4 lo = Ptr4x32(addr).v;
  uvec4 hi = Ptr4x32(addr + 16).v;
  return u64vec4(pack64(lo.xy), pack64(lo.zw), pack64(hi.xy), pack64(hi.zw));
}

void store4_bits(uint dt, uint64_t addr, u64vec4 b) {
  uint size = dtype_size(dt);
  uvec4 w = uvec4(b);  // low 32 bits of each
  if (size == 1) {
    Ptr32(addr).v = (w.x & 0xffu) | ((w.y & 0xffu) << 8) | ((w.z & 0xffu) << 16) | (w.w << 24);
  } else if (size == 2) {
    Ptr2x32(addr).v = uvec2((w.x & 0xffffu) | (w.y << 16), (w.z & 0xffffu) | (w.w << 16));
  } else if (size == 4) {
    Ptr4x32(addr).v = w;
  } else {
    Ptr4x32(addr).v = uvec4(unpack32(b.x), unpack32(b.y));
    Ptr4x32(addr + 16).v = uvec4(unpack32(b.z), unpack32(b.w));
  }
}

#endif
