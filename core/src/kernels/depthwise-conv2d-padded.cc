// Picks the ISA variant of the padded-plane depthwise kernels once, from what
// the CPU supports (natively); WebAssembly has the one SIMD128 variant.
#include "depthwise-conv2d-padded.h"

namespace wtconv {

namespace {

struct PaddedKernels {
  decltype(&baseline::dwconv2d_padded_forward) forward;
  decltype(&baseline::dwconv2d_padded_backward_weight) backward_weight;
};

PaddedKernels pick() {
#if defined(WTCONV_PADDED_KERNEL_VARIANTS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return {avx512::dwconv2d_padded_forward, avx512::dwconv2d_padded_backward_weight};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {avx2::dwconv2d_padded_forward, avx2::dwconv2d_padded_backward_weight};
  }
#endif
  return {baseline::dwconv2d_padded_forward, baseline::dwconv2d_padded_backward_weight};
}

const PaddedKernels& kernels() {
  static const PaddedKernels chosen = pick();
  return chosen;
}

}  // namespace

void dwconv2d_padded_forward(const PaddedPlane& in, int32_t k, const float* weight, float scale,
                             float* out, int32_t out_stride) {
  kernels().forward(in, k, weight, scale, out, out_stride);
}

void dwconv2d_padded_backward_weight(const PaddedPlane& in, int32_t k, const float* grad_out,
                                     int32_t go_stride, double* grad_weight) {
  kernels().backward_weight(in, k, grad_out, go_stride, grad_weight);
}

}  // namespace wtconv
