// Unfold (im2col) and fold (col2im) of a convolution with up to 3 spatial axes
// (1-D and 2-D use size-1 leading axes), with stride, zero padding and dilation.
// A column is one output position; a row is one (channel, kernel tap). Both
// work on a range of columns so operators can tile them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wtconv {

struct ConvGeometry {
  int32_t batch, groups, in_channels, out_channels;  // channels in total, not per group
  int32_t in[3], kernel[3], out[3];                  // spatial sizes (d, h, w)
  int32_t stride[3], pad[3], dilation[3];

  int32_t in_per_group() const { return in_channels / groups; }
  int32_t out_per_group() const { return out_channels / groups; }
  size_t in_plane() const { return static_cast<size_t>(in[0]) * in[1] * in[2]; }
  size_t out_plane() const { return static_cast<size_t>(out[0]) * out[1] * out[2]; }
  size_t taps() const { return static_cast<size_t>(kernel[0]) * kernel[1] * kernel[2]; }
  // A 1x1(x1) kernel, stride 1, no padding, in == out: the unfolded input is the input.
  bool is_pointwise() const;
};

// col[(c - c0) * taps + t][j - j0] = x[c][input position of output j under tap t]
// (0 in the padding), for channels [c0, c1) of `x` (channel 0 = x) and output
// columns [j0, j1).
void im2col(const ConvGeometry& g, const float* x, int32_t c0, int32_t c1, size_t j0, size_t j1,
            float* col);

// im2col() written straight into the GEMM's whole packed-B layout (gemm.h) of
// an nr-column microkernel (nr a multiple of 8), with k = (c1 - c0) * taps rows:
// no unfolded matrix is written and packed again. It reads through `window`, a
// zero-padded copy of the input rows the tile reads with each row split into its
// stride phases, so every tap reads consecutive columns and runs of 8 columns
// are block copies. Scratch: im2col_window_floats() floats of window and
// round_up(j1 - j0, nr) offsets.
size_t im2col_window_floats(const ConvGeometry& g, int32_t channels, size_t j0, size_t j1);
void im2col_packed(const ConvGeometry& g, const float* x, int32_t c0, int32_t c1, size_t j0,
                   size_t j1, int32_t nr, float* window, ptrdiff_t* offsets, float* packed);

// One row of a zero-padded window of an input row: dst[i] = row[offset + i * stride]
// for i in [lo, hi) (the columns inside the input), 0 for the rest of [0, n).
inline void window_row(float* dst, int32_t n, int32_t lo, int32_t hi, const float* row, ptrdiff_t offset,
                       ptrdiff_t stride) {
  for (int32_t i = 0; i < lo; ++i) dst[i] = 0.0f;
  if (stride == 1) {  // the common strides known to the compiler
    for (int32_t i = lo; i < hi; ++i) dst[i] = row[offset + i];
  } else if (stride == 2) {
    for (int32_t i = lo; i < hi; ++i) dst[i] = row[offset + 2 * static_cast<ptrdiff_t>(i)];
  } else {
    for (int32_t i = lo; i < hi; ++i) dst[i] = row[offset + i * stride];
  }
  for (int32_t i = hi; i < n; ++i) dst[i] = 0.0f;
}

// A window row split by column parity: even[i] = v(base + 2i) and odd[i] =
// v(base + 2i + 1) for i in [0, half), where v(j) = row[j] for 0 <= j < w and 0
// elsewhere; 8 columns at a time are split with two shuffles.
void window_row_by_parity(float* even, float* odd, int32_t half, const float* row, ptrdiff_t base, int32_t w);

// The adjoint: x[c][...] += col[...] for the same rows and columns.
void col2im_add(const ConvGeometry& g, const float* col, int32_t c0, int32_t c1, size_t j0,
                size_t j1, float* x);

}  // namespace wtconv
