// The GEMM microkernel: a kMr x kNr tile of C held in vector registers
// (simd::vf), updated with one broadcast of A and kNrVectors loads of B per
// step of k. This file alone is compiled with FMA contraction allowed (see
// CMakeLists.txt), so the AVX2 / AVX-512 clones fuse multiply and add; the
// SSE2 and WASM builds have no FMA and round the product separately.
#include <algorithm>

#include "../common.h"
#include "gemm.h"

namespace wtconv {
namespace {

using gemm_blocking::kMr;
using gemm_blocking::kNr;
using gemm_blocking::kNrVectors;
using simd::vf;

// acc = packed A (kMr x kc) * packed B (kc x kNr), then written or added to C
// (rows x cols of it, the rest of the tile is padding).
WTCONV_INLINE void micro_tile(int32_t kc, const float* a, const float* b, float* c, ptrdiff_t ldc,
                              int32_t rows, int32_t cols, bool accumulate) {
  // Fully unrolled so the accumulators stay in registers.
  vf acc[kMr][kNrVectors];
#pragma GCC unroll 16
  for (int i = 0; i < kMr; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < kNrVectors; ++v) acc[i][v] = simd::zero();
  }
  for (int32_t p = 0; p < kc; ++p) {
    vf bv[kNrVectors];
#pragma GCC unroll 4
    for (int v = 0; v < kNrVectors; ++v) bv[v] = simd::load(b + v * simd::kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < kMr; ++i) {
      const float ai = a[i];  // scalar * vector: one broadcast
#pragma GCC unroll 4
      for (int v = 0; v < kNrVectors; ++v) acc[i][v] += ai * bv[v];
    }
    a += kMr;
    b += kNr;
  }
  if (rows == kMr && cols == kNr) {
    for (int i = 0; i < kMr; ++i) {
      for (int v = 0; v < kNrVectors; ++v) {
        float* dst = c + i * ldc + v * simd::kLanes;
        simd::store(dst, accumulate ? simd::load(dst) + acc[i][v] : acc[i][v]);
      }
    }
    return;
  }
  float tile[kMr * kNr];
  for (int i = 0; i < kMr; ++i) {
    for (int v = 0; v < kNrVectors; ++v) simd::store(tile + i * kNr + v * simd::kLanes, acc[i][v]);
  }
  for (int32_t i = 0; i < rows; ++i) {
    for (int32_t j = 0; j < cols; ++j) {
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * kNr + j] : tile[i * kNr + j];
    }
  }
}

}  // namespace

WTCONV_MULTIVERSION
void gemm_macro_kernel(int32_t mc, int32_t nc, int32_t kc, const float* packed_a,
                       const float* packed_b, float* c, ptrdiff_t ldc, bool accumulate) {
  for (int32_t j0 = 0; j0 < nc; j0 += kNr) {
    const float* b = packed_b + static_cast<size_t>(j0 / kNr) * kc * kNr;
    const int32_t cols = std::min(kNr, nc - j0);
    for (int32_t i0 = 0; i0 < mc; i0 += kMr) {
      const float* a = packed_a + static_cast<size_t>(i0 / kMr) * kc * kMr;
      micro_tile(kc, a, b, c + i0 * ldc + j0, ldc, std::min(kMr, mc - i0), cols, accumulate);
    }
  }
}

}  // namespace wtconv
