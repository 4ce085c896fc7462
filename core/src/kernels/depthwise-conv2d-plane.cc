#include "depthwise-conv2d-plane.h"

#include <cstring>

#include "../common.h"

namespace wtconv {

namespace {

// Output columns [lo, hi) whose input column ox*stride + offset lies in [0, in_w).
struct Span {
  int32_t lo, hi;
};

inline Span valid_span(int32_t offset, int32_t stride, int32_t in_w, int32_t out_w) {
  const int32_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int32_t last = in_w - 1 - offset;  // ox * stride <= last
  int32_t hi = last < 0 ? 0 : last / stride + 1;
  if (hi > out_w) hi = out_w;
  return {lo, hi < lo ? lo : hi};
}

}  // namespace

WTCONV_MULTIVERSION
void dwconv2d_plane_forward(const PlaneConvGeometry& g, const float* in, const float* weight,
                            float* out) {
  const int32_t sw = g.stride_w;
  for (int32_t oy = 0; oy < g.out_h; ++oy) {
    float* __restrict row = out + g.out_row(oy);
    std::memset(row, 0, sizeof(float) * g.out_w);
    for (int32_t ky = 0; ky < g.kh; ++ky) {
      const int32_t iy = oy * g.stride_h - g.pad_top + ky;
      if (iy < 0 || iy >= g.in_h) continue;
      const float* __restrict in_row = in + g.in_row(iy);
      for (int32_t kx = 0; kx < g.kw; ++kx) {
        const float wv = weight[ky * g.kw + kx];
        const int32_t offset = kx - g.pad_left;
        const Span s = valid_span(offset, sw, g.in_w, g.out_w);
        if (sw == 1) {
          for (int32_t ox = s.lo; ox < s.hi; ++ox) row[ox] += wv * in_row[ox + offset];
        } else {
          for (int32_t ox = s.lo; ox < s.hi; ++ox) row[ox] += wv * in_row[ox * sw + offset];
        }
      }
    }
  }
}

WTCONV_MULTIVERSION
void dwconv2d_plane_backward_input(const PlaneConvGeometry& g, const float* grad_out,
                                   const float* weight, float* grad_in) {
  const int32_t sw = g.stride_w;
  for (int32_t oy = 0; oy < g.out_h; ++oy) {
    const float* __restrict go_row = grad_out + g.out_row(oy);
    for (int32_t ky = 0; ky < g.kh; ++ky) {
      const int32_t iy = oy * g.stride_h - g.pad_top + ky;
      if (iy < 0 || iy >= g.in_h) continue;
      float* __restrict gi_row = grad_in + g.in_row(iy);
      for (int32_t kx = 0; kx < g.kw; ++kx) {
        const float wv = weight[ky * g.kw + kx];
        const int32_t offset = kx - g.pad_left;
        const Span s = valid_span(offset, sw, g.in_w, g.out_w);
        if (sw == 1) {
          for (int32_t ox = s.lo; ox < s.hi; ++ox) gi_row[ox + offset] += wv * go_row[ox];
        } else {
          for (int32_t ox = s.lo; ox < s.hi; ++ox) gi_row[ox * sw + offset] += wv * go_row[ox];
        }
      }
    }
  }
}

WTCONV_MULTIVERSION
void dwconv2d_plane_backward_weight(const PlaneConvGeometry& g, const float* in,
                                    const float* grad_out, double* grad_weight) {
  const int32_t sw = g.stride_w;
  for (int32_t oy = 0; oy < g.out_h; ++oy) {
    const float* __restrict go_row = grad_out + g.out_row(oy);
    for (int32_t ky = 0; ky < g.kh; ++ky) {
      const int32_t iy = oy * g.stride_h - g.pad_top + ky;
      if (iy < 0 || iy >= g.in_h) continue;
      const float* __restrict in_row = in + g.in_row(iy);
      for (int32_t kx = 0; kx < g.kw; ++kx) {
        const int32_t offset = kx - g.pad_left;
        const Span s = valid_span(offset, sw, g.in_w, g.out_w);
        float partial = 0.0f;
        for (int32_t ox = s.lo; ox < s.hi; ++ox) partial += go_row[ox] * in_row[ox * sw + offset];
        grad_weight[ky * g.kw + kx] += partial;
      }
    }
  }
}

}  // namespace wtconv
