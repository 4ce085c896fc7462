// Multi-level 2-D DWT and inverse DWT, NCHW, forward and backward (SPEC section 2).
// Every (n, c) plane is independent through all levels, so each task runs the
// whole cascade of one plane while it is in cache.
#include <cstring>

#include "../kernels/dwt2d-plane.h"
#include "../thread-pool.h"
#include "level-sizes.h"
#include "validate.h"

namespace wtconv {
namespace {

wtconv_status check_dwt_args(int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                             int32_t wavelet, const void* plane, const char* plane_name,
                             const void* const* bands, const char* bands_name) {
  WTCONV_CHECK(check_nchw(n, c, h, w, "x"));
  WTCONV_CHECK(check_levels(levels));
  WTCONV_CHECK(check_wavelet(wavelet));
  WTCONV_CHECK(check_pointer(plane, plane_name));
  WTCONV_CHECK(check_pointer(bands, bands_name));
  for (int32_t l = 0; l < levels; ++l) {
    if (bands[l] == nullptr) return fail(WTCONV_E_ARG, "%s[%d]: expected a buffer, got NULL", bands_name, l);
  }
  return ok();
}

// Scratch per task: a copy of one level's bands and one LL-sized plane.
size_t cascade_scratch_bytes(const LevelSizes& s) {
  return sizeof(float) * (s.bands_plane(0) + s.band_plane(0));
}

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_dwt2d_forward(int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                                   int32_t wavelet, const float* x, float* const* bands) {
  WTCONV_CHECK(check_dwt_args(n, c, h, w, levels, wavelet, x, "x",
                              reinterpret_cast<const void* const*>(bands), "bands"));
  const LevelSizes s(h, w, levels);
  const FilterBank2d& bank = filter_bank_2d(wavelet);
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t p = begin; p < end; ++p) {
      const float* in = x + p * s.in_plane(0);
      for (int32_t l = 0; l < levels; ++l) {
        float* out = bands[l] + p * s.bands_plane(l);
        dwt2d_plane_analyze(bank.analysis, bank.length, in, s.in_h[l], s.in_w[l], out);
        in = out;  // the LL band feeds the next level
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c, 0, body);
}

wtconv_status wtconv_dwt2d_backward(int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                                    int32_t wavelet, const float* const* grad_bands,
                                    float* grad_x) {
  WTCONV_CHECK(check_dwt_args(n, c, h, w, levels, wavelet, grad_x, "grad_x",
                              reinterpret_cast<const void* const*>(grad_bands), "grad_bands"));
  const LevelSizes s(h, w, levels);
  const FilterBank2d& bank = filter_bank_2d(wavelet);
  auto body = [&](size_t begin, size_t end, void* scratch) {
    float* tmp = static_cast<float*>(scratch);
    float* ll_grad = tmp + s.bands_plane(0);
    for (size_t p = begin; p < end; ++p) {
      const float* upstream = nullptr;  // gradient of this level's LL from the level above
      for (int32_t l = levels - 1; l >= 0; --l) {
        const float* src = grad_bands[l] + p * s.bands_plane(l);
        if (upstream != nullptr) {
          std::memcpy(tmp, src, sizeof(float) * s.bands_plane(l));
          for (size_t i = 0; i < s.band_plane(l); ++i) tmp[i] += upstream[i];
          src = tmp;
        }
        float* out = l == 0 ? grad_x + p * s.in_plane(0) : ll_grad;
        dwt2d_plane_synthesize(bank.analysis, bank.length, src, s.in_h[l], s.in_w[l], out);
        upstream = out;
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c, cascade_scratch_bytes(s),
                                             body);
}

wtconv_status wtconv_idwt2d_forward(int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                                    int32_t wavelet, const float* const* bands, float* y) {
  WTCONV_CHECK(check_dwt_args(n, c, h, w, levels, wavelet, y, "y",
                              reinterpret_cast<const void* const*>(bands), "bands"));
  const LevelSizes s(h, w, levels);
  const FilterBank2d& bank = filter_bank_2d(wavelet);
  auto body = [&](size_t begin, size_t end, void* scratch) {
    float* tmp = static_cast<float*>(scratch);
    float* ll = tmp + s.bands_plane(0);
    for (size_t p = begin; p < end; ++p) {
      const float* below = nullptr;  // the LL band rebuilt from the level above
      for (int32_t l = levels - 1; l >= 0; --l) {
        const float* src = bands[l] + p * s.bands_plane(l);
        if (below != nullptr) {
          std::memcpy(tmp + s.band_plane(l), src + s.band_plane(l),
                      sizeof(float) * 3 * s.band_plane(l));
          std::memcpy(tmp, below, sizeof(float) * s.band_plane(l));
          src = tmp;
        }
        float* out = l == 0 ? y + p * s.in_plane(0) : ll;
        dwt2d_plane_synthesize(bank.synthesis, bank.length, src, s.in_h[l], s.in_w[l], out);
        below = out;
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c, cascade_scratch_bytes(s),
                                             body);
}

wtconv_status wtconv_idwt2d_backward(int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                                     int32_t wavelet, const float* grad_y,
                                     float* const* grad_bands) {
  WTCONV_CHECK(check_dwt_args(n, c, h, w, levels, wavelet, grad_y, "grad_y",
                              reinterpret_cast<const void* const*>(grad_bands), "grad_bands"));
  const LevelSizes s(h, w, levels);
  const FilterBank2d& bank = filter_bank_2d(wavelet);
  auto body = [&](size_t begin, size_t end, void* scratch) {
    float* ll = static_cast<float*>(scratch);
    for (size_t p = begin; p < end; ++p) {
      const float* g = grad_y + p * s.in_plane(0);
      for (int32_t l = 0; l < levels; ++l) {
        float* out = grad_bands[l] + p * s.bands_plane(l);
        dwt2d_plane_analyze(bank.synthesis, bank.length, g, s.in_h[l], s.in_w[l], out);
        if (l + 1 < levels) {
          // This level's LL band was replaced by the level above: its gradient
          // flows up and the band itself gets none.
          std::memcpy(ll, out, sizeof(float) * s.band_plane(l));
          std::memset(out, 0, sizeof(float) * s.band_plane(l));
          g = ll;
        }
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c,
                                             sizeof(float) * s.band_plane(0), body);
}

}  // extern "C"
