// Depthwise 2-D convolution, NCHW, any kernel size, stride and zero padding.
#include <cstdint>
#include <cstring>
#include <vector>

#include "../kernels/depthwise-conv2d-padded.h"
#include "../kernels/depthwise-conv2d-plane.h"
#include "../thread-pool.h"
#include "validate.h"

namespace wtconv {
namespace {

wtconv_status make_geometry(int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh, int32_t kw,
                            int32_t pt, int32_t pl, int32_t pb, int32_t pr, int32_t sh, int32_t sw,
                            PlaneConvGeometry* g) {
  WTCONV_CHECK(check_nchw(n, c, h, w, "x"));
  if (kh < 1 || kw < 1) return fail(WTCONV_E_SHAPE, "kernel: expected positive sizes, got %dx%d", kh, kw);
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0) {
    return fail(WTCONV_E_ARG, "padding: expected non-negative values, got (%d, %d, %d, %d)", pt, pl,
                pb, pr);
  }
  if (sh < 1 || sw < 1) return fail(WTCONV_E_ARG, "stride: expected positive values, got (%d, %d)", sh, sw);
  const int64_t eh = static_cast<int64_t>(h) + pt + pb - kh;
  const int64_t ew = static_cast<int64_t>(w) + pl + pr - kw;
  if (eh < 0 || ew < 0) {
    return fail(WTCONV_E_SHAPE, "kernel: %dx%d is larger than the padded input %lldx%lld", kh, kw,
                static_cast<long long>(h) + pt + pb, static_cast<long long>(w) + pl + pr);
  }
  *g = PlaneConvGeometry{h, w, kh, kw, pt, pl, sh, sw, static_cast<int32_t>(eh / sh + 1),
                         static_cast<int32_t>(ew / sw + 1)};
  return ok();
}

// Floats rounded up to 64 bytes, so the scratch regions after each stay aligned.
size_t round_up_floats(size_t floats) { return (floats + 15) / 16 * 16; }

// Backward one channel per task, so the weight and bias gradients sum over the
// batch without any cross-thread reduction. prepare(float scratch[extra_floats])
// gives each chunk of tasks its plane step, plane(ch, p, grad_y of plane p, gw):
// writes grad x of plane p and adds its share of channel ch's weight gradient
// to gw (double, zeroed per channel); this function does the rest.
template <typename Prepare>
wtconv_status backward_by_channel(int32_t n, int32_t c, size_t out_plane, size_t taps,
                                  size_t extra_floats, const float* grad_y, float* grad_weight,
                                  float* grad_bias, Prepare&& prepare) {
  const size_t gw_floats = round_up_floats(2 * taps);  // the doubles, in float units
  auto body = [&](size_t begin, size_t end, void* scratch) {
    double* gw = static_cast<double*>(scratch);
    auto plane = prepare(static_cast<float*>(scratch) + gw_floats);
    for (size_t ch = begin; ch < end; ++ch) {
      std::memset(gw, 0, sizeof(double) * taps);
      double gb = 0.0;
      for (int32_t b = 0; b < n; ++b) {
        const size_t p = static_cast<size_t>(b) * c + ch;
        const float* gy = grad_y + p * out_plane;
        plane(ch, p, gy, gw);
        if (grad_bias != nullptr) {
          float s = 0.0f;
          for (size_t i = 0; i < out_plane; ++i) s += gy[i];
          gb += s;
        }
      }
      if (grad_weight != nullptr) {
        for (size_t t = 0; t < taps; ++t) grad_weight[ch * taps + t] = static_cast<float>(gw[t]);
      }
      if (grad_bias != nullptr) grad_bias[ch] = static_cast<float>(gb);
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(c), sizeof(float) * (gw_floats + extra_floats), body);
}

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_depthwise_conv2d_forward(int32_t n, int32_t c, int32_t h, int32_t w,
                                              int32_t kh, int32_t kw, int32_t pad_top,
                                              int32_t pad_left, int32_t pad_bottom,
                                              int32_t pad_right, int32_t stride_h, int32_t stride_w,
                                              const float* x, const float* weight,
                                              const float* bias, float* y) {
  PlaneConvGeometry g;
  WTCONV_CHECK(make_geometry(n, c, h, w, kh, kw, pad_top, pad_left, pad_bottom, pad_right, stride_h,
                             stride_w, &g));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(y, "y"));
  const size_t in_plane = static_cast<size_t>(h) * w;
  const size_t out_plane = static_cast<size_t>(g.out_h) * g.out_w;
  // Square kernels at stride 1 (the large-kernel depthwise layers) run the
  // vector kernels of depthwise-conv2d-padded.h on a zero-haloed copy of each
  // plane; other shapes take the general plane kernel.
  if (kh == kw && stride_h == 1 && stride_w == 1) {
    PaddedPlane layout = PaddedPlane::layout(g.out_h, g.out_w, kh, 0);
    layout.top = pad_top;
    layout.left = pad_left;
    auto body = [&](size_t begin, size_t end, void* scratch) {
      PaddedPlane in = layout;
      in.data = static_cast<float*>(scratch);
      std::memset(in.data, 0, sizeof(float) * in.floats());
      for (size_t p = begin; p < end; ++p) {
        const size_t ch = p % c;
        const float* src = x + p * in_plane;
        copy_into_interior(in, src, h, w);
        float* out = y + p * out_plane;
        dwconv2d_padded_forward(in, kh, weight + ch * kh * kw, 1.0f, out, g.out_w);
        if (bias != nullptr) {
          const float b = bias[ch];
          for (size_t i = 0; i < out_plane; ++i) out[i] += b;
        }
      }
      return WTCONV_OK;
    };
    return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c, sizeof(float) * layout.floats(), body);
  }
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t p = begin; p < end; ++p) {
      const size_t ch = p % c;
      float* out = y + p * out_plane;
      dwconv2d_plane_forward(g, x + p * in_plane, weight + ch * kh * kw, out);
      if (bias != nullptr) {
        const float b = bias[ch];
        for (size_t i = 0; i < out_plane; ++i) out[i] += b;
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c, 0, body);
}

wtconv_status wtconv_depthwise_conv2d_backward(int32_t n, int32_t c, int32_t h, int32_t w,
                                               int32_t kh, int32_t kw, int32_t pad_top,
                                               int32_t pad_left, int32_t pad_bottom,
                                               int32_t pad_right, int32_t stride_h,
                                               int32_t stride_w, const float* x,
                                               const float* weight, const float* grad_y,
                                               float* grad_x, float* grad_weight,
                                               float* grad_bias) {
  PlaneConvGeometry g;
  WTCONV_CHECK(make_geometry(n, c, h, w, kh, kw, pad_top, pad_left, pad_bottom, pad_right, stride_h,
                             stride_w, &g));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  const size_t in_plane = static_cast<size_t>(h) * w;
  const size_t out_plane = static_cast<size_t>(g.out_h) * g.out_w;
  const size_t taps = static_cast<size_t>(kh) * kw;
  // Square kernels at stride 1 with 'same' padding (the output the size of the
  // input, as in the large-kernel depthwise layers) run the padded vector
  // kernels: grad x is grad y, zero-haloed, correlated with the rotated kernel,
  // and the weight gradient correlates the haloed x with grad y.
  if (kh == kw && stride_h == 1 && stride_w == 1 && g.out_h == h && g.out_w == w) {
    PaddedPlane x_layout = PaddedPlane::layout(h, w, kh, 0);
    x_layout.top = pad_top;
    x_layout.left = pad_left;
    PaddedPlane g_layout = PaddedPlane::layout(h, w, kh, 0);
    g_layout.top = kh - 1 - pad_top;
    g_layout.left = kw - 1 - pad_left;
    const size_t floats = round_up_floats(x_layout.floats()) + round_up_floats(g_layout.floats()) + round_up_floats(taps);
    auto prepare = [&](float* scratch) {
      PaddedPlane xp = x_layout, gp = g_layout;
      xp.data = scratch;
      gp.data = xp.data + round_up_floats(xp.floats());
      float* rotated = gp.data + round_up_floats(gp.floats());
      std::memset(xp.data, 0, sizeof(float) * xp.floats());
      std::memset(gp.data, 0, sizeof(float) * gp.floats());
      return [=, rotated_channel = SIZE_MAX](size_t ch, size_t p, const float* gy, double* gw) mutable {
        if (rotated_channel != ch) {
          for (size_t t = 0; t < taps; ++t) rotated[t] = weight[ch * taps + taps - 1 - t];
          rotated_channel = ch;
        }
        copy_into_interior(gp, gy, h, w);
        if (grad_x != nullptr) dwconv2d_padded_forward(gp, kh, rotated, 1.0f, grad_x + p * in_plane, w);
        if (grad_weight != nullptr) {
          copy_into_interior(xp, x + p * in_plane, h, w);
          dwconv2d_padded_backward_weight(xp, kh, gp.interior(), gp.stride, gw);
        }
      };
    };
    return backward_by_channel(n, c, out_plane, taps, floats, grad_y, grad_weight, grad_bias, prepare);
  }
  auto prepare = [&](float*) {
    return [&](size_t ch, size_t p, const float* gy, double* gw) {
      if (grad_x != nullptr) {
        float* gx = grad_x + p * in_plane;
        std::memset(gx, 0, sizeof(float) * in_plane);
        dwconv2d_plane_backward_input(g, gy, weight + ch * taps, gx);
      }
      if (grad_weight != nullptr) dwconv2d_plane_backward_weight(g, x + p * in_plane, gy, gw);
    };
  };
  return backward_by_channel(n, c, out_plane, taps, 0, grad_y, grad_weight, grad_bias, prepare);
}

}  // extern "C"
