// Orthogonal Daubechies wavelets db1..db4 (PyWavelets' coefficients) and the
// 2-D analysis / synthesis filter banks built from them (SPEC section 1).
#pragma once

#include <cstdint>

namespace wtconv {

constexpr int32_t kMaxWavelet = 4;
constexpr int32_t kMaxFilterLength = 2 * kMaxWavelet;

struct FilterBank2d {
  int32_t length;  // F
  int32_t pad;     // F / 2 - 1, on every side
  // [band][row * F + col], band 0..3 = LL, (hi rows, lo cols), (lo rows, hi cols), HH.
  float analysis[4][kMaxFilterLength * kMaxFilterLength];
  float synthesis[4][kMaxFilterLength * kMaxFilterLength];
};

bool valid_wavelet(int32_t wavelet);
// The 1-D filters of `wavelet` (1..4): dec_lo, dec_hi, rec_lo, rec_hi, F each.
const double* wavelet_coefficients(int32_t wavelet);
// The 2-D filter bank of a valid wavelet (built once, immutable).
const FilterBank2d& filter_bank_2d(int32_t wavelet);

}  // namespace wtconv
