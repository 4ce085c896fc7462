// The padded-plane depthwise kernels for SSE2 on x86-64 (16 lanes as four xmm each would spill: 4 lanes), SIMD128 in WebAssembly.
// Blocks of 4 output rows: 6 and 8 run 1.3-2x slower in WebAssembly (V8 spills them).
#define WTCONV_PADDED_ISA baseline
#define WTCONV_SIMD_LANES 4
#define WTCONV_BLOCK_ROWS 4
// The weight gradient of kernel sizes without an unrolled variant reads its
// window through a 32 KiB stage in blocks of 16 rows: 1.2-2.0x in WebAssembly
// and 1.1-1.7x in SSE2 on 7x7 to 56x56 planes for k = 11, 17, 31 (1 thread).
#define WTCONV_STAGE_VECTORS 2048
#define WTCONV_STAGE_ROWS 16
// In WebAssembly the forward, and the weight gradient where its unrolled pass
// would spill, run as one loop over the taps for k up to 32 (forward 1.3-1.6x
// for k = 3..11 on planes of 28 and up, 1.0x for 17; weight gradient see the
// template).
#if defined(__wasm__)
#define WTCONV_TAP_LOOP 32
#endif
#include "depthwise-conv2d-padded.inc"
