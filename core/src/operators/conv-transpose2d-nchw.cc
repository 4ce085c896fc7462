// conv_transpose2d, NCHW, PyTorch's F.conv_transpose2d: the adjoint of conv2d.
// With the geometry of the conv2d that maps y's space to x's, the forward pass
// is that conv's input gradient (GEMM then fold), and the backward passes are
// its forward (grad x) and its weight gradient (grad weight); see
// conv-gemm-nd.cc. weight is (in, out / groups, kh, kw) as in PyTorch.
#include "conv-gemm-nd.h"

namespace wtconv {
namespace {

wtconv_status geometry(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh,
                       int32_t kw, int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t oph,
                       int32_t opw, int32_t dh, int32_t dw, int32_t groups, ConvGeometry* g) {
  if (n < 1 || cin < 1 || h < 1 || w < 1 || cout < 1 || kh < 1 || kw < 1) {
    return fail(WTCONV_E_SHAPE, "conv_transpose2d: expected positive sizes, got x (%d, %d, %d, %d), %d output channels, kernel %dx%d",
                n, cin, h, w, cout, kh, kw);
  }
  if (sh < 1 || sw < 1) return fail(WTCONV_E_ARG, "stride: expected positive values, got (%d, %d)", sh, sw);
  if (dh < 1 || dw < 1) return fail(WTCONV_E_ARG, "dilation: expected positive values, got (%d, %d)", dh, dw);
  if (ph < 0 || pw < 0) return fail(WTCONV_E_ARG, "padding: expected non-negative values, got (%d, %d)", ph, pw);
  if (oph < 0 || opw < 0 || (oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)) {
    return fail(WTCONV_E_ARG, "output_padding: expected non-negative values smaller than stride or dilation, got (%d, %d)",
                oph, opw);
  }
  const int64_t oh = static_cast<int64_t>(h - 1) * sh - 2 * static_cast<int64_t>(ph) +
                     static_cast<int64_t>(dh) * (kh - 1) + oph + 1;
  const int64_t ow = static_cast<int64_t>(w - 1) * sw - 2 * static_cast<int64_t>(pw) +
                     static_cast<int64_t>(dw) * (kw - 1) + opw + 1;
  if (oh < 1 || ow < 1 || oh > INT32_MAX || ow > INT32_MAX) {
    return fail(WTCONV_E_SHAPE, "conv_transpose2d: the output size %lldx%lld is not positive (padding too large)",
                static_cast<long long>(oh), static_cast<long long>(ow));
  }
  // The conv2d from y's space (cout channels) to x's (cin channels).
  const int32_t in[3] = {1, static_cast<int32_t>(oh), static_cast<int32_t>(ow)};
  const int32_t kernel[3] = {1, kh, kw}, stride[3] = {1, sh, sw};
  const int32_t pad[3] = {0, ph, pw}, dilation[3] = {1, dh, dw};
  WTCONV_CHECK(make_conv_geometry(2, n, cout, in, cin, kernel, stride, pad, dilation, groups, g));
  if (g->out[1] < h || g->out[2] < w) {
    return fail(WTCONV_E_INTERNAL, "conv_transpose2d: inconsistent geometry");
  }
  g->out[1] = h;  // output padding adds rows / columns no x position reaches
  g->out[2] = w;
  return ok();
}

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_conv_transpose2d_forward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* bias, float* y) {
  ConvGeometry g;
  WTCONV_CHECK(geometry(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, output_pad_h,
                        output_pad_w, dilation_h, dilation_w, groups, &g));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(y, "y"));
  WTCONV_CHECK(conv_backward_input_nd(g, x, weight, y));
  if (bias != nullptr) WTCONV_CHECK(add_channel_bias(n, cout, g.in_plane(), bias, y));
  return ok();
}

wtconv_status wtconv_conv_transpose2d_backward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* grad_y, float* grad_x, float* grad_weight,
    float* grad_bias) {
  ConvGeometry g;
  WTCONV_CHECK(geometry(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, output_pad_h,
                        output_pad_w, dilation_h, dilation_w, groups, &g));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  if (grad_x != nullptr) WTCONV_CHECK(conv_forward_nd(g, grad_y, weight, nullptr, grad_x));
  if (grad_weight != nullptr) WTCONV_CHECK(conv_backward_weight_nd(g, grad_y, x, grad_weight));
  if (grad_bias != nullptr) WTCONV_CHECK(channel_sum(n, cout, g.in_plane(), grad_y, grad_bias));
  return ok();
}

}  // extern "C"
