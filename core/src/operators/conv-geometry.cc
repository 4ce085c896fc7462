// Geometry of conv1d / conv2d / conv3d (PyTorch's F.conv*d): the checks on
// their arguments and the output sizes, shared by the CPU operators
// (conv-gemm-nd.cc) and the CUDA ones (cuda/src/ops.h).
#include "conv-geometry.h"

namespace wtconv {
namespace {

// Rows of the unfolded input (in_channels / groups x taps): bounds every
// scratch size sized from them (kMaxRows x nr floats in the GEMM path) so none
// can overflow, even in wasm32.
constexpr size_t kMaxRows = size_t{1} << 22;

}  // namespace

wtconv_status make_conv_geometry(int32_t dims, int32_t batch, int32_t in_channels,
                                 const int32_t in[3], int32_t out_channels,
                                 const int32_t kernel[3], const int32_t stride[3],
                                 const int32_t pad[3], const int32_t dilation[3], int32_t groups,
                                 ConvGeometry* g) {
  if (dims < 1 || dims > 3) return fail(WTCONV_E_ARG, "dims: expected 1, 2 or 3, got %d", dims);
  if (batch < 1 || in_channels < 1 || out_channels < 1) {
    return fail(WTCONV_E_SHAPE, "x / weight: expected positive batch and channel counts, got N=%d, C_in=%d, C_out=%d",
                batch, in_channels, out_channels);
  }
  if (groups < 1) return fail(WTCONV_E_ARG, "groups: expected a positive integer, got %d", groups);
  if (in_channels % groups != 0 || out_channels % groups != 0) {
    return fail(WTCONV_E_ARG, "groups: %d does not divide in_channels %d and out_channels %d", groups,
                in_channels, out_channels);
  }
  ConvGeometry r{};
  r.batch = batch;
  r.groups = groups;
  r.in_channels = in_channels;
  r.out_channels = out_channels;
  for (int a = 0; a < 3; ++a) {
    const bool used = a >= 3 - dims;
    if (!used) {
      if (in[a] != 1 || kernel[a] != 1 || stride[a] != 1 || pad[a] != 0 || dilation[a] != 1) {
        return fail(WTCONV_E_INTERNAL, "unused axis %d of a %d-D convolution is not trivial", a, dims);
      }
    }
    if (in[a] < 1) return fail(WTCONV_E_SHAPE, "x: expected positive spatial sizes, got %d on axis %d", in[a], a - (3 - dims));
    if (kernel[a] < 1) return fail(WTCONV_E_SHAPE, "weight: expected positive kernel sizes, got %d", kernel[a]);
    if (stride[a] < 1) return fail(WTCONV_E_ARG, "stride: expected positive values, got %d", stride[a]);
    if (pad[a] < 0) return fail(WTCONV_E_ARG, "padding: expected non-negative values, got %d", pad[a]);
    if (dilation[a] < 1) return fail(WTCONV_E_ARG, "dilation: expected positive values, got %d", dilation[a]);
    const int64_t padded = static_cast<int64_t>(in[a]) + 2 * static_cast<int64_t>(pad[a]);
    const int64_t span = static_cast<int64_t>(dilation[a]) * (kernel[a] - 1) + 1;
    // Positions in the padded input (and the unfolding windows over it) are int32.
    if (padded >= INT32_MAX) {
      return fail(WTCONV_E_SHAPE, "x: the padded input spans %lld positions on axis %d, more than the supported 2^31 - 2",
                  static_cast<long long>(padded), a - (3 - dims));
    }
    if (span > padded) {
      return fail(WTCONV_E_SHAPE, "weight: dilated kernel size %lld is larger than the padded input %lld",
                  static_cast<long long>(span), static_cast<long long>(padded));
    }
    r.in[a] = in[a];
    r.kernel[a] = kernel[a];
    r.stride[a] = stride[a];
    r.pad[a] = pad[a];
    r.dilation[a] = dilation[a];
    r.out[a] = static_cast<int32_t>((padded - span) / stride[a] + 1);
  }
  size_t bytes = 0;
  if (!checked_product({batch, in_channels, r.in[0], r.in[1], r.in[2], 16}, &bytes) ||
      !checked_product({batch, out_channels, r.out[0], r.out[1], r.out[2], 16}, &bytes) ||
      !checked_product({out_channels, in_channels / groups, r.kernel[0], r.kernel[1], r.kernel[2], 16}, &bytes)) {
    return fail(WTCONV_E_OOM, "conv: the tensors need more memory than this backend can address");
  }
  if (r.in[0] * static_cast<int64_t>(r.in[1]) * r.in[2] > INT32_MAX ||
      r.out[0] * static_cast<int64_t>(r.out[1]) * r.out[2] > INT32_MAX) {
    return fail(WTCONV_E_SHAPE, "x: a spatial plane of more than 2^31 - 1 positions is not supported");
  }
  size_t rows = 0;
  if (!checked_product({in_channels / groups, r.kernel[0], r.kernel[1], r.kernel[2]}, &rows) ||
      rows > kMaxRows) {
    return fail(WTCONV_E_SHAPE, "weight: in_channels / groups x kernel taps is %zu, more than the supported %zu",
                rows, kMaxRows);
  }
  *g = r;
  return ok();
}

wtconv_status conv1d_geometry(int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k, int32_t s, int32_t p,
                              int32_t d, int32_t groups, ConvGeometry* g) {
  const int32_t in[3] = {1, 1, l}, kernel[3] = {1, 1, k}, stride[3] = {1, 1, s};
  const int32_t pad[3] = {0, 0, p}, dilation[3] = {1, 1, d};
  return make_conv_geometry(1, n, cin, in, cout, kernel, stride, pad, dilation, groups, g);
}

wtconv_status conv2d_geometry(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
                              int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t dh, int32_t dw, int32_t groups,
                              ConvGeometry* g) {
  const int32_t in[3] = {1, h, w}, kernel[3] = {1, kh, kw}, stride[3] = {1, sh, sw};
  const int32_t pad[3] = {0, ph, pw}, dilation[3] = {1, dh, dw};
  return make_conv_geometry(2, n, cin, in, cout, kernel, stride, pad, dilation, groups, g);
}

wtconv_status conv3d_geometry(int32_t n, int32_t cin, int32_t d, int32_t h, int32_t w, int32_t cout, int32_t kd,
                              int32_t kh, int32_t kw, int32_t sd, int32_t sh, int32_t sw, int32_t pd, int32_t ph,
                              int32_t pw, int32_t dd, int32_t dh, int32_t dw, int32_t groups, ConvGeometry* g) {
  const int32_t in[3] = {d, h, w}, kernel[3] = {kd, kh, kw}, stride[3] = {sd, sh, sw};
  const int32_t pad[3] = {pd, ph, pw}, dilation[3] = {dd, dh, dw};
  return make_conv_geometry(3, n, cin, in, cout, kernel, stride, pad, dilation, groups, g);
}

wtconv_status conv_transpose2d_geometry(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh,
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

}  // namespace wtconv
