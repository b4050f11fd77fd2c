// Shared by the tensor-core attention kernels whose softmax works on an
// accumulator fragment's own elements (attention_flash.comp,
// attention_decode_mma.comp): checking at run time the layout the host read
// once (attention_layout.comp) and chose the kernel by. Expects `smem`
// (shared uvec4[]) and ACC (the 16 x 16 float32 fragment type).
#ifndef LUMEN_ATTENTION_FRAGMENT_GLSL
#define LUMEN_ATTENTION_FRAGMENT_GLSL

// Reads which element of an accumulator fragment holds which (row, column),
// using the 64 units of smem from `base`: bit i of `hi` says element i is in
// row lane / 4 + 8 rather than lane / 4, bits 4i.. of `cols` its column. True
// when every invocation's elements have that shape (at most 8 of them),
// elements 2i and 2i + 1 being neighbours in a row (outputs are stored in
// pairs).
bool probe_layout(uint base, uint lane, out uint hi, out uint cols) {
  for (uint e = lane; e < 256; e += 32) smem[base + e / 4][e % 4] = floatBitsToUint(float(e));
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  ACC m;
  coopMatLoadNV(m, smem, base, 4, false);
  hi = 0;
  cols = 0;
  bool ok = m.length() <= 8 && m.length() % 2 == 0;
  uint prev = 0;
  for (int i = 0; i < m.length() && i < 8; ++i) {
    uint e = uint(m[i]), r = e / 16;
    ok = ok && (r == lane / 4 || r == lane / 4 + 8);
    ok = ok && (i % 2 == 0 ? e % 2 == 0 : e == prev + 1);
    if (r >= 8) hi |= 1u << i;
    cols |= (e % 16) << (4 * i);
    prev = e;
  }
  return subgroupAll(ok);
}

#endif
