// Winograd's minimal filtering for 2x2 output tiles (Lavin & Gray): a 2x2 block
// of outputs of an r x r filter from the (r + 1) x (r + 1) inputs under it,
// with (r + 1)^2 products instead of 4 r^2:
//   F(2x2, 2x2): 9 instead of 16 (the sub-pixel phases of a transposed conv
//                whose kernel is twice its stride);
//   F(2x2, 3x3): 16 instead of 36 (3x3 stride-1 convolutions).
// Along one axis, V = B^T d, U = G g, Y = A^T (U . V); in two, V = B^T d B,
// U = G g G^T, Y = A^T (U . V) A. Index uv = alpha * i + j names the product
// of row transform i and column transform j; the sums over input channels of
// U_uv V_uv (one GEMM per uv) come between the input and output transforms.
// The transforms add, subtract and halve (exact); they are inline because
// the callers' loops around them are short.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../simd.h"

namespace wtconv {

// F(2, 2): y(q) = g0 d[q - 1] + g1 d[q] at q and q + 1 from d0 d1 d2 = d[q - 1 .. q + 1]:
//   y0 = m0 + m1, y1 = m1 + m2,  m0 = (d0 - d1) g0, m1 = d1 (g0 + g1), m2 = (d2 - d1) g1.
struct WinogradF2K2 {
  static constexpr int kAlpha = 3;
  template <typename T>
  WTCONV_INLINE static void input_axis(const T d[3], T e[3]) {
    e[0] = d[0] - d[1];
    e[1] = d[1];
    e[2] = d[2] - d[1];
  }
  template <typename T>
  WTCONV_INLINE static void output_axis(const T m[3], T y[2]) {
    y[0] = m[0] + m[1];
    y[1] = m[1] + m[2];
  }
  // U of the filter [[g00, g01], [g10, g11]] (g0* pairs with input row q - 1,
  // g*0 with input column q - 1): u[uv * u_stride].
  WTCONV_INLINE static void filter(float g00, float g01, float g10, float g11, float* u, size_t u_stride) {
    const float rows[3][2] = {{g00, g01}, {g00 + g10, g01 + g11}, {g10, g11}};  // G g
    for (int i = 0; i < 3; ++i) {                                              // then (G g) G^T
      u[(3 * i + 0) * u_stride] = rows[i][0];
      u[(3 * i + 1) * u_stride] = rows[i][0] + rows[i][1];
      u[(3 * i + 2) * u_stride] = rows[i][1];
    }
  }
};

// F(2, 3): y(q) = g0 d[q] + g1 d[q + 1] + g2 d[q + 2] at q and q + 1 from d0 .. d3:
//   y0 = m0 + m1 + m2, y1 = m1 - m2 - m3,  m0 = (d0 - d2) g0, m1 = (d1 + d2) (g0 + g1 + g2) / 2,
//   m2 = (d2 - d1) (g0 - g1 + g2) / 2, m3 = (d1 - d3) g2.
struct WinogradF2K3 {
  static constexpr int kAlpha = 4;
  template <typename T>
  WTCONV_INLINE static void input_axis(const T d[4], T e[4]) {
    e[0] = d[0] - d[2];
    e[1] = d[1] + d[2];
    e[2] = d[2] - d[1];
    e[3] = d[1] - d[3];
  }
  template <typename T>
  WTCONV_INLINE static void output_axis(const T m[4], T y[2]) {
    y[0] = m[0] + m[1] + m[2];
    y[1] = m[1] - m[2] - m[3];
  }
  // U of the 3x3 filter g (row-major, g[0] pairs with input row q): u[uv * u_stride].
  WTCONV_INLINE static void filter(const float g[9], float* u, size_t u_stride) {
    float rows[4][3];  // G g
    for (int j = 0; j < 3; ++j) {
      rows[0][j] = g[j];
      rows[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
      rows[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
      rows[3][j] = g[6 + j];
    }
    for (int i = 0; i < 4; ++i) {  // then (G g) G^T
      u[(4 * i + 0) * u_stride] = rows[i][0];
      u[(4 * i + 1) * u_stride] = 0.5f * (rows[i][0] + rows[i][1] + rows[i][2]);
      u[(4 * i + 2) * u_stride] = 0.5f * (rows[i][0] - rows[i][1] + rows[i][2]);
      u[(4 * i + 3) * u_stride] = rows[i][2];
    }
  }
};

namespace winograd_detail {

// V = B^T d B of one tile (T = float) or four side by side (T = simd::f4).
// Row r of d holds even[r * row_stride + 0], odd[.. + 0], even[.. + 1], odd[.. + 1], ...
template <typename F, typename T, typename Load>
WTCONV_INLINE void input_tiles(Load load, ptrdiff_t row_stride, const float* even, const float* odd,
                               T v[F::kAlpha * F::kAlpha]) {
  constexpr int kA = F::kAlpha;
  T rows[kA][kA];  // B^T d: transform down the columns
  for (int k = 0; k < kA; ++k) {
    const float* column = (k % 2 == 0 ? even : odd) + k / 2;
    T d[kA];
    for (int r = 0; r < kA; ++r) d[r] = load(column + r * row_stride);
    T e[kA];
    F::input_axis(d, e);
    for (int i = 0; i < kA; ++i) rows[i][k] = e[i];
  }
  for (int i = 0; i < kA; ++i) F::input_axis(rows[i], v + kA * i);  // then along the rows
}

// Y = A^T M A + bias of one tile or four.
template <typename F, typename T>
WTCONV_INLINE void output_tiles(const T m[F::kAlpha * F::kAlpha], T bias, T y[2][2]) {
  constexpr int kA = F::kAlpha;
  T s[kA][2];  // M A
  for (int i = 0; i < kA; ++i) F::output_axis(m + kA * i, s[i]);
  for (int dx = 0; dx < 2; ++dx) {  // then A^T (M A)
    T column[kA], out[2];
    for (int i = 0; i < kA; ++i) column[i] = s[i][dx];
    F::output_axis(column, out);
    y[0][dx] = out[0] + bias;
    y[1][dx] = out[1] + bias;
  }
}

}  // namespace winograd_detail

// V of `count` tiles side by side over kAlpha input rows `row_stride` apart,
// given split by column parity: tile b reads even[b], odd[b], even[b + 1], ...
// of each row (columns 2b, 2b + 1, 2b + 2, ...). Writes v[uv * v_stride + b].
template <typename F>
WTCONV_INLINE void winograd_input(const float* even, const float* odd, ptrdiff_t row_stride, int32_t count,
                                  float* v, size_t v_stride) {
  constexpr int kProducts = F::kAlpha * F::kAlpha;
  if (count < 4) {
    for (int32_t b = 0; b < count; ++b) {
      float t[kProducts];
      winograd_detail::input_tiles<F, float>([](const float* p) { return *p; }, row_stride, even + b, odd + b, t);
      for (int uv = 0; uv < kProducts; ++uv) v[uv * v_stride + b] = t[uv];
    }
    return;
  }
  for (int32_t b = 0;; b += 4) {
    if (b + 4 > count) b = count - 4;  // the last four again, overlapping
    simd::f4 t[kProducts];
    winograd_detail::input_tiles<F, simd::f4>([](const float* p) { return simd::load4(p); }, row_stride, even + b,
                                              odd + b, t);
    for (int uv = 0; uv < kProducts; ++uv) simd::store4(v + uv * v_stride + b, t[uv]);
    if (b + 4 == count) break;
  }
}

// Y of `count` tiles side by side from their sums of products m[uv * m_stride + b],
// plus `bias`: tile b writes out0 (its first row) and out1 (its second; null
// when that row is not wanted) at columns (2b + dx) * step, for the first
// `columns` (<= 2 count) of those columns. With res0 / res1 (null, or rows laid
// out as out0 / out1 and not overlapping them), their values are added too.
template <typename F>
WTCONV_INLINE void winograd_output(const float* m, size_t m_stride, int32_t count, int32_t columns, float bias,
                                   float* out0, float* out1, ptrdiff_t step, const float* res0 = nullptr,
                                   const float* res1 = nullptr) {
  constexpr int kProducts = F::kAlpha * F::kAlpha;
  float* const out[2] = {out0, out1};
  const float* const res[2] = {res0, res1};
  const int rows = out1 != nullptr ? 2 : 1;
  const int32_t full = columns / 2 < count ? columns / 2 : count;  // tiles with both columns wanted
  for (int32_t b = 0; full >= 4; b += 4) {
    if (b + 4 > full) b = full - 4;  // the last four again, overlapping
    simd::f4 mm[kProducts], y[2][2];
    for (int uv = 0; uv < kProducts; ++uv) mm[uv] = simd::load4(m + uv * m_stride + b);
    winograd_detail::output_tiles<F, simd::f4>(mm, simd::f4{bias, bias, bias, bias}, y);
    for (int dy = 0; dy < rows; ++dy) {
      if (step == 1) {  // the two columns of each tile side by side: two vector stores
        simd::f4 low = simd::interleave_low(y[dy][0], y[dy][1]), high = simd::interleave_high(y[dy][0], y[dy][1]);
        if (res[dy] != nullptr) {
          low = low + simd::load4(res[dy] + 2 * b);
          high = high + simd::load4(res[dy] + 2 * b + 4);
        }
        simd::store4(out[dy] + 2 * b, low);
        simd::store4(out[dy] + 2 * b + 4, high);
        continue;
      }
      float lanes[2][4];
      simd::store4(lanes[0], y[dy][0]);
      simd::store4(lanes[1], y[dy][1]);
      const ptrdiff_t at = 2 * b * step;
      for (int l = 0; l < 4; ++l) {
        const ptrdiff_t c0 = at + 2 * l * step, c1 = c0 + step;
        out[dy][c0] = res[dy] != nullptr ? lanes[0][l] + res[dy][c0] : lanes[0][l];
        out[dy][c1] = res[dy] != nullptr ? lanes[1][l] + res[dy][c1] : lanes[1][l];
      }
    }
    if (b + 4 == full) break;
  }
  for (int32_t b = full >= 4 ? full : 0; b < count; ++b) {
    float mm[kProducts], y[2][2];
    for (int uv = 0; uv < kProducts; ++uv) mm[uv] = m[uv * m_stride + b];
    winograd_detail::output_tiles<F, float>(mm, bias, y);
    for (int dy = 0; dy < rows; ++dy) {
      for (int dx = 0; dx < 2 && 2 * b + dx < columns; ++dx) {
        const ptrdiff_t c = (2 * b + dx) * step;
        out[dy][c] = res[dy] != nullptr ? y[dy][dx] + res[dy][c] : y[dy][dx];
      }
    }
  }
}

// winograd_output for two grids whose outputs interleave column by column
// (the two column phases of a stride-2 transposed conv): tile b of grid `lo`
// writes columns 4b and 4b + 2 from out0 / out1, its tile b of grid `hi` the
// columns 4b + 1 and 4b + 3, each grid only its first columns_lo / columns_hi
// (<= 2 count) columns of its own. Four tiles of both grids make 16 adjacent
// outputs per row: four vector stores (a transpose) instead of 16 scalar ones;
// the tiles left over go through winograd_output, grid by grid, at step 2.
template <typename F>
WTCONV_INLINE void winograd_output_column_pair(const float* m_lo, const float* m_hi, size_t m_stride, int32_t count,
                                               int32_t columns_lo, int32_t columns_hi, float bias, float* out0,
                                               float* out1, const float* res0 = nullptr, const float* res1 = nullptr) {
  constexpr int kProducts = F::kAlpha * F::kAlpha;
  float* const out[2] = {out0, out1};
  const float* const res[2] = {res0, res1};
  const int rows = out1 != nullptr ? 2 : 1;
  int32_t full = columns_lo < columns_hi ? columns_lo / 2 : columns_hi / 2;  // tiles with all four columns wanted
  if (full > count) full = count;
  const simd::f4 vbias{bias, bias, bias, bias};
  for (int32_t b = 0; full >= 4; b += 4) {
    if (b + 4 > full) b = full - 4;  // the last four again, overlapping
    simd::f4 mm[kProducts], lo[2][2], hi[2][2];
    for (int uv = 0; uv < kProducts; ++uv) mm[uv] = simd::load4(m_lo + uv * m_stride + b);
    winograd_detail::output_tiles<F, simd::f4>(mm, vbias, lo);
    for (int uv = 0; uv < kProducts; ++uv) mm[uv] = simd::load4(m_hi + uv * m_stride + b);
    winograd_detail::output_tiles<F, simd::f4>(mm, vbias, hi);
    for (int dy = 0; dy < rows; ++dy) {
      simd::f4 r[4] = {lo[dy][0], hi[dy][0], lo[dy][1], hi[dy][1]};
      simd::transpose4(r[0], r[1], r[2], r[3]);  // r[l]: the four columns of tile b + l
      for (int l = 0; l < 4; ++l) {
        float* dst = out[dy] + 4 * (b + l);
        simd::store4(dst, res[dy] != nullptr ? r[l] + simd::load4(res[dy] + 4 * (b + l)) : r[l]);
      }
    }
    if (b + 4 == full) break;
  }
  const int32_t done = full >= 4 ? full : 0;
  for (int grid = 0; grid < 2; ++grid) {
    const int32_t columns = (grid == 0 ? columns_lo : columns_hi) - 2 * done;
    if (columns <= 0) continue;
    const ptrdiff_t at = 4 * done + grid;
    winograd_output<F>((grid == 0 ? m_lo : m_hi) + done, m_stride, count - done, columns, bias, out0 + at,
                       out1 != nullptr ? out1 + at : nullptr, 2, res0 != nullptr ? res0 + at : nullptr,
                       res1 != nullptr ? res1 + at : nullptr);
  }
}

}  // namespace wtconv
