// main() of elementwise kernels; see elementwise.glsl.
#ifndef LUMEN_ELEMENTWISE_MAIN_GLSL
#define LUMEN_ELEMENTWISE_MAIN_GLSL

#ifndef DT_IN1
#define DT_IN1 DT_IN0
#endif
#ifndef DT_IN2
#define DT_IN2 DT_IN0
#endif

// A function, not a constant expression: glslang miscompiles || between
// specialization constants.
bool any_strided() {
  if (NUM_INPUTS > 0 && MODE0 == MODE_STRIDED) return true;
  if (NUM_INPUTS > 1 && MODE1 == MODE_STRIDED) return true;
  if (NUM_INPUTS > 2 && MODE2 == MODE_STRIDED) return true;
  return false;
}

uint64_t element_address(uint k, uint dt, uint mode, uint64_t e, int64_t strided) {
  if (mode == MODE_SCALAR) return pc.in_addr[k];
  if (mode == MODE_CONTIGUOUS) return pc.in_addr[k] + e * dtype_size(dt);
  return pc.in_addr[k] + uint64_t(strided * int64_t(dtype_size(dt)));
}

void main() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  uint64_t n = pc.n;
  // Scalars are read once.
  uint64_t s0 = 0, s1 = 0, s2 = 0;
  if (NUM_INPUTS > 0 && MODE0 == MODE_SCALAR) s0 = load_bits(DT_IN0, pc.in_addr[0]);
  if (NUM_INPUTS > 1 && MODE1 == MODE_SCALAR) s1 = load_bits(DT_IN1, pc.in_addr[1]);
  if (NUM_INPUTS > 2 && MODE2 == MODE_SCALAR) s2 = load_bits(DT_IN2, pc.in_addr[2]);

  for (uint64_t chunk = gl_GlobalInvocationID.x; chunk * ELEMENTS_PER_THREAD < n; chunk += threads) {
    uint64_t first = chunk * ELEMENTS_PER_THREAD;
    if (VECTOR && first + ELEMENTS_PER_THREAD <= n) {
      u64vec4 a = u64vec4(s0), b = u64vec4(s1), c = u64vec4(s2);
      if (NUM_INPUTS > 0 && MODE0 == MODE_CONTIGUOUS) a = load4_bits(DT_IN0, pc.in_addr[0] + first * dtype_size(DT_IN0));
      if (NUM_INPUTS > 1 && MODE1 == MODE_CONTIGUOUS) b = load4_bits(DT_IN1, pc.in_addr[1] + first * dtype_size(DT_IN1));
      if (NUM_INPUTS > 2 && MODE2 == MODE_CONTIGUOUS) c = load4_bits(DT_IN2, pc.in_addr[2] + first * dtype_size(DT_IN2));
      u64vec4 r = u64vec4(element(a.x, b.x, c.x), element(a.y, b.y, c.y), element(a.z, b.z, c.z),
                          element(a.w, b.w, c.w));
      store4_bits(DT_OUT, pc.out_addr + first * dtype_size(DT_OUT), r);
      continue;
    }
    int64_t off[3];
    uint64_t inner_pos = 0, inner_extent = 1;
    off[0] = 0;
    off[1] = 0;
    off[2] = 0;
    if (any_strided()) strided_offsets(first, off, inner_pos, inner_extent);
    uint64_t last = min(first + ELEMENTS_PER_THREAD, n);
    for (uint64_t e = first; e < last; ++e) {
      uint64_t a = s0, b = s1, c = s2;
      if (NUM_INPUTS > 0 && MODE0 != MODE_SCALAR) a = load_bits(DT_IN0, element_address(0, DT_IN0, MODE0, e, off[0]));
      if (NUM_INPUTS > 1 && MODE1 != MODE_SCALAR) b = load_bits(DT_IN1, element_address(1, DT_IN1, MODE1, e, off[1]));
      if (NUM_INPUTS > 2 && MODE2 != MODE_SCALAR) c = load_bits(DT_IN2, element_address(2, DT_IN2, MODE2, e, off[2]));
      store_bits(DT_OUT, pc.out_addr + e * dtype_size(DT_OUT), element(a, b, c));
      if (any_strided() && e + 1 < last) {
        // Step along the innermost dimension, or recompute at its end.
        if (inner_pos + 1 < inner_extent) {
          inner_pos += 1;
          if (MODE0 == MODE_STRIDED) off[0] += inner_stride(0);
          if (MODE1 == MODE_STRIDED) off[1] += inner_stride(1);
          if (MODE2 == MODE_STRIDED) off[2] += inner_stride(2);
        } else {
          strided_offsets(e + 1, off, inner_pos, inner_extent);
        }
      }
    }
  }
}

#endif
