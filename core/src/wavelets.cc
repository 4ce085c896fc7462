#include "wavelets.h"

#include "common.h"

namespace wtconv {

namespace {

// dec_lo of db1..db4; dec_hi, rec_lo and rec_hi follow from it by the
// quadrature-mirror relations PyWavelets uses:
//   rec_lo = reverse(dec_lo), dec_hi[i] = (-1)^(i+1) rec_lo[i], rec_hi = reverse(dec_hi).
const double kDecLo[kMaxWavelet][kMaxFilterLength] = {
    {0.7071067811865476, 0.7071067811865476},
    {-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416},
    {0.03522629188570953, -0.08544127388202666, -0.13501102001025458, 0.45987750211849154,
     0.8068915093110925, 0.33267055295008263},
    {-0.010597401785069032, 0.0328830116668852, 0.030841381835560764, -0.18703481171909309,
     -0.027983769416859854, 0.6308807679298589, 0.7148465705529157, 0.2303778133088965},
};

struct Tables {
  double coefficients[kMaxWavelet][4 * kMaxFilterLength];
  FilterBank2d banks[kMaxWavelet];

  Tables() {
    for (int32_t id = 1; id <= kMaxWavelet; ++id) {
      const int32_t f = 2 * id;
      double* dec_lo = coefficients[id - 1];
      double* dec_hi = dec_lo + f;
      double* rec_lo = dec_hi + f;
      double* rec_hi = rec_lo + f;
      for (int32_t i = 0; i < f; ++i) {
        dec_lo[i] = kDecLo[id - 1][i];
        rec_lo[i] = kDecLo[id - 1][f - 1 - i];
      }
      for (int32_t i = 0; i < f; ++i) dec_hi[i] = (i % 2 == 0 ? -1.0 : 1.0) * rec_lo[i];
      for (int32_t i = 0; i < f; ++i) rec_hi[i] = dec_hi[f - 1 - i];

      FilterBank2d& bank = banks[id - 1];
      bank.length = f;
      bank.pad = f / 2 - 1;
      // Analysis uses the reversed decomposition filters, synthesis the
      // reconstruction filters as given; band b = (row filter, col filter).
      double lo[kMaxFilterLength], hi[kMaxFilterLength];
      for (int32_t i = 0; i < f; ++i) {
        lo[i] = dec_lo[f - 1 - i];
        hi[i] = dec_hi[f - 1 - i];
      }
      for (int32_t r = 0; r < f; ++r) {
        for (int32_t c = 0; c < f; ++c) {
          bank.analysis[0][r * f + c] = static_cast<float>(lo[r] * lo[c]);
          bank.analysis[1][r * f + c] = static_cast<float>(hi[r] * lo[c]);
          bank.analysis[2][r * f + c] = static_cast<float>(lo[r] * hi[c]);
          bank.analysis[3][r * f + c] = static_cast<float>(hi[r] * hi[c]);
          bank.synthesis[0][r * f + c] = static_cast<float>(rec_lo[r] * rec_lo[c]);
          bank.synthesis[1][r * f + c] = static_cast<float>(rec_hi[r] * rec_lo[c]);
          bank.synthesis[2][r * f + c] = static_cast<float>(rec_lo[r] * rec_hi[c]);
          bank.synthesis[3][r * f + c] = static_cast<float>(rec_hi[r] * rec_hi[c]);
        }
      }
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

bool valid_wavelet(int32_t wavelet) { return wavelet >= 1 && wavelet <= kMaxWavelet; }

const double* wavelet_coefficients(int32_t wavelet) { return tables().coefficients[wavelet - 1]; }

const FilterBank2d& filter_bank_2d(int32_t wavelet) { return tables().banks[wavelet - 1]; }

}  // namespace wtconv

extern "C" {

int32_t wtconv_wavelet_filter_length(int32_t wavelet) {
  return wtconv::valid_wavelet(wavelet) ? 2 * wavelet : 0;
}

wtconv_status wtconv_wavelet_filters(int32_t wavelet, float* out) {
  if (!wtconv::valid_wavelet(wavelet)) {
    return wtconv::fail(WTCONV_E_ARG, "wavelet: expected an id in 1..4 (db1..db4), got %d", wavelet);
  }
  if (out == nullptr) return wtconv::fail(WTCONV_E_ARG, "out: expected a buffer, got NULL");
  const double* c = wtconv::wavelet_coefficients(wavelet);
  for (int32_t i = 0; i < 8 * wavelet; ++i) out[i] = static_cast<float>(c[i]);
  return wtconv::ok();
}

}  // extern "C"
