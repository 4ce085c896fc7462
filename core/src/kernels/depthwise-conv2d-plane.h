// Microkernels over one (H, W) plane of a depthwise 2-D convolution with
// stride and zero padding. The DWT is the same operation with stride 2 and a
// fixed filter per band, so these kernels serve both.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wtconv {

struct PlaneConvGeometry {
  int32_t in_h, in_w;       // input plane
  int32_t kh, kw;           // kernel
  int32_t pad_top, pad_left;
  int32_t stride_h, stride_w;
  int32_t out_h, out_w;     // output plane (sets the bottom / right padding)
  int32_t in_stride = 0;    // floats per input row; 0: in_w (compact)
  int32_t out_stride = 0;   // floats per output row; 0: out_w (compact)

  size_t in_row(int32_t y) const { return static_cast<size_t>(y) * (in_stride ? in_stride : in_w); }
  size_t out_row(int32_t y) const { return static_cast<size_t>(y) * (out_stride ? out_stride : out_w); }
};

// out[oy][ox] = sum_{ky,kx} weight[ky*kw+kx] * in[oy*sh - pt + ky][ox*sw - pl + kx],
// zeros outside the input. `out` is overwritten.
void dwconv2d_plane_forward(const PlaneConvGeometry& g, const float* in, const float* weight,
                            float* out);

// The adjoint of dwconv2d_plane_forward (a transposed convolution):
// grad_in += forward^T(grad_out). `grad_in` is accumulated into.
void dwconv2d_plane_backward_input(const PlaneConvGeometry& g, const float* grad_out,
                                   const float* weight, float* grad_in);

// grad_weight[ky*kw+kx] += sum_{oy,ox} grad_out[oy][ox] * in[oy*sh - pt + ky][ox*sw - pl + kx].
void dwconv2d_plane_backward_weight(const PlaneConvGeometry& g, const float* in,
                                    const float* grad_out, double* grad_weight);

}  // namespace wtconv
