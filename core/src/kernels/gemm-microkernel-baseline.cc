// The GEMM microkernel for SSE2 on x86-64 (4 lanes, 6 x 8 tile: 12 of the 16 xmm
// registers accumulate) and SIMD128 in WebAssembly (4 x 8: V8 keeps a vector
// register for itself, and 4 rows measure about 10% faster than 6 there).
#define WTCONV_GEMM_ISA baseline
#define WTCONV_SIMD_LANES 4
#if defined(__wasm__)
#define WTCONV_GEMM_MR 4
#endif
#include "gemm-microkernel.inc"
