// The padded-plane depthwise kernels for AVX2 (+FMA available, not used: see CMakeLists.txt), 8 lanes: one ymm.
// Blocks of 8 output rows (8 of the 16 ymm as accumulators): against blocks of
// 4 with single trailing rows, 1.03-1.07x on 56x56 planes, 1.2-1.3x on 14x14 and
// 1.25-1.6x on 7x7 (k = 3, 5, 7; 6 rows in between).
#define WTCONV_PADDED_ISA avx2
#define WTCONV_SIMD_LANES 8
#define WTCONV_BLOCK_ROWS 8
#include "depthwise-conv2d-padded.inc"
