// One level of the 2-D wavelet transform on one (h, w) plane, as strided
// depthwise convolutions (SPEC section 1):
//   analyze:    bands (4, ceil(h/2), ceil(w/2)) = conv2d(plane, filters, stride 2, pad F/2-1),
//               the plane zero-extended to even size;
//   synthesize: plane (h, w) = conv_transpose2d(bands, filters, stride 2, pad F/2-1),
//               cropped to (h, w).
// The two are adjoint for the same filters, so with a FilterBank2d:
//   DWT forward = analyze(analysis)     DWT backward = synthesize(analysis)
//   IDWT forward = synthesize(synthesis) IDWT backward = analyze(synthesis)
// Haar (F = 2) takes the fast path of haar-plane.h. Planes and bands may have
// row strides (padded buffers); the compact forms lay the 4 bands one after another.
#pragma once

#include <cstring>

#include "../wavelets.h"
#include "depthwise-conv2d-plane.h"
#include "haar-plane.h"

namespace wtconv {

using BandFilters = float[kMaxFilterLength * kMaxFilterLength];

// The four band planes of one level and their row stride.
struct BandPlanes {
  float* band[4];
  int32_t stride;

  // Bands (4, ceil(h/2), ceil(w/2)) laid out one after another.
  static BandPlanes compact(const float* base, int32_t h, int32_t w) {
    const int32_t bw = (w + 1) / 2;
    const size_t size = static_cast<size_t>((h + 1) / 2) * bw;
    float* p = const_cast<float*>(base);
    return BandPlanes{{p, p + size, p + 2 * size, p + 3 * size}, bw};
  }
};

inline PlaneConvGeometry dwt2d_plane_geometry(int32_t filter_length, int32_t h, int32_t w,
                                              int32_t plane_stride, int32_t band_stride) {
  const int32_t pad = filter_length / 2 - 1;
  return PlaneConvGeometry{h, w, filter_length, filter_length, pad, pad, 2, 2,
                           (h + 1) / 2, (w + 1) / 2, plane_stride, band_stride};
}

inline void dwt2d_plane_analyze(const BandFilters* filters, int32_t filter_length,
                                const float* plane, int32_t h, int32_t w, int32_t plane_stride,
                                const BandPlanes& out) {
  if (filter_length == 2) return haar_plane_analyze(plane, plane_stride, h, w, out.band, out.stride);
  const PlaneConvGeometry g = dwt2d_plane_geometry(filter_length, h, w, plane_stride, out.stride);
  for (int b = 0; b < 4; ++b) dwconv2d_plane_forward(g, plane, filters[b], out.band[b]);
}

inline void dwt2d_plane_synthesize(const BandFilters* filters, int32_t filter_length,
                                   const BandPlanes& in, int32_t h, int32_t w, float* plane,
                                   int32_t plane_stride) {
  if (filter_length == 2) return haar_plane_synthesize(in.band, in.stride, h, w, plane, plane_stride);
  const PlaneConvGeometry g = dwt2d_plane_geometry(filter_length, h, w, plane_stride, in.stride);
  for (int32_t y = 0; y < h; ++y) std::memset(plane + static_cast<size_t>(y) * plane_stride, 0, sizeof(float) * w);
  for (int b = 0; b < 4; ++b) dwconv2d_plane_backward_input(g, in.band[b], filters[b], plane);
}

// Compact planes and bands.
inline void dwt2d_plane_analyze(const BandFilters* filters, int32_t filter_length,
                                const float* plane, int32_t h, int32_t w, float* bands) {
  dwt2d_plane_analyze(filters, filter_length, plane, h, w, w, BandPlanes::compact(bands, h, w));
}

inline void dwt2d_plane_synthesize(const BandFilters* filters, int32_t filter_length,
                                   const float* bands, int32_t h, int32_t w, float* plane) {
  dwt2d_plane_synthesize(filters, filter_length, BandPlanes::compact(bands, h, w), h, w, plane, w);
}

}  // namespace wtconv
