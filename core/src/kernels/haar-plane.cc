#include "haar-plane.h"

#include <cstddef>

#include "../common.h"
#include "../simd.h"

#define WTCONV_INLINE_KERNEL inline __attribute__((always_inline))

namespace wtconv {

namespace {

// One output row of the analysis; without a second input row (odd h) it is zero.
template <bool kHasRow1>
WTCONV_INLINE_KERNEL void analyze_row(const float* __restrict r0, const float* __restrict r1,
                                      int32_t w, float* __restrict ll, float* __restrict b1,
                                      float* __restrict b2, float* __restrict b3) {
  const int32_t full_w = w / 2;  // output columns with both inputs inside the plane
  int32_t ox = 0;
  // Four output columns at a time, the even and odd input columns split apart
  // by shuffles: the same sums in the same order as the loop below, which
  // finishes the row (the compiler's own vectorisation of it skips rows of
  // fewer than 16 outputs: WTConv's deeper levels).
  for (; ox + 4 <= full_w; ox += 4) {
    const simd::f4 top0 = simd::load4(r0 + 2 * ox), top1 = simd::load4(r0 + 2 * ox + 4);
    const simd::f4 a = simd::even_lanes(top0, top1), b = simd::odd_lanes(top0, top1);
    simd::f4 c = {}, d = {};
    if (kHasRow1) {
      const simd::f4 bottom0 = simd::load4(r1 + 2 * ox), bottom1 = simd::load4(r1 + 2 * ox + 4);
      c = simd::even_lanes(bottom0, bottom1);
      d = simd::odd_lanes(bottom0, bottom1);
    }
    const simd::f4 top_sum = a + b, top_diff = a - b, bottom_sum = c + d, bottom_diff = c - d;
    simd::store4(ll + ox, 0.5f * (top_sum + bottom_sum));
    simd::store4(b1 + ox, 0.5f * (top_sum - bottom_sum));
    simd::store4(b2 + ox, 0.5f * (top_diff + bottom_diff));
    simd::store4(b3 + ox, 0.5f * (top_diff - bottom_diff));
  }
  for (; ox < full_w; ++ox) {
    const float a = r0[2 * ox], b = r0[2 * ox + 1];
    const float c = kHasRow1 ? r1[2 * ox] : 0.0f, d = kHasRow1 ? r1[2 * ox + 1] : 0.0f;
    const float top_sum = a + b, top_diff = a - b, bottom_sum = c + d, bottom_diff = c - d;
    ll[ox] = 0.5f * (top_sum + bottom_sum);
    b1[ox] = 0.5f * (top_sum - bottom_sum);
    b2[ox] = 0.5f * (top_diff + bottom_diff);
    b3[ox] = 0.5f * (top_diff - bottom_diff);
  }
  if (2 * full_w < w) {  // odd width: the last column pairs with a zero column
    const float a = r0[2 * full_w], c = kHasRow1 ? r1[2 * full_w] : 0.0f;
    ll[full_w] = 0.5f * (a + c);
    b1[full_w] = 0.5f * (a - c);
    b2[full_w] = 0.5f * (a + c);
    b3[full_w] = 0.5f * (a - c);
  }
}

// The synthesis writes its two output columns per band column interleaved.
// In WebAssembly it takes four band columns at a time, interleaved by shuffles
// (1.2-1.6x on 28-224 wide planes, alternating in one module; clang's own
// vectorisation of the scalar loops does less); natively the compiler's clones
// of the scalar loops run 8 lanes wide and the four-lane form measured
// 0.6-0.9x on 7-28 wide planes. Planes under 16 wide keep the scalar loops.
#if defined(__wasm__)
constexpr bool kSynthesizeInVectors = true;
#else
constexpr bool kSynthesizeInVectors = false;
#endif

}  // namespace

WTCONV_MULTIVERSION
void haar_plane_analyze(const float* in, int32_t in_stride, int32_t h, int32_t w,
                        float* const bands[4], int32_t band_stride) {
  const int32_t bh = (h + 1) / 2;
  for (int32_t oy = 0; oy < bh; ++oy) {
    const float* r0 = in + static_cast<size_t>(2 * oy) * in_stride;
    const size_t o = static_cast<size_t>(oy) * band_stride;
    if (2 * oy + 1 < h) {
      analyze_row<true>(r0, r0 + in_stride, w, bands[0] + o, bands[1] + o, bands[2] + o, bands[3] + o);
    } else {
      analyze_row<false>(r0, nullptr, w, bands[0] + o, bands[1] + o, bands[2] + o, bands[3] + o);
    }
  }
}

WTCONV_MULTIVERSION
void haar_plane_synthesize(const float* const bands[4], int32_t band_stride, int32_t h,
                           int32_t w, float* out, int32_t out_stride) {
  const int32_t bh = (h + 1) / 2;
  const int32_t full_w = w / 2;
  for (int32_t oy = 0; oy < bh; ++oy) {
    const size_t o = static_cast<size_t>(oy) * band_stride;
    const float* __restrict ll = bands[0] + o;
    const float* __restrict b1 = bands[1] + o;
    const float* __restrict b2 = bands[2] + o;
    const float* __restrict b3 = bands[3] + o;
    float* __restrict r0 = out + static_cast<size_t>(2 * oy) * out_stride;
    const bool has_r1 = 2 * oy + 1 < h;
    float* __restrict r1 = has_r1 ? r0 + out_stride : nullptr;
    int32_t first = 0;  // of the columns the loops below finish
    if (kSynthesizeInVectors && full_w >= 8) {
      for (; first + 4 <= full_w; first += 4) {
        const simd::f4 l = simd::load4(ll + first), a = simd::load4(b1 + first);
        const simd::f4 b = simd::load4(b2 + first), c = simd::load4(b3 + first);
        const simd::f4 s = l + a, u = b + c;
        const simd::f4 even = 0.5f * (s + u), odd = 0.5f * (s - u);
        simd::store4(r0 + 2 * first, simd::interleave_low(even, odd));
        simd::store4(r0 + 2 * first + 4, simd::interleave_high(even, odd));
        if (has_r1) {
          const simd::f4 t = l - a, v = b - c;
          const simd::f4 even1 = 0.5f * (t + v), odd1 = 0.5f * (t - v);
          simd::store4(r1 + 2 * first, simd::interleave_low(even1, odd1));
          simd::store4(r1 + 2 * first + 4, simd::interleave_high(even1, odd1));
        }
      }
    }
    for (int32_t ox = first; ox < full_w; ++ox) {
      const float s = ll[ox] + b1[ox];
      const float u = b2[ox] + b3[ox];
      r0[2 * ox] = 0.5f * (s + u);
      r0[2 * ox + 1] = 0.5f * (s - u);
    }
    if (full_w * 2 < w) r0[2 * full_w] = 0.5f * ((ll[full_w] + b1[full_w]) + (b2[full_w] + b3[full_w]));
    if (!has_r1) continue;
    for (int32_t ox = first; ox < full_w; ++ox) {
      const float t = ll[ox] - b1[ox];
      const float v = b2[ox] - b3[ox];
      r1[2 * ox] = 0.5f * (t + v);
      r1[2 * ox + 1] = 0.5f * (t - v);
    }
    if (full_w * 2 < w) r1[2 * full_w] = 0.5f * ((ll[full_w] - b1[full_w]) + (b2[full_w] - b3[full_w]));
  }
}

}  // namespace wtconv
