// CUDA kernels of the wtconv operators, written once for two executors:
//   - nvcc (device.cu): each kernel functor runs as a __global__ kernel, one
//     CUDA block per Block, its phases separated by __syncthreads();
//   - the host emulator (emulate.cc, g++): every block runs on the CPU, each
//     phase by one "thread" that covers all of the phase's elements.
// So every phase must split its work by (tid, nthreads) only, read what earlier
// phases wrote, and use no warp intrinsics: the emulator then computes exactly
// what the GPU computes (up to FMA contraction), and its tests check the index
// arithmetic of every kernel without a GPU.
//
// Kernels (the math follows core/src/operators/*.cc, see SPEC section 1):
//   baseline tier  AnalyzeK, SynthK, DwConvK, DwConvAdjK, TapPartialK,
//                  ReduceK, FinalizeK: one step per launch, through global memory;
//   fused tier     FusedLevelK: per level of the cascade, DWT + depthwise conv +
//                  scale + (+ LL from the level above) + inverse DWT in shared
//                  memory (forward; and its adjoint for the backward), with the
//                  base convolution, bias and stride folded into level 0;
//                  FusedCorrK: DWT + weight correlations per tile (parameter
//                  gradients), reduced in a fixed order by ReduceK (deterministic);
//   convolutions   ConvFwdK, ConvAdjK, ConvCorrK, ChannelSumK: conv1d/2d/3d
//                  forward, input gradient and per-image weight / bias
//                  correlations (then ReduceK and FinalizeK), and
//                  conv_transpose2d as the adjoint of a conv2d; one output per
//                  thread, no tiling yet;
//   WaveMix layers BinaryK (add, dropout backward), GeluK, DropoutK,
//                  PlaneMomentsK + BnStatsK + BnApplyK / BnGradK (BatchNorm2d),
//                  MatMulK + ColumnSumK (Linear), ChannelSumK + BroadcastK
//                  (global average pooling), ConcatK;
//   DCLS           DclsK: kernel construction and its backward, a slice per thread.
#pragma once

#include <cmath>
#include <cstdint>

#include "../../core/src/host-device.h"
#include "../../core/src/kernels/dcls-slice.h"
#include "../../core/src/kernels/dropout-mask.h"

namespace wtconv_cuda {

constexpr int kMaxF = 8;        // filter length of db4
constexpr int kMaxLevels = 30;

// Where a block is and which share of its work this thread does.
struct Block {
  int bx, by, bz;
  int nbx;  // blocks along x (grid-stride loops step by nbx * nthreads)
  int tid, nthreads;
};

// One direction (analysis or synthesis) of a wavelet's 2-D filter bank.
struct Filters {
  int F;
  int pad;  // F / 2 - 1
  float f[4][kMaxF * kMaxF];
};

WTCONV_HOST_DEVICE int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
WTCONV_HOST_DEVICE int imin(int a, int b) { return a < b ? a : b; }
WTCONV_HOST_DEVICE int imax(int a, int b) { return a > b ? a : b; }

// ---- baseline tier --------------------------------------------------------

// One level of the DWT (analysis) for every plane: bands[p][b] (h, w) from an
// (H, W) plane, zero-extended. The input may be a virtual upsampling of a
// strided tensor (grad_y of a strided layer): value (Y, X) = in[Y/uy][X/ux]
// where Y % uy == 0 and X % ux == 0, else 0; its rows then have in_w entries.
// bands_out = 1 writes only the LL band.
struct AnalyzeK {
  static constexpr int kPhases = 1;
  const float* in;
  int64_t in_plane;  // elements between planes of `in`
  int in_w;          // entries per row of `in`
  int uy, ux;        // virtual upsampling (1: none)
  int planes, H, W, h, w, bands_out;
  Filters flt;
  float* out;  // (planes, bands_out, h, w)

  WTCONV_HOST_DEVICE float at(const float* p, int Y, int X) const {
    if (Y < 0 || X < 0 || Y >= H || X >= W) return 0.0f;
    if (uy == 1 && ux == 1) return p[static_cast<int64_t>(Y) * in_w + X];
    if (Y % uy || X % ux) return 0.0f;
    return p[static_cast<int64_t>(Y / uy) * in_w + X / ux];
  }
  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int64_t per = static_cast<int64_t>(bands_out) * h * w;
    const int64_t total = per * planes;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const int64_t p = e / per;
      int r = static_cast<int>(e - p * per);
      const int band = r / (h * w);
      r -= band * h * w;
      const int y = r / w, x = r - (r / w) * w;
      const float* src = in + p * in_plane;
      float s = 0.0f;
      for (int i = 0; i < flt.F; ++i) {
        for (int j = 0; j < flt.F; ++j) s += at(src, 2 * y - flt.pad + i, 2 * x - flt.pad + j) * flt.f[band][i * flt.F + j];
      }
      out[e] = s;
    }
  }
};

// One level of the inverse DWT (synthesis, a transposed convolution) for every
// plane: out (H, W) from bands (4, h, w). The LL band may be replaced by or
// added to `ll` (h, w per plane); `out_add` is added to the result.
struct SynthK {
  static constexpr int kPhases = 1;
  const float* bands;  // (planes, 4, h, w)
  const float* ll;     // (planes, h, w) or null
  int ll_mode;         // 0: none, 1: add to LL, 2: replace LL
  const float* out_add;  // (planes, H, W) or null
  int planes, H, W, h, w;
  Filters flt;
  float* out;

  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int64_t per = static_cast<int64_t>(H) * W;
    const int64_t total = per * planes;
    const int F = flt.F, pad = flt.pad;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const int64_t p = e / per;
      const int r = static_cast<int>(e - p * per);
      const int Y = r / W, X = r - (r / W) * W;
      const float* bp = bands + p * 4 * h * w;
      const float* lp = ll ? ll + p * h * w : nullptr;
      float s = out_add ? out_add[e] : 0.0f;
      const int y0 = imax(0, floor_div(Y + pad - F + 1 + 1, 2)), y1 = imin(h - 1, floor_div(Y + pad, 2));
      const int x0 = imax(0, floor_div(X + pad - F + 1 + 1, 2)), x1 = imin(w - 1, floor_div(X + pad, 2));
      for (int y = y0; y <= y1; ++y) {
        const int i = Y + pad - 2 * y;
        for (int x = x0; x <= x1; ++x) {
          const int j = X + pad - 2 * x;
          const int q = y * w + x;
          float v0 = bp[q];
          if (ll_mode == 1) v0 += lp[q];
          else if (ll_mode == 2) v0 = lp[q];
          s += v0 * flt.f[0][i * F + j] + bp[h * w + q] * flt.f[1][i * F + j] +
               bp[2 * h * w + q] * flt.f[2][i * F + j] + bp[3 * h * w + q] * flt.f[3][i * F + j];
        }
      }
      out[e] = s;
    }
  }
};

// Depthwise convolution: out[p] (oh, ow) = scale[c] * (conv(in[p], w[c]) + bias[c]) + add,
// c = p % C; padding (pt, pl) before, zero outside, stride (sh, sw). `add`
// (optional) is read at the output's full-resolution position: add[p][oy*sh][ox*sw]
// of an (H, W) plane (the inverse cascade's output in WTConv2d).
struct DwConvK {
  static constexpr int kPhases = 1;
  const float* in;
  int64_t in_plane;
  int planes, C, H, W, kh, kw, pt, pl, sh, sw, oh, ow;
  const float* weight;  // (C, kh, kw)
  const float* scale;   // (C) or null (1)
  const float* bias;    // (C) or null
  const float* add;     // (planes, H, W) or null
  float* out;           // (planes, oh, ow)

  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int64_t per = static_cast<int64_t>(oh) * ow;
    const int64_t total = per * planes;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const int64_t p = e / per;
      const int r = static_cast<int>(e - p * per);
      const int oy = r / ow, ox = r - (r / ow) * ow;
      const int c = static_cast<int>(p % C);
      const float* src = in + p * in_plane;
      const float* wc = weight + static_cast<int64_t>(c) * kh * kw;
      float s = 0.0f;
      for (int i = 0; i < kh; ++i) {
        const int y = oy * sh - pt + i;
        if (y < 0 || y >= H) continue;
        for (int j = 0; j < kw; ++j) {
          const int x = ox * sw - pl + j;
          if (x < 0 || x >= W) continue;
          s += src[static_cast<int64_t>(y) * W + x] * wc[i * kw + j];
        }
      }
      if (bias) s += bias[c];
      if (scale) s *= scale[c];
      if (add) s += add[p * H * W + static_cast<int64_t>(oy) * sh * W + static_cast<int64_t>(ox) * sw];
      out[e] = s;
    }
  }
};

// Adjoint of DwConvK with respect to its input (no bias):
// out[p] (H, W) = scale[c] * sum_{i,j} g[(y + pt - i) / sh][(x + pl - j) / sw] w[c][i][j] + add.
struct DwConvAdjK {
  static constexpr int kPhases = 1;
  const float* g;  // (planes, oh, ow)
  int64_t g_plane;
  int planes, C, H, W, kh, kw, pt, pl, sh, sw, oh, ow;
  const float* weight;
  const float* scale;  // or null
  const float* add;    // (planes, H, W) or null
  float* out;          // (planes, H, W)

  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int64_t per = static_cast<int64_t>(H) * W;
    const int64_t total = per * planes;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const int64_t p = e / per;
      const int r = static_cast<int>(e - p * per);
      const int y = r / W, x = r - (r / W) * W;
      const int c = static_cast<int>(p % C);
      const float* gp = g + p * g_plane;
      const float* wc = weight + static_cast<int64_t>(c) * kh * kw;
      float s = 0.0f;
      for (int i = 0; i < kh; ++i) {
        const int ty = y + pt - i;
        if (ty < 0 || ty % sh) continue;
        const int oy = ty / sh;
        if (oy >= oh) continue;
        for (int j = 0; j < kw; ++j) {
          const int tx = x + pl - j;
          if (tx < 0 || tx % sw) continue;
          const int ox = tx / sw;
          if (ox >= ow) continue;
          s += gp[static_cast<int64_t>(oy) * ow + ox] * wc[i * kw + j];
        }
      }
      if (scale) s *= scale[c];
      if (add) s += add[e];
      out[e] = s;
    }
  }
};

// Per-plane correlation sums of a depthwise convolution's weight gradient:
// partial[p][t] = sum_{oy,ox} g[p][oy][ox] * in[p][oy*sh - pt + i][ox*sw - pl + j]
// for taps t = i * kw + j, and partial[p][kh*kw] = sum g[p]. One block per
// (plane, tap): block bx = p * (kh*kw + 1) + t; shared: nthreads floats.
struct TapPartialK {
  static constexpr int kPhases = 2;
  const float* in;
  int64_t in_plane;
  const float* g;
  int64_t g_plane;
  int H, W, kh, kw, pt, pl, sh, sw, oh, ow;
  float* partial;  // (planes, kh*kw + 1)
  WTCONV_HOST_DEVICE void operator()(int phase, const Block& b, float* smem) const {
    const int taps = kh * kw + 1;
    const int64_t p = b.bx / taps;
    const int t = b.bx - static_cast<int>(p) * taps;
    if (phase == 0) {
      const float* src = in + p * in_plane;
      const float* gp = g + p * g_plane;
      const int i = t / kw, j = t - (t / kw) * kw;
      float s = 0.0f;
      for (int q = b.tid; q < oh * ow; q += b.nthreads) {
        if (t == taps - 1) {
          s += gp[q];
          continue;
        }
        const int oy = q / ow, ox = q - (q / ow) * ow;
        const int y = oy * sh - pt + i, x = ox * sw - pl + j;
        if (y < 0 || y >= H || x < 0 || x >= W) continue;
        s += gp[q] * src[static_cast<int64_t>(y) * W + x];
      }
      smem[b.tid] = s;
      return;
    }
    if (b.tid != 0) return;
    float s = 0.0f;
    for (int k = 0; k < b.nthreads; ++k) s += smem[k];
    partial[p * taps + t] = s;
  }
};

// Zeroes band 0 (LL) of (planes, 4, h, w) band tensors.
struct ZeroLLK {
  static constexpr int kPhases = 1;
  float* bands;
  int planes, h, w;
  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int64_t per = static_cast<int64_t>(h) * w, total = per * planes;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      bands[(e / per) * 4 * per + e % per] = 0.0f;
    }
  }
};

// Sums partial[(n * C + c) * parts + part][t] over n and part, in a fixed order
// and in double: out[c][t] (C, taps). One thread per (c, t).
struct ReduceK {
  static constexpr int kPhases = 1;
  const float* partial;
  int n, C, parts, taps;
  double* out;
  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int64_t total = static_cast<int64_t>(C) * taps;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const int c = static_cast<int>(e / taps), t = static_cast<int>(e % taps);
      double s = 0.0;
      for (int i = 0; i < n; ++i) {
        const float* base = partial + (static_cast<int64_t>(i) * C + c) * parts * taps;
        for (int part = 0; part < parts; ++part) s += base[static_cast<int64_t>(part) * taps + t];
      }
      out[e] = s;
    }
  }
};

// Parameter gradients from correlation sums corr (C, k*k [+ 1 for sum g]):
// y = scale * (conv(x, w) + bias) gives d/dw = scale * corr, d/dscale = sum_t w_t corr_t
// + bias * sum(g), d/dbias = scale * sum(g). Without scale: d/dw = corr, d/dbias = sum g.
struct FinalizeK {
  static constexpr int kPhases = 1;
  const double* corr;
  int C, taps;  // k*k
  int has_sum;  // corr rows have taps + 1 entries (the last: sum of g)
  const float* weight;
  const float* scale;  // or null
  const float* bias;   // or null
  float* grad_weight;  // or null
  float* grad_scale;   // or null
  float* grad_bias;    // or null
  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    for (int c = b.bx * b.nthreads + b.tid; c < C; c += b.nthreads * b.nbx) {
      const double* row = corr + static_cast<int64_t>(c) * (taps + has_sum);
      const double sc = scale ? scale[c] : 1.0;
      double gs = 0.0;
      for (int t = 0; t < taps; ++t) {
        if (grad_weight) grad_weight[static_cast<int64_t>(c) * taps + t] = static_cast<float>(sc * row[t]);
        gs += static_cast<double>(weight[static_cast<int64_t>(c) * taps + t]) * row[t];
      }
      const double gsum = has_sum ? row[taps] : 0.0;
      if (bias) gs += bias[c] * gsum;
      if (grad_scale) grad_scale[c] = static_cast<float>(gs);
      if (grad_bias) grad_bias[c] = static_cast<float>(sc * gsum);
    }
  }
};

// ---- general convolution (conv1d / conv2d / conv3d) ------------------------

// The geometry of a convolution over 3 spatial axes (d, h, w; conv1d and conv2d
// have size-1 leading axes), as wtconv::ConvGeometry: x (n, cin, in), weight
// (cout, cin / groups, k), y (n, cout, out).
struct ConvDims {
  int n, cin, cout, groups;
  int in[3], out[3], k[3], s[3], p[3], d[3];
  WTCONV_HOST_DEVICE int cin_g() const { return cin / groups; }
  WTCONV_HOST_DEVICE int cout_g() const { return cout / groups; }
  WTCONV_HOST_DEVICE int taps() const { return k[0] * k[1] * k[2]; }
  WTCONV_HOST_DEVICE int64_t in_plane() const { return static_cast<int64_t>(in[0]) * in[1] * in[2]; }
  WTCONV_HOST_DEVICE int64_t out_plane() const { return static_cast<int64_t>(out[0]) * out[1] * out[2]; }
  // Along axis a: the input index that output o reads under tap t, or -1 in the padding.
  WTCONV_HOST_DEVICE int input(int a, int o, int t) const {
    const int i = o * s[a] - p[a] + t * d[a];
    return i >= 0 && i < in[a] ? i : -1;
  }
  // Its inverse: the output index that reads input i under tap t, or -1 when none does.
  WTCONV_HOST_DEVICE int output(int a, int i, int t) const {
    const int q = i + p[a] - t * d[a];
    if (q < 0 || q % s[a] != 0) return -1;
    return q / s[a] < out[a] ? q / s[a] : -1;
  }
};

constexpr int kConvOutBlock = 4;  // output channels per thread of ConvFwdK

// y = conv(x, w) + bias: each thread computes kConvOutBlock output channels of
// one group at one output position (consecutive threads, consecutive
// positions), summing over input channels, then taps in (kz, ky, kx) order.
struct ConvFwdK {
  static constexpr int kPhases = 1;
  const float* x;
  const float* w;
  const float* bias;  // or null
  float* y;
  ConvDims g;
  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int cin_g = g.cin_g(), cout_g = g.cout_g(), taps = g.taps();
    const int blocks = (cout_g + kConvOutBlock - 1) / kConvOutBlock;
    const int64_t P = g.out_plane(), in_plane = g.in_plane();
    const int64_t total = static_cast<int64_t>(g.n) * g.groups * blocks * P;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const int64_t p = e % P;
      int64_t r = e / P;
      const int ob = static_cast<int>(r % blocks);
      r /= blocks;
      const int grp = static_cast<int>(r % g.groups), img = static_cast<int>(r / g.groups);
      const int ox = static_cast<int>(p % g.out[2]), oy = static_cast<int>((p / g.out[2]) % g.out[1]);
      const int oz = static_cast<int>(p / (static_cast<int64_t>(g.out[2]) * g.out[1]));
      const int o0 = grp * cout_g + ob * kConvOutBlock, count = imin(kConvOutBlock, cout_g - ob * kConvOutBlock);
      float acc[kConvOutBlock] = {};
      for (int c = 0; c < cin_g; ++c) {
        const float* xc = x + (static_cast<int64_t>(img) * g.cin + grp * cin_g + c) * in_plane;
        const float* wc = w + (static_cast<int64_t>(o0) * cin_g + c) * taps;
        for (int kz = 0; kz < g.k[0]; ++kz) {
          const int iz = g.input(0, oz, kz);
          if (iz < 0) continue;
          for (int ky = 0; ky < g.k[1]; ++ky) {
            const int iy = g.input(1, oy, ky);
            if (iy < 0) continue;
            const float* row = xc + (static_cast<int64_t>(iz) * g.in[1] + iy) * g.in[2];
            const int t0 = (kz * g.k[1] + ky) * g.k[2];
            for (int kx = 0; kx < g.k[2]; ++kx) {
              const int ix = g.input(2, ox, kx);
              if (ix < 0) continue;
              const float v = row[ix];
              for (int j = 0; j < kConvOutBlock; ++j) {
                if (j < count) acc[j] += v * wc[static_cast<int64_t>(j) * cin_g * taps + t0 + kx];
              }
            }
          }
        }
      }
      for (int j = 0; j < count; ++j) {
        y[(static_cast<int64_t>(img) * g.cout + o0 + j) * P + p] = acc[j] + (bias ? bias[o0 + j] : 0.0f);
      }
    }
  }
};

// grad_x = conv^T(grad_y): each thread one input position of one channel, the
// sum over the taps whose strided output position exists, then the group's
// output channels. As a transposed convolution's forward pass (grad_y its
// input, grad_x its output), scale[c] * sum + bias[c] + residual, each term
// where given.
struct ConvAdjK {
  static constexpr int kPhases = 1;
  const float* gy;
  const float* w;
  const float* scale;     // or null
  const float* bias;      // or null
  const float* residual;  // or null; gx's shape
  float* gx;
  ConvDims g;
  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int cin_g = g.cin_g(), cout_g = g.cout_g(), taps = g.taps();
    const int64_t P = g.out_plane(), Q = g.in_plane();
    const int64_t total = static_cast<int64_t>(g.n) * g.cin * Q;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const int64_t q = e % Q;
      const int64_t r = e / Q;
      const int ci = static_cast<int>(r % g.cin), img = static_cast<int>(r / g.cin);
      const int grp = ci / cin_g, c = ci % cin_g;
      const int ix = static_cast<int>(q % g.in[2]), iy = static_cast<int>((q / g.in[2]) % g.in[1]);
      const int iz = static_cast<int>(q / (static_cast<int64_t>(g.in[2]) * g.in[1]));
      const float* gyg = gy + (static_cast<int64_t>(img) * g.cout + static_cast<int64_t>(grp) * cout_g) * P;
      const float* wg = w + (static_cast<int64_t>(grp) * cout_g * cin_g + c) * taps;
      float acc = 0.0f;
      for (int kz = 0; kz < g.k[0]; ++kz) {
        const int oz = g.output(0, iz, kz);
        if (oz < 0) continue;
        for (int ky = 0; ky < g.k[1]; ++ky) {
          const int oy = g.output(1, iy, ky);
          if (oy < 0) continue;
          for (int kx = 0; kx < g.k[2]; ++kx) {
            const int ox = g.output(2, ix, kx);
            if (ox < 0) continue;
            const int64_t p = (static_cast<int64_t>(oz) * g.out[1] + oy) * g.out[2] + ox;
            const int t = (kz * g.k[1] + ky) * g.k[2] + kx;
            for (int o = 0; o < cout_g; ++o) acc += gyg[o * P + p] * wg[static_cast<int64_t>(o) * cin_g * taps + t];
          }
        }
      }
      if (scale) acc *= scale[ci];
      if (bias) acc += bias[ci];
      if (residual) acc += residual[e];
      gx[e] = acc;
    }
  }
};

// Per image, the correlations of grad_y with the unfolded x: partial[img][o][j]
// for j = (c, t) < cin_g * taps, and the sum of grad_y[img][o] at j = cin_g *
// taps (the bias gradient): ReduceK's (n, C = cout, 1, cin_g * taps + 1)
// layout. Each thread one entry, its sum in double in a fixed order.
struct ConvCorrK {
  static constexpr int kPhases = 1;
  const float* x;
  const float* gy;
  float* partial;
  ConvDims g;
  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    const int cin_g = g.cin_g(), cout_g = g.cout_g(), taps = g.taps();
    const int row = cin_g * taps + 1;
    const int64_t P = g.out_plane(), in_plane = g.in_plane();
    const int64_t total = static_cast<int64_t>(g.n) * g.cout * row;
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < total;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const int j = static_cast<int>(e % row);
      const int64_t r = e / row;
      const int o = static_cast<int>(r % g.cout), img = static_cast<int>(r / g.cout);
      const float* go = gy + (static_cast<int64_t>(img) * g.cout + o) * P;
      double sum = 0.0;
      if (j == row - 1) {
        for (int64_t p = 0; p < P; ++p) sum += go[p];
      } else {
        const int c = j / taps, t = j % taps;
        const int kx = t % g.k[2], ky = (t / g.k[2]) % g.k[1], kz = t / (g.k[2] * g.k[1]);
        const int grp = o / cout_g;
        const float* xc = x + (static_cast<int64_t>(img) * g.cin + grp * cin_g + c) * in_plane;
        for (int oz = 0; oz < g.out[0]; ++oz) {
          const int iz = g.input(0, oz, kz);
          if (iz < 0) continue;
          for (int oy = 0; oy < g.out[1]; ++oy) {
            const int iy = g.input(1, oy, ky);
            if (iy < 0) continue;
            const float* xrow = xc + (static_cast<int64_t>(iz) * g.in[1] + iy) * g.in[2];
            const float* grow = go + (static_cast<int64_t>(oz) * g.out[1] + oy) * g.out[2];
            for (int ox = 0; ox < g.out[2]; ++ox) {
              const int ix = g.input(2, ox, kx);
              if (ix < 0) continue;
              sum += grow[ox] * xrow[ix];
            }
          }
        }
      }
      partial[e] = static_cast<float>(sum);
    }
  }
};

// partial[p][c] = sum of the plane v[p][c] (in double) / divisor: per image, ReduceK's (n, C, 1, 1) layout (a bias
// gradient, divisor 1), or global average pooling (divisor: the plane size).
struct ChannelSumK {
  static constexpr int kPhases = 1;
  const float* v;
  int64_t planes, plane;
  double divisor;
  float* partial;
  WTCONV_HOST_DEVICE void operator()(int, const Block& b, float*) const {
    for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < planes;
         e += static_cast<int64_t>(b.nthreads) * b.nbx) {
      const float* src = v + e * plane;
      double sum = 0.0;
      for (int64_t p = 0; p < plane; ++p) sum += src[p];
      partial[e] = static_cast<float>(sum / divisor);
    }
  }
};

// ---- WaveMix layers (the math of core/src/operators/{add,gelu,dropout,
// batch-norm2d-nchw,linear-nc,global-avg-pool2d-nchw,concat-channels-nchw}.cc)

// Grid-stride loop over count values: f(e) for each.
template <typename F>
WTCONV_HOST_DEVICE void for_each_value(const Block& b, int64_t count, F&& f) {
  for (int64_t e = static_cast<int64_t>(b.bx) * b.nthreads + b.tid; e < count;
       e += static_cast<int64_t>(b.nthreads) * b.nbx) {
    f(e);
  }
}

// y = a + b, or y = a * b (dropout's backward: grad_y * mask); y may be a or b.
struct BinaryK {
  static constexpr int kPhases = 1;
  const float* a;
  const float* b;
  float* y;
  int64_t count;
  int multiply;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, count, [&](int64_t e) { y[e] = multiply ? a[e] * b[e] : a[e] + b[e]; });
  }
};

// GELU (erf form) forward, y = x Phi(x), or backward, grad_x = grad_y (Phi(x) + x phi(x)).
struct GeluK {
  static constexpr int kPhases = 1;
  const float* x;
  const float* grad_y;  // null: forward
  float* out;
  int64_t count;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, count, [&](int64_t e) {
      const float v = x[e];
      const float cdf = 0.5f + 0.5f * erff(v * 0.70710678118654752f);
      out[e] = grad_y ? grad_y[e] * (cdf + v * expf(-0.5f * v * v) * 0.39894228040143268f) : v * cdf;
    });
  }
};

// Dropout (training mode): the mask of dropout-mask.h, y = x * mask; p = 0
// (keep_all) copies x with a mask of ones.
struct DropoutK {
  static constexpr int kPhases = 1;
  const float* x;
  float* y;
  float* mask;
  int64_t count;
  int32_t seed;
  uint32_t threshold;
  float scale;
  int keep_all;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, count, [&](int64_t e) {
      float m = 1.0f;
      if (!keep_all) {
        const uint64_t i = static_cast<uint64_t>(e);
        const uint32_t key = wtconv::dropout_key(seed, static_cast<uint32_t>(i >> 32));
        m = wtconv::lowbias32<uint32_t>(static_cast<uint32_t>(i) ^ key) < threshold ? scale : 0.0f;
      }
      mask[e] = m;
      y[e] = x[e] * m;
    });
  }
};

// Per plane (image, channel): the sum of (x - mean[c])^2 (BatchNorm's variance)
// or, with g, the sums of g and g (x - mean[c]) (its backward), in double: a
// training-mode BatchNorm removes the mean of its gradient, and the layers
// below it see the rounding of that mean; ReduceK's layout with taps = 1 or 2.
struct PlaneMomentsK {
  static constexpr int kPhases = 1;
  const float* x;
  const float* g;  // null: the squared deviations
  const float* mean;
  int c;
  int64_t planes, plane;
  float* partial;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, planes, [&](int64_t e) {
      const float m = mean[e % c];
      const float* xp = x + e * plane;
      const float* gp = g ? g + e * plane : nullptr;
      double s0 = 0.0, s1 = 0.0;
      for (int64_t i = 0; i < plane; ++i) {
        const float d = xp[i] - m;
        if (gp) {
          s0 += gp[i];
          s1 += gp[i] * d;
        } else {
          s0 += d * d;
        }
      }
      if (gp) {
        partial[2 * e] = static_cast<float>(s0);
        partial[2 * e + 1] = static_cast<float>(s1);
      } else {
        partial[e] = static_cast<float>(s0);
      }
    });
  }
};

// BatchNorm2d statistics per channel, one thread each. Training, stage 0:
// save_mean = sums / m; stage 1: save_invstd from the squared deviations sq,
// and the running statistics updated (unbiased variance). Eval: both from the
// running statistics.
struct BnStatsK {
  static constexpr int kPhases = 1;
  const double* sums;
  const double* sq;
  const float* running_mean;
  const float* running_var;
  float* new_running_mean;  // or null
  float* new_running_var;   // or null
  float* save_mean;
  float* save_invstd;
  int c, training, stage;
  double m;
  float momentum, eps;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, c, [&](int64_t ch) {
      if (!training) {
        save_mean[ch] = running_mean[ch];
        save_invstd[ch] = static_cast<float>(1.0 / sqrt(static_cast<double>(running_var[ch]) + eps));
        return;
      }
      if (stage == 0) {
        save_mean[ch] = static_cast<float>(sums[ch] / m);
        return;
      }
      const double var = sq[ch] / m;
      save_invstd[ch] = static_cast<float>(1.0 / sqrt(var + static_cast<double>(eps)));
      if (new_running_mean) {
        const double unbiased = m > 1 ? sq[ch] / (m - 1) : var;
        const float rm = running_mean[ch], rv = running_var[ch];
        new_running_mean[ch] = static_cast<float>((1.0 - momentum) * rm + momentum * static_cast<double>(save_mean[ch]));
        new_running_var[ch] = static_cast<float>((1.0 - momentum) * rv + momentum * unbiased);
      }
    });
  }
};

// y = x * scale + shift per channel, scale = weight * invstd, shift = bias - mean * scale.
struct BnApplyK {
  static constexpr int kPhases = 1;
  const float* x;
  const float* weight;  // or null (1)
  const float* bias;    // or null (0)
  const float* mean;
  const float* invstd;
  float* y;
  int c;
  int64_t plane, count;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, count, [&](int64_t e) {
      const int ch = static_cast<int>((e / plane) % c);
      const float scale = (weight ? weight[ch] : 1.0f) * invstd[ch];
      const float shift = (bias ? bias[ch] : 0.0f) - mean[ch] * scale;
      y[e] = x[e] * scale + shift;
    });
  }
};

// BatchNorm2d backward from the per-channel sums (sum g, sum g (x - mean)):
// stage 0 (one thread per channel) the parameter gradients and the
// coefficients of grad_x (coef: a, mean_g, b per channel); stage 1 grad_x =
// a (g - mean_g) + b (x - mean), b = 0 and mean_g = 0 in eval mode.
struct BnGradK {
  static constexpr int kPhases = 1;
  const double* sums;  // (c, 2)
  const float* x;
  const float* g;
  const float* weight;  // or null
  const float* mean;
  const float* invstd;
  float* coef;  // (c, 3)
  float* grad_x;
  float* grad_weight;
  float* grad_bias;
  int c, training, stage;
  double m;
  int64_t plane, count;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    if (stage == 0) {
      for_each_value(blk, c, [&](int64_t ch) {
        const double sum_g = sums[2 * ch], sum_gx = sums[2 * ch + 1];
        const float is = invstd[ch];
        if (grad_bias) grad_bias[ch] = static_cast<float>(sum_g);
        if (grad_weight) grad_weight[ch] = static_cast<float>(sum_gx * is);
        const float wi = (weight ? weight[ch] : 1.0f) * is;
        coef[3 * ch] = wi;
        coef[3 * ch + 1] = training ? static_cast<float>(sum_g / m) : 0.0f;
        coef[3 * ch + 2] = training ? static_cast<float>(-static_cast<double>(wi) * is * is * sum_gx / m) : 0.0f;
      });
      return;
    }
    for_each_value(blk, count, [&](int64_t e) {
      const int ch = static_cast<int>((e / plane) % c);
      grad_x[e] = coef[3 * ch] * (g[e] - coef[3 * ch + 1]) + coef[3 * ch + 2] * (x[e] - mean[ch]);
    });
  }
};

// C (m x n) = A (m x k) B (k x n) [+ bias[j]] over strided views, one value per
// thread, its sum over k in order: Linear's forward and gradients.
struct MatMulK {
  static constexpr int kPhases = 1;
  const float* a;
  int64_t a_rs, a_cs;
  const float* b;
  int64_t b_rs, b_cs;
  const float* bias;  // or null
  float* c;
  int m, n, k;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, static_cast<int64_t>(m) * n, [&](int64_t e) {
      const int64_t i = e / n, j = e % n;
      float s = 0.0f;
      for (int p = 0; p < k; ++p) s += a[i * a_rs + p * a_cs] * b[p * b_rs + j * b_cs];
      c[e] = bias ? s + bias[j] : s;
    });
  }
};

// out[j] = sum over i of v[i * cols + j], in double (Linear's bias gradient).
struct ColumnSumK {
  static constexpr int kPhases = 1;
  const float* v;
  int rows, cols;
  float* out;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, cols, [&](int64_t j) {
      double s = 0.0;
      for (int i = 0; i < rows; ++i) s += v[static_cast<int64_t>(i) * cols + j];
      out[j] = static_cast<float>(s);
    });
  }
};

// grad_x[p][i] = grad_y[p] * inv over planes of `plane` values (global average pooling's backward).
struct BroadcastK {
  static constexpr int kPhases = 1;
  const float* grad_y;
  float inv;
  int64_t plane, count;
  float* grad_x;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, count, [&](int64_t e) { grad_x[e] = grad_y[e / plane] * inv; });
  }
};

// Channel concatenation y (n, ca + cb, plane) of a and b, or (split) its
// backward: grad_a, grad_b (each may be null) from grad_y.
struct ConcatK {
  static constexpr int kPhases = 1;
  const float* a;
  const float* b;
  float* y;
  float* grad_a;
  float* grad_b;
  const float* grad_y;  // null: forward
  int64_t sa, sb, count;  // ca * plane, cb * plane, n * (sa + sb)
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, count, [&](int64_t e) {
      const int64_t s = e / (sa + sb), r = e % (sa + sb);
      if (!grad_y) {
        y[e] = r < sa ? a[s * sa + r] : b[s * sb + r - sa];
      } else if (r < sa) {
        if (grad_a) grad_a[s * sa + r] = grad_y[e];
      } else if (grad_b) {
        grad_b[s * sb + r - sa] = grad_y[e];
      }
    });
  }
};

// DCLS kernel construction (kernels/dcls-slice.h): one kernel slice per thread,
// forward (grad_kernel null) or backward.
struct DclsK {
  static constexpr int kPhases = 1;
  wtconv::Dcls d;
  const float* weight;
  const float* P;
  const float* SIG;          // gauss only
  float* kernel;             // forward
  const float* grad_kernel;  // backward
  float* grad_weight;
  float* grad_P;
  float* grad_SIG;
  WTCONV_HOST_DEVICE void operator()(int, const Block& blk, float*) const {
    for_each_value(blk, static_cast<int64_t>(d.out) * d.in, [&](int64_t slice) {
      if (grad_kernel) {
        wtconv::dcls_backward_slice(d, static_cast<size_t>(slice), weight, P, SIG, grad_kernel, grad_weight, grad_P,
                                    grad_SIG);
      } else {
        wtconv::dcls_construct_slice(d, static_cast<size_t>(slice), weight, P, SIG, kernel);
      }
    });
  }
};

// ---- fused tier -----------------------------------------------------------

// Tile geometry of one level: an output tile [oy0, oy0 + TH) x [ox0, ox0 + TW)
// of the level's (H, W) plane, the band rows [b0, b0 + BH) its synthesis reads,
// and the band rows [b0 - lead, b0 + BH + k - 1 - lead) the convolution reads.
struct Span {
  int o0, n;        // output range
  int b0, bn;       // band range (synthesis window)
  int s0, sn;       // conv source range in band coordinates
  int i0, in;       // input range (DWT window / base conv window) in plane coordinates
};

WTCONV_HOST_DEVICE Span make_span(int o0, int n, int F, int pad, int k, int lead, int before, bool base) {
  Span s;
  s.o0 = o0;
  s.n = n;
  s.b0 = floor_div(o0 + pad - F + 1 + 1, 2);
  const int b1 = floor_div(o0 + n - 1 + pad, 2);
  s.bn = b1 - s.b0 + 1;
  s.s0 = s.b0 - lead;
  s.sn = s.bn + k - 1;
  int i0 = 2 * s.s0 - pad, i1 = 2 * (s.s0 + s.sn - 1) - pad + F - 1;
  if (base) {
    i0 = imin(i0, o0 - before);
    i1 = imax(i1, o0 + n - 1 + k - 1 - before);
  }
  s.i0 = i0;
  s.in = i1 - i0 + 1;
  return s;
}

// One level of WTConv2d, fused (one block per output tile of one plane).
// Forward (adjoint = 0), level i:
//   t = DWT(cur) on the tile's window (shared), zero outside the bands;
//   z = ws * conv(t, ww) (+ `extra` on LL: the level above's output), zero outside;
//   out = synthesis(z) [+ level 0: bs * (conv(x, bw) + bias), subsampled by the stride].
// Backward (adjoint = 1), level i:
//   gz (4 bands of the level, computed by AnalyzeK) loaded on the window;
//   gt = ws * conv^T(gz, ww) (+ `extra` on LL: the gradient from the level above);
//   out = synthesis with the analysis filters (the DWT's adjoint)
//         [+ level 0: bs * conv^T(grad_y, bw), grad_y upsampled by the stride].
struct FusedLevelK {
  static constexpr int kPhases = 4;
  int adjoint;
  int planes, C, H, W, h, w, k, before;
  int TH, TW, tiles_x;
  // forward source: the level's input plane (x or the level below's LL)
  const float* cur;
  int64_t cur_plane;
  // backward source: the level's band gradients (planes, 4, h, w)
  const float* src;
  const float* ww;  // (4C, k, k)
  const float* ws;  // (4C)
  const float* extra;  // (planes, h, w) or null
  Filters dwt;    // forward: analysis filters
  Filters synth;  // forward: synthesis; backward: analysis
  // level 0 only (base path); base_in = x (forward) or grad_y (backward)
  int base;
  const float* base_in;
  const float* bw;
  const float* bs;
  const float* bias;
  int sh, sw, oh, ow;
  float* out;  // forward level 0: (planes, oh, ow); else (planes, H, W)

  // Shared memory (floats): input window, 4 source planes, 4 conv results.
  WTCONV_HOST_DEVICE static void sizes(const Span& r, const Span& c, int* in_floats, int* src_floats, int* dst_floats) {
    *in_floats = r.in * c.in;
    *src_floats = 4 * r.sn * c.sn;
    *dst_floats = 4 * r.bn * c.bn;
  }
  WTCONV_HOST_DEVICE int lead() const { return adjoint ? k - 1 - before : before; }
  WTCONV_HOST_DEVICE Span rows(int o0) const {
    return make_span(o0, imin(TH, H - o0), dwt.F, dwt.pad, k, lead(), before, base && !adjoint);
  }
  WTCONV_HOST_DEVICE Span cols(int o0) const {
    return make_span(o0, imin(TW, W - o0), dwt.F, dwt.pad, k, lead(), before, base && !adjoint);
  }
  static int shared_floats(int F, int pad, int k, int before, int TH, int TW, bool adjoint, bool base) {
    const int lead = adjoint ? k - 1 - before : before;
    const Span r = make_span(0, TH, F, pad, k, lead, before, base && !adjoint);
    const Span c = make_span(0, TW, F, pad, k, lead, before, base && !adjoint);
    int a, s, d;
    sizes(r, c, &a, &s, &d);
    return (adjoint ? 0 : a) + s + d;
  }

  WTCONV_HOST_DEVICE void operator()(int phase, const Block& b, float* smem) const {
    const int64_t p = b.bx;
    const int ty = b.by / tiles_x, tx = b.by - (b.by / tiles_x) * tiles_x;
    const Span R = rows(ty * TH), Cc = cols(tx * TW);
    int in_floats, src_floats, dst_floats;
    sizes(R, Cc, &in_floats, &src_floats, &dst_floats);
    if (adjoint) in_floats = 0;
    float* s_in = smem;
    float* s_src = smem + in_floats;
    float* s_dst = s_src + src_floats;
    const int sp = R.sn * Cc.sn;  // one source plane
    const int dp = R.bn * Cc.bn;  // one conv result plane
    const int c = static_cast<int>(p % C);

    if (phase == 0) {
      if (!adjoint) {  // the input window, zero outside the plane
        const float* cp = cur + p * cur_plane;
        for (int e = b.tid; e < in_floats; e += b.nthreads) {
          const int y = R.i0 + e / Cc.in, x = Cc.i0 + e % Cc.in;
          s_in[e] = (y >= 0 && y < H && x >= 0 && x < W) ? cp[static_cast<int64_t>(y) * W + x] : 0.0f;
        }
      } else {  // the band gradients, zero outside the bands
        const float* gp = src + p * 4 * h * w;
        for (int e = b.tid; e < 4 * sp; e += b.nthreads) {
          const int band = e / sp, q = e - band * sp;
          const int y = R.s0 + q / Cc.sn, x = Cc.s0 + q % Cc.sn;
          s_src[e] = (y >= 0 && y < h && x >= 0 && x < w)
                         ? gp[static_cast<int64_t>(band) * h * w + static_cast<int64_t>(y) * w + x]
                         : 0.0f;
        }
      }
      return;
    }
    if (phase == 1) {
      if (adjoint) return;
      // The DWT on the source window, zero outside the bands.
      const int F = dwt.F;
      for (int e = b.tid; e < 4 * sp; e += b.nthreads) {
        const int band = e / sp, q = e - band * sp;
        const int sy = q / Cc.sn, sx = q - (q / Cc.sn) * Cc.sn;
        const int y = R.s0 + sy, x = Cc.s0 + sx;
        float s = 0.0f;
        if (y >= 0 && y < h && x >= 0 && x < w) {
          const int iy = 2 * y - dwt.pad - R.i0, ix = 2 * x - dwt.pad - Cc.i0;
          for (int i = 0; i < F; ++i) {
            for (int j = 0; j < F; ++j) s += s_in[(iy + i) * Cc.in + ix + j] * dwt.f[band][i * F + j];
          }
        }
        s_src[e] = s;
      }
      return;
    }
    if (phase == 2) {
      // Per-band convolution (forward) or its adjoint (flipped kernel), scaled;
      // the LL band also takes `extra`; zero outside the bands.
      const int kk = k * k;
      for (int e = b.tid; e < 4 * dp; e += b.nthreads) {
        const int band = e / dp, q = e - band * dp;
        const int dy = q / Cc.bn, dx = q - (q / Cc.bn) * Cc.bn;
        const int y = R.b0 + dy, x = Cc.b0 + dx;
        float s = 0.0f;
        if (y >= 0 && y < h && x >= 0 && x < w) {
          const int bc = c * 4 + band;
          const float* wk = ww + static_cast<int64_t>(bc) * kk;
          const float* sp0 = s_src + band * sp + dy * Cc.sn + dx;
          for (int i = 0; i < k; ++i) {
            for (int j = 0; j < k; ++j) {
              const float wv = adjoint ? wk[kk - 1 - (i * k + j)] : wk[i * k + j];
              s += sp0[i * Cc.sn + j] * wv;
            }
          }
          s *= ws[bc];
          if (band == 0 && extra) s += extra[p * h * w + static_cast<int64_t>(y) * w + x];
        }
        s_dst[e] = s;
      }
      return;
    }
    // phase 3: synthesis of the tile (+ the base path at level 0).
    const int F = synth.F, pad = synth.pad;
    const int kk = k * k;
    for (int e = b.tid; e < R.n * Cc.n; e += b.nthreads) {
      const int Y = R.o0 + e / Cc.n, X = Cc.o0 + e % Cc.n;
      if (base && !adjoint && ((Y % sh) || (X % sw))) continue;
      float s = 0.0f;
      const int y0 = floor_div(Y + pad - F + 2, 2), y1 = floor_div(Y + pad, 2);
      const int x0 = floor_div(X + pad - F + 2, 2), x1 = floor_div(X + pad, 2);
      for (int y = y0; y <= y1; ++y) {
        const int i = Y + pad - 2 * y;
        const int ry = (y - R.b0) * Cc.bn;
        for (int x = x0; x <= x1; ++x) {
          const int j = X + pad - 2 * x;
          const int q = ry + x - Cc.b0;
          s += s_dst[q] * synth.f[0][i * F + j] + s_dst[dp + q] * synth.f[1][i * F + j] +
               s_dst[2 * dp + q] * synth.f[2][i * F + j] + s_dst[3 * dp + q] * synth.f[3][i * F + j];
        }
      }
      if (base) {
        const float* wk = bw + static_cast<int64_t>(c) * kk;
        float a = 0.0f;
        if (!adjoint) {
          for (int i = 0; i < k; ++i) {
            const float* row = s_in + (Y - before + i - R.i0) * Cc.in + (X - before - Cc.i0);
            for (int j = 0; j < k; ++j) a += row[j] * wk[i * k + j];
          }
          if (bias) a += bias[c];
          s += a * bs[c];
          out[p * oh * ow + static_cast<int64_t>(Y / sh) * ow + X / sw] = s;
        } else {
          const float* gp = base_in + p * oh * ow;
          for (int i = 0; i < k; ++i) {
            const int gy = Y + before - i;
            if (gy < 0 || gy % sh || gy / sh >= oh) continue;
            for (int j = 0; j < k; ++j) {
              const int gx = X + before - j;
              if (gx < 0 || gx % sw || gx / sw >= ow) continue;
              a += gp[static_cast<int64_t>(gy / sh) * ow + gx / sw] * wk[i * k + j];
            }
          }
          s += a * bs[c];
          out[p * H * W + static_cast<int64_t>(Y) * W + X] = s;
        }
      } else {
        out[p * H * W + static_cast<int64_t>(Y) * W + X] = s;
      }
    }
  }
};

// Weight correlations of one level (or of the base path), fused with the DWT:
// one block per (plane, tile of T x T band pixels it owns). For the level:
//   t = DWT(cur) on the tile plus the conv halo (shared), gz the tile's band gradients,
//   partial[p][tile][band * kk + tap] = sum_{q in tile} t_band[q - before + tap] * gz_band[q].
// For the base path (dwt.F == 0): t = x, gz = grad_y upsampled by the stride,
// one band, and one more entry: the sum of gz. Summed later by ReduceK.
struct FusedCorrK {
  static constexpr int kPhases = 4;
  int planes, H, W, h, w, k, before, T, tiles_x, tiles;
  const float* cur;  // level input (H, W) per plane, or x for the base path
  int64_t cur_plane;
  const float* gz;   // (planes, 4, h, w); base: grad_y (planes, oh, ow)
  int sh, sw, oh, ow;  // base path: the stride and grad_y's size
  Filters dwt;         // F == 0: base path (h == H, w == W)
  float* partial;      // (planes, tiles, entries())

  WTCONV_HOST_DEVICE int nb() const { return dwt.F ? 4 : 1; }
  WTCONV_HOST_DEVICE int entries() const { return nb() * k * k + (dwt.F ? 0 : 1); }
  WTCONV_HOST_DEVICE int win() const { return T + k - 1; }
  WTCONV_HOST_DEVICE int in_side() const { return dwt.F ? 2 * win() + dwt.F - 2 : win(); }
  static int shared_floats(int F, int k, int T, int nthreads) {
    const int nb = F ? 4 : 1, win = T + k - 1, in = F ? 2 * win + F - 2 : win;
    return (F ? in * in : 0) + nb * win * win + nb * T * T + nthreads;
  }

  WTCONV_HOST_DEVICE void operator()(int phase, const Block& b, float* smem) const {
    const int64_t p = b.bx;
    const int ty = b.by / tiles_x, tx = b.by - (b.by / tiles_x) * tiles_x;
    const int y0 = ty * T, x0 = tx * T;
    const int wn = win(), is = in_side(), B = nb();
    float* s_in = smem;
    float* s_t = s_in + (dwt.F ? is * is : 0);
    float* s_g = s_t + B * wn * wn;
    float* s_red = s_g + B * T * T;
    const int sy0 = y0 - before, sx0 = x0 - before;  // window origin in band coordinates
    if (phase == 0) {
      const float* cp = cur + p * cur_plane;
      if (dwt.F) {
        const int iy0 = 2 * sy0 - dwt.pad, ix0 = 2 * sx0 - dwt.pad;
        for (int e = b.tid; e < is * is; e += b.nthreads) {
          const int y = iy0 + e / is, x = ix0 + e % is;
          s_in[e] = (y >= 0 && y < H && x >= 0 && x < W) ? cp[static_cast<int64_t>(y) * W + x] : 0.0f;
        }
      } else {
        for (int e = b.tid; e < wn * wn; e += b.nthreads) {
          const int y = sy0 + e / wn, x = sx0 + e % wn;
          s_t[e] = (y >= 0 && y < H && x >= 0 && x < W) ? cp[static_cast<int64_t>(y) * W + x] : 0.0f;
        }
      }
      for (int e = b.tid; e < B * T * T; e += b.nthreads) {
        const int band = e / (T * T), q = e - band * T * T;
        const int y = y0 + q / T, x = x0 + q % T;
        float v = 0.0f;
        if (y < h && x < w) {
          if (dwt.F) {
            v = gz[(p * 4 + band) * h * w + static_cast<int64_t>(y) * w + x];
          } else if (y % sh == 0 && x % sw == 0) {
            v = gz[p * oh * ow + static_cast<int64_t>(y / sh) * ow + x / sw];
          }
        }
        s_g[e] = v;
      }
      return;
    }
    if (phase == 1) {
      if (!dwt.F) return;
      const int F = dwt.F, iy0 = 2 * sy0 - dwt.pad, ix0 = 2 * sx0 - dwt.pad;
      for (int e = b.tid; e < 4 * wn * wn; e += b.nthreads) {
        const int band = e / (wn * wn), q = e - band * wn * wn;
        const int sy = q / wn, sx = q - (q / wn) * wn;
        const int y = sy0 + sy, x = sx0 + sx;
        float s = 0.0f;
        if (y >= 0 && y < h && x >= 0 && x < w) {
          const int iy = 2 * y - dwt.pad - iy0, ix = 2 * x - dwt.pad - ix0;
          for (int i = 0; i < F; ++i) {
            for (int j = 0; j < F; ++j) s += s_in[(iy + i) * is + ix + j] * dwt.f[band][i * F + j];
          }
        }
        s_t[e] = s;
      }
      return;
    }
    // Entries split over thread groups: group g sums pixels g, g + G, ...
    const int P = entries();
    const int G = imax(1, b.nthreads / P);
    const int kk = k * k;
    if (phase == 2) {
      for (int e = b.tid; e < P * G; e += b.nthreads) {
        const int entry = e % P, g = e / P;
        float s = 0.0f;
        if (entry == B * kk) {  // base path: sum of gz
          for (int q = g; q < T * T; q += G) s += s_g[q];
        } else {
          const int band = entry / kk, tap = entry - band * kk;
          const int i = tap / k, j = tap - (tap / k) * k;
          const float* tp = s_t + band * wn * wn;
          const float* gp = s_g + band * T * T;
          for (int q = g; q < T * T; q += G) {
            const int qy = q / T, qx = q - (q / T) * T;
            s += tp[(qy + i) * wn + qx + j] * gp[q];
          }
        }
        if (G > 1) s_red[e] = s;
        else partial[(p * tiles + b.by) * P + entry] = s;
      }
      return;
    }
    if (G == 1) return;
    for (int entry = b.tid; entry < P; entry += b.nthreads) {
      float s = 0.0f;
      for (int g = 0; g < G; ++g) s += s_red[g * P + entry];
      partial[(p * tiles + b.by) * P + entry] = s;
    }
  }
};

}  // namespace wtconv_cuda
