// Winograd's F(2x2, 2x2): a 2x2 block of outputs of a 2x2 filter from the 3x3
// inputs under it, with 9 products instead of 16. Along one axis the outputs
// y(q) = g0 d[q - 1] + g1 d[q] at q and q + 1, from d0 d1 d2 = d[q - 1 .. q + 1]:
//   y0 = m0 + m1, y1 = m1 + m2,  m0 = (d0 - d1) g0, m1 = d1 (g0 + g1), m2 = (d2 - d1) g1,
// that is V = B^T d B, U = G g G^T, Y = A^T (U . V) A with
//   B^T = [1 -1 0; 0 1 0; 0 -1 1], G = [1 0; 1 1; 0 1], A^T = [1 1 0; 0 1 1].
// The transforms only add and subtract. Index uv = 3 i + j names the product
// of row transform i and column transform j; the sums over channels of the
// products U_uv V_uv (a GEMM per uv) come between the input and output
// transforms. Inline: the callers' loops around them are short.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../simd.h"

namespace wtconv {

// U of the filter [[g00, g01], [g10, g11]] (g0* pairs with input row q - 1,
// g*0 with input column q - 1): u[uv * u_stride].
WTCONV_INLINE void winograd_f2k2_filter(float g00, float g01, float g10, float g11, float* u, size_t u_stride) {
  const float rows[3][2] = {{g00, g01}, {g00 + g10, g01 + g11}, {g10, g11}};  // G g
  for (int i = 0; i < 3; ++i) {                                              // then (G g) G^T
    u[(3 * i + 0) * u_stride] = rows[i][0];
    u[(3 * i + 1) * u_stride] = rows[i][0] + rows[i][1];
    u[(3 * i + 2) * u_stride] = rows[i][1];
  }
}

namespace winograd_detail {

// The transforms on one lane type: float (one tile) or simd::f4 (four).
template <typename T, typename Load>
WTCONV_INLINE void input_tiles(Load load, ptrdiff_t row_stride, const float* even,
                               const float* odd, T v[9]) {
  T d[3][3], e[3][3];
  for (int r = 0; r < 3; ++r) {
    d[r][0] = load(even + r * row_stride);
    d[r][1] = load(odd + r * row_stride);
    d[r][2] = load(even + r * row_stride + 1);
  }
  for (int k = 0; k < 3; ++k) {  // B^T d: rows
    e[0][k] = d[0][k] - d[1][k];
    e[1][k] = d[1][k];
    e[2][k] = d[2][k] - d[1][k];
  }
  for (int i = 0; i < 3; ++i) {  // then columns
    v[3 * i + 0] = e[i][0] - e[i][1];
    v[3 * i + 1] = e[i][1];
    v[3 * i + 2] = e[i][2] - e[i][1];
  }
}

template <typename T>
WTCONV_INLINE void output_tiles(const T m[9], T bias, T y[2][2]) {
  T s[3][2];  // M A: columns
  for (int i = 0; i < 3; ++i) {
    s[i][0] = m[3 * i] + m[3 * i + 1];
    s[i][1] = m[3 * i + 1] + m[3 * i + 2];
  }
  for (int dx = 0; dx < 2; ++dx) {  // then A^T (M A), plus the bias
    y[0][dx] = s[0][dx] + s[1][dx] + bias;
    y[1][dx] = s[1][dx] + s[2][dx] + bias;
  }
}

}  // namespace winograd_detail

// V of `count` tiles side by side over three input rows `row_stride` apart,
// given split by column parity: tile b reads even[b], odd[b], even[b + 1] of
// each row (columns 2b, 2b + 1, 2b + 2). Writes v[uv * v_stride + b].
WTCONV_INLINE void winograd_f2k2_input(const float* even, const float* odd, ptrdiff_t row_stride,
                                       int32_t count, float* v, size_t v_stride) {
  if (count < 4) {
    for (int32_t b = 0; b < count; ++b) {
      float t[9];
      winograd_detail::input_tiles<float>([](const float* p) { return *p; }, row_stride, even + b, odd + b, t);
      for (int uv = 0; uv < 9; ++uv) v[uv * v_stride + b] = t[uv];
    }
    return;
  }
  for (int32_t b = 0;; b += 4) {
    if (b + 4 > count) b = count - 4;  // the last four again, overlapping
    simd::f4 t[9];
    winograd_detail::input_tiles<simd::f4>([](const float* p) { return simd::load4(p); }, row_stride, even + b,
                                           odd + b, t);
    for (int uv = 0; uv < 9; ++uv) simd::store4(v + uv * v_stride + b, t[uv]);
    if (b + 4 == count) break;
  }
}

// Y of `count` tiles side by side from their sums of products m[uv * m_stride + b],
// plus `bias`: tile b writes out0 (its first row) and out1 (its second; null
// when that row is not wanted) at columns (2b + dx) * step, for the first
// `columns` (<= 2 count) of those columns.
WTCONV_INLINE void winograd_f2k2_output(const float* m, size_t m_stride, int32_t count, int32_t columns,
                                        float bias, float* out0, float* out1, ptrdiff_t step) {
  float* const out[2] = {out0, out1};
  const int rows = out1 != nullptr ? 2 : 1;
  const int32_t full = columns / 2 < count ? columns / 2 : count;  // tiles with both columns wanted
  for (int32_t b = 0; full >= 4; b += 4) {
    if (b + 4 > full) b = full - 4;  // the last four again, overlapping
    simd::f4 mm[9], y[2][2];
    for (int uv = 0; uv < 9; ++uv) mm[uv] = simd::load4(m + uv * m_stride + b);
    winograd_detail::output_tiles<simd::f4>(mm, simd::f4{bias, bias, bias, bias}, y);
    for (int dy = 0; dy < rows; ++dy) {
      float lanes[2][4];
      simd::store4(lanes[0], y[dy][0]);
      simd::store4(lanes[1], y[dy][1]);
      float* o = out[dy] + 2 * b * step;
      for (int l = 0; l < 4; ++l, o += 2 * step) {
        o[0] = lanes[0][l];
        o[step] = lanes[1][l];
      }
    }
    if (b + 4 == full) break;
  }
  for (int32_t b = full >= 4 ? full : 0; b < count; ++b) {
    float mm[9], y[2][2];
    for (int uv = 0; uv < 9; ++uv) mm[uv] = m[uv * m_stride + b];
    winograd_detail::output_tiles<float>(mm, bias, y);
    for (int dy = 0; dy < rows; ++dy) {
      for (int dx = 0; dx < 2 && 2 * b + dx < columns; ++dx) out[dy][(2 * b + dx) * step] = y[dy][dx];
    }
  }
}

}  // namespace wtconv
