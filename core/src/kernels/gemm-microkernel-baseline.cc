// The GEMM microkernel for SSE2 on x86-64 (four xmm per row of the tile would spill: 4 lanes), SIMD128 in WebAssembly.
#define WTCONV_GEMM_ISA baseline
#define WTCONV_SIMD_LANES 4
#include "gemm-microkernel.inc"
