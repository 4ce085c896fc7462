// The GEMM microkernel for AVX-512 + FMA, 16 lanes: one zmm.
#define WTCONV_GEMM_ISA avx512
#define WTCONV_SIMD_LANES 16
#include "gemm-microkernel.inc"
