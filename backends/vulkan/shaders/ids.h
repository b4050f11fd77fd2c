// Numbers shared by the C++ side and the shaders (plain #defines, so GLSL and
// C++ both include this file). The C++ side maps lumen's enums onto them with
// exhaustive switches (backends/vulkan/kernels/ids.h), so a new dtype or op
// fails to compile until it is given a number here.
#ifndef LUMEN_VULKAN_SHADER_IDS_H
#define LUMEN_VULKAN_SHADER_IDS_H

// Dtypes, in lumen's (MLX's) enum order.
#define DT_BOOL 0
#define DT_U8 1
#define DT_U16 2
#define DT_U32 3
#define DT_U64 4
#define DT_I8 5
#define DT_I16 6
#define DT_I32 7
#define DT_I64 8
#define DT_F16 9
#define DT_F32 10
#define DT_F64 11
#define DT_BF16 12
#define DT_C64 13

// How an elementwise kernel walks an operand.
#define MODE_CONTIGUOUS 0  // element i at i
#define MODE_SCALAR 1      // every element at 0
#define MODE_STRIDED 2     // through the shape and strides table

// Unary ops.
#define OP_ABS 0
#define OP_CEIL 1
#define OP_FLOOR 2
#define OP_ROUND 3
#define OP_NEGATIVE 4
#define OP_SIGN 5
#define OP_SQRT 6
#define OP_RSQRT 7
#define OP_SQUARE 8
#define OP_EXP 9
#define OP_EXPM1 10
#define OP_LOG 11
#define OP_LOG2 12
#define OP_LOG10 13
#define OP_LOG1P 14
#define OP_SIN 15
#define OP_COS 16
#define OP_TAN 17
#define OP_ARCSIN 18
#define OP_ARCCOS 19
#define OP_ARCTAN 20
#define OP_SINH 21
#define OP_COSH 22
#define OP_TANH 23
#define OP_ARCSINH 24
#define OP_ARCCOSH 25
#define OP_ARCTANH 26
#define OP_SIGMOID 27
#define OP_ERF 28
#define OP_ERFINV 29
#define OP_LOGICAL_NOT 30
#define OP_BITWISE_INVERT 31
#define OP_REAL 32
#define OP_IMAG 33
#define OP_CONJUGATE 34
#define OP_COPY 35

// Binary ops.
#define OP_ADD 0
#define OP_SUBTRACT 1
#define OP_MULTIPLY 2
#define OP_DIVIDE 3
#define OP_REMAINDER 4
#define OP_POWER 5
#define OP_MAXIMUM 6
#define OP_MINIMUM 7
#define OP_EQUAL 8
#define OP_NOT_EQUAL 9
#define OP_LESS 10
#define OP_LESS_EQUAL 11
#define OP_GREATER 12
#define OP_GREATER_EQUAL 13
#define OP_LOGICAL_AND 14
#define OP_LOGICAL_OR 15
#define OP_BITWISE_AND 16
#define OP_BITWISE_OR 17
#define OP_BITWISE_XOR 18
#define OP_LEFT_SHIFT 19
#define OP_RIGHT_SHIFT 20
#define OP_ARCTAN2 21
#define OP_LOGADDEXP 22
#define OP_NAN_EQUAL 23

#endif
