// unfold -> GEMM -> fold for convolutions with 1 to 3 spatial axes (see
// conv-gemm-nd.h). Work is split into tasks that own disjoint outputs:
//   forward       (batch, group, column tile): unfold the tile (straight into
//                 the GEMM's packed layout where its input window is small),
//                 W_g * col + bias (the GEMM adds the bias as it stores);
//   grad input    (channel chunk, batch, group): W_g^T * grad_y tile by tile,
//                 folded into the chunk's channels;
//   grad weight   (group, channel chunk, out-channel chunk): sum over batch and
//                 column tiles of grad_y * col^T (dot products over long tiles).
// A thread packs a weight (slice) once and keeps it, across its chunks of the
// region (ScratchTag), while its tasks use the same one.
// Column tiles for the reductions have a fixed width (kReduceTile), so every
// sum runs in the same order whatever the thread count.
#include "conv-gemm-nd.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "../kernels/channel-stats.h"
#include "../kernels/gemm.h"
#include "../thread-pool.h"

namespace wtconv {
namespace {

constexpr size_t kColBudget = size_t{1} << 18;  // floats of unfolded columns per thread
constexpr int32_t kReduceTile = 1024;
// Columns per reduction tile from which the weight gradient runs as dot products.
constexpr size_t kDotProductMinColumns = 256;

// Column tile of the reductions: fixed by the geometry alone (never by the
// thread count), so the summation order is too.
size_t reduce_tile(size_t out_plane, size_t taps) {
  return std::min(out_plane, std::min<size_t>(kReduceTile, std::max<size_t>(gemm_microkernel().nr, kColBudget / taps)));
}

}  // namespace

size_t task_target() { return 8 * static_cast<size_t>(ThreadPool::instance().threads()); }

size_t held_weight_floats(const GemmMicrokernel& kernel, int32_t m, int32_t k) {
  const size_t floats = round_up(gemm_packed_a_floats(kernel, m, k), 16);
  return floats <= kHeldWeightBudget ? floats : 0;
}

wtconv_status conv_forward_nd(const ConvGeometry& g, const float* x, const float* weight,
                              const float* bias, float* y) {
  const int32_t cin = g.in_per_group(), cout = g.out_per_group();
  const size_t taps = g.taps(), in_plane = g.in_plane(), out_plane = g.out_plane();
  const int32_t k = static_cast<int32_t>(cin * taps);
  const bool pointwise = g.is_pointwise();
  // Column tiles: as wide as the scratch budget allows, narrower when the
  // batch and groups alone do not give every thread work.
  const size_t nr = static_cast<size_t>(gemm_microkernel().nr);
  size_t tile = std::min(out_plane, std::max<size_t>(nr, kColBudget / k / nr * nr));
  const size_t blocks = static_cast<size_t>(g.batch) * g.groups;
  if (blocks * ceil_div_size(out_plane, tile) < task_target()) {
    const size_t want = ceil_div_size(task_target(), blocks);
    tile = std::min(tile, std::max<size_t>(nr, round_up(ceil_div_size(out_plane, want), nr)));
  }
  const size_t tiles = ceil_div_size(out_plane, tile);
  const GemmMicrokernel& kernel = gemm_microkernel();
  const size_t weight_floats = held_weight_floats(kernel, cout, k);
  // With the weight packed, the unfolding is written straight into the packed-B
  // layout (im2col_packed) when its window of the input is small enough.
  size_t window_floats = 0;
  for (size_t j0 = 0; j0 < out_plane && !pointwise; j0 += tile) {
    window_floats = std::max(window_floats, im2col_window_floats(g, cin, j0, std::min(out_plane, j0 + tile)));
  }
  const bool unfold_packed = !pointwise && weight_floats != 0 && window_floats <= kColBudget;
  window_floats = unfold_packed ? round_up(window_floats, 16) : 0;
  const size_t offset_floats = unfold_packed ? round_up(round_up(tile, nr) * (sizeof(ptrdiff_t) / sizeof(float)), 16) : 0;
  const size_t col_floats = pointwise ? 0
                            : unfold_packed ? round_up(gemm_packed_b_floats(kernel, k, static_cast<int32_t>(tile)), 16)
                                            : round_up(static_cast<size_t>(k) * tile, 16);
  const size_t pack_floats = unfold_packed ? 0 : gemm_scratch_floats();  // both operands come packed otherwise
  const uint64_t call = new_scratch_call();
  auto body = [&](size_t begin, size_t end, void* scratch) {
    ScratchTag* held = static_cast<ScratchTag*>(scratch);  // the group whose weight packed_weight holds
    float* col = reinterpret_cast<float*>(static_cast<char*>(scratch) + kScratchTagBytes);
    float* packed_weight = col + col_floats;
    float* window = packed_weight + weight_floats;
    ptrdiff_t* offsets = reinterpret_cast<ptrdiff_t*>(window + window_floats);
    float* packs = window + window_floats + offset_floats;
    for (size_t task = begin; task < end; ++task) {
      const size_t block = task / tiles;
      const size_t j0 = (task % tiles) * tile, j1 = std::min(out_plane, j0 + tile);
      const int32_t n = static_cast<int32_t>(block / g.groups), grp = static_cast<int32_t>(block % g.groups);
      const float* xg = x + (static_cast<size_t>(n) * g.in_channels + static_cast<size_t>(grp) * cin) * in_plane;
      float* yg = y + (static_cast<size_t>(n) * g.out_channels + static_cast<size_t>(grp) * cout) * out_plane;
      const MatrixView a{weight + static_cast<size_t>(grp) * cout * k, k, 1};
      if (weight_floats != 0 && !held->holds(call, static_cast<uint64_t>(grp))) {
        gemm_pack_a_whole(kernel, cout, k, a, packed_weight);
        *held = ScratchTag{call, static_cast<uint64_t>(grp)};
      }
      const int32_t width = static_cast<int32_t>(j1 - j0);
      const ptrdiff_t ldy = static_cast<ptrdiff_t>(out_plane);
      const float* bias_g = bias != nullptr ? bias + static_cast<size_t>(grp) * cout : nullptr;  // added by the GEMM
      if (unfold_packed) {
        im2col_packed(g, xg, 0, cin, j0, j1, kernel.nr, window, offsets, col);
        gemm_with_packed_ab(kernel, cout, width, k, packed_weight, col, yg + j0, ldy, false, bias_g);
      } else {
        MatrixView b{xg + j0, static_cast<ptrdiff_t>(in_plane), 1};
        if (!pointwise) {
          im2col(g, xg, 0, cin, j0, j1, col);
          b = MatrixView{col, width, 1};
        }
        if (weight_floats != 0) {
          gemm_with_packed_a(kernel, cout, width, k, packed_weight, b, yg + j0, ldy, false, packs, bias_g);
        } else {
          gemm_with(kernel, cout, width, k, a, b, yg + j0, ldy, false, packs, bias_g);
        }
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(
      blocks * tiles, kScratchTagBytes + sizeof(float) * (col_floats + weight_floats + window_floats + offset_floats + pack_floats),
      body);
}

wtconv_status conv_backward_input_nd(const ConvGeometry& g, const float* grad_y,
                                     const float* weight, float* grad_x) {
  const int32_t cin = g.in_per_group(), cout = g.out_per_group();
  const size_t taps = g.taps(), in_plane = g.in_plane(), out_plane = g.out_plane();
  const size_t k_row = static_cast<size_t>(cin) * taps;  // weight row length
  const bool pointwise = g.is_pointwise();
  const size_t tile = reduce_tile(out_plane, taps);
  // Channel chunks: within the scratch budget, and enough of them for the threads.
  const size_t blocks = static_cast<size_t>(g.batch) * g.groups;
  size_t chunk = std::max<size_t>(1, std::min<size_t>(cin, kColBudget / (taps * tile)));
  if (blocks * ceil_div_size(cin, chunk) < task_target()) {
    chunk = std::max<size_t>(1, std::min(chunk, ceil_div_size(cin, ceil_div_size(task_target(), blocks))));
  }
  const size_t chunks = ceil_div_size(cin, chunk);
  const size_t col_floats = pointwise ? 0 : round_up(chunk * taps * tile, 16);
  const GemmMicrokernel& kernel = gemm_microkernel();
  const size_t weight_floats = held_weight_floats(kernel, static_cast<int32_t>(chunk * taps), cout);
  const uint64_t call = new_scratch_call();
  auto body = [&](size_t begin, size_t end, void* scratch) {
    ScratchTag* held = static_cast<ScratchTag*>(scratch);  // (channel chunk, group) packed_weight holds
    float* col = reinterpret_cast<float*>(static_cast<char*>(scratch) + kScratchTagBytes);
    float* packed_weight = col + col_floats;
    float* packs = packed_weight + weight_floats;
    // Tasks run channel chunk by channel chunk, so consecutive tasks share the weight slice.
    for (size_t task = begin; task < end; ++task) {
      const size_t block = task % blocks;
      const size_t chunk_index = task / blocks;
      const int32_t c0 = static_cast<int32_t>(chunk_index * chunk);
      const int32_t c1 = std::min<int32_t>(cin, c0 + static_cast<int32_t>(chunk));
      const int32_t n = static_cast<int32_t>(block / g.groups), grp = static_cast<int32_t>(block % g.groups);
      float* xg = grad_x + (static_cast<size_t>(n) * g.in_channels + static_cast<size_t>(grp) * cin) * in_plane;
      const float* yg = grad_y + (static_cast<size_t>(n) * g.out_channels + static_cast<size_t>(grp) * cout) * out_plane;
      // A(row = (c, t), o) = weight[grp * cout + o][c][t]
      const MatrixView a{weight + static_cast<size_t>(grp) * cout * k_row + c0 * taps, 1,
                         static_cast<ptrdiff_t>(k_row)};
      const int32_t m = static_cast<int32_t>((c1 - c0) * taps);
      const uint64_t key = chunk_index * g.groups + grp;
      if (weight_floats != 0 && !held->holds(call, key)) {
        gemm_pack_a_whole(kernel, m, cout, a, packed_weight);
        *held = ScratchTag{call, key};
      }
      // grad x block = A (m x cout) * B (cout x columns)
      auto product = [&](MatrixView b, int32_t columns, float* c, ptrdiff_t ldc) {
        if (weight_floats != 0) {
          gemm_with_packed_a(kernel, m, columns, cout, packed_weight, b, c, ldc, false, packs);
        } else {
          gemm_with(kernel, m, columns, cout, a, b, c, ldc, false, packs);
        }
      };
      if (pointwise) {
        product(MatrixView{yg, static_cast<ptrdiff_t>(out_plane), 1}, static_cast<int32_t>(out_plane),
                xg + c0 * in_plane, static_cast<ptrdiff_t>(in_plane));
        continue;
      }
      std::memset(xg + c0 * in_plane, 0, sizeof(float) * (c1 - c0) * in_plane);
      for (size_t j0 = 0; j0 < out_plane; j0 += tile) {
        const size_t j1 = std::min(out_plane, j0 + tile);
        const MatrixView b{yg + j0, static_cast<ptrdiff_t>(out_plane), 1};
        product(b, static_cast<int32_t>(j1 - j0), col, static_cast<ptrdiff_t>(j1 - j0));
        col2im_add(g, col, c0, c1, j0, j1, xg);
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(
      blocks * chunks, kScratchTagBytes + sizeof(float) * (col_floats + weight_floats + gemm_scratch_floats()), body);
}

wtconv_status conv_backward_weight_nd(const ConvGeometry& g, const float* x, const float* grad_y,
                                      float* grad_weight) {
  const int32_t cin = g.in_per_group(), cout = g.out_per_group();
  const size_t taps = g.taps(), in_plane = g.in_plane(), out_plane = g.out_plane();
  const size_t k_row = static_cast<size_t>(cin) * taps;
  const bool pointwise = g.is_pointwise();
  const size_t tile = reduce_tile(out_plane, taps);
  size_t chunk = std::max<size_t>(1, std::min<size_t>(cin, kColBudget / (taps * tile)));
  const size_t groups = static_cast<size_t>(g.groups);
  if (groups * ceil_div_size(cin, chunk) < task_target()) {
    // Narrower chunks for the threads, but at least two register tiles wide: the
    // chunk's (channel, tap) columns are the GEMM's n, and a sliver of a tile
    // wastes most of the microkernel's work.
    const size_t min_chunk = std::min(chunk, ceil_div_size(2 * static_cast<size_t>(gemm_microkernel().nr), taps));
    chunk = std::max(min_chunk, std::min(chunk, ceil_div_size(cin, ceil_div_size(task_target(), groups))));
  }
  const size_t chunks = ceil_div_size(cin, chunk);
  size_t out_chunk = static_cast<size_t>(cout);
  if (groups * chunks < task_target()) {
    const size_t want = ceil_div_size(task_target(), groups * chunks);
    const size_t mr = static_cast<size_t>(gemm_microkernel().mr);
    out_chunk = std::max<size_t>(mr, round_up(ceil_div_size(cout, want), mr));
  }
  const size_t out_chunks = ceil_div_size(cout, out_chunk);
  const size_t col_floats = pointwise ? 0 : round_up(chunk * taps * tile, 16);
  // Both operands run along the summed columns: over long rows, dot products
  // that read them in place (gemm_nt); over short ones (small planes) their
  // final reductions cost more than packing, so the packed GEMM.
  const bool dot_products = tile >= kDotProductMinColumns;
  const size_t pack_floats = dot_products ? 0 : gemm_scratch_floats();
  auto body = [&](size_t begin, size_t end, void* scratch) {
    float* col = static_cast<float*>(scratch);
    float* packs = col + col_floats;
    for (size_t task = begin; task < end; ++task) {
      const int32_t grp = static_cast<int32_t>(task / (chunks * out_chunks));
      const size_t rest = task % (chunks * out_chunks);
      const int32_t c0 = static_cast<int32_t>((rest / out_chunks) * chunk);
      const int32_t c1 = std::min<int32_t>(cin, c0 + static_cast<int32_t>(chunk));
      const int32_t o0 = static_cast<int32_t>((rest % out_chunks) * out_chunk);
      const int32_t o1 = std::min<int32_t>(cout, o0 + static_cast<int32_t>(out_chunk));
      const int32_t width = static_cast<int32_t>((c1 - c0) * taps);
      float* gw = grad_weight + (static_cast<size_t>(grp) * cout + o0) * k_row + c0 * taps;
      bool accumulate = false;
      for (int32_t n = 0; n < g.batch; ++n) {
        const float* xg = x + (static_cast<size_t>(n) * g.in_channels + static_cast<size_t>(grp) * cin) * in_plane;
        const float* yg = grad_y + (static_cast<size_t>(n) * g.out_channels + static_cast<size_t>(grp) * cout + o0) * out_plane;
        for (size_t j0 = 0; j0 < out_plane; j0 += tile) {
          const size_t j1 = std::min(out_plane, j0 + tile);
          // grad_w[o][(c, t)] += grad_y[o][j] . unfolded x[(c, t)][j] over the tile's
          // columns j (the unfolded rows are x's own rows for 1x1 kernels).
          const float* b = xg + c0 * in_plane + j0;
          ptrdiff_t ldb = static_cast<ptrdiff_t>(in_plane);
          if (!pointwise) {
            im2col(g, xg, c0, c1, j0, j1, col);
            b = col;
            ldb = static_cast<ptrdiff_t>(j1 - j0);
          }
          const int32_t columns = static_cast<int32_t>(j1 - j0);
          const ptrdiff_t ldw = static_cast<ptrdiff_t>(k_row);
          if (dot_products) {
            gemm_nt(o1 - o0, width, columns, yg + j0, static_cast<ptrdiff_t>(out_plane), b, ldb, gw, ldw, accumulate);
          } else {
            gemm(o1 - o0, width, columns, MatrixView{yg + j0, static_cast<ptrdiff_t>(out_plane), 1}, MatrixView{b, 1, ldb}, gw,
                 ldw, accumulate, packs);
          }
          accumulate = true;
        }
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(groups * chunks * out_chunks, sizeof(float) * (col_floats + pack_floats), body);
}

wtconv_status channel_sum(int32_t batch, int32_t channels, size_t plane, const float* grad_y,
                          float* grad_bias) {
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t c = begin; c < end; ++c) {
      double s = 0.0;
      for (int32_t n = 0; n < batch; ++n) s += plane_sum(grad_y + (static_cast<size_t>(n) * channels + c) * plane, plane);
      grad_bias[c] = static_cast<float>(s);
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(channels), 0, body);
}

wtconv_status channel_affine(int32_t batch, int32_t channels, size_t plane, const float* scale, const float* bias,
                             const float* residual, float* y) {
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t p = begin; p < end; ++p) {
      const size_t c = p % channels;
      float* row = y + p * plane;
      const float* res = residual != nullptr ? residual + p * plane : nullptr;
      for (size_t i = 0; i < plane; ++i) {  // only the terms given
        float v = scale != nullptr ? scale[c] * row[i] : row[i];
        if (bias != nullptr) v += bias[c];
        if (res != nullptr) v += res[i];
        row[i] = v;
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(batch) * channels, 0, body);
}

wtconv_status run_conv_forward(const ConvGeometry& g, const float* x, const float* weight,
                               const float* bias, float* y) {
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(y, "y"));
  WTCONV_CHECK(conv_forward_nd(g, x, weight, bias, y));
  return ok();
}

wtconv_status run_conv_backward(const ConvGeometry& g, const float* x, const float* weight,
                                const float* grad_y, float* grad_x, float* grad_weight,
                                float* grad_bias) {
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  if (grad_x != nullptr) WTCONV_CHECK(conv_backward_input_nd(g, grad_y, weight, grad_x));
  if (grad_weight != nullptr) WTCONV_CHECK(conv_backward_weight_nd(g, x, grad_y, grad_weight));
  if (grad_bias != nullptr) {
    WTCONV_CHECK(channel_sum(g.batch, g.out_channels, g.out_plane(), grad_y, grad_bias));
  }
  return ok();
}

}  // namespace wtconv
