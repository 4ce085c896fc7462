// The GEMM microkernel for AVX2 + FMA, 8 lanes: one ymm.
#define WTCONV_GEMM_ISA avx2
#define WTCONV_SIMD_LANES 8
#include "gemm-microkernel.inc"
