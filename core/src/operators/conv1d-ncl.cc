// conv1d, NCL, PyTorch's F.conv1d: unfold -> GEMM -> fold (conv-gemm-nd.cc).
#include "conv-gemm-nd.h"

namespace wtconv {
namespace {

wtconv_status geometry(int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k, int32_t s,
                       int32_t p, int32_t d, int32_t groups, ConvGeometry* g) {
  const int32_t in[3] = {1, 1, l}, kernel[3] = {1, 1, k}, stride[3] = {1, 1, s};
  const int32_t pad[3] = {0, 0, p}, dilation[3] = {1, 1, d};
  return make_conv_geometry(1, n, cin, in, cout, kernel, stride, pad, dilation, groups, g);
}

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_conv1d_forward(int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k,
                                    int32_t stride, int32_t pad, int32_t dilation, int32_t groups,
                                    const float* x, const float* weight, const float* bias,
                                    float* y) {
  ConvGeometry g;
  WTCONV_CHECK(geometry(n, cin, l, cout, k, stride, pad, dilation, groups, &g));
  return run_conv_forward(g, x, weight, bias, y);
}

wtconv_status wtconv_conv1d_backward(int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k,
                                     int32_t stride, int32_t pad, int32_t dilation,
                                     int32_t groups, const float* x, const float* weight,
                                     const float* grad_y, float* grad_x, float* grad_weight,
                                     float* grad_bias) {
  ConvGeometry g;
  WTCONV_CHECK(geometry(n, cin, l, cout, k, stride, pad, dilation, groups, &g));
  return run_conv_backward(g, x, weight, grad_y, grad_x, grad_weight, grad_bias);
}

}  // extern "C"
