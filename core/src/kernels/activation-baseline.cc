// The element-wise kernels for SSE2 on x86-64 and SIMD128 in WebAssembly: 4 lanes,
// one xmm / v128 (at 8 lanes, a pair of xmm per value, SSE2's 16 registers
// spill: GELU 0.25 G values/s against 0.70 at 4, one thread).
#define WTCONV_ACTIVATION_ISA baseline
#define WTCONV_SIMD_LANES 4
#include "activation.inc"
