// Sizes of the levels of a multi-level 2-D DWT: level l reads an (H_l, W_l)
// plane (H_0 = h) and writes bands of (h_l, w_l) = ceil(H_l / 2), ceil(W_l / 2);
// the next level reads the LL band, so H_{l+1} = h_l.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wtconv {

struct LevelSizes {
  static constexpr int32_t kMaxLevels = 30;
  int32_t levels = 0;
  int32_t in_h[kMaxLevels], in_w[kMaxLevels];      // H_l, W_l
  int32_t band_h[kMaxLevels], band_w[kMaxLevels];  // h_l, w_l

  LevelSizes(int32_t h, int32_t w, int32_t count) : levels(count) {
    for (int32_t l = 0; l < count; ++l) {
      in_h[l] = h;
      in_w[l] = w;
      band_h[l] = h = (h + 1) / 2;
      band_w[l] = w = (w + 1) / 2;
    }
  }
  size_t in_plane(int32_t l) const { return static_cast<size_t>(in_h[l]) * in_w[l]; }
  size_t band_plane(int32_t l) const { return static_cast<size_t>(band_h[l]) * band_w[l]; }
  // The four bands of one (n, c) plane at level l.
  size_t bands_plane(int32_t l) const { return 4 * band_plane(l); }
};

}  // namespace wtconv
