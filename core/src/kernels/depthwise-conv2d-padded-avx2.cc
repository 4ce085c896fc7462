// The padded-plane depthwise kernels for AVX2 (+FMA available, not used: see CMakeLists.txt), 8 lanes: one ymm.
#define WTCONV_PADDED_ISA avx2
#define WTCONV_SIMD_LANES 8
#include "depthwise-conv2d-padded.inc"
