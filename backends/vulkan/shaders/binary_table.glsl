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
// (8 to 10: VECTOR, BITS, GROUP of binary_format.glsl)

const uint CODES = 1u << BITS;
const uint UNIT_VECTORS = UNIT_WORDS * 32u / BITS;
const uint LANE_WORDS = LANE_UNITS * UNIT_WORDS;
const uint LANE_VECTORS = LANE_UNITS * UNIT_VECTORS;
const uint SLICE_VECTORS = ROW_LANES * LANE_VECTORS;
const uint SLICE_ENTRIES = SLICE_VECTORS * CODES;  // one row of x; a multiple of 32
const uint LANE_BANKS = 32u / ROW_LANES;
// The weights' own vectors and indices (FOLD of them per table entry).
const uint CODE_VECTOR = VECTOR / FOLD, CODE_BITS = BITS / FOLD;

// Offset in a slice's table for one row of x of lane l's entry u = t * CODES + c.
uint table_offset(uint lane, uint u) { return (u / LANE_BANKS) * 32u + lane * LANE_BANKS + u % LANE_BANKS; }

#endif
