// Linear (nn.Linear), x (n, in) -> y (n, out) = x W^T + b, forward and
// backward, over the packed GEMM (kernels/gemm.h). Each task computes one tile
// of the output matrix with the whole reduction, so the summation order does
// not depend on the thread count.
#include <algorithm>

#include "../kernels/gemm.h"
#include "../thread-pool.h"
#include "layer-checks.h"

namespace wtconv {
namespace {

constexpr int32_t kTileRows = 64;
constexpr int32_t kTileCols = 256;

// C (m x cols) = A (m x k) B (k x cols), tiled over C and threaded.
wtconv_status tiled_gemm(int32_t m, int32_t cols, int32_t k, MatrixView a, MatrixView b, float* c) {
  const int32_t tr = (m + kTileRows - 1) / kTileRows, tc = (cols + kTileCols - 1) / kTileCols;
  auto body = [&](size_t begin, size_t end, void* scratch) {
    for (size_t t = begin; t < end; ++t) {
      const int32_t i0 = static_cast<int32_t>(t / tc) * kTileRows;
      const int32_t j0 = static_cast<int32_t>(t % tc) * kTileCols;
      const int32_t rows = std::min(kTileRows, m - i0), cc = std::min(kTileCols, cols - j0);
      gemm(rows, cc, k, MatrixView{a.at(i0, 0), a.row_stride, a.col_stride},
           MatrixView{b.at(0, j0), b.row_stride, b.col_stride}, c + static_cast<size_t>(i0) * cols + j0,
           cols, false, static_cast<float*>(scratch));
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(tr) * tc,
                                             sizeof(float) * gemm_scratch_floats(), body);
}

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_linear_forward(int32_t n, int32_t in, int32_t out, const float* x,
                                    const float* weight, const float* bias, float* y) {
  WTCONV_CHECK(check_linear(n, in, out));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(y, "y"));
  // y = x (n x in) * W^T (in x out): W^T(p, j) = weight[j * in + p]
  WTCONV_CHECK(tiled_gemm(n, out, in, MatrixView{x, in, 1}, MatrixView{weight, 1, in}, y));
  if (bias != nullptr) {
    for (int32_t i = 0; i < n; ++i) {
      for (int32_t j = 0; j < out; ++j) y[static_cast<size_t>(i) * out + j] += bias[j];
    }
  }
  return ok();
}

wtconv_status wtconv_linear_backward(int32_t n, int32_t in, int32_t out, const float* x,
                                     const float* weight, const float* grad_y, float* grad_x,
                                     float* grad_weight, float* grad_bias) {
  WTCONV_CHECK(check_linear(n, in, out));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  // grad_x (n x in) = grad_y (n x out) * W (out x in)
  if (grad_x != nullptr) {
    WTCONV_CHECK(tiled_gemm(n, in, out, MatrixView{grad_y, out, 1}, MatrixView{weight, in, 1}, grad_x));
  }
  // grad_W (out x in) = grad_y^T (out x n) * x (n x in)
  if (grad_weight != nullptr) {
    WTCONV_CHECK(tiled_gemm(out, in, n, MatrixView{grad_y, 1, out}, MatrixView{x, in, 1}, grad_weight));
  }
  if (grad_bias != nullptr) {
    for (int32_t j = 0; j < out; ++j) {
      double s = 0.0;
      for (int32_t i = 0; i < n; ++i) s += grad_y[static_cast<size_t>(i) * out + j];
      grad_bias[j] = static_cast<float>(s);
    }
  }
  return ok();
}

}  // extern "C"
