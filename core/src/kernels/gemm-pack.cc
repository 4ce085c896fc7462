// Packing of GEMM operands into the panel layout the microkernel streams, and
// the blocked driver loops (see gemm.h).
#include <algorithm>
#include <cstring>

#include "../simd.h"
#include "gemm.h"

namespace wtconv {

using gemm_blocking::kKc;
using gemm_blocking::kMc;
using gemm_blocking::kInPlaceBRowFloats;
using gemm_blocking::kNc;

constexpr int32_t kMaxPackLines = 32;  // the widest register tile side (mr or nr) of any variant

namespace {

// packed[p * width + l] = lines[l][p] for l < width, p < kc, from `width` lines
// contiguous along k (rows of a row-major A, columns of a transposed B): 4 x 4
// blocks transposed in registers, vector loads along 4 lines and vector stores
// across them, 4 lines at a time down the whole of k (lines far apart in memory,
// read all at once, would share a few L1 sets); lines past a multiple of 4 one
// by one.
void pack_lines(const float* const* lines, int32_t width, int32_t kc, float* packed) {
  int32_t l = 0;
  for (; l + 4 <= width; l += 4) {
    const float *l0 = lines[l], *l1 = lines[l + 1], *l2 = lines[l + 2], *l3 = lines[l + 3];
    float* dst = packed + l;
    int32_t p = 0;
    for (; p + 4 <= kc; p += 4) {
      simd::f4 r0 = simd::load4(l0 + p), r1 = simd::load4(l1 + p), r2 = simd::load4(l2 + p), r3 = simd::load4(l3 + p);
      simd::transpose4(r0, r1, r2, r3);
      simd::store4(dst + static_cast<size_t>(p) * width, r0);
      simd::store4(dst + static_cast<size_t>(p + 1) * width, r1);
      simd::store4(dst + static_cast<size_t>(p + 2) * width, r2);
      simd::store4(dst + static_cast<size_t>(p + 3) * width, r3);
    }
    for (; p < kc; ++p) {
      float* row = dst + static_cast<size_t>(p) * width;
      row[0] = l0[p];
      row[1] = l1[p];
      row[2] = l2[p];
      row[3] = l3[p];
    }
  }
  for (; l < width; ++l) {
    for (int32_t p = 0; p < kc; ++p) packed[static_cast<size_t>(p) * width + l] = lines[l][p];
  }
}

}  // namespace

size_t gemm_scratch_floats() {
  return static_cast<size_t>(kMc) * kKc + static_cast<size_t>(kKc) * kNc;
}

// Panels are written in whichever order reads the source sequentially: along k
// when A's rows are contiguous (a row-major A), across the panel's rows otherwise.
void gemm_pack_a(int32_t mr, int32_t mc, int32_t kc, MatrixView a, float* packed) {
  for (int32_t i0 = 0; i0 < mc; i0 += mr) {
    const int32_t rows = std::min(mr, mc - i0);
    if (a.col_stride == 1 && rows == mr && mr <= kMaxPackLines) {
      const float* row[kMaxPackLines];
      for (int32_t i = 0; i < mr; ++i) row[i] = a.at(i0 + i, 0);
      pack_lines(row, mr, kc, packed);
      packed += static_cast<size_t>(kc) * mr;
      continue;
    }
    for (int32_t p = 0; p < kc; ++p) {
      for (int32_t i = 0; i < rows; ++i) packed[i] = *a.at(i0 + i, p);
      for (int32_t i = rows; i < mr; ++i) packed[i] = 0.0f;
      packed += mr;
    }
  }
}

void gemm_pack_b(int32_t nr, int32_t kc, int32_t nc, MatrixView b, float* packed) {
  int32_t whole = 0;  // columns already packed
  if (b.col_stride == 1) {
    // B's rows are contiguous: each row is read once from start to end and its
    // nr-wide pieces written to every whole panel. Walking panel by panel instead
    // reads kc rows a piece at a time, kc streams at once, which the hardware
    // prefetchers do not follow (and rows whose stride is near a multiple of
    // 4 KiB share a few L1 sets): a third of a 1x1 convolution's time.
    whole = nc / nr * nr;
    const size_t panel = static_cast<size_t>(kc) * nr;
    for (int32_t p = 0; p < kc && whole > 0; ++p) {
      const float* row = b.at(p, 0);
      float* dst = packed + static_cast<size_t>(p) * nr;
      for (int32_t j0 = 0; j0 < whole; j0 += nr, dst += panel) simd::copy_floats(dst, row + j0, static_cast<size_t>(nr));
    }
    packed += static_cast<size_t>(whole / nr) * panel;
  }
  for (int32_t j0 = whole; j0 < nc; j0 += nr) {
    const int32_t cols = std::min(nr, nc - j0);
    if (b.row_stride == 1 && cols == nr && nr <= kMaxPackLines) {  // a transposed B: its columns are contiguous
      const float* column[kMaxPackLines];
      for (int32_t j = 0; j < nr; ++j) column[j] = b.at(0, j0 + j);
      pack_lines(column, nr, kc, packed);
      packed += static_cast<size_t>(kc) * nr;
      continue;
    }
    for (int32_t p = 0; p < kc; ++p) {
      const float* row = b.at(p, j0);
      if (b.col_stride == 1) {
        simd::copy_floats(packed, row, static_cast<size_t>(cols));
      } else {
        for (int32_t j = 0; j < cols; ++j) packed[j] = row[j * b.col_stride];
      }
      for (int32_t j = cols; j < nr; ++j) packed[j] = 0.0f;
      packed += nr;
    }
  }
}

namespace {

int32_t round_up_to(int32_t v, int32_t m) { return (v + m - 1) / m * m; }

// The blocked loops. An operand given whole (whole_a: gemm_pack_a_whole's
// layout; whole_b: gemm_packed_b_floats's) is read where it lies, the other is
// packed block by block into the scratch.
void blocked(const GemmMicrokernel& kernel, int32_t m, int32_t n, int32_t k, MatrixView a,
             const float* whole_a, MatrixView b, const float* whole_b, float* c, ptrdiff_t ldc,
             bool accumulate, float* scratch, const float* row_bias) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int32_t i = 0; i < m; ++i) {
      float* row = c + i * ldc;
      if (!accumulate) std::memset(row, 0, sizeof(float) * n);
      if (row_bias != nullptr) {
        for (int32_t j = 0; j < n; ++j) row[j] += row_bias[i];
      }
    }
    return;
  }
  // B's rows contiguous and close together (a 1x1 convolution's input planes
  // of up to 16 x 16): its kc x nc block is read in place, nr floats of each
  // row at a time, from the caches as well as a packed copy would be, and the
  // packing pass is gone (1x1 convs of 16 images, one thread: 64 -> 128 at 8 x 8
  // 1.05-1.09x, 128 -> 64 1.11-1.12x, 64 -> 16 at 16 x 16 1.13-1.18x). Rows far
  // apart would thrash a few cache sets and the TLB instead: they are packed.
  const bool reads_b_in_place = whole_b == nullptr && b.col_stride == 1 && b.row_stride > 0 &&
                                b.row_stride <= kInPlaceBRowFloats;
  float* packed_a = scratch;  // null when both operands come whole
  float* packed_b = scratch != nullptr ? scratch + static_cast<size_t>(kMc) * kKc : nullptr;
  const size_t n_padded = static_cast<size_t>(round_up_to(n, kernel.nr));
  for (int32_t jc = 0; jc < n; jc += kNc) {
    const int32_t nc = std::min(kNc, n - jc);
    for (int32_t pc = 0; pc < k; pc += kKc) {
      const int32_t kc = std::min(kKc, k - pc);
      // The whole panels of a B read in place, the rest (all of B otherwise) packed.
      const int32_t in_place = reads_b_in_place ? nc / kernel.nr * kernel.nr : 0;
      const float* pb = packed_b;
      if (whole_b != nullptr) {
        pb = whole_b + static_cast<size_t>(pc) * n_padded + static_cast<size_t>(jc) * kc;
      } else if (in_place < nc) {
        gemm_pack_b(kernel.nr, kc, nc - in_place, MatrixView{b.at(pc, jc + in_place), b.row_stride, b.col_stride},
                    packed_b);
      }
      for (int32_t ic = 0; ic < m; ic += kMc) {
        const int32_t mc = std::min(kMc, m - ic);
        const float* pa = packed_a;
        if (whole_a != nullptr) {
          pa = whole_a + gemm_packed_a_block(kernel, k, ic, mc, pc);
        } else {
          gemm_pack_a(kernel.mr, mc, kc, MatrixView{a.at(ic, pc), a.row_stride, a.col_stride}, packed_a);
        }
        const bool add = accumulate || pc > 0;
        const float* bias = row_bias != nullptr && pc + kc == k ? row_bias + ic : nullptr;
        float* ci = c + ic * ldc + jc;
        if (in_place > 0) {
          kernel.macro_kernel(mc, in_place, kc, pa, b.at(pc, jc), b.row_stride, kernel.nr, ci, ldc, add, bias);
        }
        if (in_place < nc) {
          kernel.macro_kernel(mc, nc - in_place, kc, pa, pb, kernel.nr, static_cast<ptrdiff_t>(kc) * kernel.nr,
                              ci + in_place, ldc, add, bias);
        }
      }
    }
  }
}

constexpr MatrixView kNoView{nullptr, 0, 0};

}  // namespace

size_t gemm_packed_a_floats(const GemmMicrokernel& kernel, int32_t m, int32_t k) {
  return static_cast<size_t>(round_up_to(m, kernel.mr)) * static_cast<size_t>(k);
}

void gemm_pack_a_whole(const GemmMicrokernel& kernel, int32_t m, int32_t k, MatrixView a, float* packed) {
  for (int32_t ic = 0; ic < m; ic += kMc) {
    const int32_t mc = std::min(kMc, m - ic);
    for (int32_t pc = 0; pc < k; pc += kKc) {
      const int32_t kc = std::min(kKc, k - pc);
      gemm_pack_a(kernel.mr, mc, kc, MatrixView{a.at(ic, pc), a.row_stride, a.col_stride},
                  packed + gemm_packed_a_block(kernel, k, ic, mc, pc));
    }
  }
}

void gemm_with_packed_a(const GemmMicrokernel& kernel, int32_t m, int32_t n, int32_t k,
                        const float* packed_a, MatrixView b, float* c, ptrdiff_t ldc,
                        bool accumulate, float* scratch, const float* row_bias) {
  blocked(kernel, m, n, k, kNoView, packed_a, b, nullptr, c, ldc, accumulate, scratch, row_bias);
}

size_t gemm_packed_b_floats(const GemmMicrokernel& kernel, int32_t k, int32_t n) {
  return static_cast<size_t>(round_up_to(n, kernel.nr)) * static_cast<size_t>(k);
}

void gemm_with_packed_ab(const GemmMicrokernel& kernel, int32_t m, int32_t n, int32_t k,
                         const float* packed_a, const float* packed_b, float* c, ptrdiff_t ldc,
                         bool accumulate, const float* row_bias) {
  blocked(kernel, m, n, k, kNoView, packed_a, kNoView, packed_b, c, ldc, accumulate, nullptr, row_bias);
}

void gemm_with(const GemmMicrokernel& kernel, int32_t m, int32_t n, int32_t k, MatrixView a,
               MatrixView b, float* c, ptrdiff_t ldc, bool accumulate, float* scratch,
               const float* row_bias) {
  blocked(kernel, m, n, k, a, nullptr, b, nullptr, c, ldc, accumulate, scratch, row_bias);
}

void gemm_nt(int32_t m, int32_t n, int32_t k, const float* a, ptrdiff_t lda, const float* b,
             ptrdiff_t ldb, float* c, ptrdiff_t ldc, bool accumulate) {
  gemm_microkernel().nt(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void gemm(int32_t m, int32_t n, int32_t k, MatrixView a, MatrixView b, float* c, ptrdiff_t ldc,
          bool accumulate, float* scratch) {
  gemm_with(gemm_microkernel(), m, n, k, a, b, c, ldc, accumulate, scratch);
}

}  // namespace wtconv
