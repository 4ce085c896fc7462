// The padded-plane depthwise kernels for SSE2 on x86-64 (16 lanes as four xmm each would spill: 4 lanes), SIMD128 in WebAssembly.
#define WTCONV_PADDED_ISA baseline
#define WTCONV_SIMD_LANES 4
#include "depthwise-conv2d-padded.inc"
