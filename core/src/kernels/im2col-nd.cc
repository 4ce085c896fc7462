// im2col / col2im over a column range (see im2col-nd.h). Columns are walked
// one output row (fixed d, h) at a time, so the bounds of the w axis are
// computed once per row segment and stride-1 rows are contiguous copies.
#include "im2col-nd.h"

#include <algorithm>
#include <cstring>

#include "../common.h"
#include "../simd.h"
#include "gemm.h"

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

using simd::even_lanes;
using simd::load4;
using simd::store4;

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
              simd::copy_floats(dst + (lo - ow0), src + lo + off, static_cast<size_t>(hi - lo));
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

namespace {

// The window of a column tile (padded coordinates): output rows (od, oh) of the
// tile read padded planes [z0, z0 + depth) and rows [y0, y0 + rows); a row holds
// the stride phases of the padded input columns one after another, `width`
// columns each (column xq of phase p is padded column xq * sw + p).
struct Window {
  int32_t z0, depth, y0, rows, width;
  Window(const ConvGeometry& g, size_t j0, size_t j1) {
    const size_t r_first = j0 / g.out[2], r_last = (j1 - 1) / g.out[2];
    const int32_t od_first = static_cast<int32_t>(r_first / g.out[1]);
    const int32_t od_last = static_cast<int32_t>(r_last / g.out[1]);
    z0 = od_first * g.stride[0];
    depth = (od_last - od_first) * g.stride[0] + (g.kernel[0] - 1) * g.dilation[0] + 1;
    int32_t oh_first = 0, oh_last = g.out[1] - 1;  // all rows when the tile spans planes
    if (od_first == od_last) {
      oh_first = static_cast<int32_t>(r_first % g.out[1]);
      oh_last = static_cast<int32_t>(r_last % g.out[1]);
    }
    y0 = oh_first * g.stride[1];
    rows = (oh_last - oh_first) * g.stride[1] + (g.kernel[1] - 1) * g.dilation[1] + 1;
    width = g.out[2] + (g.kernel[2] - 1) * g.dilation[2] / g.stride[2];
  }
  // SIZE_MAX when the product overflows (hostile geometries: callers then take
  // the plain unfolding, whose scratch does not grow with the window).
  size_t channel_floats(const ConvGeometry& g) const {
    size_t floats = 0;
    return checked_product({depth, rows, g.stride[2], width}, &floats) ? floats : SIZE_MAX;
  }
};

// One input row written as its stride phases: phase p's column xq is padded
// column xq * sw + p, that is input column xq * sw + p - pw (0 outside the
// input). The columns of each phase inside the input are worked out once per
// geometry (they are the same on every row); where every phase's column lies
// inside, strides 2 and 4 split 4 columns of each phase at a time with shuffles.
class PhaseSplit {
 public:
  PhaseSplit(const ConvGeometry& g, int32_t width) : sw_(g.stride[2]), pw_(g.pad[2]), in_w_(g.in[2]), width_(width) {
    int32_t lo_all = 0, hi_all = width;  // the columns inside every phase
    for (int32_t p = 0; p < sw_ && p < kCached; ++p) {
      range(p, &lo_[p], &hi_[p]);
      lo_all = std::max(lo_all, lo_[p]);
      hi_all = std::min(hi_all, hi_[p]);
    }
    // Vector blocks of 4 columns per phase: [v0_, v1_), inside every phase.
    v0_ = v1_ = 0;
    if ((sw_ == 2 || sw_ == 4) && hi_all > lo_all) {
      v0_ = lo_all;
      v1_ = v0_ + (hi_all - v0_) / 4 * 4;
    }
  }

  void row(float* dst, const float* src) const {
    if (v1_ > v0_) {
      const float* base = src + static_cast<ptrdiff_t>(v0_) * sw_ - pw_;  // phase 0 of column v0_
      if (sw_ == 2) {
        for (int32_t xq = v0_; xq < v1_; xq += 4, base += 8) {
          const simd::f4 a = load4(base), b = load4(base + 4);
          store4(dst + xq, even_lanes(a, b));
          store4(dst + width_ + xq, simd::odd_lanes(a, b));
        }
      } else {
        for (int32_t xq = v0_; xq < v1_; xq += 4, base += 16) {
          simd::f4 r0 = load4(base), r1 = load4(base + 4), r2 = load4(base + 8), r3 = load4(base + 12);
          simd::transpose4(r0, r1, r2, r3);  // r_p: phase p of the 4 columns
          store4(dst + xq, r0);
          store4(dst + width_ + xq, r1);
          store4(dst + 2 * width_ + xq, r2);
          store4(dst + 3 * width_ + xq, r3);
        }
      }
    }
    for (int32_t p = 0; p < sw_; ++p) {
      int32_t lo, hi;
      if (p < kCached) {
        lo = lo_[p], hi = hi_[p];
      } else {
        range(p, &lo, &hi);
      }
      float* out = dst + static_cast<size_t>(p) * width_;
      const ptrdiff_t offset = p - pw_;
      // Columns [0, v0_) and [v1_, width) (all of them when there are no vector blocks).
      window_row(out, v0_, std::min(lo, v0_), std::min(hi, v0_), src, offset, sw_);
      window_row(out + v1_, width_ - v1_, std::max(lo - v1_, 0), std::max(hi - v1_, 0),
                 src + static_cast<ptrdiff_t>(v1_) * sw_, offset, sw_);
    }
  }

 private:
  static constexpr int32_t kCached = 16;  // phases whose columns are worked out once
  // [lo, hi): the columns xq of phase p inside the input.
  void range(int32_t p, int32_t* lo, int32_t* hi) const {
    const int64_t s64 = sw_;  // strides may be as large as int32 allows
    *lo = static_cast<int32_t>(std::min<int64_t>(width_, std::max<int64_t>(0, (pw_ - p + s64 - 1) / s64)));
    *hi = static_cast<int32_t>(std::max<int64_t>(*lo, std::min<int64_t>(width_, (int64_t{in_w_} + pw_ - p + s64 - 1) / s64)));
  }
  int32_t sw_, pw_, in_w_, width_;
  int32_t lo_[kCached], hi_[kCached];
  int32_t v0_, v1_;
};

}  // namespace

size_t im2col_window_floats(const ConvGeometry& g, int32_t channels, size_t j0, size_t j1) {
  size_t floats = 0;
  return checked_mul(static_cast<size_t>(channels), Window(g, j0, j1).channel_floats(g), &floats) ? floats : SIZE_MAX;
}

void im2col_packed(const ConvGeometry& g, const float* x, int32_t c0, int32_t c1, size_t j0,
                   size_t j1, int32_t nr, float* window, ptrdiff_t* offsets, float* packed) {
  const Window win(g, j0, j1);
  const int32_t sw = g.stride[2];
  const size_t phase_stride = static_cast<size_t>(win.width);
  const size_t row_stride = phase_stride * sw;
  const size_t plane_stride = row_stride * win.rows;
  const size_t channel_stride = plane_stride * win.depth;
  const size_t plane = g.in_plane();
  const PhaseSplit split(g, win.width);
  // The window: padded row (z0 + z, y0 + y) of each channel, phase by phase.
  for (int32_t c = c0; c < c1; ++c) {
    const float* xc = x + c * plane;
    float* dst = window + (c - c0) * channel_stride;
    for (int32_t z = 0; z < win.depth; ++z) {
      const int32_t iz = win.z0 + z - g.pad[0];
      for (int32_t y = 0; y < win.rows; ++y, dst += row_stride) {
        const int32_t iy = win.y0 + y - g.pad[1];
        if (iz < 0 || iz >= g.in[0] || iy < 0 || iy >= g.in[1]) {
          std::fill(dst, dst + row_stride, 0.0f);
          continue;
        }
        split.row(dst, xc + (static_cast<size_t>(iz) * g.in[1] + iy) * g.in[2]);
      }
    }
  }
  // offsets[j]: column j's place in the window for tap (0, 0, 0); padding
  // columns repeat the last one.
  const size_t width = j1 - j0, padded = (width + nr - 1) / nr * nr;
  for_each_row(g, 0, 0, j0, j1, [&](size_t j, int32_t ow0, int32_t ow1, int32_t, int32_t) {
    (void)ow1;
    const size_t r = j / g.out[2];
    const int32_t oh = static_cast<int32_t>(r % g.out[1]), od = static_cast<int32_t>(r / g.out[1]);
    const ptrdiff_t base = static_cast<ptrdiff_t>(od * g.stride[0] - win.z0) * plane_stride +
                           static_cast<ptrdiff_t>(oh * g.stride[1] - win.y0) * row_stride;
    for (int32_t ow = ow0; ow < ow1; ++ow) offsets[j - j0 + (ow - ow0)] = base + ow;
  });
  for (size_t j = width; j < padded; ++j) offsets[j] = offsets[width - 1];
  // Row kk = (c, kz, ky, kx): where its tap reads in the window.
  const int32_t taps = static_cast<int32_t>(g.taps());
  auto row_of = [&](int32_t kk) {
    const int32_t c = kk / taps, t = kk % taps;
    const int32_t kx = t % g.kernel[2], ky = (t / g.kernel[2]) % g.kernel[1], kz = t / (g.kernel[2] * g.kernel[1]);
    const int32_t dx = kx * g.dilation[2];
    return window + c * channel_stride + static_cast<size_t>(kz) * g.dilation[0] * plane_stride +
           static_cast<size_t>(ky) * g.dilation[1] * row_stride + (dx % sw) * phase_stride + dx / sw;
  };
  gemm_pack_b_gathered(nr, (c1 - c0) * taps, width, offsets, row_of, packed);
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

void window_row_by_parity(float* even, float* odd, int32_t half, const float* row, ptrdiff_t base, int32_t w) {
  auto v = [&](ptrdiff_t j) { return j >= 0 && j < w ? row[j] : 0.0f; };
  if (half < 4) {
    for (int32_t i = 0; i < half; ++i) {
      even[i] = v(base + 2 * i);
      odd[i] = v(base + 2 * i + 1);
    }
    return;
  }
  // v(j .. j + 3): one load inside the row, else built lane by lane in
  // registers (a vector read back from scalar stores would wait for them).
  auto four = [&](ptrdiff_t j) {
    return j >= 0 && j + 4 <= w ? load4(row + j) : simd::f4{v(j), v(j + 1), v(j + 2), v(j + 3)};
  };
  for (int32_t i = 0;; i += 4) {
    if (i + 4 > half) i = half - 4;  // the last four again, overlapping
    const simd::f4 a = four(base + 2 * i), b = four(base + 2 * i + 4);
    store4(even + i, even_lanes(a, b));
    store4(odd + i, simd::odd_lanes(a, b));
    if (i + 4 == half) break;
  }
}

}  // namespace wtconv
