// The element-wise kernels for AVX-512F/BW/DQ/VL, 16 lanes: one zmm (32 registers: nothing spills).
// GELU over 131072 floats, one thread, an AVX-512 Zen core: 2.82 G values/s,
// 1.65x the 8-lane AVX2 variant (1.71), which the AVX-512 clone of one 8-lane
// source ran before.
#define WTCONV_ACTIVATION_ISA avx512
#define WTCONV_SIMD_LANES 16
#include "activation.inc"
