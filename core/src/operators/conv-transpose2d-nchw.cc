// conv_transpose2d, NCHW, PyTorch's F.conv_transpose2d: the adjoint of conv2d.
// With the geometry of the conv2d that maps y's space to x's, the backward
// passes are that conv's forward (grad x) and its weight gradient (grad weight);
// see conv-gemm-nd.cc. The forward pass is that conv's input gradient (GEMM then
// fold) at stride 1 or with dilation; at stride > 1 without dilation it runs in
// sub-pixel form (phases below), which has no fold, and in Winograd form when
// the kernel is twice the stride; the weight gradient of a kernel a multiple of
// the stride in sub-pixel form too (weight-grad-phases-nchw.h). weight is
// (in, out / groups, kh, kw) as in PyTorch. The forward pass may scale each
// output channel and add a residual in the same pass (an inference-time
// BatchNorm folded in, then a skip connection): the scale is folded into the
// weights where a form transforms them anyway (sub-pixel, Winograd), and the
// residual added where the outputs are written.
#include <algorithm>
#include <climits>
#include <cstring>

#include "../kernels/gemm.h"
#include "../thread-pool.h"
#include "conv-gemm-nd.h"
#include "weight-grad-phases-nchw.h"
#include "winograd-nchw.h"

namespace wtconv {
namespace {

constexpr size_t kPhaseColumnBudget = size_t{1} << 18;  // floats of unfolded input + product per thread

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
// written to every sh-th row and sw-th column of y. A tile's input rows are
// copied once, zero-padded, into a window, and unfolded from there straight into
// the GEMM's packed layout. Tasks (phase, image, group, column tile) write
// disjoint outputs; sums run in a fixed order.
wtconv_status conv_transpose2d_phases(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout,
                                      int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t ph,
                                      int32_t pw, int32_t oh, int32_t ow, int32_t groups,
                                      const float* x, const float* weight, const float* channel_scale,
                                      const float* bias, const float* residual, float* y) {
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
  // The input rows and columns a tile reads, zero-padded, bounded over the phases.
  size_t window_floats = 0;
  for (int32_t phase = 0; phase < phases; ++phase) {
    const PhaseAxis ay = PhaseAxis::make(phase / sw, kh, sh, ph, oh);
    const PhaseAxis ax = PhaseAxis::make(phase % sw, kw, sw, pw, ow);
    if (ay.count == 0 || ax.count == 0) continue;
    const size_t grid_rows = std::min<size_t>(ay.count, (tile - 1) / ax.count + 2);
    const size_t rows = grid_rows + std::max(ay.taps, 1) - 1;
    const size_t cols = static_cast<size_t>(ax.count) + std::max(ax.taps, 1) - 1;
    size_t floats = 0;
    if (!checked_mul(rows, cols, &floats) || !checked_mul(floats, static_cast<size_t>(cin_g), &floats) ||
        floats > (SIZE_MAX / sizeof(float)) / 4) {
      return fail(WTCONV_E_OOM, "conv_transpose2d: the input window of a tile needs more memory than this backend can address");
    }
    window_floats = std::max(window_floats, floats);
  }
  window_floats = round_up(window_floats, 16);
  // The unfolded tile, written straight into the GEMM's packed-B layout, and
  // the window offset of each of its columns.
  const size_t col_floats = round_up(gemm_packed_b_floats(kernel, static_cast<int32_t>(k_max), static_cast<int32_t>(tile)), 16);
  const size_t offset_floats = round_up(round_up(tile, nr) * (sizeof(ptrdiff_t) / sizeof(float)), 16);
  const size_t product_floats = round_up(static_cast<size_t>(cout_g) * tile, 16);
  const size_t phase_weight_floats = round_up(static_cast<size_t>(cout_g) * k_max, 16);
  const size_t packed_floats = held_weight_floats(kernel, cout_g, static_cast<int32_t>(k_max));
  // When every phase's packed weight fits, a thread keeps all of them and takes
  // the tasks image by image (an image's outputs stay in cache while its phases
  // fill them in); otherwise one phase's weight, and the tasks phase by phase.
  const bool all_phases = packed_floats != 0 && packed_floats * phases <= kHeldWeightBudget;
  const size_t held_phases = all_phases ? static_cast<size_t>(phases) : 1;
  const uint64_t call = new_scratch_call();
  const size_t in_plane = static_cast<size_t>(h) * w, out_plane = static_cast<size_t>(oh) * ow;
  auto body = [&](size_t begin, size_t end, void* scratch) {
    ScratchTag* held = static_cast<ScratchTag*>(scratch);  // (group, phase or all) packed holds
    float* col = reinterpret_cast<float*>(static_cast<char*>(scratch) + kScratchTagBytes);
    float* product = col + col_floats;
    float* phase_weight = product + product_floats;
    float* packed = phase_weight + phase_weight_floats;
    float* window = packed + packed_floats * held_phases;
    ptrdiff_t* offsets = reinterpret_cast<ptrdiff_t*>(window + window_floats);
    float* packs = window + window_floats + offset_floats;
    for (size_t task = begin; task < end; ++task) {
      // (group, image, phase, tile) with all phases held, else (phase, group, image, tile)
      const size_t tile_index = task % tiles;
      size_t rest = task / tiles;
      int32_t img, grp, phase;
      if (all_phases) {
        phase = static_cast<int32_t>(rest % phases);
        rest /= phases;
        img = static_cast<int32_t>(rest % n);
        grp = static_cast<int32_t>(rest / n);
      } else {
        img = static_cast<int32_t>(rest % n);
        rest /= n;
        grp = static_cast<int32_t>(rest % groups);
        phase = static_cast<int32_t>(rest / groups);
      }
      const PhaseAxis ay = PhaseAxis::make(phase / sw, kh, sh, ph, oh);
      const PhaseAxis ax = PhaseAxis::make(phase % sw, kw, sw, pw, ow);
      const size_t q_count = static_cast<size_t>(ay.count) * ax.count;
      const size_t j0 = tile_index * tile;
      if (j0 >= q_count) continue;
      const size_t j1 = std::min(q_count, j0 + tile);
      const size_t width = j1 - j0;
      const int32_t taps = ay.taps * ax.taps;
      const int32_t k = cin_g * taps;
      const size_t yg_at = (static_cast<size_t>(img) * cout + static_cast<size_t>(grp) * cout_g) * out_plane;
      float* yg = y + yg_at;
      const float* rg = residual != nullptr ? residual + yg_at : nullptr;
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
          const float* ro = rg != nullptr ? rg + static_cast<size_t>(o) * out_plane : nullptr;
          for_each_output([&](size_t, size_t at) { yo[at] = ro != nullptr ? b + ro[at] : b; });
        }
        continue;
      }
      const uint64_t key = all_phases ? static_cast<uint64_t>(grp) : static_cast<uint64_t>(phase) * groups + grp;
      if (!held->holds(call, key)) {
        for (int32_t p = all_phases ? 0 : phase; p < (all_phases ? phases : phase + 1); ++p) {
          // W_p[o][(c, ty, tx)] = weight[grp * cin_g + c][o][ry + sh * ty][rx + sw * tx],
          // read in the weight's own order (c, then o) so the reads stay sequential.
          const PhaseAxis py = PhaseAxis::make(p / sw, kh, sh, ph, oh);
          const PhaseAxis px = PhaseAxis::make(p % sw, kw, sw, pw, ow);
          const int32_t kp = cin_g * py.taps * px.taps;
          for (int32_t c = 0; c < cin_g; ++c) {
            const float* wc = weight + (static_cast<size_t>(grp) * cin_g + c) * cout_g * kh * kw;
            for (int32_t o = 0; o < cout_g; ++o) {
              const float* wo = wc + static_cast<size_t>(o) * kh * kw;
              const float scale = channel_scale != nullptr ? channel_scale[grp * cout_g + o] : 1.0f;
              float* dst = phase_weight + static_cast<size_t>(o) * kp + static_cast<size_t>(c) * py.taps * px.taps;
              for (int32_t ty = 0; ty < py.taps; ++ty) {
                for (int32_t tx = 0; tx < px.taps; ++tx) *dst++ = scale * wo[(py.r + sh * ty) * kw + px.r + sw * tx];
              }
            }
          }
          if (packed_floats != 0) {
            gemm_pack_a_whole(kernel, cout_g, kp, MatrixView{phase_weight, kp, 1},
                              packed + (all_phases ? static_cast<size_t>(p) : 0) * packed_floats);
          }
        }
        *held = ScratchTag{call, key};
      }
      const float* packed_phase = packed + (all_phases ? static_cast<size_t>(phase) : 0) * packed_floats;
      // The tile reads x rows iy = qy - ty and columns ix = qx - tx: copied once,
      // zero-padded, into `window` (row0, col0 = its first row / column in x), so
      // the unfolding is plain row copies without bounds.
      const float* xg = x + (static_cast<size_t>(img) * cin + static_cast<size_t>(grp) * cin_g) * in_plane;
      const int32_t row0 = ay.q0 + first_row - (ay.taps - 1);
      const int32_t rows = static_cast<int32_t>((j1 - 1) / ax.count) - first_row + ay.taps;
      const int32_t col0 = ax.q0 - (ax.taps - 1);
      const int32_t cols = ax.count + ax.taps - 1;
      const int32_t copy_lo = std::clamp(-col0, 0, cols), copy_hi = std::clamp(w - col0, copy_lo, cols);
      for (int32_t c = 0; c < cin_g; ++c) {
        const float* xc = xg + static_cast<size_t>(c) * in_plane;
        float* dst = window + static_cast<size_t>(c) * rows * cols;
        for (int32_t r = 0; r < rows; ++r, dst += cols) {
          const int32_t iy = row0 + r;
          if (iy < 0 || iy >= h) {
            std::fill(dst, dst + cols, 0.0f);
            continue;
          }
          window_row(dst, cols, copy_lo, copy_hi, xc + static_cast<size_t>(iy) * w, col0, 1);
        }
      }
      // Column j of the tile reads window[c][qy - ty - row0][qx - tx - col0]:
      // offsets[j] is its (qy - row0, qx - col0) position; padding columns
      // repeat the last one (see gemm_pack_b_gathered).
      const size_t width_padded = round_up(width, nr);
      for_each_segment([&](size_t at, int32_t r, int32_t cx, int32_t len) {
        const ptrdiff_t base = static_cast<ptrdiff_t>(ay.q0 + r - row0) * cols + ax.q0 + cx - col0;
        for (int32_t i = 0; i < len; ++i) offsets[at + i] = base + i;
      });
      for (size_t j = width; j < width_padded; ++j) offsets[j] = offsets[width - 1];
      auto window_row = [&](int32_t kk) {  // kk = (c, ty, tx)
        const int32_t c = kk / taps, ty = (kk % taps) / ax.taps, tx = kk % ax.taps;
        return window + static_cast<size_t>(c) * rows * cols - static_cast<ptrdiff_t>(ty) * cols - tx;
      };
      if (packed_floats != 0) {
        gemm_pack_b_gathered(kernel.nr, k, width, offsets, window_row, col);
        gemm_with_packed_ab(kernel, cout_g, static_cast<int32_t>(width), k, packed_phase, col, product,
                            static_cast<ptrdiff_t>(width), false);
      } else {  // a weight too large to keep packed: row-major col for gemm_with
        for (int32_t kk = 0; kk < k; ++kk) {
          const float* src = window_row(kk);
          float* row = col + static_cast<size_t>(kk) * width;
          for (size_t j = 0; j < width; ++j) row[j] = src[offsets[j]];
        }
        gemm_with(kernel, cout_g, static_cast<int32_t>(width), k, MatrixView{phase_weight, k, 1},
                  MatrixView{col, static_cast<ptrdiff_t>(width), 1}, product, static_cast<ptrdiff_t>(width), false, packs);
      }
      for (int32_t o = 0; o < cout_g; ++o) {
        const float b0 = bias != nullptr ? bias[grp * cout_g + o] : 0.0f;
        const float* po = product + static_cast<size_t>(o) * width;
        float* yo = yg + static_cast<size_t>(o) * out_plane;
        if (rg != nullptr) {
          const float* ro = rg + static_cast<size_t>(o) * out_plane;
          for_each_output([&](size_t j, size_t at) { yo[at] = po[j] + b0 + ro[at]; });
        } else {
          for_each_output([&](size_t j, size_t at) { yo[at] = po[j] + b0; });
        }
      }
    }
    return WTCONV_OK;
  };
  const size_t scratch = col_floats + product_floats + phase_weight_floats + packed_floats * held_phases + window_floats +
                         offset_floats + (packed_floats == 0 ? gemm_scratch_floats() : 0);  // packs: gemm_with only
  return ThreadPool::instance().parallel_for(blocks * tiles, kScratchTagBytes + sizeof(float) * scratch, body);
}

// Winograd form of the sub-pixel phases, for kernels of twice the stride on
// both axes (the 4x4 stride-2 upsampling of WaveMix): every phase then has 2 x 2
// taps, y(q) = w[r + s] x[q - 1] + w[r] x[q] along each axis, and a 2x2 block
// of its outputs takes F(2x2, 2x2)'s 9 products instead of 16 (winograd-nchw.h).
// Used, forward and for the input gradient (below), for such kernels at stride
// > 1 without dilation when the transformed weights fit their budget: forward
// 9 per phase, cout x cin; input gradient 9, cin x (phases * cout).
bool winograd_applies(bool input_gradient, int32_t groups, int32_t cin_g, int32_t cout_g, int32_t kh, int32_t kw,
                      int32_t sh, int32_t sw, int32_t dh, int32_t dw) {
  if (kh != 2 * sh || kw != 2 * sw || (sh == 1 && sw == 1) || dh != 1 || dw != 1) return false;
  const GemmMicrokernel& kernel = gemm_microkernel();
  return (input_gradient ? winograd_weight_floats(kernel, groups, 9, cin_g, sh * sw * cout_g)
                         : winograd_weight_floats(kernel, groups, size_t{9} * sh * sw, cout_g, cin_g)) != 0;
}

wtconv_status conv_transpose2d_winograd(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout,
                                        int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t oh,
                                        int32_t ow, int32_t groups, const float* x, const float* weight,
                                        const float* channel_scale, const float* bias, const float* residual,
                                        float* y) {
  const int32_t kh = 2 * sh, kw = 2 * sw, cin_g = cin / groups, cout_g = cout / groups;
  auto grid_of = [&](int32_t phase) {
    const int32_t ry = phase / sw, rx = phase % sw;
    const PhaseAxis ay = PhaseAxis::make(ry, kh, sh, ph, oh), ax = PhaseAxis::make(rx, kw, sw, pw, ow);
    return WinogradGrid{ay.q0 - 1, ax.q0 - 1, sh * ay.q0 + ry - ph, sw * ax.q0 + rx - pw, sh, sw, ay.count, ax.count};
  };
  auto filter = [&](int32_t grp, int32_t phase, int32_t o, int32_t c, float* u, size_t stride) {
    const int32_t ry = phase / sw, rx = phase % sw;
    const float* k = weight + ((static_cast<size_t>(grp) * cin_g + c) * cout_g + o) * kh * kw;
    const float* top = k + (ry + sh) * kw;  // the taps of x[q - 1]: ry + sh, rx + sw
    const float* bottom = k + ry * kw;
    const float s = channel_scale != nullptr ? channel_scale[grp * cout_g + o] : 1.0f;
    WinogradF2K2::filter(s * top[rx + sw], s * top[rx], s * bottom[rx + sw], s * bottom[rx], u, stride);
  };
  WinogradShape shape{n, cin, h, w, cout, oh, ow, groups, sh * sw};
  shape.residual = residual;
  shape.summed_major = true;  // weight (in, out / groups, kh, kw)
  shape.weight = weight;       // U kept across calls: row c of the weight is its cout_g x kh x kw taps
  shape.weight_row_floats = static_cast<size_t>(cout_g) * kh * kw;
  shape.scale = channel_scale;
  shape.scale_floats = channel_scale != nullptr ? static_cast<size_t>(cout) : 0;
  const uint64_t form = static_cast<uint64_t>(WinogradForm::kConvTranspose2dForward);
  shape.filter_key = key_combine(key_combine(form, static_cast<uint64_t>(sh)), static_cast<uint64_t>(sw));
  return winograd_conv_nchw<WinogradF2K2>(shape, x, bias, y, grid_of, filter);
}

// Its input gradient is the conv with the same kernel at stride s: along an
// axis grad_x[i] = sum over r < s and t < 2 of grad_y[s (i + t) + r - p] w[r + s t],
// a sum over the s x s sampled planes of grad_y (sources of winograd-nchw.h),
// each convolved with its 2x2 taps: one grid, F(2x2, 2x2) again.

wtconv_status conv_transpose2d_winograd_backward_input(int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout,
                                                       int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t oh,
                                                       int32_t ow, int32_t groups, const float* grad_y,
                                                       const float* weight, float* grad_x) {
  const int32_t cin_g = cin / groups, cout_g = cout / groups;
  const size_t taps = static_cast<size_t>(4) * sh * sw;
  // Output channel c of this conv is the transposed conv's input channel, its
  // input channel o grad_y's channel.
  const WinogradShape shape{n, cout, oh, ow, cin, h, w, groups, 1};
  auto taps_of = [&](int32_t grp, int32_t c, int32_t o) {
    return weight + ((static_cast<size_t>(grp) * cin_g + c) * cout_g + o) * taps;
  };
  return winograd_strided_conv_nchw(shape, sh, sw, ph, pw, grad_y, nullptr, grad_x, taps_of);
}
}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_conv_transpose2d_forward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* channel_scale, const float* bias, const float* residual, float* y) {
  ConvGeometry g;
  WTCONV_CHECK(conv_transpose2d_geometry(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, output_pad_h,
                                         output_pad_w, dilation_h, dilation_w, groups, &g));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(y, "y"));
  if (winograd_applies(false, groups, cin / groups, cout / groups, kh, kw, stride_h, stride_w, dilation_h, dilation_w)) {
    return conv_transpose2d_winograd(n, cin, h, w, cout, stride_h, stride_w, pad_h, pad_w, g.in[1], g.in[2], groups,
                                     x, weight, channel_scale, bias, residual, y);
  }
  if ((stride_h > 1 || stride_w > 1) && dilation_h == 1 && dilation_w == 1) {
    return conv_transpose2d_phases(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, g.in[1],
                                   g.in[2], groups, x, weight, channel_scale, bias, residual, y);
  }
  WTCONV_CHECK(conv_backward_input_nd(g, x, weight, y));
  if (channel_scale != nullptr || bias != nullptr || residual != nullptr) {
    WTCONV_CHECK(channel_affine(n, cout, g.in_plane(), channel_scale, bias, residual, y));
  }
  return ok();
}

wtconv_status wtconv_conv_transpose2d_backward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* grad_y, float* grad_x, float* grad_weight,
    float* grad_bias) {
  ConvGeometry g;
  WTCONV_CHECK(conv_transpose2d_geometry(n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, output_pad_h,
                                         output_pad_w, dilation_h, dilation_w, groups, &g));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  if (grad_x != nullptr &&
      winograd_applies(true, groups, cin / groups, cout / groups, kh, kw, stride_h, stride_w, dilation_h, dilation_w)) {
    WTCONV_CHECK(conv_transpose2d_winograd_backward_input(n, cin, h, w, cout, stride_h, stride_w, pad_h, pad_w, g.in[1],
                                                          g.in[2], groups, grad_y, weight, grad_x));
  } else if (grad_x != nullptr) {
    WTCONV_CHECK(conv_forward_nd(g, grad_y, weight, nullptr, grad_x));
  }
  // x is the dense operand of the weight gradient in sub-pixel form, grad_y the sampled one.
  const WeightGradPhases phases{n, groups, cin, h, w, cout, g.in[1], g.in[2], kh, kw, stride_h, stride_w, pad_h, pad_w};
  PhasePlanes pp;
  if (grad_weight != nullptr && weight_grad_phases_plan(phases, dilation_h, dilation_w, &pp)) {
    WTCONV_CHECK(weight_grad_phases(phases, pp, x, grad_y, grad_weight));
  } else if (grad_weight != nullptr) {
    WTCONV_CHECK(conv_backward_weight_nd(g, grad_y, x, grad_weight));
  }
  if (grad_bias != nullptr) WTCONV_CHECK(channel_sum(n, cout, g.in_plane(), grad_y, grad_bias));
  return ok();
}

}  // extern "C"
