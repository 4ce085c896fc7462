// Vectorised microkernels of a stride-1 depthwise convolution over one plane
// whose input already carries its zero halo (a "padded plane"), so the inner
// loops have no bounds checks. Outputs are computed a vector of columns at a
// time; rows of the padded input are long enough for the last, partial, vector
// of the widest variant: see PaddedPlane.
//
// The kernels are one template (depthwise-conv2d-padded.inc) built once per ISA
// (depthwise-conv2d-padded-{avx512,avx2,baseline}.cc, each with its own vector
// width) and picked at run time by the functions below.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wtconv {

// Padded rows are multiples of this many floats: the widest variant's vector.
#if defined(__wasm__)
constexpr int32_t kPaddedPlaneAlign = 4;
#else
constexpr int32_t kPaddedPlaneAlign = 16;
#endif

// A plane of (h, w) values inside a zero halo of `top`/`left` rows/columns
// before and enough rows/columns after for a k x k window; rows hold `stride`
// floats. `interior()` is element (0, 0). Its storage, floats(), ends with one
// vector past the last row, which kernels reading whole vectors from the end of
// a row may load (and not use).
struct PaddedPlane {
  float* data;
  int32_t h, w, top, left, rows, stride;

  float* interior() const { return data + static_cast<size_t>(top) * stride + left; }
  size_t floats() const { return static_cast<size_t>(rows) * stride + kPaddedPlaneAlign; }

  // Geometry for a k x k window whose halo is `before` rows/columns before the
  // interior and k - 1 - before after it.
  static PaddedPlane layout(int32_t h, int32_t w, int32_t k, int32_t before) {
    const int32_t lanes = kPaddedPlaneAlign;
    const int32_t vector_w = (w + lanes - 1) / lanes * lanes;
    const int32_t stride = (vector_w + k - 1 + lanes - 1) / lanes * lanes;
    return PaddedPlane{nullptr, h, w, before, before, h + k - 1, stride};
  }
};

// The dense (rows, cols) plane src into dst from its interior's corner (rows
// and cols may run into the halo); the rest is left as it is.
void copy_into_interior(const PaddedPlane& dst, const float* src, int32_t rows, int32_t cols);

// out[y][x] = scale * sum_{ky,kx} weight[ky*k+kx] * in[y+ky][x+kx] for y < in.h, x < in.w,
// with `in` indexed from its halo's corner. `out` rows hold out_stride floats.
void dwconv2d_padded_forward(const PaddedPlane& in, int32_t k, const float* weight, float scale,
                             float* out, int32_t out_stride);

// grad_weight[ky*k+kx] += sum_{y,x} grad_out[y][x] * in[y+ky][x+kx] over y < in.h, x < in.w.
// grad_out rows hold go_stride floats and must be zero from column in.w up to
// the next multiple of kPaddedPlaneAlign.
void dwconv2d_padded_backward_weight(const PaddedPlane& in, int32_t k, const float* grad_out,
                                     int32_t go_stride, double* grad_weight);

// The ISA variants (same contract); the functions above pick one at run time.
#define WTCONV_DECLARE_PADDED_KERNELS(isa)                                                         \
  namespace isa {                                                                                 \
  void dwconv2d_padded_forward(const PaddedPlane& in, int32_t k, const float* weight, float scale, \
                               float* out, int32_t out_stride);                                   \
  void dwconv2d_padded_backward_weight(const PaddedPlane& in, int32_t k, const float* grad_out,    \
                                       int32_t go_stride, double* grad_weight);                   \
  }
WTCONV_DECLARE_PADDED_KERNELS(baseline)
#if defined(WTCONV_PADDED_KERNEL_VARIANTS)
WTCONV_DECLARE_PADDED_KERNELS(avx2)
WTCONV_DECLARE_PADDED_KERNELS(avx512)
#endif
#undef WTCONV_DECLARE_PADDED_KERNELS

}  // namespace wtconv
