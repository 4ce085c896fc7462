// Convolutions in Winograd form over NCHW planes (kernels/winograd-2x2.h):
// the output is cut into 2x2 tiles, each computed from the alpha x alpha
// inputs under it; per grid, alpha^2 GEMMs M_uv (cout x tiles) = U_uv (cout x
// cin) * V_uv (cin x tiles) sit between the input transform (of a zero-padded
// window of x split by column parity, written straight into the packed-B
// layout) and the output transform. A transposed convolution has one grid per
// sub-pixel phase, a plain one a single grid; the input gradient of a
// transposed convolution sums several sampled planes of its input ("sources",
// stacked along the GEMMs' k) into one grid. The transformed weights are
// computed by a first parallel region over chunks of the weight, read in
// memory order, shared by the threads; where the caller names the weight they
// are kept for the next call (weight-cache.h), which computes again only the
// chunks whose weight rows changed. Then tasks (group, images, tile rows, tile
// columns) run every grid; a stride-2 transposed conv's two column phases are
// written together. Each output is written once, sums run in a fixed order.
#pragma once

#include <algorithm>
#include <climits>

#include "../kernels/gemm.h"
#include "../kernels/winograd-2x2.h"
#include "../thread-pool.h"
#include "../weight-cache.h"
#include "conv-gemm-nd.h"

namespace wtconv {

// One grid of output tiles: tile (a, b) reads input rows in_row + 2a + [0, alpha)
// and columns in_col + 2b + [0, alpha), and writes its output (dy, dx) at row
// out_row + step_y (2a + dy), column out_col + step_x (2b + dx) when
// 2a + dy < rows and 2b + dx < cols.
struct WinogradGrid {
  int32_t in_row, in_col, out_row, out_col, step_y, step_x, rows, cols;
};

// The convolution: x (n, cin, h, w) to y (n, cout, oh, ow) in `groups`, with
// `grids` grids of tiles. Its input is x read as step_y x step_x sampled
// planes, all summed into every output: source (ry, rx) of channel c is
// x[c][step_y m + ry + off_y][step_x n + rx + off_x] at (m, n) (a strided conv
// whose kernel is twice its stride is a sum of such 2x2-tap convolutions); a
// plain conv has one source, x itself (steps 1, offsets 0).
struct WinogradShape {
  int32_t n, cin, h, w, cout, oh, ow, groups, grids;
  int32_t step_y = 1, step_x = 1, off_y = 0, off_x = 0;
  const float* residual = nullptr;  // added to every output when set (y's shape, not overlapping y)
  // The weight holds each summed row's output channels together (a transposed
  // conv's (in, out, ...)), rather than each output channel's summed rows: the
  // transformed weights are computed in that order, reading it sequentially.
  bool summed_major = false;
  // Where U comes from, to keep it across calls (weight-cache.h): group grp's
  // rows of the weight's outer index (summed rows or output channels, as
  // summed_major says) are weight_row_floats each, from grp * that count on;
  // filter_key names what else filter() computes U from besides the sizes
  // here, and `scale` (scale_floats) is folded into it. No weight: U is
  // computed every call.
  const float* weight = nullptr;
  size_t weight_row_floats = 0;
  const float* scale = nullptr;
  size_t scale_floats = 0;
  uint64_t filter_key = 0;
};

// The forms whose U is kept across calls, for WinogradShape::filter_key.
enum class WinogradForm : uint64_t { kConv2dForward = 1, kConvTranspose2dForward = 2, kConv2dStridedForward = 3 };

constexpr size_t kWinogradTileBudget = 64;  // tiles (GEMM columns) per task
// Floats of transformed weights a call may keep (shared by its threads).
constexpr size_t kWinogradWeightBudget = size_t{1} << 22;

// Floats of one packed U_uv (cout_g x summed rows) when all of them (`products`
// = alpha^2 per grid, for every group) fit kWinogradWeightBudget, else 0 (the
// Winograd form is then not used).
inline size_t winograd_weight_floats(const GemmMicrokernel& kernel, int32_t groups, size_t products, int32_t cout_g,
                                     int32_t summed) {
  const size_t one = round_up(gemm_packed_a_floats(kernel, cout_g, summed), 16);
  size_t all = 0;
  return checked_mul(one + 16, products, &all) && checked_mul(all, static_cast<size_t>(groups), &all) &&
                 all <= kWinogradWeightBudget
             ? one
             : 0;
}

// grid_of(g) gives grid g's WinogradGrid; filter(grp, g, o, k, u, stride) writes
// the alpha^2 values U_uv of output channel o and summed row k = source * cin_g
// + input channel (of group grp) for grid g at u[uv * stride]. Callers check
// winograd_weight_floats() first, with cin_g * sources summed rows.
template <typename F, typename GridOf, typename Filter>
wtconv_status winograd_conv_nchw(const WinogradShape& s, const float* x, const float* bias, float* y,
                                 GridOf&& grid_of, Filter&& filter) {
  constexpr int32_t kAlpha = F::kAlpha, kProducts = kAlpha * kAlpha;
  const int32_t cin_g = s.cin / s.groups, cout_g = s.cout / s.groups;
  const int32_t sources = s.step_y * s.step_x, k_rows = sources * cin_g;  // the GEMMs' k
  const GemmMicrokernel& kernel = gemm_microkernel();
  const size_t nr = static_cast<size_t>(kernel.nr);
  // The packed U_uv lie packed_stride apart; it and the strides of the
  // operands and products below are 64 bytes past a multiple of 64, so the
  // streams written or read together do not all map to the same cache sets.
  const size_t products = static_cast<size_t>(kProducts) * s.grids;
  const size_t packed_stride = winograd_weight_floats(kernel, s.groups, products, cout_g, k_rows) + 16;
  const size_t group_weights = packed_stride * products;
  int32_t grid_y = 0, grid_x = 0, row_min = INT32_MAX, row_max = INT32_MIN, col_min = INT32_MAX, col_max = INT32_MIN;
  for (int32_t g = 0; g < s.grids; ++g) {
    const WinogradGrid gr = grid_of(g);
    grid_y = std::max(grid_y, (gr.rows + 1) / 2);
    grid_x = std::max(grid_x, (gr.cols + 1) / 2);
    row_min = std::min(row_min, gr.in_row);
    row_max = std::max(row_max, gr.in_row);
    col_min = std::min(col_min, gr.in_col);
    col_max = std::max(col_max, gr.in_col);
  }
  // Grids 2j and 2j + 1 whose outputs interleave column by column (the two
  // column phases of a stride-2 transposed conv) write them together, their
  // products held side by side.
  bool column_pairs = s.grids % 2 == 0;
  for (int32_t g = 0; column_pairs && g < s.grids; g += 2) {
    const WinogradGrid a = grid_of(g), b = grid_of(g + 1);
    column_pairs = a.step_x == 2 && b.step_x == 2 && a.step_y == b.step_y && a.out_row == b.out_row &&
                   a.rows == b.rows && (a.out_col - b.out_col == 1 || b.out_col - a.out_col == 1);
  }
  const size_t m_sets = column_pairs ? 2 : 1;
  // Several whole images per task when they are small, else rows of at most
  // kWinogradTileBudget tiles; halved until there are enough tasks.
  const int32_t budget = static_cast<int32_t>(kWinogradTileBudget);
  const int32_t block_x = std::min(grid_x, budget);
  int32_t block_y = grid_x <= budget ? std::min(grid_y, budget / block_x) : 1;
  int32_t block_n = block_y == grid_y && block_x == grid_x ? std::clamp(budget / (grid_y * grid_x), 1, s.n) : 1;
  auto tasks_of = [&] {
    return static_cast<size_t>(s.groups) * ceil_div_size(s.n, block_n) * ceil_div_size(grid_y, block_y) *
           ceil_div_size(grid_x, block_x);
  };
  // (Not below a GEMM's register tile of columns: the microkernel computes all
  // of them, so a task of 4 tiles costs as much as one of 32 with AVX-512.)
  while (tasks_of() < task_target() && (block_n > 1 || block_y > 1)) {
    const int32_t n_next = block_n > 1 ? (block_n + 1) / 2 : 1, y_next = block_n > 1 ? block_y : (block_y + 1) / 2;
    if (static_cast<size_t>(n_next) * y_next * block_x < nr) break;
    block_n = n_next;
    block_y = y_next;
  }
  const size_t tasks_n = ceil_div_size(s.n, block_n), tasks_y = ceil_div_size(grid_y, block_y);
  const size_t tasks_x = ceil_div_size(grid_x, block_x);
  const size_t tile = static_cast<size_t>(block_n) * block_y * block_x;  // GEMM columns at most
  // The input a task reads, zero-padded and split by column parity: rows
  // ylo .., each `half` even columns xlo + 2i then `half` odd ones xlo + 2i + 1.
  const int32_t window_rows = row_max - row_min + 2 * (block_y - 1) + kAlpha;
  const int32_t half = (col_max - col_min + 2 * block_x + kAlpha - 2) / 2 + 1;
  const size_t window_plane = static_cast<size_t>(window_rows) * 2 * half;
  const size_t v_floats = round_up(gemm_packed_b_floats(kernel, k_rows, static_cast<int32_t>(tile)), 16) + 16;
  const size_t m_floats = round_up(static_cast<size_t>(cout_g) * tile, 16) + 16;
  const size_t window_floats = round_up(static_cast<size_t>(block_n) * k_rows * window_plane, 16);
  const size_t in_plane = static_cast<size_t>(s.h) * s.w, out_plane = static_cast<size_t>(s.oh) * s.ow;
  // Every group's U_uv for every grid, computed where packing would put them:
  // tasks (group, chunk of the weight's outer index), each reading its part of
  // the weight in memory order; the padding rows of the last panel are zero.
  ThreadPool& pool = ThreadPool::instance();
  const int32_t padded_m = static_cast<int32_t>(round_up(static_cast<size_t>(cout_g), static_cast<size_t>(kernel.mr)));
  const int32_t outer = s.summed_major ? k_rows : cout_g;
  // U kept from the last call with this weight when it can be (only its
  // pieces whose weight rows changed are computed again), else in the
  // region's shared workspace.
  uint64_t key = s.filter_key;
  for (const uint64_t v : {uint64_t{kAlpha}, uint64_t(s.groups), uint64_t(s.grids), uint64_t(cout_g), uint64_t(k_rows),
                           uint64_t(s.summed_major), uint64_t(kernel.mr), uint64_t(kernel.nr), uint64_t(packed_stride)}) {
    key = key_combine(key, v);
  }
  WeightCache::Handle cached =
      s.weight != nullptr ? WeightCache::acquire(key, s.weight, static_cast<size_t>(s.groups) * outer * s.weight_row_floats,
                                                 s.scale, s.scale_floats, group_weights * s.groups)
                          : WeightCache::Handle();
  float* const kept = cached.data();
  const int32_t outer_chunk = std::max<int32_t>(1, outer / static_cast<int32_t>(task_target()));
  const int32_t outer_chunks = (outer + outer_chunk - 1) / outer_chunk;
  auto fill = [&](size_t begin, size_t end, void*) {
    for (size_t task = begin; task < end; ++task) {
      const int32_t grp = static_cast<int32_t>(task / outer_chunks);
      const int32_t lo = static_cast<int32_t>(task % outer_chunks) * outer_chunk, hi = std::min(outer, lo + outer_chunk);
      if (kept != nullptr) {
        const size_t row0 = static_cast<size_t>(grp) * outer + lo;
        if (cached.unchanged(row0 * s.weight_row_floats, (row0 + (hi - lo)) * s.weight_row_floats)) continue;
      }
      float* packed = (kept != nullptr ? kept : static_cast<float*>(pool.shared())) + grp * group_weights;
      auto one = [&](int32_t o, int32_t c, float* dst) {
        if (o >= cout_g) {
          for (size_t i = 0; i < products; ++i) dst[i * packed_stride] = 0.0f;
          return;
        }
        for (int32_t g = 0; g < s.grids; ++g) filter(grp, g, o, c, dst + g * kProducts * packed_stride, packed_stride);
      };
      if (s.summed_major) {
        for (int32_t c = lo; c < hi; ++c) {
          for (int32_t o0 = 0; o0 < padded_m; o0 += kernel.mr) {  // a panel's rows lie side by side
            float* dst = packed + gemm_packed_a_offset(kernel, cout_g, k_rows, o0, c);
            for (int32_t i = 0; i < kernel.mr; ++i) one(o0 + i, c, dst + i);
          }
        }
      } else {
        for (int32_t o = lo; o < (hi == cout_g ? padded_m : hi); ++o) {
          for (int32_t c = 0; c < k_rows; ++c) one(o, c, packed + gemm_packed_a_offset(kernel, cout_g, k_rows, o, c));
        }
      }
    }
    return WTCONV_OK;
  };
  auto body = [&](size_t begin, size_t end, void* scratch) {
    float* v = static_cast<float*>(scratch);       // the operands, in the packed-B layout
    float* m = v + kProducts * v_floats;            // the products, cout_g x width (per grid of a pair)
    float* window = m + m_sets * kProducts * m_floats;
    for (size_t task = begin; task < end; ++task) {
      size_t rest = task;
      const int32_t b0 = static_cast<int32_t>(rest % tasks_x) * block_x;
      rest /= tasks_x;
      const int32_t a0 = static_cast<int32_t>(rest % tasks_y) * block_y;
      rest /= tasks_y;
      const int32_t img0 = static_cast<int32_t>(rest % tasks_n) * block_n;
      const int32_t grp = static_cast<int32_t>(rest / tasks_n);
      const int32_t b1 = std::min(grid_x, b0 + block_x), a1 = std::min(grid_y, a0 + block_y);
      const int32_t img1 = std::min(s.n, img0 + block_n);
      const int32_t row_tiles = b1 - b0, rows = a1 - a0;
      const size_t width = static_cast<size_t>(img1 - img0) * rows * row_tiles;
      const size_t width_padded = round_up(width, nr);
      const float* packed = (kept != nullptr ? kept : static_cast<const float*>(pool.shared())) + grp * group_weights;
      // The window of every source, zero outside x: row r of source (ry, rx)
      // is x's row step_y (ylo + r) + ry + off_y, its even column i x's column
      // step_x (xlo + 2i) + rx + off_x, its odd one step_x further.
      const int32_t ylo = row_min + 2 * a0, xlo = col_min + 2 * b0;
      const int32_t pair = 2 * s.step_x;  // x columns between one even column and the next
      // Unstrided rows: the even and odd columns are x's own, split 8 at a time.
      const bool split_by_shuffles = s.step_x == 1;
      for (int32_t q = 0; q < sources; ++q) {
        const int32_t ry = q / s.step_x + s.off_y, base = s.step_x * xlo + q % s.step_x + s.off_x;
        const int32_t even_lo = std::clamp(-floor_div(base, pair), 0, half);
        const int32_t even_hi = std::clamp(floor_div(s.w - 1 - base, pair) + 1, even_lo, half);
        const int32_t odd_lo = std::clamp(-floor_div(base + s.step_x, pair), 0, half);
        const int32_t odd_hi = std::clamp(floor_div(s.w - 1 - base - s.step_x, pair) + 1, odd_lo, half);
        for (int32_t img = img0; img < img1; ++img) {
          for (int32_t c = 0; c < cin_g; ++c) {
            const float* xc = x + (static_cast<size_t>(img) * s.cin + static_cast<size_t>(grp) * cin_g + c) * in_plane;
            float* dst = window + (static_cast<size_t>(img - img0) * k_rows + q * cin_g + c) * window_plane;
            for (int32_t r = 0; r < window_rows; ++r, dst += 2 * half) {
              const int32_t iy = s.step_y * (ylo + r) + ry;
              if (iy < 0 || iy >= s.h) {
                std::fill(dst, dst + 2 * half, 0.0f);
                continue;
              }
              const float* row = xc + static_cast<size_t>(iy) * s.w;
              if (split_by_shuffles) {
                window_row_by_parity(dst, dst + half, half, row, base, s.w);
                continue;
              }
              window_row(dst, half, even_lo, even_hi, row, base, pair);
              window_row(dst + half, half, odd_lo, odd_hi, row, base + s.step_x, pair);
            }
          }
        }
      }
      // V's padding columns (never written below): row c in block pc = c - c % kKc
      // (at pc * width_padded), tile t in panel t / nr (at + t / nr * kc * nr).
      if (width % nr != 0) {
        for (int32_t c = 0; c < k_rows; ++c) {
          const int32_t pc = c / gemm_blocking::kKc * gemm_blocking::kKc;
          const size_t kc = static_cast<size_t>(std::min(gemm_blocking::kKc, k_rows - pc));
          float* last = v + static_cast<size_t>(pc) * width_padded + width / nr * kc * nr + static_cast<size_t>(c - pc) * nr;
          for (int32_t uv = 0; uv < kProducts; ++uv) {
            std::fill(last + uv * v_floats + width % nr, last + uv * v_floats + nr, 0.0f);
          }
        }
      }
      // The columns of grid gr this task writes.
      auto columns_of = [&](const WinogradGrid& gr) {
        return gr.rows > 0 ? std::min(2 * row_tiles, gr.cols - 2 * b0) : 0;
      };
      // Y, plus the bias, of grid g (columns_of > 0) from its products mg;
      // with its column partner (whose columns follow g's one by one, also
      // columns_of > 0) from both products at once.
      auto write = [&](int32_t g, const float* mg, int32_t partner, const float* mp) {
        const WinogradGrid gr = grid_of(g);
        const int32_t columns = columns_of(gr), partner_columns = partner >= 0 ? columns_of(grid_of(partner)) : 0;
        for (int32_t o = 0; o < cout_g; ++o) {
          const float bias_o = bias != nullptr ? bias[grp * cout_g + o] : 0.0f;
          const size_t mo = static_cast<size_t>(o) * width;
          for (int32_t img = img0; img < img1; ++img) {
            const size_t yo = (static_cast<size_t>(img) * s.cout + static_cast<size_t>(grp) * cout_g + o) * out_plane +
                              (gr.out_col + gr.step_x * 2 * b0);
            for (int32_t a = a0; a < a1 && 2 * a < gr.rows; ++a) {
              const size_t at0 = yo + static_cast<size_t>(gr.out_row + gr.step_y * 2 * a) * s.ow;
              const size_t at1 = at0 + static_cast<size_t>(gr.step_y) * s.ow;
              const bool second = 2 * a + 1 < gr.rows;
              const float* res = s.residual;
              const size_t t = mo + (static_cast<size_t>(img - img0) * rows + (a - a0)) * row_tiles;
              if (partner_columns > 0) {
                winograd_output_column_pair<F>(mg + t, mp + t, m_floats, (std::max(columns, partner_columns) + 1) / 2,
                                               columns, partner_columns, bias_o, y + at0, second ? y + at1 : nullptr,
                                               res != nullptr ? res + at0 : nullptr,
                                               res != nullptr && second ? res + at1 : nullptr);
              } else {
                winograd_output<F>(mg + t, m_floats, (columns + 1) / 2, columns, bias_o, y + at0,
                                   second ? y + at1 : nullptr, gr.step_x, res != nullptr ? res + at0 : nullptr,
                                   res != nullptr && second ? res + at1 : nullptr);
              }
            }
          }
        }
      };
      for (int32_t g = 0; g < s.grids; ++g) {
        const WinogradGrid gr = grid_of(g);
        float* mg = m + (column_pairs ? static_cast<size_t>(g % 2) * kProducts * m_floats : 0);
        if (gr.rows > 0 && gr.cols > 0) {
          // Tile b0 + i reads window columns d + 2i .. (d from xlo): its even and
          // odd ones by the parity of d.
          const int32_t d = gr.in_col + 2 * b0 - xlo;
          const size_t even_at = d % 2 == 0 ? d / 2 : half + (d - 1) / 2;
          const size_t odd_at = d % 2 == 0 ? half + d / 2 : (d + 1) / 2;
          for (int32_t c = 0; c < k_rows; ++c) {  // V, a row of tiles cut where a panel ends
            const int32_t pc = c / gemm_blocking::kKc * gemm_blocking::kKc;
            const size_t kc = static_cast<size_t>(std::min(gemm_blocking::kKc, k_rows - pc));
            float* panel = v + static_cast<size_t>(pc) * width_padded + static_cast<size_t>(c - pc) * nr;
            size_t lane = 0;  // of the next tile in its panel
            for (int32_t img = img0; img < img1; ++img) {
              const float* wc = window + (static_cast<size_t>(img - img0) * k_rows + c) * window_plane;
              for (int32_t a = a0; a < a1; ++a) {
                const float* row = wc + static_cast<size_t>(gr.in_row + 2 * a - ylo) * 2 * half;
                for (int32_t i = 0; i < row_tiles;) {
                  const int32_t piece = static_cast<int32_t>(std::min<size_t>(row_tiles - i, nr - lane));
                  winograd_input<F>(row + even_at + i, row + odd_at + i, 2 * half, piece, panel + lane, v_floats);
                  i += piece;
                  lane += static_cast<size_t>(piece);
                  if (lane == nr) {
                    lane = 0;
                    panel += kc * nr;
                  }
                }
              }
            }
          }
          for (int32_t uv = 0; uv < kProducts; ++uv) {
            gemm_with_packed_ab(kernel, cout_g, static_cast<int32_t>(width), k_rows,
                                packed + (static_cast<size_t>(g) * kProducts + uv) * packed_stride, v + uv * v_floats,
                                mg + uv * m_floats, static_cast<ptrdiff_t>(width), false);
          }
        }
        if (!column_pairs) {
          if (columns_of(gr) > 0) write(g, mg, -1, nullptr);
          continue;
        }
        if (g % 2 == 0) continue;  // the pair's second grid writes both
        const WinogradGrid gp = grid_of(g - 1);
        const float* mp = m + static_cast<size_t>((g - 1) % 2) * kProducts * m_floats;
        const bool first = gr.out_col < gp.out_col;  // whose columns come first
        if (columns_of(gr) > 0 && columns_of(gp) > 0) {
          if (first) write(g, mg, g - 1, mp);
          else write(g - 1, mp, g, mg);
        } else if (columns_of(gr) > 0) {
          write(g, mg, -1, nullptr);
        } else if (columns_of(gp) > 0) {
          write(g - 1, mp, -1, nullptr);
        }
      }
    }
    return WTCONV_OK;
  };
  const size_t scratch = kProducts * (v_floats + m_sets * m_floats) + window_floats;
  const wtconv_status status = pool.parallel_for_shared(
      kept != nullptr ? 0 : sizeof(float) * group_weights * s.groups, static_cast<size_t>(s.groups) * outer_chunks, fill,
      static_cast<size_t>(s.groups) * tasks_n * tasks_y * tasks_x, sizeof(float) * scratch, body);
  if (status == WTCONV_OK && kept != nullptr) cached.complete();
  return status;
}

// A conv of stride (sh, sw), not both 1, whose kernel is twice the stride is,
// along an axis, y[i] = sum over r < s and t < 2 of x[s (i + t) + r - p] w[r + s t]:
// the sum over the sh x sw sampled planes of x ("sources") of their 2x2-tap
// convs, one grid in F(2x2, 2x2). `s` has the conv's sizes, groups and
// grids = 1 (and what weight-cache.h needs, if anything); taps_of(grp, o, c)
// gives the 2sh x 2sw taps joining input channel c to output channel o of group grp.
template <typename TapsOf>
wtconv_status winograd_strided_conv_nchw(WinogradShape s, int32_t sh, int32_t sw, int32_t ph, int32_t pw,
                                         const float* x, const float* bias, float* y, TapsOf&& taps_of) {
  const int32_t cin_g = s.cin / s.groups, kw = 2 * sw;
  const WinogradGrid grid{0, 0, 0, 0, 1, 1, s.oh, s.ow};
  // The summed row k is (source (ry, rx), input channel c).
  auto filter = [&](int32_t grp, int32_t, int32_t o, int32_t k, float* u, size_t stride) {
    const int32_t q = k / cin_g, ry = q / sw, rx = q % sw;
    const float* taps = taps_of(grp, o, k % cin_g);
    const float* top = taps + ry * kw;  // the taps of sampled row i: ry (then ry + sh for row i + 1)
    const float* bottom = taps + (ry + sh) * kw;
    WinogradF2K2::filter(top[rx], top[rx + sw], bottom[rx], bottom[rx + sw], u, stride);
  };
  s.step_y = sh, s.step_x = sw, s.off_y = -ph, s.off_x = -pw;
  return winograd_conv_nchw<WinogradF2K2>(s, x, bias, y, [&](int32_t) { return grid; }, filter);
}

}  // namespace wtconv
