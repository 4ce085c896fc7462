// WTConv2d, NCHW, forward and backward (SPEC section 1).
//
// The layer is depthwise from end to end: plane (n, c) of the output depends
// only on plane (n, c) of the input. The forward pass runs one task per plane:
// the DWT cascade, the per-band depthwise convolutions and scales, the inverse
// cascade and the base convolution all happen on one plane while it is in
// cache. The backward pass runs one task per channel (looping over the batch),
// so parameter gradients are summed without any cross-thread reduction.
//
// Every convolution input lives in a PaddedPlane (its zero halo included) so
// the vector kernels of depthwise-conv2d-padded.h run without bounds checks.
// Halos are zeroed once per task; planes only ever rewrite their interiors.
#include <cstring>

#include "../kernels/depthwise-conv2d-padded.h"
#include "../kernels/dwt2d-plane.h"
#include "../thread-pool.h"
#include "level-sizes.h"
#include "validate.h"

namespace wtconv {
namespace {

struct WTConv2dShape {
  int32_t n, c, h, w, k, levels, stride_h, stride_w, out_h, out_w;
  int32_t before;  // 'same' padding before the interior: (k - 1) / 2; k - 1 - before after
  LevelSizes sizes;

  WTConv2dShape(int32_t n_, int32_t c_, int32_t h_, int32_t w_, int32_t k_, int32_t levels_,
                int32_t sh, int32_t sw)
      : n(n_), c(c_), h(h_), w(w_), k(k_), levels(levels_), stride_h(sh), stride_w(sw),
        out_h(ceil_div(h_, sh)), out_w(ceil_div(w_, sw)), before((k_ - 1) / 2),
        sizes(h_, w_, levels_) {}

  bool strided() const { return stride_h > 1 || stride_w > 1; }
  size_t taps() const { return static_cast<size_t>(k) * k; }
  size_t out_plane() const { return static_cast<size_t>(out_h) * out_w; }
  // Inputs of a 'same' convolution, and gradients fed to its adjoint (the
  // rotated kernel, whose halo before the interior is k - 1 - before).
  PaddedPlane input_layout(int32_t ph, int32_t pw) const { return PaddedPlane::layout(ph, pw, k, before); }
  PaddedPlane grad_layout(int32_t ph, int32_t pw) const { return PaddedPlane::layout(ph, pw, k, k - 1 - before); }
};

wtconv_status check_wtconv2d_args(int32_t n, int32_t c, int32_t h, int32_t w, int32_t k,
                                  int32_t levels, int32_t sh, int32_t sw, int32_t wavelet,
                                  const float* x, const float* base_weight,
                                  const float* base_scale, const float* const* wavelet_weight,
                                  const float* const* wavelet_scale) {
  WTCONV_CHECK(check_nchw(n, c, h, w, "x"));
  if (k < 1 || k > 1024) return fail(WTCONV_E_ARG, "kernel_size: expected 1..1024, got %d", k);
  WTCONV_CHECK(check_levels(levels));
  if (sh < 1 || sw < 1) return fail(WTCONV_E_ARG, "stride: expected positive values, got (%d, %d)", sh, sw);
  WTCONV_CHECK(check_wavelet(wavelet));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(base_weight, "base_conv.weight"));
  WTCONV_CHECK(check_pointer(base_scale, "base_scale.weight"));
  WTCONV_CHECK(check_pointer(wavelet_weight, "wavelet_convs"));
  WTCONV_CHECK(check_pointer(wavelet_scale, "wavelet_scale"));
  for (int32_t l = 0; l < levels; ++l) {
    if (wavelet_weight[l] == nullptr) {
      return fail(WTCONV_E_ARG, "wavelet_convs.%d.weight: expected a buffer, got NULL", l);
    }
    if (wavelet_scale[l] == nullptr) {
      return fail(WTCONV_E_ARG, "wavelet_scale.%d.weight: expected a buffer, got NULL", l);
    }
  }
  return ok();
}

// Hands out 64-byte-aligned arrays of a task's scratch memory; with a null base
// it only counts the bytes, so sizing and carving share one code path.
class Carver {
 public:
  explicit Carver(void* base) : base_(static_cast<char*>(base)) {}
  template <typename T>
  T* take(size_t count) {
    T* p = base_ ? reinterpret_cast<T*>(base_ + used_) : nullptr;
    used_ += (sizeof(T) * count + 63) / 64 * 64;
    return p;
  }
  PaddedPlane take(PaddedPlane layout) {
    layout.data = take<float>(layout.floats());
    return layout;
  }
  size_t used() const { return used_; }

 private:
  char* base_;
  size_t used_ = 0;
};

void zero(const PaddedPlane& p) { std::memset(p.data, 0, sizeof(float) * p.floats()); }

BandPlanes interiors(const PaddedPlane* bands) {
  return BandPlanes{{bands[0].interior(), bands[1].interior(), bands[2].interior(), bands[3].interior()},
                    bands[0].stride};
}

// The DWT cascade of one plane into the padded band planes t[l][b].
void analyze_cascade(const WTConv2dShape& s, const FilterBank2d& bank, const float* x_plane,
                     const PaddedPlane (*t)[4]) {
  const float* in = x_plane;
  int32_t in_stride = s.w;
  for (int32_t l = 0; l < s.levels; ++l) {
    dwt2d_plane_analyze(bank.analysis, bank.length, in, s.sizes.in_h[l], s.sizes.in_w[l], in_stride,
                        interiors(t[l]));
    in = t[l][0].interior();  // LL, before any convolution
    in_stride = t[l][0].stride;
  }
}

// ---- forward --------------------------------------------------------------

struct ForwardScratch {
  PaddedPlane x;                             // the input plane
  PaddedPlane t[LevelSizes::kMaxLevels][4];  // DWT bands of every level
  float* z;                                  // convolved bands of one level (compact)
  float* next;                               // the inverse cascade's output
  float* full;                               // the base conv at full resolution (stride > 1)

  ForwardScratch(const WTConv2dShape& s, void* base, size_t* bytes) {
    Carver carve(base);
    x = carve.take(s.input_layout(s.h, s.w));
    for (int32_t l = 0; l < s.levels; ++l) {
      for (int b = 0; b < 4; ++b) t[l][b] = carve.take(s.input_layout(s.sizes.band_h[l], s.sizes.band_w[l]));
    }
    z = carve.take<float>(s.sizes.bands_plane(0));
    next = carve.take<float>(s.sizes.in_plane(0));
    full = s.strided() ? carve.take<float>(s.sizes.in_plane(0)) : nullptr;
    if (bytes) *bytes = carve.used();
  }
  void zero_halos(const WTConv2dShape& s) const {
    zero(x);
    for (int32_t l = 0; l < s.levels; ++l) {
      for (int b = 0; b < 4; ++b) zero(t[l][b]);
    }
  }
};

void wtconv2d_plane_forward(const WTConv2dShape& s, const FilterBank2d& bank, size_t ch,
                            const float* x_plane, const float* base_weight,
                            const float* base_bias, const float* base_scale,
                            const float* const* wavelet_weight,
                            const float* const* wavelet_scale, float* y_plane,
                            ForwardScratch& sc) {
  const LevelSizes& z = s.sizes;
  analyze_cascade(s, bank, x_plane, sc.t);
  for (int32_t l = s.levels - 1; l >= 0; --l) {
    const size_t bp = z.band_plane(l);
    for (size_t b = 0; b < 4; ++b) {
      const size_t band_channel = ch * 4 + b;
      dwconv2d_padded_forward(sc.t[l][b], s.k, wavelet_weight[l] + band_channel * s.taps(),
                              wavelet_scale[l][band_channel], sc.z + b * bp, z.band_w[l]);
    }
    if (l + 1 < s.levels) {
      for (size_t i = 0; i < bp; ++i) sc.z[i] += sc.next[i];
    }
    dwt2d_plane_synthesize(bank.synthesis, bank.length, BandPlanes::compact(sc.z, z.in_h[l], z.in_w[l]),
                           z.in_h[l], z.in_w[l], sc.next, z.in_w[l]);
  }

  // y = scale * conv(x) + scale * bias + the wavelet path, subsampled by the stride.
  copy_into_interior(sc.x, x_plane, sc.x.h, sc.x.w);
  const float scale = base_scale[ch];
  const float shift = base_bias != nullptr ? scale * base_bias[ch] : 0.0f;
  float* conv = s.strided() ? sc.full : y_plane;
  dwconv2d_padded_forward(sc.x, s.k, base_weight + ch * s.taps(), scale, conv, s.w);
  if (!s.strided()) {
    for (size_t i = 0; i < z.in_plane(0); ++i) y_plane[i] += shift + sc.next[i];
    return;
  }
  for (int32_t oy = 0; oy < s.out_h; ++oy) {
    const size_t row = static_cast<size_t>(oy) * s.stride_h * s.w;
    for (int32_t ox = 0; ox < s.out_w; ++ox) {
      const size_t i = row + static_cast<size_t>(ox) * s.stride_w;
      y_plane[static_cast<size_t>(oy) * s.out_w + ox] = conv[i] + shift + sc.next[i];
    }
  }
}

// ---- backward -------------------------------------------------------------

struct BackwardScratch {
  PaddedPlane x;                             // the input plane
  PaddedPlane g;                             // grad of y at full resolution
  PaddedPlane t[LevelSizes::kMaxLevels][4];  // DWT bands of x
  PaddedPlane gz[LevelSizes::kMaxLevels][4]; // grads of the convolved, scaled bands
  float* gt;                                 // grads of one level's bands (compact)
  float* ll_grad;                            // grad of one level's input plane
  float* rotated;                            // kernels rotated by 180 degrees: base, then per level and band
  double* acc;                               // correlation sums per tap: base, then per level and band
  double* grad_sum;                          // sum of grad_y

  BackwardScratch(const WTConv2dShape& s, void* base, size_t* bytes) {
    Carver carve(base);
    x = carve.take(s.input_layout(s.h, s.w));
    g = carve.take(s.grad_layout(s.h, s.w));
    for (int32_t l = 0; l < s.levels; ++l) {
      for (int b = 0; b < 4; ++b) {
        t[l][b] = carve.take(s.input_layout(s.sizes.band_h[l], s.sizes.band_w[l]));
        gz[l][b] = carve.take(s.grad_layout(s.sizes.band_h[l], s.sizes.band_w[l]));
      }
    }
    gt = carve.take<float>(s.sizes.bands_plane(0));
    ll_grad = carve.take<float>(s.sizes.in_plane(0));
    const size_t kernels = 1 + 4 * static_cast<size_t>(s.levels);
    rotated = carve.take<float>(kernels * s.taps());
    acc = carve.take<double>(kernels * s.taps());
    grad_sum = carve.take<double>(1);
    if (bytes) *bytes = carve.used();
  }
  void zero_halos(const WTConv2dShape& s) const {
    zero(x);
    zero(g);
    for (int32_t l = 0; l < s.levels; ++l) {
      for (int b = 0; b < 4; ++b) {
        zero(t[l][b]);
        zero(gz[l][b]);
      }
    }
  }
  float* rotated_base() const { return rotated; }
  float* rotated_band(const WTConv2dShape& s, int32_t l, size_t b) const {
    return rotated + (1 + 4 * static_cast<size_t>(l) + b) * s.taps();
  }
  double* acc_band(const WTConv2dShape& s, int32_t l, size_t b) const {
    return acc + (1 + 4 * static_cast<size_t>(l) + b) * s.taps();
  }
};

void rotate_kernel(const float* w, size_t taps, float* out) {
  for (size_t i = 0; i < taps; ++i) out[i] = w[taps - 1 - i];
}

// One plane of channel ch: writes grad_x_plane and adds the plane's
// correlation sums to sc.acc and sc.grad_sum.
void wtconv2d_plane_backward(const WTConv2dShape& s, const FilterBank2d& bank, size_t ch,
                             const float* x_plane, const float* base_scale,
                             const float* const* wavelet_scale, const float* gy_plane,
                             float* grad_x_plane, const BackwardScratch& sc) {
  const LevelSizes& z = s.sizes;
  // grad_y at full resolution (zeros between the strided outputs).
  float* g = sc.g.interior();
  if (s.strided()) {
    for (int32_t y = 0; y < s.h; ++y) std::memset(g + static_cast<size_t>(y) * sc.g.stride, 0, sizeof(float) * s.w);
    for (int32_t oy = 0; oy < s.out_h; ++oy) {
      for (int32_t ox = 0; ox < s.out_w; ++ox) {
        g[static_cast<size_t>(oy) * s.stride_h * sc.g.stride + static_cast<size_t>(ox) * s.stride_w] =
            gy_plane[static_cast<size_t>(oy) * s.out_w + ox];
      }
    }
  } else {
    copy_into_interior(sc.g, gy_plane, sc.g.h, sc.g.w);
  }
  double sum = 0.0;
  for (size_t i = 0; i < s.out_plane(); ++i) sum += gy_plane[i];
  *sc.grad_sum += sum;

  // Base path: correlation sums for the weight (and, through them, the scale);
  // grad_x = scale * conv(g, rotated kernel).
  copy_into_interior(sc.x, x_plane, sc.x.h, sc.x.w);
  dwconv2d_padded_backward_weight(sc.x, s.k, g, sc.g.stride, sc.acc);
  dwconv2d_padded_forward(sc.g, s.k, sc.rotated_base(), base_scale[ch], grad_x_plane, s.w);

  // Wavelet path. Recompute the DWT cascade of x; then, down the inverse
  // cascade, the gradient of each level's convolved bands (its LL part is also
  // the gradient of the level above's output).
  analyze_cascade(s, bank, x_plane, sc.t);
  const float* in = g;
  int32_t in_stride = sc.g.stride;
  for (int32_t l = 0; l < s.levels; ++l) {
    dwt2d_plane_analyze(bank.synthesis, bank.length, in, z.in_h[l], z.in_w[l], in_stride, interiors(sc.gz[l]));
    in = sc.gz[l][0].interior();
    in_stride = sc.gz[l][0].stride;
  }
  // Up the DWT cascade: per-band correlation sums, the bands' gradients
  // through the convolutions, then the DWT's adjoint.
  for (int32_t l = s.levels - 1; l >= 0; --l) {
    const size_t bp = z.band_plane(l);
    for (size_t b = 0; b < 4; ++b) {
      const PaddedPlane& gzb = sc.gz[l][b];
      dwconv2d_padded_backward_weight(sc.t[l][b], s.k, gzb.interior(), gzb.stride, sc.acc_band(s, l, b));
      dwconv2d_padded_forward(gzb, s.k, sc.rotated_band(s, l, b), wavelet_scale[l][ch * 4 + b],
                              sc.gt + b * bp, z.band_w[l]);
    }
    if (l + 1 < s.levels) {
      for (size_t i = 0; i < bp; ++i) sc.gt[i] += sc.ll_grad[i];
    }
    dwt2d_plane_synthesize(bank.analysis, bank.length, BandPlanes::compact(sc.gt, z.in_h[l], z.in_w[l]),
                           z.in_h[l], z.in_w[l], sc.ll_grad, z.in_w[l]);
  }
  for (size_t i = 0; i < z.in_plane(0); ++i) grad_x_plane[i] += sc.ll_grad[i];
}

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_wtconv2d_forward(int32_t n, int32_t c, int32_t h, int32_t w,
                                      int32_t kernel_size, int32_t levels, int32_t stride_h,
                                      int32_t stride_w, int32_t wavelet, const float* x,
                                      const float* base_weight, const float* base_bias,
                                      const float* base_scale,
                                      const float* const* wavelet_weight,
                                      const float* const* wavelet_scale, float* y) {
  WTCONV_CHECK(check_wtconv2d_args(n, c, h, w, kernel_size, levels, stride_h, stride_w, wavelet, x,
                                   base_weight, base_scale, wavelet_weight, wavelet_scale));
  WTCONV_CHECK(check_pointer(y, "y"));
  const WTConv2dShape s(n, c, h, w, kernel_size, levels, stride_h, stride_w);
  const FilterBank2d& bank = filter_bank_2d(wavelet);
  size_t scratch_bytes = 0;
  ForwardScratch(s, nullptr, &scratch_bytes);
  const size_t in_plane = s.sizes.in_plane(0);
  auto body = [&](size_t begin, size_t end, void* scratch) {
    ForwardScratch sc(s, scratch, nullptr);
    sc.zero_halos(s);
    for (size_t p = begin; p < end; ++p) {
      wtconv2d_plane_forward(s, bank, p % c, x + p * in_plane, base_weight, base_bias, base_scale,
                             wavelet_weight, wavelet_scale, y + p * s.out_plane(), sc);
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c, scratch_bytes, body);
}

wtconv_status wtconv_wtconv2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kernel_size, int32_t levels,
    int32_t stride_h, int32_t stride_w, int32_t wavelet, const float* x, const float* base_weight,
    const float* base_bias, const float* base_scale, const float* const* wavelet_weight,
    const float* const* wavelet_scale, const float* grad_y, float* grad_x,
    float* grad_base_weight, float* grad_base_bias, float* grad_base_scale,
    float* const* grad_wavelet_weight, float* const* grad_wavelet_scale) {
  WTCONV_CHECK(check_wtconv2d_args(n, c, h, w, kernel_size, levels, stride_h, stride_w, wavelet, x,
                                   base_weight, base_scale, wavelet_weight, wavelet_scale));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  WTCONV_CHECK(check_pointer(grad_x, "grad.x"));
  WTCONV_CHECK(check_pointer(grad_base_weight, "grad.base_conv.weight"));
  WTCONV_CHECK(check_pointer(grad_base_scale, "grad.base_scale.weight"));
  if ((base_bias == nullptr) != (grad_base_bias == nullptr)) {
    return fail(WTCONV_E_ARG, "grad.base_conv.bias: expected a buffer exactly when base_conv.bias is given");
  }
  WTCONV_CHECK(check_pointer(grad_wavelet_weight, "grad.wavelet_convs"));
  WTCONV_CHECK(check_pointer(grad_wavelet_scale, "grad.wavelet_scale"));
  for (int32_t l = 0; l < levels; ++l) {
    if (grad_wavelet_weight[l] == nullptr || grad_wavelet_scale[l] == nullptr) {
      return fail(WTCONV_E_ARG, "grad.wavelet_*.%d: expected buffers, got NULL", l);
    }
  }
  const WTConv2dShape s(n, c, h, w, kernel_size, levels, stride_h, stride_w);
  const FilterBank2d& bank = filter_bank_2d(wavelet);
  size_t scratch_bytes = 0;
  BackwardScratch(s, nullptr, &scratch_bytes);
  const size_t in_plane = s.sizes.in_plane(0);
  const size_t taps = s.taps();
  auto body = [&](size_t begin, size_t end, void* scratch) {
    BackwardScratch sc(s, scratch, nullptr);
    sc.zero_halos(s);
    for (size_t ch = begin; ch < end; ++ch) {
      const float* bw = base_weight + ch * taps;
      rotate_kernel(bw, taps, sc.rotated_base());
      for (int32_t l = 0; l < levels; ++l) {
        for (size_t b = 0; b < 4; ++b) rotate_kernel(wavelet_weight[l] + (ch * 4 + b) * taps, taps, sc.rotated_band(s, l, b));
      }
      std::memset(sc.acc, 0, sizeof(double) * (1 + 4 * static_cast<size_t>(levels)) * taps);
      *sc.grad_sum = 0.0;
      for (int32_t b = 0; b < n; ++b) {
        const size_t p = static_cast<size_t>(b) * c + ch;
        wtconv2d_plane_backward(s, bank, ch, x + p * in_plane, base_scale, wavelet_scale,
                                grad_y + p * s.out_plane(), grad_x + p * in_plane, sc);
      }
      // y = scale * (conv(x, w) + bias): d/dw = scale * corr, d/dscale = sum_t w_t corr_t + bias * sum(g).
      const float bscale = base_scale[ch];
      double g_scale = base_bias != nullptr ? base_bias[ch] * *sc.grad_sum : 0.0;
      for (size_t t = 0; t < taps; ++t) {
        grad_base_weight[ch * taps + t] = static_cast<float>(bscale * sc.acc[t]);
        g_scale += bw[t] * sc.acc[t];
      }
      grad_base_scale[ch] = static_cast<float>(g_scale);
      if (grad_base_bias != nullptr) grad_base_bias[ch] = static_cast<float>(bscale * *sc.grad_sum);
      for (int32_t l = 0; l < levels; ++l) {
        for (size_t b = 0; b < 4; ++b) {
          const size_t band_channel = ch * 4 + b;
          const float* wb = wavelet_weight[l] + band_channel * taps;
          const double* corr = sc.acc_band(s, l, b);
          const float ws = wavelet_scale[l][band_channel];
          double g_ws = 0.0;
          for (size_t t = 0; t < taps; ++t) {
            grad_wavelet_weight[l][band_channel * taps + t] = static_cast<float>(ws * corr[t]);
            g_ws += wb[t] * corr[t];
          }
          grad_wavelet_scale[l][band_channel] = static_cast<float>(g_ws);
        }
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(c), scratch_bytes, body);
}

}  // extern "C"
