// Geometry of conv1d / conv2d / conv3d: argument checks and output sizes
// (conv-geometry.cc), shared by the CPU and CUDA operators.
#pragma once

#include "../kernels/im2col-nd.h"
#include "validate.h"

namespace wtconv {

// Validates the arguments of a `dims`-axis convolution (the last `dims` of the
// 3 entries of each array are used; the others must be 1 / 0) and fills `g`
// with PyTorch's output size floor((in + 2p - d(k-1) - 1) / s) + 1.
wtconv_status make_conv_geometry(int32_t dims, int32_t batch, int32_t in_channels,
                                 const int32_t in[3], int32_t out_channels,
                                 const int32_t kernel[3], const int32_t stride[3],
                                 const int32_t pad[3], const int32_t dilation[3], int32_t groups,
                                 ConvGeometry* g);

// make_conv_geometry for the argument lists of the C ABI's conv1d / conv2d / conv3d.
wtconv_status conv1d_geometry(int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k, int32_t s, int32_t p,
                              int32_t d, int32_t groups, ConvGeometry* g);
wtconv_status conv2d_geometry(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
                              int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t dh, int32_t dw, int32_t groups,
                              ConvGeometry* g);
wtconv_status conv3d_geometry(int32_t n, int32_t cin, int32_t d, int32_t h, int32_t w, int32_t cout, int32_t kd,
                              int32_t kh, int32_t kw, int32_t sd, int32_t sh, int32_t sw, int32_t pd, int32_t ph,
                              int32_t pw, int32_t dd, int32_t dh, int32_t dw, int32_t groups, ConvGeometry* g);
// conv_transpose2d (x (n, cin, h, w), weight (cin, cout / groups, kh, kw)) as
// the adjoint of a conv2d: `g` is the geometry of the conv2d that maps the
// transposed conv's output space (cout channels, its output size) to x's
// space (cin channels, h x w), whose input gradient is the transposed conv.
wtconv_status conv_transpose2d_geometry(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh,
                                        int32_t kw, int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t oph,
                                        int32_t opw, int32_t dh, int32_t dw, int32_t groups, ConvGeometry* g);

// A 2-D conv with groups == in == out channels and no dilation: conv2d runs it
// through the direct depthwise kernels (large kernels without an unfolding).
inline bool is_direct_depthwise(const ConvGeometry& g) {
  return g.groups == g.in_channels && g.groups == g.out_channels && g.dilation[1] == 1 && g.dilation[2] == 1;
}

}  // namespace wtconv
