// Picks the ISA variant of the padded-plane depthwise kernels once, from what
// the CPU supports (natively), and per call by the plane's width where the
// widest variant loses on narrow planes; WebAssembly has the one SIMD128 variant.
#include "depthwise-conv2d-padded.h"
#include "isa-variant.h"

#include "../simd.h"

namespace wtconv {

namespace {

struct PaddedKernels {
  decltype(&baseline::dwconv2d_padded_forward) forward;
  decltype(&baseline::dwconv2d_padded_backward_weight) backward_weight;
  // For planes narrower than the thresholds below: the AVX2 kernels where the
  // AVX-512 ones are picked (elsewhere the same as above).
  decltype(&baseline::dwconv2d_padded_forward) forward_narrow;
  decltype(&baseline::dwconv2d_padded_backward_weight) backward_weight_narrow;
};

// Plane widths from which the 16-lane AVX-512 kernels are picked over the
// 8-lane AVX2 ones (1 thread, k = 3, 5, 7, bench/kernels on an AVX-512 Zen
// core): the forward kernel from 9 columns on (AVX-512 at 0.7-0.9x of AVX2 at
// 7 and 8 columns, 1.0-1.8x from 12); the weight gradient, whose reductions
// span twice the lanes, from 28 (0.35-0.45x at 7 and 8, 0.7-1.0x up to 24,
// 0.8-1.1x from 28 to 56, 1.0-1.3x from 64). On WTConv b4 (planes 56 to 7)
// forward + backward ran 1.03x faster than with AVX-512 throughout.
// The same holds for the staged weight gradient of kernel sizes without an
// unrolled variant (k = 11, 17, 31: AVX-512 0.8-0.9x of AVX2 at 20 and 24
// columns, 1.2-1.3x from 28).
constexpr int32_t kAvx512ForwardMinWidth = 9;
constexpr int32_t kAvx512BackwardWeightMinWidth = 28;

PaddedKernels pick() {
#if defined(WTCONV_PADDED_KERNEL_VARIANTS)
  switch (detect_isa_variant()) {
    case IsaVariant::kAvx512:
      return {avx512::dwconv2d_padded_forward, avx512::dwconv2d_padded_backward_weight, avx2::dwconv2d_padded_forward,
              avx2::dwconv2d_padded_backward_weight};
    case IsaVariant::kAvx2:
      return {avx2::dwconv2d_padded_forward, avx2::dwconv2d_padded_backward_weight, avx2::dwconv2d_padded_forward,
              avx2::dwconv2d_padded_backward_weight};
    case IsaVariant::kBaseline: break;
  }
#endif
  return {baseline::dwconv2d_padded_forward, baseline::dwconv2d_padded_backward_weight,
          baseline::dwconv2d_padded_forward, baseline::dwconv2d_padded_backward_weight};
}

const PaddedKernels& kernels() {
  static const PaddedKernels chosen = pick();
  return chosen;
}

}  // namespace

// Row by row with the inline vector copy (in WebAssembly a memcpy of 512 bytes
// or more calls out to JavaScript; either measured the same speed there).
void copy_into_interior(const PaddedPlane& dst, const float* src, int32_t rows, int32_t cols) {
  for (int32_t y = 0; y < rows; ++y) {
    simd::copy_floats(dst.interior() + static_cast<size_t>(y) * dst.stride, src + static_cast<size_t>(y) * cols,
                      static_cast<size_t>(cols));
  }
}

void dwconv2d_padded_forward(const PaddedPlane& in, int32_t k, const float* weight, float scale,
                             float* out, int32_t out_stride) {
  const PaddedKernels& kk = kernels();
  (in.w >= kAvx512ForwardMinWidth ? kk.forward : kk.forward_narrow)(in, k, weight, scale, out, out_stride);
}

void dwconv2d_padded_backward_weight(const PaddedPlane& in, int32_t k, const float* grad_out,
                                     int32_t go_stride, double* grad_weight) {
  const PaddedKernels& kk = kernels();
  (in.w >= kAvx512BackwardWeightMinWidth ? kk.backward_weight : kk.backward_weight_narrow)(in, k, grad_out, go_stride,
                                                                                          grad_weight);
}

}  // namespace wtconv
