// conv_transpose2d, NCHW, PyTorch's F.conv_transpose2d: the adjoint of conv2d.
// With the geometry of the conv2d that maps y's space to x's, the backward
// passes are that conv's forward (grad x) and its weight gradient (grad weight);
// see conv-gemm-nd.cc. The forward pass is that conv's input gradient (GEMM then
// fold) at stride 1 or with dilation; at stride > 1 without dilation it runs in
// sub-pixel form (phases below), which has no fold. weight is (in, out / groups,
// kh, kw) as in PyTorch.
#include <algorithm>
#include <climits>
#include <cstring>

#include "../kernels/gemm.h"
#include "../thread-pool.h"
#include "conv-gemm-nd.h"

namespace wtconv {
namespace {

constexpr size_t kPhaseColumnBudget = size_t{1} << 18;  // floats of unfolded input + product per thread
constexpr size_t kPhaseWeightBudget = size_t{1} << 20;  // floats of a packed phase weight per thread

int32_t floor_div(int32_t a, int32_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// One axis of one phase: the outputs o = s * q + r - p for q in [q0, q0 + count)
// take the taps k = r + s * t (t < taps) from the inputs i = q - t.
struct PhaseAxis {
  int32_t r, taps, q0, count;
  static PhaseAxis make(int32_t r, int32_t k, int32_t s, int32_t p, int32_t out) {
    PhaseAxis a{r, r < k ? (k - r + s - 1) / s : 0, 0, 0};
    a.q0 = -floor_div(r - p, s);                      // ceil((p - r) / s): first o >= 0
    const int32_t q1 = floor_div(out - 1 + p - r, s);  // last o < out
    a.count = std::max(0, q1 - a.q0 + 1);
    return a;
  }
};

// Sub-pixel form for stride > 1 (no dilation): the outputs whose row is
// ry (mod sh) and column rx (mod sw), after padding, receive only the taps
// ky = ry + sh * ty, kx = rx + sw * tx, so each of the sh x sw phases is a small
// dense convolution of x, W_phase (cout x cin * ty * tx) times the unfolded x,
// written to every sh-th row and sw-th column of y. Tasks (phase, image, group,
// column tile) write disjoint outputs; sums run in a fixed order.
wtconv_status conv_transpose2d_phases(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout,
                                      int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t ph,
                                      int32_t pw, int32_t oh, int32_t ow, int32_t groups,
                                      const float* x, const float* weight, const float* bias,
                                      float* y) {
  const int32_t cin_g = cin / groups, cout_g = cout / groups;
  const int32_t phases = sh * sw;
  const int32_t max_taps = ((kh + sh - 1) / sh) * ((kw + sw - 1) / sw);
  const size_t k_max = static_cast<size_t>(cin_g) * max_taps;
  const size_t max_q = static_cast<size_t>((oh + sh - 1) / sh) * ((ow + sw - 1) / sw);
  const GemmMicrokernel& kernel = gemm_microkernel();
  const size_t nr = static_cast<size_t>(kernel.nr);
  size_t tile = std::min(max_q, std::max(nr, kPhaseColumnBudget / (k_max + cout_g) / nr * nr));
  const size_t blocks = static_cast<size_t>(phases) * n * groups;
  const size_t want = task_target();
  if (blocks * ceil_div_size(max_q, tile) < want) {
    tile = std::min(tile, std::max(nr, round_up(ceil_div_size(max_q, ceil_div_size(want, blocks)), nr)));
  }
  const size_t tiles = ceil_div_size(max_q, tile);
  const size_t col_floats = round_up(k_max * tile, 16);
  const size_t product_floats = round_up(static_cast<size_t>(cout_g) * tile, 16);
  const size_t phase_weight_floats = round_up(static_cast<size_t>(cout_g) * k_max, 16);
  size_t packed_floats = round_up(gemm_packed_a_floats(kernel, cout_g, static_cast<int32_t>(k_max)), 16);
  if (packed_floats > kPhaseWeightBudget) packed_floats = 0;
  const size_t in_plane = static_cast<size_t>(h) * w, out_plane = static_cast<size_t>(oh) * ow;
  auto body = [&](size_t begin, size_t end, void* scratch) {
    float* col = static_cast<float*>(scratch);
    float* product = col + col_floats;
    float* phase_weight = product + product_floats;
    float* packed = phase_weight + phase_weight_floats;
    float* packs = packed + packed_floats;
    size_t held = SIZE_MAX;  // the (phase, group) whose weight phase_weight / packed hold
    for (size_t task = begin; task < end; ++task) {
      // phase-major, then group, image and column tile: neighbouring tasks share a weight
      const size_t tile_index = task % tiles;
      size_t rest = task / tiles;
      const int32_t img = static_cast<int32_t>(rest % n);
      rest /= n;
      const int32_t grp = static_cast<int32_t>(rest % groups);
      const int32_t phase = static_cast<int32_t>(rest / groups);
      const PhaseAxis ay = PhaseAxis::make(phase / sw, kh, sh, ph, oh);
      const PhaseAxis ax = PhaseAxis::make(phase % sw, kw, sw, pw, ow);
      const size_t q_count = static_cast<size_t>(ay.count) * ax.count;
      const size_t j0 = tile_index * tile;
      if (j0 >= q_count) continue;
      const size_t j1 = std::min(q_count, j0 + tile);
      const size_t width = j1 - j0;
      const int32_t taps = ay.taps * ax.taps;
      const int32_t k = cin_g * taps;
      float* yg = y + (static_cast<size_t>(img) * cout + static_cast<size_t>(grp) * cout_g) * out_plane;
      // Column j of the phase's grid is (q0 + j / count, q0 + j % count); the tile
      // [j0, j1) is walked as row segments from (first_row, first_col).
      const int32_t first_row = static_cast<int32_t>(j0 / ax.count);
      const int32_t first_col = static_cast<int32_t>(j0 % ax.count);
      // f(j - j0, grid row, first grid column, segment length) for each segment
      auto for_each_segment = [&](auto&& f) {
        size_t j = j0;
        for (int32_t r = first_row, cx = first_col; j < j1; ++r, cx = 0) {
          const int32_t len = static_cast<int32_t>(std::min<size_t>(ax.count - cx, j1 - j));
          f(j - j0, r, cx, len);
          j += len;
        }
      };
      // f(j - j0, position in y's plane) for each output of the tile: y at (s * q + r - p)
      auto for_each_output = [&](auto&& f) {
        for_each_segment([&](size_t at, int32_t r, int32_t cx, int32_t len) {
          const size_t row = static_cast<size_t>(sh * (ay.q0 + r) + ay.r - ph) * ow;
          const size_t x0 = static_cast<size_t>(sw * (ax.q0 + cx) + ax.r - pw);
          for (int32_t i = 0; i < len; ++i) f(at + i, row + x0 + static_cast<size_t>(sw) * i);
        });
      };
      if (k == 0) {  // a kernel smaller than the stride: these outputs get no tap
        for (int32_t o = 0; o < cout_g; ++o) {
          const float b = bias != nullptr ? bias[grp * cout_g + o] : 0.0f;
          float* yo = yg + static_cast<size_t>(o) * out_plane;
          for_each_output([&](size_t, size_t at) { yo[at] = b; });
        }
        continue;
      }
      const size_t key = static_cast<size_t>(phase) * groups + grp;
      if (held != key) {
        // W_phase[o][(c, ty, tx)] = weight[grp * cin_g + c][o][ry + sh * ty][rx + sw * tx],
        // read in the weight's own order (c, then o) so the reads stay sequential.
        for (int32_t c = 0; c < cin_g; ++c) {
          const float* wc = weight + (static_cast<size_t>(grp) * cin_g + c) * cout_g * kh * kw;
          for (int32_t o = 0; o < cout_g; ++o) {
            const float* wo = wc + static_cast<size_t>(o) * kh * kw;
            float* dst = phase_weight + static_cast<size_t>(o) * k + static_cast<size_t>(c) * taps;
            for (int32_t ty = 0; ty < ay.taps; ++ty) {
              for (int32_t tx = 0; tx < ax.taps; ++tx) *dst++ = wo[(ay.r + sh * ty) * kw + ax.r + sw * tx];
            }
          }
        }
        if (packed_floats != 0) gemm_pack_a_whole(kernel, cout_g, k, MatrixView{phase_weight, k, 1}, packed);
        held = key;
      }
      // col[(c, ty, tx)][j] = x[grp * cin_g + c][qy - ty][qx - tx] (0 outside x)
      const float* xg = x + (static_cast<size_t>(img) * cin + static_cast<size_t>(grp) * cin_g) * in_plane;
      float* dst = col;
      for (int32_t c = 0; c < cin_g; ++c) {
        const float* xc = xg + static_cast<size_t>(c) * in_plane;
        for (int32_t ty = 0; ty < ay.taps; ++ty) {
          for (int32_t tx = 0; tx < ax.taps; ++tx, dst += width) {
            for_each_segment([&](size_t at, int32_t r, int32_t cx, int32_t len) {
              // Segments are short (one row of the phase's grid): plain loops, no libc calls.
              float* seg = dst + at;
              const int32_t iy = ay.q0 + r - ty;
              if (iy < 0 || iy >= h) {
                for (int32_t i = 0; i < len; ++i) seg[i] = 0.0f;
                return;
              }
              // ix = qx - tx over the segment's qx: inside x for ix in [0, w)
              const int32_t ix0 = ax.q0 + cx - tx;
              const int32_t lo = std::min(len, std::max(0, -ix0));
              const int32_t hi = std::max(lo, std::min(len, w - ix0));
              const float* src = xc + static_cast<size_t>(iy) * w + ix0;
              for (int32_t i = 0; i < lo; ++i) seg[i] = 0.0f;
              for (int32_t i = lo; i < hi; ++i) seg[i] = src[i];
              for (int32_t i = hi; i < len; ++i) seg[i] = 0.0f;
            });
          }
        }
      }
      const MatrixView b{col, static_cast<ptrdiff_t>(width), 1};
      if (packed_floats != 0) {
        gemm_with_packed_a(kernel, cout_g, static_cast<int32_t>(width), k, packed, b, product,
                           static_cast<ptrdiff_t>(width), false, packs);
      } else {
        gemm_with(kernel, cout_g, static_cast<int32_t>(width), k, MatrixView{phase_weight, k, 1}, b,
                  product, static_cast<ptrdiff_t>(width), false, packs);
      }
      for (int32_t o = 0; o < cout_g; ++o) {
        const float b0 = bias != nullptr ? bias[grp * cout_g + o] : 0.0f;
        const float* po = product + static_cast<size_t>(o) * width;
        float* yo = yg + static_cast<size_t>(o) * out_plane;
        for_each_output([&](size_t j, size_t at) { yo[at] = po[j] + b0; });
      }
    }
    return WTCONV_OK;
  };
  const size_t scratch = col_floats + product_floats + phase_weight_floats + packed_floats + gemm_scratch_floats();
  return ThreadPool::instance().parallel_for(blocks * tiles, sizeof(float) * scratch, body);
}

wtconv_status geometry(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh,
                       int32_t kw, int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t oph,
                       int32_t opw, int32_t dh, int32_t dw, int32_t groups, ConvGeometry* g) {
  if (n < 1 || cin < 1 || h < 1 || w < 1 || cout < 1 || kh < 1 || kw < 1) {
    return fail(WTCONV_E_SHAPE, "conv_transpose2d: expected positive sizes, got x (%d, %d, %d, %d), %d output channels, kernel %dx%d",
                n, cin, h, w, cout, kh, kw);
  }
  if (sh < 1 || sw < 1) return fail(WTCONV_E_ARG, "stride: expected positive values, got (%d, %d)", sh, sw);
  if (dh < 1 || dw < 1) return fail(WTCONV_E_ARG, "dilation: expected positive values, got (%d, %d)", dh, dw);
  if (ph < 0 || pw < 0) return fail(WTCONV_E_ARG, "padding: expected non-negative values, got (%d, %d)", ph, pw);
  if (oph < 0 || opw < 0 || (oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)) {
    return fail(WTCONV_E_ARG, "output_padding: expected non-negative values smaller than stride or dilation, got (%d, %d)",
                oph, opw);
  }
  const int64_t oh = static_cast<int64_t>(h - 1) * sh - 2 * static_cast<int64_t>(ph) +
                     static_cast<int64_t>(dh) * (kh - 1) + oph + 1;
  const int64_t ow = static_cast<int64_t>(w - 1) * sw - 2 * static_cast<int64_t>(pw) +
                     static_cast<int64_t>(dw) * (kw - 1) + opw + 1;
  if (oh < 1 || ow < 1 || oh > INT32_MAX || ow > INT32_MAX) {
    return fail(WTCONV_E_SHAPE, "conv_transpose2d: the output size %lldx%lld is not positive (padding too large)",
                static_cast<long long>(oh), static_cast<long long>(ow));
  }
  // The conv2d from y's space (cout channels) to x's (cin channels).
  const int32_t in[3] = {1, static_cast<int32_t>(oh), static_cast<int32_t>(ow)};
  const int32_t kernel[3] = {1, kh, kw}, stride[3] = {1, sh, sw};
  const int32_t pad[3] = {0, ph, pw}, dilation[3] = {1, dh, dw};
  WTCONV_CHECK(make_conv_geometry(2, n, cout, in, cin, kernel, stride, pad, dilation, groups, g));
  if (g->out[1] < h || g->out[2] < w) {
    return fail(WTCONV_E_INTERNAL, "conv_transpose2d: inconsistent geometry");
  }
  g->out[1] = h;  // output padding adds rows / columns no x position reaches
  g->out[2] = w;
  return ok();
}

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_conv_transpose2d_forward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* bias, float* y) {
  ConvGeometry g;
  WTCONV_CHECK(geometry(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, output_pad_h,
                        output_pad_w, dilation_h, dilation_w, groups, &g));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(y, "y"));
  if ((stride_h > 1 || stride_w > 1) && dilation_h == 1 && dilation_w == 1) {
    return conv_transpose2d_phases(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, g.in[1],
                                   g.in[2], groups, x, weight, bias, y);
  }
  WTCONV_CHECK(conv_backward_input_nd(g, x, weight, y));
  if (bias != nullptr) WTCONV_CHECK(add_channel_bias(n, cout, g.in_plane(), bias, y));
  return ok();
}

wtconv_status wtconv_conv_transpose2d_backward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* grad_y, float* grad_x, float* grad_weight,
    float* grad_bias) {
  ConvGeometry g;
  WTCONV_CHECK(geometry(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, output_pad_h,
                        output_pad_w, dilation_h, dilation_w, groups, &g));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  if (grad_x != nullptr) WTCONV_CHECK(conv_forward_nd(g, grad_y, weight, nullptr, grad_x));
  if (grad_weight != nullptr) WTCONV_CHECK(conv_backward_weight_nd(g, grad_y, x, grad_weight));
  if (grad_bias != nullptr) WTCONV_CHECK(channel_sum(n, cout, g.in_plane(), grad_y, grad_bias));
  return ok();
}

}  // extern "C"
