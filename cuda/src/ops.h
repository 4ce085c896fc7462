// The CUDA operators: argument checks (the core's, re-used), workspace layout
// and the launch sequence of each C ABI function, written once over an
// executor `Ex` (device.cu: CUDA streams; emulate.cc: the CPU):
//   void* Ex::workspace(size_t bytes)       grow-only scratch (nullptr: E_OOM, message set)
//   wtconv_status Ex::launch(const K&, int64_t nbx, int nby, int threads, int shared_floats)
//   wtconv_status Ex::finish(const char* op) the op's errors (device: launch and run time)
//   int Ex::tier()                          1 fused (default), 0 baseline
// Pointers to tensors are device pointers; lists of per-level tensors are host
// arrays of device pointers, as in the CPU C ABI.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../../core/src/operators/conv-geometry.h"
#include "../../core/src/operators/dcls-geometry.h"
#include "../../core/src/operators/elementwise.h"
#include "../../core/src/operators/layer-checks.h"
#include "../../core/src/operators/level-sizes.h"
#include "../../core/src/operators/validate.h"
#include "kernels.h"

namespace wtconv_cuda {

using wtconv::fail;
using wtconv::LevelSizes;

constexpr int kThreads = 256;
constexpr int kMaxGrid = 65536;           // blocks of a grid-stride launch
constexpr int kMaxSharedFloats = 12288;   // 48 KiB: no opt-in needed on any architecture
constexpr int kTile = 32;                 // fused level kernels: output tile side

inline int64_t grid_for(int64_t total) {
  return std::max<int64_t>(1, std::min<int64_t>(kMaxGrid, (total + kThreads - 1) / kThreads));
}

// Filters of a wavelet in one direction (analysis or synthesis).
inline Filters make_filters(int32_t wavelet, bool synthesis) {
  const wtconv::FilterBank2d& bank = wtconv::filter_bank_2d(wavelet);
  Filters f{};
  f.F = bank.length;
  f.pad = bank.pad;
  for (int b = 0; b < 4; ++b) {
    for (int i = 0; i < bank.length * bank.length; ++i) f.f[b][i] = synthesis ? bank.synthesis[b][i] : bank.analysis[b][i];
  }
  return f;
}

// Hands out 256-byte-aligned pieces of one workspace allocation; with a null
// base it only counts.
class Carver {
 public:
  explicit Carver(char* base) : base_(base) {}
  template <typename T>
  T* take(size_t count) {
    T* p = base_ ? reinterpret_cast<T*>(base_ + used_) : nullptr;
    used_ += (sizeof(T) * count + 255) / 256 * 256;
    return p;
  }
  size_t used() const { return used_; }

 private:
  char* base_;
  size_t used_ = 0;
};

// Runs `layout(carver)` once to size the workspace, then again to carve it.
template <typename Ex, typename Layout>
wtconv_status with_workspace(Ex& ex, Layout layout) {
  Carver count(nullptr);
  layout(count);
  char* base = static_cast<char*>(ex.workspace(count.used()));
  if (base == nullptr && count.used() > 0) return WTCONV_E_OOM;
  Carver carve(base);
  layout(carve);
  return WTCONV_OK;
}

#define WTCONV_LAUNCH(...) WTCONV_CHECK(ex.launch(__VA_ARGS__))

// ---- depthwise conv2d -------------------------------------------------------

inline wtconv_status check_dwconv(int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh, int32_t kw,
                                  int32_t pt, int32_t pl, int32_t pb, int32_t pr, int32_t sh, int32_t sw,
                                  int32_t* oh, int32_t* ow) {
  WTCONV_CHECK(wtconv::check_nchw(n, c, h, w, "x"));
  if (kh < 1 || kw < 1 || kh > 1024 || kw > 1024) return fail(WTCONV_E_ARG, "kernel: expected sizes 1..1024, got (%d, %d)", kh, kw);
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0) return fail(WTCONV_E_ARG, "padding: expected non-negative values");
  if (sh < 1 || sw < 1) return fail(WTCONV_E_ARG, "stride: expected positive values, got (%d, %d)", sh, sw);
  if (h + pt + pb < kh || w + pl + pr < kw) return fail(WTCONV_E_SHAPE, "x: the padded input is smaller than the kernel");
  *oh = (h + pt + pb - kh) / sh + 1;
  *ow = (w + pl + pr - kw) / sw + 1;
  return WTCONV_OK;
}

template <typename Ex>
wtconv_status depthwise_conv2d_forward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh,
                                       int32_t kw, int32_t pt, int32_t pl, int32_t pb, int32_t pr,
                                       int32_t sh, int32_t sw, const float* x, const float* weight,
                                       const float* bias, float* y) {
  int32_t oh = 0, ow = 0;
  WTCONV_CHECK(check_dwconv(n, c, h, w, kh, kw, pt, pl, pb, pr, sh, sw, &oh, &ow));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  const int planes = n * c;
  DwConvK k{x, int64_t(h) * w, planes, c, h, w, kh, kw, pt, pl, sh, sw, oh, ow, weight, nullptr, bias, nullptr, y};
  WTCONV_LAUNCH(k, grid_for(int64_t(planes) * oh * ow), 1, kThreads, 0);
  return ex.finish("depthwise_conv2d_forward");
}

template <typename Ex>
wtconv_status depthwise_conv2d_backward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh,
                                        int32_t kw, int32_t pt, int32_t pl, int32_t pb, int32_t pr,
                                        int32_t sh, int32_t sw, const float* x, const float* weight,
                                        const float* grad_y, float* grad_x, float* grad_weight,
                                        float* grad_bias) {
  int32_t oh = 0, ow = 0;
  WTCONV_CHECK(check_dwconv(n, c, h, w, kh, kw, pt, pl, pb, pr, sh, sw, &oh, &ow));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  const int planes = n * c;
  if (grad_x) {
    DwConvAdjK k{grad_y, int64_t(oh) * ow, planes, c, h, w, kh, kw, pt, pl, sh, sw, oh, ow, weight, nullptr, nullptr, grad_x};
    WTCONV_LAUNCH(k, grid_for(int64_t(planes) * h * w), 1, kThreads, 0);
  }
  if (grad_weight || grad_bias) {
    const int taps = kh * kw;
    float* partial = nullptr;
    double* corr = nullptr;
    WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
      partial = cv.take<float>(size_t(planes) * (taps + 1));
      corr = cv.take<double>(size_t(c) * (taps + 1));
    }));
    TapPartialK tp{x, int64_t(h) * w, grad_y, int64_t(oh) * ow, h, w, kh, kw, pt, pl, sh, sw, oh, ow, partial};
    WTCONV_LAUNCH(tp, int64_t(planes) * (taps + 1), 1, kThreads, kThreads);
    ReduceK rk{partial, n, c, 1, taps + 1, corr};
    WTCONV_LAUNCH(rk, grid_for(int64_t(c) * (taps + 1)), 1, kThreads, 0);
    FinalizeK fk{corr, c, taps, 1, weight, nullptr, nullptr, grad_weight, nullptr, grad_bias};
    WTCONV_LAUNCH(fk, grid_for(c), 1, kThreads, 0);
  }
  return ex.finish("depthwise_conv2d_backward");
}

// ---- multi-level DWT ----------------------------------------------------------

inline wtconv_status check_dwt(int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
                               const void* plane, const char* plane_name, const void* const* bands,
                               const char* bands_name) {
  WTCONV_CHECK(wtconv::check_nchw(n, c, h, w, "x"));
  WTCONV_CHECK(wtconv::check_levels(levels));
  WTCONV_CHECK(wtconv::check_wavelet(wavelet));
  WTCONV_CHECK(wtconv::check_pointer(plane, plane_name));
  WTCONV_CHECK(wtconv::check_pointer(bands, bands_name));
  for (int32_t l = 0; l < levels; ++l) {
    if (bands[l] == nullptr) return fail(WTCONV_E_ARG, "%s[%d]: expected a buffer, got NULL", bands_name, l);
  }
  return WTCONV_OK;
}

// One analysis level over `planes` planes of `in` (plane stride in_plane).
inline AnalyzeK analyze(const float* in, int64_t in_plane, int planes, int H, int W, int bands_out,
                        const Filters& f, float* out) {
  return AnalyzeK{in, in_plane, W, 1, 1, planes, H, W, (H + 1) / 2, (W + 1) / 2, bands_out, f, out};
}

// The analysis cascade: level 0 of `in` (planes h x w), each level after of
// the LL band of the one before, into out[l] (planes, 4, band_h, band_w).
template <typename Ex>
wtconv_status analysis_cascade(Ex& ex, const LevelSizes& s, int planes, int32_t levels, const Filters& f,
                               const float* in, float* const* out) {
  int64_t in_plane = int64_t(s.in_h[0]) * s.in_w[0];
  for (int l = 0; l < levels; ++l) {
    WTCONV_LAUNCH(analyze(in, in_plane, planes, s.in_h[l], s.in_w[l], 4, f, out[l]),
                  grid_for(int64_t(planes) * 4 * s.band_plane(l)), 1, kThreads, 0);
    in = out[l];
    in_plane = 4 * int64_t(s.band_plane(l));
  }
  return WTCONV_OK;
}

// The synthesis cascade, deepest level first: level l's four bands, with the
// result of the level below in their LL band (ll_mode 1: added, 2: in its
// place; SynthK), into planes of level l's input size; level 0's into `out`,
// the others into workspace.
template <typename Ex>
wtconv_status synthesis_cascade(Ex& ex, const LevelSizes& s, int planes, int32_t levels, const Filters& f,
                                int ll_mode, const float* const* in, float* out) {
  float* tmp[2] = {nullptr, nullptr};
  if (levels > 1) {
    WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
      tmp[0] = cv.take<float>(size_t(planes) * s.in_plane(1));
      tmp[1] = cv.take<float>(size_t(planes) * s.in_plane(1));
    }));
  }
  const float* below = nullptr;
  for (int l = levels - 1; l >= 0; --l) {
    float* level_out = l == 0 ? out : tmp[l % 2];
    SynthK k{in[l], below, below ? ll_mode : 0, nullptr, planes, s.in_h[l], s.in_w[l], s.band_h[l], s.band_w[l], f, level_out};
    WTCONV_LAUNCH(k, grid_for(int64_t(planes) * s.in_plane(l)), 1, kThreads, 0);
    below = level_out;
  }
  return WTCONV_OK;
}

template <typename Ex>
wtconv_status dwt2d_forward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                            int32_t wavelet, const float* x, float* const* bands) {
  WTCONV_CHECK(check_dwt(n, c, h, w, levels, wavelet, x, "x", reinterpret_cast<const void* const*>(bands), "bands"));
  const LevelSizes s(h, w, levels);
  WTCONV_CHECK(analysis_cascade(ex, s, n * c, levels, make_filters(wavelet, false), x, bands));
  return ex.finish("dwt2d_forward");
}

template <typename Ex>
wtconv_status dwt2d_backward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                             int32_t wavelet, const float* const* grad_bands, float* grad_x) {
  WTCONV_CHECK(check_dwt(n, c, h, w, levels, wavelet, grad_x, "grad_x", reinterpret_cast<const void* const*>(grad_bands), "grad_bands"));
  const LevelSizes s(h, w, levels);
  // The adjoint of the analysis: synthesis with the analysis filters, each
  // level's result added to the gradient of the LL band above it.
  WTCONV_CHECK(synthesis_cascade(ex, s, n * c, levels, make_filters(wavelet, false), 1, grad_bands, grad_x));
  return ex.finish("dwt2d_backward");
}

template <typename Ex>
wtconv_status idwt2d_forward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                             int32_t wavelet, const float* const* bands, float* y) {
  WTCONV_CHECK(check_dwt(n, c, h, w, levels, wavelet, y, "y", reinterpret_cast<const void* const*>(bands), "bands"));
  const LevelSizes s(h, w, levels);
  // Each level's result replaces the LL band of the level above.
  WTCONV_CHECK(synthesis_cascade(ex, s, n * c, levels, make_filters(wavelet, true), 2, bands, y));
  return ex.finish("idwt2d_forward");
}

template <typename Ex>
wtconv_status idwt2d_backward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels,
                              int32_t wavelet, const float* grad_y, float* const* grad_bands) {
  WTCONV_CHECK(check_dwt(n, c, h, w, levels, wavelet, grad_y, "grad_y", reinterpret_cast<const void* const*>(grad_bands), "grad_bands"));
  const LevelSizes s(h, w, levels);
  const Filters syn = make_filters(wavelet, true);
  const int planes = n * c;
  WTCONV_CHECK(analysis_cascade(ex, s, planes, levels, syn, grad_y, grad_bands));
  // The LL bands of lower levels were replaced by the level above: no gradient.
  for (int l = 0; l + 1 < levels; ++l) {
    ZeroLLK z{grad_bands[l], planes, s.band_h[l], s.band_w[l]};
    WTCONV_LAUNCH(z, grid_for(int64_t(planes) * s.band_plane(l)), 1, kThreads, 0);
  }
  return ex.finish("idwt2d_backward");
}

// ---- WTConv2d ---------------------------------------------------------------

struct WTShape {
  int32_t n, c, h, w, k, levels, sh, sw, wavelet, oh, ow, before, planes;
  LevelSizes s;
  WTShape(int32_t n_, int32_t c_, int32_t h_, int32_t w_, int32_t k_, int32_t l_, int32_t sh_, int32_t sw_, int32_t wv)
      : n(n_), c(c_), h(h_), w(w_), k(k_), levels(l_), sh(sh_), sw(sw_), wavelet(wv),
        oh((h_ + sh_ - 1) / sh_), ow((w_ + sw_ - 1) / sw_), before((k_ - 1) / 2), planes(n_ * c_), s(h_, w_, l_) {}
};

inline wtconv_status check_wtconv2d(int32_t n, int32_t c, int32_t h, int32_t w, int32_t k, int32_t levels,
                                    int32_t sh, int32_t sw, int32_t wavelet, const float* x,
                                    const float* base_weight, const float* base_scale,
                                    const float* const* ww, const float* const* wsc) {
  WTCONV_CHECK(wtconv::check_nchw(n, c, h, w, "x"));
  if (k < 1 || k > 1024) return fail(WTCONV_E_ARG, "kernel_size: expected 1..1024, got %d", k);
  WTCONV_CHECK(wtconv::check_levels(levels));
  if (sh < 1 || sw < 1) return fail(WTCONV_E_ARG, "stride: expected positive values, got (%d, %d)", sh, sw);
  WTCONV_CHECK(wtconv::check_wavelet(wavelet));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(base_weight, "base_conv.weight"));
  WTCONV_CHECK(wtconv::check_pointer(base_scale, "base_scale.weight"));
  WTCONV_CHECK(wtconv::check_pointer(ww, "wavelet_convs"));
  WTCONV_CHECK(wtconv::check_pointer(wsc, "wavelet_scale"));
  for (int32_t l = 0; l < levels; ++l) {
    if (ww[l] == nullptr) return fail(WTCONV_E_ARG, "wavelet_convs.%d.weight: expected a buffer, got NULL", l);
    if (wsc[l] == nullptr) return fail(WTCONV_E_ARG, "wavelet_scale.%d.weight: expected a buffer, got NULL", l);
  }
  return WTCONV_OK;
}

// Whether the fused kernels' shared memory fits this shape (else: the baseline tier).
inline bool fused_fits_forward(const WTShape& z) {
  const Filters a{2 * z.wavelet, z.wavelet - 1, {}};
  return FusedLevelK::shared_floats(a.F, a.pad, z.k, z.before, kTile, kTile, false, true) <= kMaxSharedFloats;
}
inline int corr_tile(const WTShape& z) {  // 0: does not fit
  for (int t : {16, 8, 4}) {
    if (FusedCorrK::shared_floats(2 * z.wavelet, z.k, t, kThreads) <= kMaxSharedFloats &&
        FusedCorrK::shared_floats(0, z.k, t, kThreads) <= kMaxSharedFloats) {
      return t;
    }
  }
  return 0;
}
inline bool fused_fits_backward(const WTShape& z) {
  return FusedLevelK::shared_floats(2 * z.wavelet, z.wavelet - 1, z.k, z.before, kTile, kTile, true, true) <= kMaxSharedFloats &&
         corr_tile(z) > 0;
}

inline FusedLevelK fused_level(const WTShape& z, int l, bool adjoint) {
  FusedLevelK f{};
  f.adjoint = adjoint;
  f.planes = z.planes;
  f.C = z.c;
  f.H = z.s.in_h[l];
  f.W = z.s.in_w[l];
  f.h = z.s.band_h[l];
  f.w = z.s.band_w[l];
  f.k = z.k;
  f.before = z.before;
  f.TH = kTile;
  f.TW = kTile;
  f.tiles_x = (f.W + kTile - 1) / kTile;
  f.base = l == 0;
  f.sh = z.sh;
  f.sw = z.sw;
  f.oh = z.oh;
  f.ow = z.ow;
  return f;
}

template <typename Ex>
wtconv_status launch_fused_level(Ex& ex, const FusedLevelK& f) {
  const int tiles = f.tiles_x * ((f.H + f.TH - 1) / f.TH);
  if (tiles > 65535) return fail(WTCONV_E_SHAPE, "x: a plane of (%d, %d) has more than 65535 tiles", f.H, f.W);
  const int shared = FusedLevelK::shared_floats(f.dwt.F, f.dwt.pad, f.k, f.before, f.TH, f.TW, f.adjoint, f.base);
  return ex.launch(f, f.planes, tiles, kThreads, shared);
}

template <typename Ex>
wtconv_status wtconv2d_forward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t k,
                               int32_t levels, int32_t sh, int32_t sw, int32_t wavelet, const float* x,
                               const float* bw, const float* bias, const float* bs,
                               const float* const* ww, const float* const* wsc, float* y) {
  WTCONV_CHECK(check_wtconv2d(n, c, h, w, k, levels, sh, sw, wavelet, x, bw, bs, ww, wsc));
  WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  const WTShape z(n, c, h, w, k, levels, sh, sw, wavelet);
  const LevelSizes& s = z.s;
  const Filters a = make_filters(wavelet, false), syn = make_filters(wavelet, true);
  const int P = z.planes;

  if (ex.tier() == 1 && fused_fits_forward(z)) {
    // ll[i]: the LL band of level i (the input of level i + 1); next[i]: level i's output.
    float* ll[kMaxLevels] = {};
    float* next[kMaxLevels] = {};
    WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
      for (int l = 0; l + 1 < levels; ++l) ll[l] = cv.take<float>(size_t(P) * s.band_plane(l));
      for (int l = 1; l < levels; ++l) next[l] = cv.take<float>(size_t(P) * s.in_plane(l));
    }));
    for (int l = 0; l + 1 < levels; ++l) {
      const float* in = l == 0 ? x : ll[l - 1];
      WTCONV_LAUNCH(analyze(in, s.in_plane(l), P, s.in_h[l], s.in_w[l], 1, a, ll[l]),
                    grid_for(int64_t(P) * s.band_plane(l)), 1, kThreads, 0);
    }
    for (int l = levels - 1; l >= 0; --l) {
      FusedLevelK f = fused_level(z, l, false);
      f.cur = l == 0 ? x : ll[l - 1];
      f.cur_plane = s.in_plane(l);
      f.ww = ww[l];
      f.ws = wsc[l];
      f.extra = l + 1 < levels ? next[l + 1] : nullptr;
      f.dwt = a;
      f.synth = syn;
      f.base_in = x;
      f.bw = bw;
      f.bs = bs;
      f.bias = bias;
      f.out = l == 0 ? y : next[l];
      WTCONV_CHECK(launch_fused_level(ex, f));
    }
    return ex.finish("wtconv2d_forward");
  }

  // Baseline: DWT cascade; per level conv + scale, then the inverse cascade; base conv.
  float* t[kMaxLevels] = {};
  float* zb = nullptr;
  float* next[2] = {};
  float* next0 = nullptr;
  WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
    for (int l = 0; l < levels; ++l) t[l] = cv.take<float>(size_t(P) * s.bands_plane(l));
    zb = cv.take<float>(size_t(P) * s.bands_plane(0));
    if (levels > 1) {
      next[0] = cv.take<float>(size_t(P) * s.in_plane(1));
      next[1] = cv.take<float>(size_t(P) * s.in_plane(1));
    }
    next0 = cv.take<float>(size_t(P) * s.in_plane(0));
  }));
  for (int l = 0; l < levels; ++l) {
    const float* in = l == 0 ? x : t[l - 1];
    const int64_t in_plane = l == 0 ? int64_t(s.in_plane(0)) : 4 * int64_t(s.band_plane(l - 1));
    WTCONV_LAUNCH(analyze(in, in_plane, P, s.in_h[l], s.in_w[l], 4, a, t[l]),
                  grid_for(int64_t(P) * s.bands_plane(l)), 1, kThreads, 0);
  }
  const float* upper = nullptr;
  for (int l = levels - 1; l >= 0; --l) {
    const int bh = s.band_h[l], bwd = s.band_w[l];
    DwConvK cv{t[l], int64_t(bh) * bwd, 4 * P, 4 * c, bh, bwd, k, k, z.before, z.before, 1, 1, bh, bwd,
               ww[l], wsc[l], nullptr, nullptr, zb};
    WTCONV_LAUNCH(cv, grid_for(int64_t(4) * P * bh * bwd), 1, kThreads, 0);
    float* out = l == 0 ? next0 : next[l % 2];
    SynthK sy{zb, upper, upper ? 1 : 0, nullptr, P, s.in_h[l], s.in_w[l], bh, bwd, syn, out};
    WTCONV_LAUNCH(sy, grid_for(int64_t(P) * s.in_plane(l)), 1, kThreads, 0);
    upper = out;
  }
  DwConvK base{x, int64_t(h) * w, P, c, h, w, k, k, z.before, z.before, sh, sw, z.oh, z.ow, bw, bs, bias, next0, y};
  WTCONV_LAUNCH(base, grid_for(int64_t(P) * z.oh * z.ow), 1, kThreads, 0);
  return ex.finish("wtconv2d_forward");
}

template <typename Ex>
wtconv_status wtconv2d_backward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t k,
                                int32_t levels, int32_t sh, int32_t sw, int32_t wavelet, const float* x,
                                const float* bw, const float* bias, const float* bs,
                                const float* const* ww, const float* const* wsc, const float* grad_y,
                                float* gx, float* gbw, float* gbias, float* gbs, float* const* gww,
                                float* const* gws) {
  WTCONV_CHECK(check_wtconv2d(n, c, h, w, k, levels, sh, sw, wavelet, x, bw, bs, ww, wsc));
  WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  WTCONV_CHECK(wtconv::check_pointer(gx, "grad.x"));
  WTCONV_CHECK(wtconv::check_pointer(gbw, "grad.base_conv.weight"));
  WTCONV_CHECK(wtconv::check_pointer(gbs, "grad.base_scale.weight"));
  if ((bias == nullptr) != (gbias == nullptr)) {
    return fail(WTCONV_E_ARG, "grad.base_conv.bias: expected a buffer exactly when base_conv.bias is given");
  }
  WTCONV_CHECK(wtconv::check_pointer(gww, "grad.wavelet_convs"));
  WTCONV_CHECK(wtconv::check_pointer(gws, "grad.wavelet_scale"));
  for (int32_t l = 0; l < levels; ++l) {
    if (gww[l] == nullptr || gws[l] == nullptr) return fail(WTCONV_E_ARG, "grad.wavelet_*.%d: expected buffers, got NULL", l);
  }
  const WTShape z(n, c, h, w, k, levels, sh, sw, wavelet);
  const LevelSizes& s = z.s;
  const Filters a = make_filters(wavelet, false), syn = make_filters(wavelet, true);
  const int P = z.planes;
  const int kk = k * k;
  const bool fused = ex.tier() == 1 && fused_fits_backward(z);
  const int T = fused ? corr_tile(z) : 0;
  auto tiles_of = [&](int bh, int bwd) { return ((bh + T - 1) / T) * ((bwd + T - 1) / T); };

  float* gz[kMaxLevels] = {};  // band gradients of every level (P, 4, h_l, w_l)
  float* t[kMaxLevels] = {};   // baseline: the DWT cascade of x; fused: LL bands only
  float* llg[2] = {};          // gradients of the level inputs (l >= 1)
  float* gt = nullptr;         // baseline: one level's band gradients through the conv
  float* partial = nullptr;
  double* corr = nullptr;
  size_t partial_floats = size_t(P) * (kk + 1);  // base path (both tiers)
  if (fused) {
    partial_floats = std::max(partial_floats, size_t(P) * tiles_of(h, w) * (kk + 1));
    for (int l = 0; l < levels; ++l) partial_floats = std::max(partial_floats, size_t(P) * tiles_of(s.band_h[l], s.band_w[l]) * 4 * kk);
  } else {
    partial_floats = std::max(partial_floats, size_t(P) * 4 * (kk + 1));
  }
  WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
    for (int l = 0; l < levels; ++l) gz[l] = cv.take<float>(size_t(P) * s.bands_plane(l));
    for (int l = 0; l < levels; ++l) {
      if (fused && l + 1 == levels) break;
      t[l] = cv.take<float>(size_t(P) * (fused ? s.band_plane(l) : s.bands_plane(l)));
    }
    if (levels > 1) {
      llg[0] = cv.take<float>(size_t(P) * s.in_plane(1));
      llg[1] = cv.take<float>(size_t(P) * s.in_plane(1));
    }
    if (!fused) gt = cv.take<float>(size_t(P) * s.bands_plane(0));
    partial = cv.take<float>(partial_floats);
    corr = cv.take<double>(size_t(c) * 4 * (kk + 1));
  }));

  // Gradients of the convolved bands, down the cascade: gz_0 = analysis of grad_y
  // (upsampled by the stride) with the synthesis filters; gz_l from gz_{l-1}'s LL.
  {
    AnalyzeK g0{grad_y, int64_t(z.oh) * z.ow, z.ow, sh, sw, P, h, w, s.band_h[0], s.band_w[0], 4, syn, gz[0]};
    WTCONV_LAUNCH(g0, grid_for(int64_t(P) * s.bands_plane(0)), 1, kThreads, 0);
    for (int l = 1; l < levels; ++l) {
      WTCONV_LAUNCH(analyze(gz[l - 1], 4 * int64_t(s.band_plane(l - 1)), P, s.in_h[l], s.in_w[l], 4, syn, gz[l]),
                    grid_for(int64_t(P) * s.bands_plane(l)), 1, kThreads, 0);
    }
  }
  // The DWT cascade of x (fused: LL bands only; the bands are recomputed in the kernels).
  for (int l = 0; l < levels; ++l) {
    if (fused && l + 1 == levels) break;
    const float* in = l == 0 ? x : t[l - 1];
    const int64_t in_plane = l == 0 ? int64_t(s.in_plane(0)) : (fused ? 1 : 4) * int64_t(s.band_plane(l - 1));
    WTCONV_LAUNCH(analyze(in, in_plane, P, s.in_h[l], s.in_w[l], fused ? 1 : 4, a, t[l]),
                  grid_for(int64_t(P) * (fused ? 1 : 4) * s.band_plane(l)), 1, kThreads, 0);
  }

  // Parameter gradients: correlation partials, reduced per channel in a fixed order.
  if (fused) {
    const int tiles = tiles_of(h, w);
    FusedCorrK bk{P, h, w, h, w, k, z.before, T, (w + T - 1) / T, tiles, x, int64_t(h) * w, grad_y, sh, sw, z.oh, z.ow, Filters{}, partial};
    WTCONV_LAUNCH(bk, P, tiles, kThreads, FusedCorrK::shared_floats(0, k, T, kThreads));
    ReduceK rk{partial, n, c, tiles, kk + 1, corr};
    WTCONV_LAUNCH(rk, grid_for(int64_t(c) * (kk + 1)), 1, kThreads, 0);
  } else {
    TapPartialK tp{x, int64_t(h) * w, grad_y, int64_t(z.oh) * z.ow, h, w, k, k, z.before, z.before, sh, sw, z.oh, z.ow, partial};
    WTCONV_LAUNCH(tp, int64_t(P) * (kk + 1), 1, kThreads, kThreads);
    ReduceK rk{partial, n, c, 1, kk + 1, corr};
    WTCONV_LAUNCH(rk, grid_for(int64_t(c) * (kk + 1)), 1, kThreads, 0);
  }
  {
    FinalizeK fk{corr, c, kk, 1, bw, bs, bias, gbw, gbs, gbias};
    WTCONV_LAUNCH(fk, grid_for(c), 1, kThreads, 0);
  }
  for (int l = 0; l < levels; ++l) {
    const int bh = s.band_h[l], bwd = s.band_w[l];
    if (fused) {
      const int tiles = tiles_of(bh, bwd);
      const float* in = l == 0 ? x : t[l - 1];
      FusedCorrK ck{P, s.in_h[l], s.in_w[l], bh, bwd, k, z.before, T, (bwd + T - 1) / T, tiles, in,
                    int64_t(s.in_plane(l)), gz[l], 1, 1, bh, bwd, a, partial};
      WTCONV_LAUNCH(ck, P, tiles, kThreads, FusedCorrK::shared_floats(a.F, k, T, kThreads));
      ReduceK rk{partial, n, c, tiles, 4 * kk, corr};
      WTCONV_LAUNCH(rk, grid_for(int64_t(c) * 4 * kk), 1, kThreads, 0);
      FinalizeK fk{corr, 4 * c, kk, 0, ww[l], wsc[l], nullptr, gww[l], gws[l], nullptr};
      WTCONV_LAUNCH(fk, grid_for(4 * c), 1, kThreads, 0);
    } else {
      TapPartialK tp{t[l], int64_t(bh) * bwd, gz[l], int64_t(bh) * bwd, bh, bwd, k, k, z.before, z.before, 1, 1, bh, bwd, partial};
      WTCONV_LAUNCH(tp, int64_t(4) * P * (kk + 1), 1, kThreads, kThreads);
      ReduceK rk{partial, n, 4 * c, 1, kk + 1, corr};
      WTCONV_LAUNCH(rk, grid_for(int64_t(4) * c * (kk + 1)), 1, kThreads, 0);
      FinalizeK fk{corr, 4 * c, kk, 1, ww[l], wsc[l], nullptr, gww[l], gws[l], nullptr};
      WTCONV_LAUNCH(fk, grid_for(4 * c), 1, kThreads, 0);
    }
  }

  // grad x: up the cascade, the band gradients through the convolutions and the
  // DWT's adjoint; the base path at level 0.
  if (fused) {
    for (int l = levels - 1; l >= 0; --l) {
      FusedLevelK f = fused_level(z, l, true);
      f.src = gz[l];
      f.ww = ww[l];
      f.ws = wsc[l];
      f.extra = l + 1 < levels ? llg[(l + 1) % 2] : nullptr;
      f.dwt = a;
      f.synth = a;
      f.base_in = grad_y;
      f.bw = bw;
      f.bs = bs;
      f.out = l == 0 ? gx : llg[l % 2];
      WTCONV_CHECK(launch_fused_level(ex, f));
    }
    return ex.finish("wtconv2d_backward");
  }
  DwConvAdjK base{grad_y, int64_t(z.oh) * z.ow, P, c, h, w, k, k, z.before, z.before, sh, sw, z.oh, z.ow, bw, bs, nullptr, gx};
  WTCONV_LAUNCH(base, grid_for(int64_t(P) * h * w), 1, kThreads, 0);
  const float* upper = nullptr;
  for (int l = levels - 1; l >= 0; --l) {
    const int bh = s.band_h[l], bwd = s.band_w[l];
    DwConvAdjK cv{gz[l], int64_t(bh) * bwd, 4 * P, 4 * c, bh, bwd, k, k, z.before, z.before, 1, 1, bh, bwd, ww[l], wsc[l], nullptr, gt};
    WTCONV_LAUNCH(cv, grid_for(int64_t(4) * P * bh * bwd), 1, kThreads, 0);
    float* out = l == 0 ? gx : llg[l % 2];
    SynthK sy{gt, upper, upper ? 1 : 0, l == 0 ? gx : nullptr, P, s.in_h[l], s.in_w[l], bh, bwd, a, out};
    WTCONV_LAUNCH(sy, grid_for(int64_t(P) * s.in_plane(l)), 1, kThreads, 0);
    upper = out;
  }
  return ex.finish("wtconv2d_backward");
}

// ---- conv1d / conv2d / conv3d ----------------------------------------------
// The geometry checks are the core's (conv-geometry.h); weight (cout, cin /
// groups, *kernel) as in PyTorch.

inline ConvDims conv_dims(const wtconv::ConvGeometry& g) {
  ConvDims d{g.batch, g.in_channels, g.out_channels, g.groups, {}, {}, {}, {}, {}, {}};
  for (int a = 0; a < 3; ++a) {
    d.in[a] = g.in[a], d.out[a] = g.out[a], d.k[a] = g.kernel[a];
    d.s[a] = g.stride[a], d.p[a] = g.pad[a], d.d[a] = g.dilation[a];
  }
  return d;
}

// y = conv(x, weight) + bias (bias may be null).
template <typename Ex>
wtconv_status launch_conv_forward(Ex& ex, const ConvDims& d, const float* x, const float* weight, const float* bias,
                                  float* y) {
  const int64_t blocks = (d.cout_g() + kConvOutBlock - 1) / kConvOutBlock;
  ConvFwdK k{x, weight, bias, y, d};
  WTCONV_LAUNCH(k, grid_for(int64_t(d.n) * d.groups * blocks * d.out_plane()), 1, kThreads, 0);
  return WTCONV_OK;
}

// The weight and bias gradients of the conv `d` whose input is x and output
// gradient grad_y: per-image correlations (ConvCorrK), summed over the images in
// a fixed order (ReduceK), written as floats (FinalizeK). Either may be null.
template <typename Ex>
wtconv_status conv_weight_gradient(Ex& ex, const ConvDims& d, const float* x, const float* grad_y, const float* weight,
                                   float* grad_weight, float* grad_bias) {
  const int row = d.cin_g() * d.taps() + 1;  // weights of one output channel, then its bias
  float* partial = nullptr;
  double* corr = nullptr;
  WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
    partial = cv.take<float>(size_t(d.n) * d.cout * row);
    corr = cv.take<double>(size_t(d.cout) * row);
  }));
  ConvCorrK ck{x, grad_y, partial, d};
  WTCONV_LAUNCH(ck, grid_for(int64_t(d.n) * d.cout * row), 1, kThreads, 0);
  ReduceK rk{partial, d.n, d.cout, 1, row, corr};
  WTCONV_LAUNCH(rk, grid_for(int64_t(d.cout) * row), 1, kThreads, 0);
  FinalizeK fk{corr, d.cout, row - 1, 1, weight, nullptr, nullptr, grad_weight, nullptr, grad_bias};
  WTCONV_LAUNCH(fk, grid_for(d.cout), 1, kThreads, 0);
  return WTCONV_OK;
}

template <typename Ex>
wtconv_status conv_forward(Ex& ex, const wtconv::ConvGeometry& g, const float* x, const float* weight,
                           const float* bias, float* y) {
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  WTCONV_CHECK(launch_conv_forward(ex, conv_dims(g), x, weight, bias, y));
  return ex.finish("conv_forward");
}

template <typename Ex>
wtconv_status conv_backward(Ex& ex, const wtconv::ConvGeometry& g, const float* x, const float* weight,
                            const float* grad_y, float* grad_x, float* grad_weight, float* grad_bias) {
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  const ConvDims d = conv_dims(g);
  if (grad_x) {
    ConvAdjK k{grad_y, weight, nullptr, nullptr, nullptr, grad_x, d};
    WTCONV_LAUNCH(k, grid_for(int64_t(d.n) * d.cin * d.in_plane()), 1, kThreads, 0);
  }
  if (grad_weight || grad_bias) WTCONV_CHECK(conv_weight_gradient(ex, d, x, grad_y, weight, grad_weight, grad_bias));
  return ex.finish("conv_backward");
}

// conv_transpose2d through the conv2d whose input gradient it is
// (wtconv::conv_transpose2d_geometry): its forward pass is that conv's input
// gradient, its backward that conv's forward (grad x) and weight gradient.

// grad_bias[c] = sum of v[:, c] (planes of `plane` values), in a fixed order.
template <typename Ex>
wtconv_status channel_sums(Ex& ex, int32_t n, int32_t c, int64_t plane, const float* v, float* grad_bias) {
  float* partial = nullptr;
  double* corr = nullptr;
  WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
    partial = cv.take<float>(size_t(n) * c);
    corr = cv.take<double>(size_t(c));
  }));
  ChannelSumK sk{v, int64_t(n) * c, plane, 1.0, partial};
  WTCONV_LAUNCH(sk, grid_for(int64_t(n) * c), 1, kThreads, 0);
  ReduceK rk{partial, n, c, 1, 1, corr};
  WTCONV_LAUNCH(rk, grid_for(c), 1, kThreads, 0);
  FinalizeK fk{corr, c, 0, 1, nullptr, nullptr, nullptr, nullptr, nullptr, grad_bias};
  WTCONV_LAUNCH(fk, grid_for(c), 1, kThreads, 0);
  return WTCONV_OK;
}

template <typename Ex>
wtconv_status conv_transpose2d_forward(Ex& ex, const wtconv::ConvGeometry& g, const float* x, const float* weight,
                                       const float* channel_scale, const float* bias, const float* residual, float* y) {
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  const ConvDims d = conv_dims(g);
  ConvAdjK k{x, weight, channel_scale, bias, residual, y, d};
  WTCONV_LAUNCH(k, grid_for(int64_t(d.n) * d.cin * d.in_plane()), 1, kThreads, 0);
  return ex.finish("conv_transpose2d_forward");
}

template <typename Ex>
wtconv_status conv_transpose2d_backward(Ex& ex, const wtconv::ConvGeometry& g, const float* x, const float* weight,
                                        const float* grad_y, float* grad_x, float* grad_weight, float* grad_bias) {
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  const ConvDims d = conv_dims(g);  // the conv from grad_y's space to x's
  if (grad_x) WTCONV_CHECK(launch_conv_forward(ex, d, grad_y, weight, nullptr, grad_x));
  // The conv's input is grad_y, its output gradient x; the bias is the transposed conv's own.
  if (grad_weight) WTCONV_CHECK(conv_weight_gradient(ex, d, grad_y, x, weight, grad_weight, nullptr));
  if (grad_bias) WTCONV_CHECK(channel_sums(ex, d.n, d.cin, d.in_plane(), grad_y, grad_bias));
  return ex.finish("conv_transpose2d_backward");
}

// ---- WaveMix layers ---------------------------------------------------------
// The core's argument checks (elementwise.h, layer-checks.h), then the kernels.

template <typename Ex>
wtconv_status add_forward(Ex& ex, int32_t n, int32_t size, const float* a, const float* b, float* y) {
  size_t count = 0;
  WTCONV_CHECK(wtconv::check_elementwise(n, size, &count));
  WTCONV_CHECK(wtconv::check_pointer(a, "a"));
  WTCONV_CHECK(wtconv::check_pointer(b, "b"));
  WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  BinaryK k{a, b, y, int64_t(count), 0};
  WTCONV_LAUNCH(k, grid_for(int64_t(count)), 1, kThreads, 0);
  return ex.finish("add_forward");
}

// Forward (out = y) or backward (out = grad_x, which may be null).
template <typename Ex>
wtconv_status gelu(Ex& ex, bool backward, int32_t n, int32_t size, const float* x, const float* grad_y, float* out) {
  size_t count = 0;
  WTCONV_CHECK(wtconv::check_elementwise(n, size, &count));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(backward ? wtconv::check_pointer(grad_y, "grad_y") : wtconv::check_pointer(out, "y"));
  if (out == nullptr) return WTCONV_OK;
  GeluK k{x, backward ? grad_y : nullptr, out, int64_t(count)};
  WTCONV_LAUNCH(k, grid_for(int64_t(count)), 1, kThreads, 0);
  return ex.finish(backward ? "gelu_backward" : "gelu_forward");
}

template <typename Ex>
wtconv_status dropout_forward(Ex& ex, int32_t n, int32_t size, float p, int32_t seed, const float* x, float* y,
                              float* mask) {
  size_t count = 0;
  WTCONV_CHECK(wtconv::check_elementwise(n, size, &count));
  WTCONV_CHECK(wtconv::check_dropout_probability(p));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  WTCONV_CHECK(wtconv::check_pointer(mask, "mask"));
  const wtconv::DropoutThreshold keep = wtconv::dropout_threshold(p);
  DropoutK k{x, y, mask, int64_t(count), seed, keep.threshold, keep.scale, p == 0.0f ? 1 : 0};
  WTCONV_LAUNCH(k, grid_for(int64_t(count)), 1, kThreads, 0);
  return ex.finish("dropout_forward");
}

template <typename Ex>
wtconv_status dropout_backward(Ex& ex, int32_t n, int32_t size, const float* mask, const float* grad_y,
                               float* grad_x) {
  size_t count = 0;
  WTCONV_CHECK(wtconv::check_elementwise(n, size, &count));
  WTCONV_CHECK(wtconv::check_pointer(mask, "mask"));
  WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  if (grad_x == nullptr) return WTCONV_OK;
  BinaryK k{grad_y, mask, grad_x, int64_t(count), 1};
  WTCONV_LAUNCH(k, grid_for(int64_t(count)), 1, kThreads, 0);
  return ex.finish("dropout_backward");
}

template <typename Ex>
wtconv_status batch_norm2d_forward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t training,
                                   float momentum, float eps, const float* x, const float* weight, const float* bias,
                                   const float* running_mean, const float* running_var, float* y, float* save_mean,
                                   float* save_invstd, float* new_running_mean, float* new_running_var) {
  WTCONV_CHECK(wtconv::check_batch_norm2d_forward(n, c, h, w, training, momentum, eps, x, running_mean, running_var, y,
                                                  save_mean, save_invstd, new_running_mean, new_running_var));
  const int64_t plane = int64_t(h) * w, planes = int64_t(n) * c;
  const double m = static_cast<double>(plane) * n;
  BnStatsK st{nullptr, nullptr, running_mean, running_var, new_running_mean, new_running_var, save_mean, save_invstd,
              c, training, 0, m, momentum, eps};
  if (training) {
    float* partial = nullptr;
    double* sums = nullptr;
    double* sq = nullptr;
    WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
      partial = cv.take<float>(size_t(planes));
      sums = cv.take<double>(size_t(c));
      sq = cv.take<double>(size_t(c));
    }));
    ChannelSumK sk{x, planes, plane, 1.0, partial};
    WTCONV_LAUNCH(sk, grid_for(planes), 1, kThreads, 0);
    ReduceK rk{partial, n, c, 1, 1, sums};
    WTCONV_LAUNCH(rk, grid_for(c), 1, kThreads, 0);
    st.sums = sums;
    WTCONV_LAUNCH(st, grid_for(c), 1, kThreads, 0);  // stage 0: the mean
    PlaneMomentsK mk{x, nullptr, save_mean, c, planes, plane, partial};
    WTCONV_LAUNCH(mk, grid_for(planes), 1, kThreads, 0);
    ReduceK rq{partial, n, c, 1, 1, sq};
    WTCONV_LAUNCH(rq, grid_for(c), 1, kThreads, 0);
    st.sq = sq;
    st.stage = 1;
  }
  WTCONV_LAUNCH(st, grid_for(c), 1, kThreads, 0);
  BnApplyK ak{x, weight, bias, save_mean, save_invstd, y, c, plane, planes * plane};
  WTCONV_LAUNCH(ak, grid_for(planes * plane), 1, kThreads, 0);
  return ex.finish("batch_norm2d_forward");
}

template <typename Ex>
wtconv_status batch_norm2d_backward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, int32_t training,
                                    const float* x, const float* weight, const float* save_mean,
                                    const float* save_invstd, const float* grad_y, float* grad_x, float* grad_weight,
                                    float* grad_bias) {
  WTCONV_CHECK(wtconv::check_batch_norm2d(n, c, h, w, training));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(save_mean, "save_mean"));
  WTCONV_CHECK(wtconv::check_pointer(save_invstd, "save_invstd"));
  WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  const int64_t plane = int64_t(h) * w, planes = int64_t(n) * c;
  float* partial = nullptr;
  double* sums = nullptr;
  float* coef = nullptr;
  WTCONV_CHECK(with_workspace(ex, [&](Carver& cv) {
    partial = cv.take<float>(size_t(planes) * 2);
    sums = cv.take<double>(size_t(c) * 2);
    coef = cv.take<float>(size_t(c) * 3);
  }));
  PlaneMomentsK mk{x, grad_y, save_mean, c, planes, plane, partial};
  WTCONV_LAUNCH(mk, grid_for(planes), 1, kThreads, 0);
  ReduceK rk{partial, n, c, 1, 2, sums};
  WTCONV_LAUNCH(rk, grid_for(int64_t(c) * 2), 1, kThreads, 0);
  BnGradK gk{sums, x, grad_y, weight, save_mean, save_invstd, coef, grad_x, grad_weight, grad_bias,
             c, training, 0, static_cast<double>(plane) * n, plane, planes * plane};
  WTCONV_LAUNCH(gk, grid_for(c), 1, kThreads, 0);
  if (grad_x) {
    gk.stage = 1;
    WTCONV_LAUNCH(gk, grid_for(planes * plane), 1, kThreads, 0);
  }
  return ex.finish("batch_norm2d_backward");
}

template <typename Ex>
wtconv_status linear_forward(Ex& ex, int32_t n, int32_t in, int32_t out, const float* x, const float* weight,
                             const float* bias, float* y) {
  WTCONV_CHECK(wtconv::check_linear(n, in, out));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  MatMulK k{x, in, 1, weight, 1, in, bias, y, n, out, in};  // y = x W^T (+ bias)
  WTCONV_LAUNCH(k, grid_for(int64_t(n) * out), 1, kThreads, 0);
  return ex.finish("linear_forward");
}

template <typename Ex>
wtconv_status linear_backward(Ex& ex, int32_t n, int32_t in, int32_t out, const float* x, const float* weight,
                              const float* grad_y, float* grad_x, float* grad_weight, float* grad_bias) {
  WTCONV_CHECK(wtconv::check_linear(n, in, out));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  if (grad_x) {
    MatMulK k{grad_y, out, 1, weight, in, 1, nullptr, grad_x, n, in, out};  // grad_y W
    WTCONV_LAUNCH(k, grid_for(int64_t(n) * in), 1, kThreads, 0);
  }
  if (grad_weight) {
    MatMulK k{grad_y, 1, out, x, in, 1, nullptr, grad_weight, out, in, n};  // grad_y^T x
    WTCONV_LAUNCH(k, grid_for(int64_t(out) * in), 1, kThreads, 0);
  }
  if (grad_bias) {
    ColumnSumK k{grad_y, n, out, grad_bias};
    WTCONV_LAUNCH(k, grid_for(out), 1, kThreads, 0);
  }
  return ex.finish("linear_backward");
}

template <typename Ex>
wtconv_status global_avg_pool2d_forward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, const float* x,
                                        float* y) {
  WTCONV_CHECK(wtconv::check_nchw(n, c, h, w, "x"));
  WTCONV_CHECK(wtconv::check_pointer(x, "x"));
  WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  const int64_t plane = int64_t(h) * w;
  ChannelSumK k{x, int64_t(n) * c, plane, static_cast<double>(plane), y};
  WTCONV_LAUNCH(k, grid_for(int64_t(n) * c), 1, kThreads, 0);
  return ex.finish("global_avg_pool2d_forward");
}

template <typename Ex>
wtconv_status global_avg_pool2d_backward(Ex& ex, int32_t n, int32_t c, int32_t h, int32_t w, const float* grad_y,
                                         float* grad_x) {
  WTCONV_CHECK(wtconv::check_nchw(n, c, h, w, "grad_x"));
  WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  WTCONV_CHECK(wtconv::check_pointer(grad_x, "grad_x"));
  const int64_t plane = int64_t(h) * w, count = int64_t(n) * c * plane;
  BroadcastK k{grad_y, static_cast<float>(1.0 / static_cast<double>(plane)), plane, count, grad_x};
  WTCONV_LAUNCH(k, grid_for(count), 1, kThreads, 0);
  return ex.finish("global_avg_pool2d_backward");
}

// Forward (a, b -> y) or backward (grad_y -> grad_a, grad_b; each may be null).
template <typename Ex>
wtconv_status concat_channels(Ex& ex, bool backward, int32_t n, int32_t ca, int32_t cb, int32_t plane, const float* a,
                              const float* b, float* y, const float* grad_y, float* grad_a, float* grad_b) {
  WTCONV_CHECK(wtconv::check_concat(n, ca, cb, plane));
  if (backward) {
    WTCONV_CHECK(wtconv::check_pointer(grad_y, "grad_y"));
  } else {
    WTCONV_CHECK(wtconv::check_pointer(a, "a"));
    WTCONV_CHECK(wtconv::check_pointer(b, "b"));
    WTCONV_CHECK(wtconv::check_pointer(y, "y"));
  }
  const int64_t sa = int64_t(ca) * plane, sb = int64_t(cb) * plane, count = int64_t(n) * (sa + sb);
  ConcatK k{a, b, y, grad_a, grad_b, backward ? grad_y : nullptr, sa, sb, count};
  WTCONV_LAUNCH(k, grid_for(count), 1, kThreads, 0);
  return ex.finish(backward ? "concat_channels_backward" : "concat_channels_forward");
}

// ---- DCLS kernel construction ----------------------------------------------

// Forward (kernel) or backward (grad_kernel -> grad_weight, grad_P, grad_SIG; each may be null).
template <typename Ex>
wtconv_status dcls_construct(Ex& ex, bool backward, int32_t dims, int32_t out, int32_t in, int32_t count, int32_t s0,
                             int32_t s1, int32_t s2, int32_t version, const float* weight, const float* P,
                             const float* SIG, float* kernel, const float* grad_kernel, float* grad_weight,
                             float* grad_P, float* grad_SIG) {
  wtconv::Dcls d;
  WTCONV_CHECK(wtconv::make_dcls(dims, out, in, count, s0, s1, s2, version, &d));
  WTCONV_CHECK(wtconv::check_pointer(weight, "weight"));
  WTCONV_CHECK(wtconv::check_pointer(P, "P"));
  if (version == wtconv::kDclsGauss) WTCONV_CHECK(wtconv::check_pointer(SIG, "SIG"));
  WTCONV_CHECK(backward ? wtconv::check_pointer(grad_kernel, "grad_kernel") : wtconv::check_pointer(kernel, "kernel"));
  if (version != wtconv::kDclsGauss) grad_SIG = nullptr;
  DclsK k{d, weight, P, SIG, kernel, backward ? grad_kernel : nullptr, grad_weight, grad_P, grad_SIG};
  WTCONV_LAUNCH(k, grid_for(int64_t(out) * in), 1, kThreads, 0);
  return ex.finish(backward ? "dcls_construct_backward" : "dcls_construct_forward");
}

#undef WTCONV_LAUNCH

}  // namespace wtconv_cuda
