// WTCONV_HOST_DEVICE marks a function the CPU operators and the CUDA kernels
// (cuda/src/kernels.h) both call: host and device code under nvcc, a plain
// inline function everywhere else.
#pragma once

#if defined(__CUDACC__)
#define WTCONV_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define WTCONV_HOST_DEVICE inline
#endif
