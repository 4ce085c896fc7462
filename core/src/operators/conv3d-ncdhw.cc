// conv3d, NCDHW, PyTorch's F.conv3d: unfold -> GEMM -> fold (conv-gemm-nd.cc).
#include "conv-gemm-nd.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_conv3d_forward(int32_t n, int32_t cin, int32_t d, int32_t h, int32_t w,
                                    int32_t cout, int32_t kd, int32_t kh, int32_t kw,
                                    int32_t stride_d, int32_t stride_h, int32_t stride_w,
                                    int32_t pad_d, int32_t pad_h, int32_t pad_w,
                                    int32_t dilation_d, int32_t dilation_h, int32_t dilation_w,
                                    int32_t groups, const float* x, const float* weight,
                                    const float* bias, float* y) {
  ConvGeometry g;
  WTCONV_CHECK(conv3d_geometry(n, cin, d, h, w, cout, kd, kh, kw, stride_d, stride_h, stride_w, pad_d,
                               pad_h, pad_w, dilation_d, dilation_h, dilation_w, groups, &g));
  return run_conv_forward(g, x, weight, bias, y);
}

wtconv_status wtconv_conv3d_backward(int32_t n, int32_t cin, int32_t d, int32_t h, int32_t w,
                                     int32_t cout, int32_t kd, int32_t kh, int32_t kw,
                                     int32_t stride_d, int32_t stride_h, int32_t stride_w,
                                     int32_t pad_d, int32_t pad_h, int32_t pad_w,
                                     int32_t dilation_d, int32_t dilation_h, int32_t dilation_w,
                                     int32_t groups, const float* x, const float* weight,
                                     const float* grad_y, float* grad_x, float* grad_weight,
                                     float* grad_bias) {
  ConvGeometry g;
  WTCONV_CHECK(conv3d_geometry(n, cin, d, h, w, cout, kd, kh, kw, stride_d, stride_h, stride_w, pad_d,
                               pad_h, pad_w, dilation_d, dilation_h, dilation_w, groups, &g));
  return run_conv_backward(g, x, weight, grad_y, grad_x, grad_weight, grad_bias);
}

}  // extern "C"
