# The SPIR-V modules built from the shaders: lumen_shader(<module> <source>
# [defines...]). Sources compile once per module with its defines; the
# kernels ask for modules by name (backends/vulkan/kernels/*.cpp).
#
# Elementwise shaders are specialized at build time by compute class and by
# transcendental op: a module then holds only the code it runs, which keeps
# pipeline creation fast (lavapipe spends time on every function a module
# holds, live or not).
lumen_shader(select select.comp)
lumen_shader(astype astype.comp)
lumen_shader(copy copy.comp)

foreach(class int float double complex)
  string(TOUPPER ${class} _class)
  lumen_shader(unary_${class} unary.comp CLASS=CLASS_${_class})
  lumen_shader(binary_${class} binary.comp CLASS=CLASS_${_class})
endforeach()

set(LUMEN_UNARY_MATH_OPS exp expm1 log log2 log10 log1p sin cos tan arcsin arccos arctan sinh cosh
    tanh arcsinh arccosh arctanh sigmoid erf erfinv)
set(LUMEN_COMPLEX_MATH_OPS exp log log2 log10 log1p sin cos tan arcsin arccos arctan sinh cosh tanh
    arcsinh arccosh arctanh)
foreach(op ${LUMEN_UNARY_MATH_OPS})
  string(TOUPPER ${op} _op)
  lumen_shader(unary_float_${op} unary.comp CLASS=CLASS_FLOAT MATH_OP=OP_${_op})
  lumen_shader(unary_double_${op} unary.comp CLASS=CLASS_DOUBLE MATH_OP=OP_${_op})
endforeach()
foreach(op ${LUMEN_COMPLEX_MATH_OPS})
  string(TOUPPER ${op} _op)
  lumen_shader(unary_complex_${op} unary.comp CLASS=CLASS_COMPLEX MATH_OP=OP_${_op})
endforeach()
foreach(op power arctan2 logaddexp)
  string(TOUPPER ${op} _op)
  lumen_shader(binary_float_${op} binary.comp CLASS=CLASS_FLOAT MATH_OP=OP_${_op})
  lumen_shader(binary_double_${op} binary.comp CLASS=CLASS_DOUBLE MATH_OP=OP_${_op})
endforeach()
lumen_shader(binary_complex_power binary.comp CLASS=CLASS_COMPLEX MATH_OP=OP_POWER)
lumen_shader(binary_complex_logaddexp binary.comp CLASS=CLASS_COMPLEX MATH_OP=OP_LOGADDEXP)

# Matrix products (kernels/matmul*.cpp) and the fast ops (kernels/fast.cpp).
foreach(module matmul_tiled matmul_gemv matmul_naive matmul_coopmat matmul_exponents matmul_scales norm rope)
  lumen_shader(${module} ${module}.comp)
endforeach()
lumen_shader(matmul_convert matmul_convert.comp)

# Random (kernels/random.cpp): threefry bits, and the fused uniform and normal.
lumen_shader(random_bits random_bits.comp)
lumen_shader(random_uniform random_fused.comp)
lumen_shader(random_normal random_fused.comp NORMAL=1 MATH_OP=OP_ERFINV)
# Gathers, scatters and slice updates (kernels/indexing.cpp).
lumen_shader(gather gather.comp)
lumen_shader(scatter scatter.comp)
lumen_shader(scatter_double scatter.comp DOUBLE=1)
lumen_shader(arange arange.comp)
lumen_shader(copy_tiled copy_tiled.comp)
lumen_shader(fp8 fp8.comp)
lumen_shader(fp8_double fp8.comp DOUBLE=1)
lumen_shader(divmod divmod.comp)
# Scaled dot-product attention (kernels/attention.cpp).
lumen_shader(attention attention.comp)
lumen_shader(attention_decode attention_decode.comp)
lumen_shader(attention_decode_probe attention_decode_probe.comp)
lumen_shader(attention_merge attention_merge.comp)
lumen_shader(attention_backward attention_backward.comp)
lumen_shader(attention_coopmat attention_coopmat.comp)
lumen_shader(attention_flash attention_flash.comp)
lumen_shader(attention_decode_mma attention_decode_mma.comp)
lumen_shader(attention_layout attention_layout.comp)
lumen_shader(attention_kv_half attention_kv_half.comp)
# GumbelSample (kernels/sampling.cpp).
foreach(module sampling_threshold sampling_top_p sampling_draw)
  lumen_shader(${module} ${module}.comp)
endforeach()
# Reductions, scans and sorts (kernels/{reduce,arg_reduce,softmax,scan,sort}.cpp):
# a module per compute class (accumulate.glsl), the float ones also with
# subgroup arithmetic, and logcumsumexp apart (it pulls in exp and log1p).
foreach(class int float double complex)
  string(TOUPPER ${class} _class)
  lumen_shader(reduce_${class} reduce.comp CLASS=CLASS_${_class})
  lumen_shader(arg_reduce_${class} arg_reduce.comp CLASS=CLASS_${_class})
  lumen_shader(scan_${class} scan.comp CLASS=CLASS_${_class})
endforeach()
foreach(kernel reduce scan softmax)
  lumen_shader(${kernel}_float_subgroup ${kernel}.comp CLASS=CLASS_FLOAT SUBGROUP=1)
endforeach()
foreach(class float double)
  string(TOUPPER ${class} _class)
  lumen_shader(softmax_${class} softmax.comp CLASS=CLASS_${_class})
  lumen_shader(scan_logaddexp_${class} scan.comp CLASS=CLASS_${_class} ACC_LOGADDEXP=1)
endforeach()
lumen_shader(sort sort.comp)
# Sub-1-bit weights (kernels/binary_quant.cpp, kernels/binary_matmul.cpp);
# binary_format.glsl holds the layout they share.
foreach(module binary_dequantize binary_gemv binary_table binary_gemv_table binary_gemv_rotated binary_gemv_half
    binary_gemm binary_finish binary_gemm_coopmat binary_layout_probe)
  lumen_shader(${module} ${module}.comp)
endforeach()
lumen_shader(binary_gemm_decoded binary_gemm_coopmat.comp PORTABLE=1)
lumen_shader(binary_gemv_half_atomic binary_gemv_half.comp ATOMIC_SUMS=1)
