// The codeword . x table of the table GEMV: binary_table.comp writes it to
// global memory, binary_gemv_table.comp copies a slice of it to shared
// memory and reads it once per index.
//
// The contraction is cut into slices of SLICE_VECTORS vectors; within a
// weight row, ROW_LANES adjacent invocations each take LANE_UNITS units of
// the slice (a unit is the fewest whole words holding whole indices: 3
// words = 16 indices of 6 bits). Entry (vector t of lane l's run, codeword
// c) is dot(codeword c's signs, x's elements of that vector), and a slice's
// table for one row of x is laid out in rows of 32 floats (one per shared
// memory bank) where lane l owns banks [l * LANE_BANKS, (l + 1) * LANE_BANKS):
// entry u = t * CODES + c lies in row u / LANE_BANKS, bank l * LANE_BANKS +
// u % LANE_BANKS. Invocations of different lanes then never contend for a
// bank; only the 32 / ROW_LANES weight rows of a subgroup that read the same
// lane's table at random codewords can.
#ifndef LUMEN_BINARY_TABLE_GLSL
#define LUMEN_BINARY_TABLE_GLSL

#include "binary_format.glsl"

layout(constant_id = 1) const uint DT = DT_F32;
layout(constant_id = 2) const uint XR = 1;           // rows of x, 1 to 4
layout(constant_id = 3) const uint ROW_LANES = 8;    // invocations per weight row: a power of two <= 32 and the subgroup
layout(constant_id = 4) const uint LANE_UNITS = 1;   // units each of them reads
layout(constant_id = 5) const uint UNIT_WORDS = 3;   // BITS / gcd(BITS, 32)
layout(constant_id = 6) const uint FOLD = 1;         // indices of the weights read as one
layout(constant_id = 7) const uint CODEBOOK_WORDS = 64;  // the weights' own codebook: 2^(BITS / FOLD)
// (8 to 10: VECTOR, BITS, GROUP of binary_format.glsl; 11: STAGGER below)

const uint CODES = 1u << BITS;
const uint UNIT_VECTORS = UNIT_WORDS * 32u / BITS;
const uint LANE_WORDS = LANE_UNITS * UNIT_WORDS;
const uint LANE_VECTORS = LANE_UNITS * UNIT_VECTORS;
const uint SLICE_VECTORS = ROW_LANES * LANE_VECTORS;
const uint SLICE_ENTRIES = SLICE_VECTORS * CODES;  // one row of x; a multiple of 32
const uint LANE_BANKS = 32u / ROW_LANES;
// The weights' own vectors and indices (FOLD of them per table entry).
const uint CODE_VECTOR = VECTOR / FOLD, CODE_BITS = BITS / FOLD;
// The host makes one of LANE_VECTORS and GROUP / VECTOR divide the other:
// a lane's vectors are whole scale groups, or lie in one. A period is the
// run of a lane's vectors under one scale.
const uint GROUP_VECTORS = GROUP / VECTOR;
const bool WHOLE_GROUPS = LANE_VECTORS % GROUP_VECTORS == 0u;
const uint LANE_GROUPS = WHOLE_GROUPS ? LANE_VECTORS / GROUP_VECTORS : 1u;
const uint PERIOD = WHOLE_GROUPS ? GROUP_VECTORS : LANE_VECTORS;

// STAGGER (the host sets it where a period is 1 to 4 whole words and a
// multiple of LANE_BANKS vectors): the weight rows of a subgroup that share
// a lane (row r of them, r < LANE_BANKS) read its vectors in different
// orders (row r starts each period SUB * r vectors in), and the lane's
// banks are dealt out by vector instead of by codeword: vectors
// [s * SUB, (s + 1) * SUB) of each period in bank s. The rows then never
// contend for a bank either. Without it, entry u = t * CODES + c of a lane
// lies in row u / LANE_BANKS, bank u % LANE_BANKS of the lane's banks.
layout(constant_id = 11) const bool STAGGER = false;
const uint PERIOD_WORDS = PERIOD * BITS / 32u;
const uint SUB = STAGGER ? PERIOD / LANE_BANKS : 1u;

// Offset in a slice's table (one row of x) of lane l's vector t, codeword c.
uint table_offset(uint lane, uint t, uint c) {
  if (!STAGGER) {
    uint u = t * CODES + c;
    return (u / LANE_BANKS) * 32u + lane * LANE_BANKS + u % LANE_BANKS;
  }
  uint g = t / PERIOD, tt = t % PERIOD;
  return ((g * SUB + tt % SUB) * CODES + c) * 32u + lane * LANE_BANKS + tt / SUB;
}

// The lane, vector and codeword of offset r (the inverse of table_offset).
void table_entry(uint r, out uint lane, out uint t, out uint c) {
  uint bank = r % 32u, row = r / 32u;
  lane = bank / LANE_BANKS;
  if (!STAGGER) {
    uint u = row * LANE_BANKS + bank % LANE_BANKS;
    t = u / CODES;
    c = u % CODES;
    return;
  }
  c = row % CODES;
  uint gw = row / CODES;
  t = (gw / SUB) * PERIOD + (bank % LANE_BANKS) * SUB + gw % SUB;
}

#endif
