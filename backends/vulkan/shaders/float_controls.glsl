// Every kernel keeps IEEE signed zeros, infinities and NaNs in float32
// arithmetic (SPIR-V's SignedZeroInfNanPreserve execution mode). Without it
// a driver may assume none occur: NVIDIA's compiler then folds NaN checks
// away (maximum/minimum lost their NaN) and drops the sign of zero (0 / -y
// gave 0), where the CPU backend follows IEEE.
#ifndef LUMEN_FLOAT_CONTROLS_GLSL
#define LUMEN_FLOAT_CONTROLS_GLSL

#extension GL_EXT_spirv_intrinsics : require

// execution mode SignedZeroInfNanPreserve (4461) for 32-bit floats, with its
// capability (4466)
spirv_execution_mode(capabilities = [4466], 4461, 32);

#endif
