// im2col / col2im over a column range (see im2col-nd.h). Columns are walked
// one output row (fixed d, h) at a time, so the bounds of the w axis are
// computed once per row segment and stride-1 rows are contiguous copies.
#include "im2col-nd.h"

#include <algorithm>
#include <cstring>

namespace wtconv {
namespace {

// Calls row(j, ow0, ow1, iz, iy) for each output row segment of [j0, j1):
// columns j .. j + (ow1 - ow0) are outputs (od, oh, ow0 .. ow1 - 1) whose input
// plane row is (iz, iy) for tap (kz, ky) (-1 when it lies in the padding). Only
// the first segment's position is divided out; the rest step row by row (rows
// are short in small planes, where a division per row would dominate).
template <typename Row>
void for_each_row(const ConvGeometry& g, int32_t kz, int32_t ky, size_t j0, size_t j1, Row&& row) {
  const int32_t ow_n = g.out[2];
  const size_t r0 = j0 / ow_n;
  int32_t ow0 = static_cast<int32_t>(j0 - r0 * ow_n);
  int32_t oh = static_cast<int32_t>(r0 % g.out[1]);
  int32_t od = static_cast<int32_t>(r0 / g.out[1]);
  for (size_t j = j0; j < j1;) {
    const int32_t ow1 = static_cast<int32_t>(std::min<size_t>(ow_n, ow0 + (j1 - j)));
    const int32_t iz = od * g.stride[0] - g.pad[0] + kz * g.dilation[0];
    const int32_t iy = oh * g.stride[1] - g.pad[1] + ky * g.dilation[1];
    const bool inside = iz >= 0 && iz < g.in[0] && iy >= 0 && iy < g.in[1];
    row(j, ow0, ow1, inside ? iz : -1, inside ? iy : -1);
    j += ow1 - ow0;
    ow0 = 0;
    if (++oh == g.out[1]) oh = 0, ++od;
  }
}

// The output columns whose input column ow * sw - pw + kx * dw lies inside
// [0, in_w): [first, end) over a whole row (worked out once per tap).
struct ValidColumns {
  int32_t first, end;
  ValidColumns(const ConvGeometry& g, int32_t kx) {
    const int32_t sw = g.stride[2];
    const int32_t off = kx * g.dilation[2] - g.pad[2];  // ix = ow * sw + off
    first = off >= 0 ? 0 : (-off + sw - 1) / sw;     // smallest ow with ix >= 0
    end = g.in[2] - off <= 0 ? 0 : (g.in[2] - off + sw - 1) / sw;  // smallest ow with ix >= in_w
  }
  // [lo, hi): the valid columns of the segment [ow0, ow1).
  void clip(int32_t ow0, int32_t ow1, int32_t* lo, int32_t* hi) const {
    *lo = std::max(ow0, std::min(first, ow1));
    *hi = std::max(*lo, std::min(end, ow1));
  }
};

// Four floats as one vector (SSE2 natively, SIMD128 in WebAssembly).
typedef float f4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));
inline f4 load4(const float* p) {
  f4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store4(float* p, f4 v) { std::memcpy(p, &v, sizeof(v)); }
// Lanes 0, 2 of a and 0, 2 of b.
inline f4 even_lanes(f4 a, f4 b) {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, 0, 2, 4, 6);
#else
  return __builtin_shuffle(a, b, i4{0, 2, 4, 6});
#endif
}

}  // namespace

bool ConvGeometry::is_pointwise() const {
  for (int a = 0; a < 3; ++a) {
    // in == out also excludes the extra rows / columns of a transposed conv's output padding.
    if (kernel[a] != 1 || stride[a] != 1 || pad[a] != 0 || in[a] != out[a]) return false;
  }
  return true;
}

void im2col(const ConvGeometry& g, const float* x, int32_t c0, int32_t c1, size_t j0, size_t j1,
            float* col) {
  const size_t width = j1 - j0;
  const size_t plane = g.in_plane();
  const int32_t sw = g.stride[2];
  for (int32_t c = c0; c < c1; ++c) {
    const float* xc = x + c * plane;
    for (int32_t kz = 0; kz < g.kernel[0]; ++kz) {
      for (int32_t ky = 0; ky < g.kernel[1]; ++ky) {
        for (int32_t kx = 0; kx < g.kernel[2]; ++kx) {
          float* out = col;
          col += width;
          const int32_t off = kx * g.dilation[2] - g.pad[2];
          const ValidColumns valid(g, kx);
          for_each_row(g, kz, ky, j0, j1, [&](size_t j, int32_t ow0, int32_t ow1, int32_t iz, int32_t iy) {
            float* dst = out + (j - j0);
            if (iz < 0) {
              for (int32_t ow = ow0; ow < ow1; ++ow) dst[ow - ow0] = 0.0f;
              return;
            }
            int32_t lo, hi;
            valid.clip(ow0, ow1, &lo, &hi);
            const float* src = xc + (static_cast<size_t>(iz) * g.in[1] + iy) * g.in[2];
            for (int32_t ow = ow0; ow < lo; ++ow) dst[ow - ow0] = 0.0f;
            if (sw == 1 && hi - lo >= 32) {
              std::memcpy(dst + (lo - ow0), src + lo + off, sizeof(float) * (hi - lo));
            } else if (sw == 1) {  // short rows: a loop beats the call
              for (int32_t ow = lo; ow < hi; ++ow) dst[ow - ow0] = src[ow + off];
            } else if (sw == 2) {  // every other input: 4 outputs from two 4-vectors at a time
              int32_t ow = lo;
              for (; ow + 4 <= hi && 2 * ow + off + 8 <= g.in[2]; ow += 4) {
                store4(dst + (ow - ow0), even_lanes(load4(src + 2 * ow + off), load4(src + 2 * ow + off + 4)));
              }
              for (; ow < hi; ++ow) dst[ow - ow0] = src[2 * ow + off];
            } else {
              for (int32_t ow = lo; ow < hi; ++ow) dst[ow - ow0] = src[ow * sw + off];
            }
            for (int32_t ow = hi; ow < ow1; ++ow) dst[ow - ow0] = 0.0f;
          });
        }
      }
    }
  }
}

void col2im_add(const ConvGeometry& g, const float* col, int32_t c0, int32_t c1, size_t j0,
                size_t j1, float* x) {
  const size_t width = j1 - j0;
  const size_t plane = g.in_plane();
  const int32_t sw = g.stride[2];
  for (int32_t c = c0; c < c1; ++c) {
    float* xc = x + c * plane;
    for (int32_t kz = 0; kz < g.kernel[0]; ++kz) {
      for (int32_t ky = 0; ky < g.kernel[1]; ++ky) {
        for (int32_t kx = 0; kx < g.kernel[2]; ++kx) {
          const float* in = col;
          col += width;
          const int32_t off = kx * g.dilation[2] - g.pad[2];
          const ValidColumns valid(g, kx);
          for_each_row(g, kz, ky, j0, j1, [&](size_t j, int32_t ow0, int32_t ow1, int32_t iz, int32_t iy) {
            if (iz < 0) return;
            int32_t lo, hi;
            valid.clip(ow0, ow1, &lo, &hi);
            const float* src = in + (j - j0) - ow0;
            float* dst = xc + (static_cast<size_t>(iz) * g.in[1] + iy) * g.in[2] + off;
            for (int32_t ow = lo; ow < hi; ++ow) dst[ow * sw] += src[ow];
          });
        }
      }
    }
  }
}

}  // namespace wtconv
