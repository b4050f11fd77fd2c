// DivMod of integer dtypes (dense inputs, two dense outputs), as the CPU's
// divmod_of: the floored quotient and the remainder with the divisor's sign;
// a zero divisor gives (0, 0) and MIN / -1 wraps. Values compute in 64 bits
// (sign- or zero-extended) and are truncated to the width when stored.
#version 460
#extension GL_GOOGLE_include_directive : require

#include "dtype.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 8) const uint DT = DT_I32;

layout(push_constant) uniform Push {
  uint64_t quotient;
  uint64_t remainder;
  uint64_t a;
  uint64_t b;
  uint64_t n;
} pc;

void main() {
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);
  uint size = dtype_size(DT);
  for (uint64_t i = gl_GlobalInvocationID.x; i < pc.n; i += threads) {
    uint64_t a = load_bits(DT, pc.a + i * size), b = load_bits(DT, pc.b + i * size);
    uint64_t q = 0ul, r = 0ul;
    if (dtype_is_unsigned(DT)) {
      if (b != 0ul) {
        q = a / b;
        r = a - q * b;
      }
    } else {
      int64_t x = bits_to_int(DT, a), y = bits_to_int(DT, b), sq = 0l, sr = 0l;
      if (y == -1l) {
        sq = -x;  // wraps for MIN
      } else if (y != 0l) {
        sq = x / y;
        sr = x - sq * y;
        if (sr != 0l && ((sr < 0l) != (y < 0l))) {
          sr += y;
          sq -= 1l;
        }
      }
      q = uint64_t(sq);
      r = uint64_t(sr);
    }
    store_bits(DT, pc.quotient + i * size, int_to_bits(DT, int64_t(q)));
    store_bits(DT, pc.remainder + i * size, int_to_bits(DT, int64_t(r)));
  }
}
