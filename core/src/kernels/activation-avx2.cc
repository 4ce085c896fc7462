// The element-wise kernels for AVX2, 8 lanes: one ymm (its 16 registers hold the erf's constants and terms).
#define WTCONV_ACTIVATION_ISA avx2
#define WTCONV_SIMD_LANES 8
#include "activation.inc"
