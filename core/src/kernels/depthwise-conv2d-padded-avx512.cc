// The padded-plane depthwise kernels for AVX-512F/BW/DQ/VL, 16 lanes: one zmm.
#define WTCONV_PADDED_ISA avx512
#define WTCONV_SIMD_LANES 16
#include "depthwise-conv2d-padded.inc"
