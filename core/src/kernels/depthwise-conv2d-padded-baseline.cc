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
// In WebAssembly the forward, and the weight gradient of sizes without an
// unrolled pass, run as one loop over the taps for k up to 32 (a depthwise
// conv2d N8 C96 56x56, 2 threads, the builds interleaved in one process:
// forward 1.28x for k = 5, 1.38x for 7, 1.13x for 11, 1.09x for 17).
#if defined(__wasm__)
#define WTCONV_TAP_LOOP 32
#endif
#include "depthwise-conv2d-padded.inc"
