// conv2d, NCHW, PyTorch's F.conv2d: stride, padding, dilation, groups, bias.
// Depthwise convolutions (groups == in == out channels, no dilation) take the
// direct plane kernels of depthwise-conv2d-nchw.cc, which suit large kernels;
// 3x3 stride-1 convolutions over enough channels run in Winograd form, forward
// and for the input gradient (F(2x2, 3x3): 16 products per 2x2 output block
// instead of 36; winograd-nchw.h), and so does the forward of a stride-s conv
// whose kernel is 2s (F(2x2, 2x2) over the s x s sampled planes of x); the weight gradient of a kernel a multiple
// of the stride in sub-pixel form (weight-grad-phases-nchw.h);
// everything else goes unfold -> GEMM -> fold (conv-gemm-nd.cc).
#include "conv-gemm-nd.h"
#include "weight-grad-phases-nchw.h"
#include "winograd-nchw.h"

namespace wtconv {
namespace {

// Below this many summed channels per group the transforms cost more than the
// products they save.
constexpr int32_t kWinogradMinChannels = 8;

// A 3x3 stride-1 conv in Winograd form summing over `summed` channels into
// `produced` ones (per group), whose transformed weights fit their budget.
bool winograd_applies(const ConvGeometry& g, int32_t summed, int32_t produced) {
  return g.kernel[1] == 3 && g.kernel[2] == 3 && g.stride[1] == 1 && g.stride[2] == 1 && g.dilation[1] == 1 &&
         g.dilation[2] == 1 && summed >= kWinogradMinChannels &&
         winograd_weight_floats(gemm_microkernel(), g.groups, 16, produced, summed) != 0;
}

wtconv_status conv2d_winograd(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                              float* y) {
  const int32_t cin_g = g.in_per_group(), cout_g = g.out_per_group();
  const WinogradGrid grid{-g.pad[1], -g.pad[2], 0, 0, 1, 1, g.out[1], g.out[2]};
  auto filter = [&](int32_t grp, int32_t, int32_t o, int32_t c, float* u, size_t stride) {
    WinogradF2K3::filter(weight + ((static_cast<size_t>(grp) * cout_g + o) * cin_g + c) * 9, u, stride);
  };
  WinogradShape shape{g.batch, g.in_channels, g.in[1], g.in[2], g.out_channels, g.out[1], g.out[2], g.groups, 1};
  shape.weight = weight;  // U kept across calls: row o of the weight is its cin_g x 3 x 3 taps
  shape.weight_row_floats = static_cast<size_t>(cin_g) * 9;
  shape.filter_key = static_cast<uint64_t>(WinogradForm::kConv2dForward);
  return winograd_conv_nchw<WinogradF2K3>(shape, x, bias, y, [&](int32_t) { return grid; }, filter);
}

// A conv of stride s > 1 whose kernel is 2s (no dilation): F(2x2, 2x2) over the
// s x s sampled planes of x (winograd_strided_conv_nchw; 9 products per 2x2
// output block instead of 4 x s^2 x 4).
bool strided_winograd_applies(const ConvGeometry& g) {
  const int32_t sh = g.stride[1], sw = g.stride[2];
  return g.kernel[1] == 2 * sh && g.kernel[2] == 2 * sw && (sh > 1 || sw > 1) && g.dilation[1] == 1 &&
         g.dilation[2] == 1 && sh * sw * g.in_per_group() >= kWinogradMinChannels &&
         winograd_weight_floats(gemm_microkernel(), g.groups, 9, g.out_per_group(), sh * sw * g.in_per_group()) != 0;
}

wtconv_status conv2d_winograd_strided(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                                      float* y) {
  const int32_t cin_g = g.in_per_group(), cout_g = g.out_per_group();
  const int32_t sh = g.stride[1], sw = g.stride[2];
  const size_t taps = static_cast<size_t>(4) * sh * sw;
  WinogradShape shape{g.batch, g.in_channels, g.in[1], g.in[2], g.out_channels, g.out[1], g.out[2], g.groups, 1};
  shape.weight = weight;  // U kept across calls: row o of the weight is its cin_g x kh x kw taps
  shape.weight_row_floats = static_cast<size_t>(cin_g) * taps;
  const uint64_t form = static_cast<uint64_t>(WinogradForm::kConv2dStridedForward);
  shape.filter_key = key_combine(key_combine(form, static_cast<uint64_t>(sh)), static_cast<uint64_t>(sw));
  auto taps_of = [&](int32_t grp, int32_t o, int32_t c) {
    return weight + ((static_cast<size_t>(grp) * cout_g + o) * cin_g + c) * taps;
  };
  return winograd_strided_conv_nchw(shape, sh, sw, g.pad[1], g.pad[2], x, bias, y, taps_of);
}

// The input gradient of a 3x3 stride-1 conv is again one: grad_x[c][i][j] =
// sum over o, t, u of grad_y[o][i + p - 2 + t][j + p - 2 + u] * w[o][c][2 - t][2 - u]
// (the weight turned by 180 degrees, its channels swapped, padding 2 - p).
wtconv_status conv2d_winograd_backward_input(const ConvGeometry& g, const float* grad_y, const float* weight,
                                             float* grad_x) {
  const int32_t cin_g = g.in_per_group(), cout_g = g.out_per_group();
  const WinogradGrid grid{g.pad[1] - 2, g.pad[2] - 2, 0, 0, 1, 1, g.in[1], g.in[2]};
  auto filter = [&](int32_t grp, int32_t, int32_t c, int32_t o, float* u, size_t stride) {
    const float* k = weight + ((static_cast<size_t>(grp) * cout_g + o) * cin_g + c) * 9;
    const float turned[9] = {k[8], k[7], k[6], k[5], k[4], k[3], k[2], k[1], k[0]};
    WinogradF2K3::filter(turned, u, stride);
  };
  WinogradShape shape{g.batch, g.out_channels, g.out[1], g.out[2], g.in_channels, g.in[1], g.in[2], g.groups, 1};
  shape.summed_major = true;  // the summed rows are weight's output channels, its outer index
  return winograd_conv_nchw<WinogradF2K3>(shape, grad_y, nullptr, grad_x, [&](int32_t) { return grid; }, filter);
}

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_conv2d_forward(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout,
                                    int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                                    int32_t pad_h, int32_t pad_w, int32_t dilation_h,
                                    int32_t dilation_w, int32_t groups, const float* x,
                                    const float* weight, const float* bias, float* y) {
  ConvGeometry g;
  WTCONV_CHECK(conv2d_geometry(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, dilation_h,
                               dilation_w, groups, &g));
  if (is_direct_depthwise(g)) {
    return wtconv_depthwise_conv2d_forward(n, cin, h, w, kh, kw, pad_h, pad_w, pad_h, pad_w,
                                           stride_h, stride_w, x, weight, bias, y);
  }
  if (winograd_applies(g, g.in_per_group(), g.out_per_group())) {
    WTCONV_CHECK(check_pointer(x, "x"));
    WTCONV_CHECK(check_pointer(weight, "weight"));
    WTCONV_CHECK(check_pointer(y, "y"));
    return conv2d_winograd(g, x, weight, bias, y);
  }
  if (strided_winograd_applies(g)) {
    WTCONV_CHECK(check_pointer(x, "x"));
    WTCONV_CHECK(check_pointer(weight, "weight"));
    WTCONV_CHECK(check_pointer(y, "y"));
    return conv2d_winograd_strided(g, x, weight, bias, y);
  }
  return run_conv_forward(g, x, weight, bias, y);
}

wtconv_status wtconv_conv2d_backward(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout,
                                     int32_t kh, int32_t kw, int32_t stride_h, int32_t stride_w,
                                     int32_t pad_h, int32_t pad_w, int32_t dilation_h,
                                     int32_t dilation_w, int32_t groups, const float* x,
                                     const float* weight, const float* grad_y, float* grad_x,
                                     float* grad_weight, float* grad_bias) {
  ConvGeometry g;
  WTCONV_CHECK(conv2d_geometry(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, dilation_h,
                               dilation_w, groups, &g));
  if (is_direct_depthwise(g)) {
    return wtconv_depthwise_conv2d_backward(n, cin, h, w, kh, kw, pad_h, pad_w, pad_h, pad_w,
                                            stride_h, stride_w, x, weight, grad_y, grad_x,
                                            grad_weight, grad_bias);
  }
  if (grad_x != nullptr && winograd_applies(g, g.out_per_group(), g.in_per_group())) {
    WTCONV_CHECK(check_pointer(weight, "weight"));
    WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
    WTCONV_CHECK(conv2d_winograd_backward_input(g, grad_y, weight, grad_x));
    grad_x = nullptr;  // done
  }
  // grad_y is the dense operand of the weight gradient in sub-pixel form, x the sampled one.
  const WeightGradPhases phases{n, groups, cout, g.out[1], g.out[2], cin, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w};
  PhasePlanes pp;
  if (grad_weight != nullptr && weight_grad_phases_plan(phases, dilation_h, dilation_w, &pp)) {
    WTCONV_CHECK(check_pointer(x, "x"));
    WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
    WTCONV_CHECK(weight_grad_phases(phases, pp, grad_y, x, grad_weight));
    grad_weight = nullptr;  // done
  }
  return run_conv_backward(g, x, weight, grad_y, grad_x, grad_weight, grad_bias);
}

}  // extern "C"
