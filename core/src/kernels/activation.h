// Element-wise kernels of the WaveMix layers: GELU (erf form) and its
// derivative, the dropout mask, vectorised with the one vector abstraction
// (simd.h) in ISA variants of one template (activation.inc): baseline (SSE2,
// WebAssembly SIMD128), avx2 (8 lanes), avx512 (16 lanes); the functions below
// run the one this CPU supports (activation.cc), all giving the same bits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wtconv {

// y[i] = x[i] * Phi(x[i]) = 0.5 x (1 + erf(x / sqrt 2)).
void gelu_span_forward(const float* x, float* y, size_t count);
// grad_x[i] = grad_y[i] * (Phi(x) + x phi(x)).
void gelu_span_backward(const float* x, const float* grad_y, float* grad_x, size_t count);

// Dropout mask and output of values [first, first + count) of a tensor:
// mask[i] = scale when lowbias32((first + i) ^ key) < threshold, else 0;
// y = x * mask (dropout-mask.h). The same on every ISA and in WASM, whatever
// the split.
void dropout_span_forward(const float* x, float* y, float* mask, size_t count, uint32_t first,
                          uint32_t key, uint32_t threshold, float scale);

// The variants (the functions above call one of them): baseline always; avx2
// and avx512 on x86-64 (WTCONV_ACTIVATION_KERNEL_VARIANTS), callable only where
// the CPU has the ISA.
#define WTCONV_DECLARE_ACTIVATION_VARIANT(isa)                                                        \
  namespace isa {                                                                                     \
  void gelu_span_forward(const float* x, float* y, size_t count);                                     \
  void gelu_span_backward(const float* x, const float* grad_y, float* grad_x, size_t count);          \
  void dropout_span_forward(const float* x, float* y, float* mask, size_t count, uint32_t first,      \
                            uint32_t key, uint32_t threshold, float scale);                           \
  }
WTCONV_DECLARE_ACTIVATION_VARIANT(baseline)
#if defined(WTCONV_ACTIVATION_KERNEL_VARIANTS)
WTCONV_DECLARE_ACTIVATION_VARIANT(avx2)
WTCONV_DECLARE_ACTIVATION_VARIANT(avx512)
#endif
#undef WTCONV_DECLARE_ACTIVATION_VARIANT

}  // namespace wtconv
