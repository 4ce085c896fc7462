// Weight gradients in sub-pixel form, for kernels (larger than 1x1) a whole
// multiple m of the stride, without dilation: conv2d's 3x3 and 5x5 stride-1,
// strided and patchify kernels, and every such transposed conv (WaveMix's 4x4
// stride-2 upsampling). Both gradients pair a
// "dense" operand D, read at every position, with a "sampled" one S, read
// every s-th row and column: conv2d's D is grad_y and S is x, a transposed
// conv's D is x and S is grad_y. Tap (ry + s ty, rx + s tx) pairs D's (v, u)
// with S's (s (v + ty) + ry - p, s (u + tx) + rx - p). With P_phase[v][u] =
// S[s v + ry - p][s u + rx - p] (zero outside S) on the grid
// v < Dh + mh - 1, u < Dw + mw - 1, and D zero-padded to that grid, both
// flattened over (image, v, u):
//   grad_w[d][s][tap] = sum_k D_pad[d][k] * P_phase[s][k + ty (Dw + mw - 1) + tx],
// one GEMM of k = n (Dh + mh - 1)(Dw + mw - 1) per tap with no unfolding:
// D_pad is its A for every tap (packed once), a shifted view of a phase's
// planes its B. Every real D value meets its own image's plane; only zeros of
// D's padding meet the next row or image. D_pad (packed) and the phases'
// planes are built once per call in shared memory (a first parallel region);
// then tasks (group, tap) write disjoint taps, each sum over k in one order.
#pragma once

#include <algorithm>
#include <climits>

#include "../kernels/gemm.h"
#include "../kernels/im2col-nd.h"
#include "../thread-pool.h"
#include "conv-gemm-nd.h"

namespace wtconv {

// The operands (NCHW, `groups` groups of channels each) and the kernel.
struct WeightGradPhases {
  int32_t n, groups;
  int32_t dense_c, dense_h, dense_w;        // D
  int32_t sampled_c, sampled_h, sampled_w;  // S
  int32_t kh, kw, sh, sw, ph, pw;
};

struct PhasePlanes {
  int32_t mh, mw, grid_h, grid_w;
  size_t k;        // n * grid_h * grid_w: the GEMMs' k
  size_t a_group;  // floats of one group's packed D_pad (64-byte multiple)
  size_t total;    // every group's packed D_pad, every phase's planes and the slack the shifted views reach
};

// Floats of shared planes a call may build.
constexpr size_t kPhasePlanesBudget = size_t{1} << 23;
// Fewer sampled channels per group than this make each tap's GEMM a sliver of
// the register tile's columns (an RGB patchify stem): the unfolding form wins.
constexpr int32_t kPhaseMinSampledChannels = 8;

// Whether the sub-pixel form applies (no dilation, a kernel larger than 1x1 and
// a multiple of the stride on both axes, enough sampled channels, the planes
// within their budget); fills *pp when it does. (A 1x1 kernel has nothing to unfold.)
inline bool weight_grad_phases_plan(const WeightGradPhases& s, int32_t dh, int32_t dw, PhasePlanes* pp) {
  if (dh != 1 || dw != 1 || s.kh * s.kw == 1 || s.kh % s.sh != 0 || s.kw % s.sw != 0) return false;
  if (s.sampled_c / s.groups < kPhaseMinSampledChannels) return false;
  PhasePlanes q{s.kh / s.sh, s.kw / s.sw, 0, 0, 0, 0, 0};
  q.grid_h = s.dense_h + q.mh - 1;
  q.grid_w = s.dense_w + q.mw - 1;
  q.k = static_cast<size_t>(s.n) * q.grid_h * q.grid_w;
  if (q.k > static_cast<size_t>(INT32_MAX)) return false;
  size_t planes = 0;
  if (!checked_mul(static_cast<size_t>(s.sh) * s.sw * s.sampled_c, q.k, &planes)) return false;
  q.a_group = round_up(gemm_packed_a_floats(gemm_microkernel(), s.dense_c / s.groups, static_cast<int32_t>(q.k)), 16);
  q.total = q.a_group * s.groups + planes + static_cast<size_t>(q.mh - 1) * q.grid_w + q.mw - 1;
  if (q.total > kPhasePlanesBudget) return false;
  *pp = q;
  return true;
}

// grad_weight[(grp * dense_g + d) * sampled_g * taps + s * taps + tap] for every
// group, dense channel d and sampled channel s of the group, and tap.
inline wtconv_status weight_grad_phases(const WeightGradPhases& s, const PhasePlanes& pp, const float* dense,
                                        const float* sampled, float* grad_weight) {
  const int32_t dense_g = s.dense_c / s.groups, sampled_g = s.sampled_c / s.groups;
  const int32_t phases = s.sh * s.sw, taps = s.kh * s.kw;
  const size_t dense_plane = static_cast<size_t>(s.dense_h) * s.dense_w;
  const size_t sampled_plane = static_cast<size_t>(s.sampled_h) * s.sampled_w;
  const GemmMicrokernel& kernel = gemm_microkernel();
  const int32_t mr = kernel.mr, panels = (dense_g + mr - 1) / mr;
  const size_t a_units = static_cast<size_t>(s.groups) * panels;
  const size_t units = a_units + static_cast<size_t>(phases) * s.sampled_c;
  const size_t planes_at = pp.a_group * s.groups;  // the phases' planes, after the packed D_pad
  const int32_t k = static_cast<int32_t>(pp.k);
  ThreadPool& pool = ThreadPool::instance();
  // Units of the shared memory: panels of mr channels of D_pad (built in the
  // thread's scratch, then packed), then (phase, sampled channel) planes.
  auto fill = [&](size_t begin, size_t end, void* scratch) {
    float* shared = static_cast<float*>(pool.shared());
    for (size_t unit = begin; unit < end; ++unit) {
      if (unit < a_units) {
        const int32_t grp = static_cast<int32_t>(unit / panels), panel = static_cast<int32_t>(unit % panels);
        const int32_t c0 = panel * mr, rows = std::min(mr, dense_g - c0);
        float* rows_pad = static_cast<float*>(scratch);  // rows x k
        for (int32_t r = 0; r < rows; ++r) {
          float* dst = rows_pad + static_cast<size_t>(r) * pp.k;
          for (int32_t img = 0; img < s.n; ++img) {
            const float* src =
                dense + (static_cast<size_t>(img) * s.dense_c + static_cast<size_t>(grp) * dense_g + c0 + r) * dense_plane;
            for (int32_t v = 0; v < pp.grid_h; ++v, dst += pp.grid_w) {
              if (v < s.dense_h) {
                window_row(dst, pp.grid_w, 0, s.dense_w, src + static_cast<size_t>(v) * s.dense_w, 0, 1);
              } else {
                std::fill(dst, dst + pp.grid_w, 0.0f);
              }
            }
          }
        }
        float* packed = shared + grp * pp.a_group;
        gemm_packed_a_for_each(kernel, dense_g, k, [&](int32_t c, int32_t p, size_t at) {
          packed[at] = c < dense_g ? rows_pad[static_cast<size_t>(c - c0) * pp.k + p] : 0.0f;
        }, panel, panel + 1);
        continue;
      }
      const size_t rest = unit - a_units;
      const int32_t phase = static_cast<int32_t>(rest / s.sampled_c), c = static_cast<int32_t>(rest % s.sampled_c);
      const int32_t ry = phase / s.sw, rx = phase % s.sw;
      // Column u of the phase is S's column sw u + rx - pw: inside for u in [lo, hi).
      const int32_t base = rx - s.pw;
      const int32_t lo = std::clamp(-floor_div(base, s.sw), 0, pp.grid_w);
      const int32_t hi = std::clamp(floor_div(s.sampled_w - 1 - base, s.sw) + 1, lo, pp.grid_w);
      float* dst = shared + planes_at + rest * pp.k;
      for (int32_t img = 0; img < s.n; ++img) {
        const float* src = sampled + (static_cast<size_t>(img) * s.sampled_c + c) * sampled_plane;
        for (int32_t v = 0; v < pp.grid_h; ++v, dst += pp.grid_w) {
          const int32_t row = s.sh * v + ry - s.ph;
          if (row < 0 || row >= s.sampled_h) {
            std::fill(dst, dst + pp.grid_w, 0.0f);
          } else {
            window_row(dst, pp.grid_w, lo, hi, src + static_cast<size_t>(row) * s.sampled_w, base, s.sw);
          }
        }
      }
      if (unit + 1 == units) std::fill(dst, shared + pp.total, 0.0f);  // the slack
    }
    return WTCONV_OK;
  };
  auto body = [&](size_t begin, size_t end, void* scratch) {
    const float* shared = static_cast<const float*>(pool.shared());
    float* sums = static_cast<float*>(scratch);  // dense_g x sampled_g of one tap
    float* packs = sums + round_up(static_cast<size_t>(dense_g) * sampled_g, 16);
    for (size_t task = begin; task < end; ++task) {
      const int32_t tap = static_cast<int32_t>(task % taps), grp = static_cast<int32_t>(task / taps);
      const int32_t ky = tap / s.kw, kx = tap % s.kw;
      const int32_t phase = (ky % s.sh) * s.sw + kx % s.sw, shift = (ky / s.sh) * pp.grid_w + kx / s.sw;
      const float* b = shared + planes_at +
                       (static_cast<size_t>(phase) * s.sampled_c + static_cast<size_t>(grp) * sampled_g) * pp.k + shift;
      gemm_with_packed_a(kernel, dense_g, sampled_g, k, shared + grp * pp.a_group,
                         MatrixView{b, 1, static_cast<ptrdiff_t>(pp.k)}, sums, sampled_g, false, packs);
      for (int32_t d = 0; d < dense_g; ++d) {
        float* gw = grad_weight + (static_cast<size_t>(grp) * dense_g + d) * sampled_g * taps + tap;
        for (int32_t c = 0; c < sampled_g; ++c) gw[static_cast<size_t>(c) * taps] = sums[static_cast<size_t>(d) * sampled_g + c];
      }
    }
    return WTCONV_OK;
  };
  const size_t scratch = std::max(static_cast<size_t>(mr) * pp.k,
                                  round_up(static_cast<size_t>(dense_g) * sampled_g, 16) + gemm_scratch_floats());
  return pool.parallel_for_shared(sizeof(float) * pp.total, units, fill, static_cast<size_t>(s.groups) * taps,
                                  sizeof(float) * scratch, body);
}

}  // namespace wtconv
