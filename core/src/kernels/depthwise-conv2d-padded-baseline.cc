// The padded-plane depthwise kernels for SSE2 on x86-64 (16 lanes as four xmm each would spill: 4 lanes), SIMD128 in WebAssembly.
// Blocks of 4 output rows: 6 and 8 run 1.3-2x slower in WebAssembly (V8 spills them).
#define WTCONV_PADDED_ISA baseline
#define WTCONV_SIMD_LANES 4
#define WTCONV_BLOCK_ROWS 4
#include "depthwise-conv2d-padded.inc"
