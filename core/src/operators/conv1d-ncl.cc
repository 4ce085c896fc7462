// conv1d, NCL, PyTorch's F.conv1d: unfold -> GEMM -> fold (conv-gemm-nd.cc).
#include "conv-gemm-nd.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_conv1d_forward(int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k,
                                    int32_t stride, int32_t pad, int32_t dilation, int32_t groups,
                                    const float* x, const float* weight, const float* bias,
                                    float* y) {
  ConvGeometry g;
  WTCONV_CHECK(conv1d_geometry(n, cin, l, cout, k, stride, pad, dilation, groups, &g));
  return run_conv_forward(g, x, weight, bias, y);
}

wtconv_status wtconv_conv1d_backward(int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k,
                                     int32_t stride, int32_t pad, int32_t dilation,
                                     int32_t groups, const float* x, const float* weight,
                                     const float* grad_y, float* grad_x, float* grad_weight,
                                     float* grad_bias) {
  ConvGeometry g;
  WTCONV_CHECK(conv1d_geometry(n, cin, l, cout, k, stride, pad, dilation, groups, &g));
  return run_conv_backward(g, x, weight, grad_y, grad_x, grad_weight, grad_bias);
}

}  // extern "C"
