// Picks the ISA variant of the element-wise kernels once, from what the CPU
// supports (natively); WebAssembly has the one SIMD128 variant.
#include "activation.h"
#include "isa-variant.h"

namespace wtconv {

namespace {

struct ActivationKernels {
  decltype(&baseline::gelu_span_forward) gelu_forward;
  decltype(&baseline::gelu_span_backward) gelu_backward;
  decltype(&baseline::dropout_span_forward) dropout_forward;
};

ActivationKernels pick() {
#if defined(WTCONV_ACTIVATION_KERNEL_VARIANTS)
  switch (detect_isa_variant()) {
    case IsaVariant::kAvx512: return {avx512::gelu_span_forward, avx512::gelu_span_backward, avx512::dropout_span_forward};
    case IsaVariant::kAvx2: return {avx2::gelu_span_forward, avx2::gelu_span_backward, avx2::dropout_span_forward};
    case IsaVariant::kBaseline: break;
  }
#endif
  return {baseline::gelu_span_forward, baseline::gelu_span_backward, baseline::dropout_span_forward};
}

const ActivationKernels& kernels() {
  static const ActivationKernels chosen = pick();
  return chosen;
}

}  // namespace

void gelu_span_forward(const float* x, float* y, size_t count) { kernels().gelu_forward(x, y, count); }

void gelu_span_backward(const float* x, const float* grad_y, float* grad_x, size_t count) {
  kernels().gelu_backward(x, grad_y, grad_x, count);
}

void dropout_span_forward(const float* x, float* y, float* mask, size_t count, uint32_t first, uint32_t key,
                          uint32_t threshold, float scale) {
  kernels().dropout_forward(x, y, mask, count, first, key, threshold, scale);
}

}  // namespace wtconv
