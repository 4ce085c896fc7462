// The padded-plane depthwise kernels for AVX-512F/BW/DQ/VL, 16 lanes: one zmm.
// Blocks of 8 output rows, as AVX2 (32 zmm hold them with room to spare).
#define WTCONV_PADDED_ISA avx512
#define WTCONV_SIMD_LANES 16
#define WTCONV_BLOCK_ROWS 8
#include "depthwise-conv2d-padded.inc"
