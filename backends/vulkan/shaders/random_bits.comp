// RandomBits: threefry bits for one or more keys, in MLX's layout (see
// backends/cpu/random_threefry.h). Each key's block holds bytes
// [byte0, byte0 + nbytes) of a stream of `words` 32-bit words (a window of
// it for the chunked random path). The pairs that produce the window's words
// form up to two runs of pair indices, plus the middle word of an odd stream:
// the host lists them as items as the CPU's WordWindow does. An invocation
// hashes ITEMS consecutive items of one key and writes the bytes of each of
// their words that fall in the block: one 32-bit store where the word is
// whole and aligned, else byte stores (the ends of a block, width 1 and 2
// blocks that start mid-word).
#version 460
#extension GL_GOOGLE_include_directive : require

#include "rows.glsl"
#include "threefry.glsl"

layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push {
  uint64_t out_addr;
  uint64_t keys;      // key 0's first word
  uint64_t table;     // rows.glsl table of the keys' dims but the last
  int64_t key_step;   // elements between a key's two words
  uint64_t num_keys;
  uint64_t nbytes;    // bytes of each key's block
  uint64_t byte0;     // the block's first byte within the key's stream
  uint64_t w1;        // the window: words [byte0 / 4, w1)
  uint64_t a0, na;    // run a: pairs [a0, a0 + na)
  uint64_t b0, nb;    // run b: pairs [b0, b0 + nb)
  uint64_t words;     // words of the whole stream
  uint ndim;
  uint middle;        // 1: the odd stream's middle word is in the window
} pc;

const uint ITEMS = 4;

// Word `word` of the stream into the block at `block`, cut at its ends.
void emit(uint64_t block, uint64_t word, uint v) {
  if (word < pc.byte0 / 4 || word >= pc.w1) return;
  int64_t pos = int64_t(word * 4) - int64_t(pc.byte0);
  int64_t n = int64_t(pc.nbytes);
  if (pos >= 0 && pos + 4 <= n && ((block + uint64_t(pos)) & 3ul) == 0ul) {
    Ptr32(block + uint64_t(pos)).v = v;
    return;
  }
  for (int b = 0; b < 4; ++b) {
    int64_t q = pos + b;
    if (q >= 0 && q < n) Ptr8(block + uint64_t(q)).v = uint8_t((v >> (8 * b)) & 0xffu);
  }
}

void main() {
  uint64_t half_words = pc.words / 2;
  uint64_t second = pc.words - half_words;  // where the second outputs start
  uint64_t items = pc.na + pc.nb + uint64_t(pc.middle);
  uint64_t chunks = (items + ITEMS - 1) / ITEMS;
  uint64_t total = pc.num_keys * chunks;
  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * gl_WorkGroupSize.x;
  for (uint64_t g = gl_GlobalInvocationID.x; g < total; g += threads) {
    uint64_t k = g / chunks;
    uint64_t first = (g - k * chunks) * ITEMS;
    uint64_t last = min(first + ITEMS, items);
    uvec2 key = load_key(pc.keys + uint64_t(row_offset(pc.table, pc.ndim, k) * 4), pc.key_step);
    uint64_t block = pc.out_addr + k * pc.nbytes;
    for (uint64_t i = first; i < last; ++i) {
      if (i < pc.na + pc.nb) {
        uint64_t j = i < pc.na ? pc.a0 + i : pc.b0 + (i - pc.na);
        uvec2 r = threefry2x32(key, uvec2(uint(j), uint(j + second)));
        emit(block, j, r.x);
        emit(block, j + second, r.y);
      } else {
        emit(block, half_words, threefry2x32(key, uvec2(uint(half_words), 0u)).x);
      }
    }
  }
}
