// A packed, cache-blocked single-precision GEMM (no external BLAS):
//   C (m x n) = [C +] A (m x k) * B (k x n).
// Operands are strided views, so transposed operands (W^T, col^T) need no copy:
// packing reads them in whatever order they lie. One call runs on one thread;
// operators parallelise over independent blocks of C and give each thread its
// own scratch (gemm_scratch_floats()).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../simd.h"

namespace wtconv {

// Element (i, j) of a matrix view lies at data[i * row_stride + j * col_stride].
struct MatrixView {
  const float* data;
  ptrdiff_t row_stride;
  ptrdiff_t col_stride;
  const float* at(ptrdiff_t i, ptrdiff_t j) const { return data + i * row_stride + j * col_stride; }
};

namespace gemm_blocking {
// Register tile of the microkernel: kMr rows by kNr columns (kNrVectors vectors).
constexpr int kMr = 6;
constexpr int kNrVectors = simd::kLanes == 4 ? 2 : 1;
constexpr int kNr = kNrVectors * simd::kLanes;
// Cache blocks: a kMc x kKc panel of A (L2) against a kKc x kNc panel of B.
constexpr int kKc = 256;
constexpr int kMc = 16 * kMr;
constexpr int kNc = 256;
}  // namespace gemm_blocking

// Floats of scratch one gemm() call needs (packed panels of A and B).
size_t gemm_scratch_floats();

// C[i * ldc + j] = (accumulate ? C[i * ldc + j] : 0) + sum_p A(i, p) * B(p, j).
// Summation runs over p in a fixed order, whatever the thread count or the
// position of the block, so results do not depend on how callers split C.
void gemm(int32_t m, int32_t n, int32_t k, MatrixView a, MatrixView b, float* c, ptrdiff_t ldc,
          bool accumulate, float* scratch);

// Packs rows [0, mc) x columns [0, kc) of A into kMr-row panels (zero-padded).
void gemm_pack_a(int32_t mc, int32_t kc, MatrixView a, float* packed);
// Packs rows [0, kc) x columns [0, nc) of B into kNr-column panels (zero-padded).
void gemm_pack_b(int32_t kc, int32_t nc, MatrixView b, float* packed);
// C (mc x nc) = [C +] packed A * packed B over kc, with the SIMD microkernel.
void gemm_macro_kernel(int32_t mc, int32_t nc, int32_t kc, const float* packed_a,
                       const float* packed_b, float* c, ptrdiff_t ldc, bool accumulate);

}  // namespace wtconv
