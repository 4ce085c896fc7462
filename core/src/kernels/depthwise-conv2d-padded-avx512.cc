// The padded-plane depthwise kernels for AVX-512F/BW/DQ/VL, 16 lanes: one zmm.
// Blocks of 8 output rows, as AVX2 (32 zmm hold them with room to spare).
#define WTCONV_PADDED_ISA avx512
#define WTCONV_SIMD_LANES 16
#define WTCONV_BLOCK_ROWS 8
// Kernel sizes without an unrolled variant (all but 1-5, 7 and 9) read their
// window through a 32 KiB stage in blocks of 16 rows (forward: 1.3-1.8x on
// 14x14 to 112x112 planes for k = 6 to 31, 1 thread, against the 8-row blocks
// reading it unaligned from the plane; blocks of 8, 12, 20 or 24 rows ran
// slower, stages of 40 or 48 KiB no faster; weight gradient: 1.6-3.1x).
#define WTCONV_STAGE_VECTORS 512
#define WTCONV_STAGE_ROWS 16
#define WTCONV_STAGE_FORWARD 1
#include "depthwise-conv2d-padded.inc"
