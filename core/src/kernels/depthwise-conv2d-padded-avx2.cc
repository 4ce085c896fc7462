// The padded-plane depthwise kernels for AVX2 (+FMA, used by the staged weight gradient alone), 8 lanes: one ymm.
// Blocks of 8 output rows (8 of the 16 ymm as accumulators): against blocks of
// 4 with single trailing rows, 1.03-1.07x on 56x56 planes, 1.2-1.3x on 14x14 and
// 1.25-1.6x on 7x7 (k = 3, 5, 7; 6 rows in between).
#define WTCONV_PADDED_ISA avx2
#define WTCONV_SIMD_LANES 8
#define WTCONV_BLOCK_ROWS 8
// The weight gradient of kernel sizes without an unrolled variant reads its
// window through a 32 KiB stage in blocks of 16 rows, with FMA (1.8-2.9x on
// 7x7 to 56x56 planes for k = 11, 17, 31, 1 thread; blocks of 8 rows 1.2x
// slower, of 24 no faster). The forward does not: 0.9-1.1x.
#define WTCONV_STAGE_VECTORS 1024
#define WTCONV_STAGE_ROWS 16
#include "depthwise-conv2d-padded.inc"
