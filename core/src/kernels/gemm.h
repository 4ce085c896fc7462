// A packed, cache-blocked single-precision GEMM (no external BLAS):
//   C (m x n) = [C +] A (m x k) * B (k x n).
// Operands are strided views, so transposed operands (W^T, col^T) need no copy:
// packing reads them in whatever order they lie. One call runs on one thread;
// operators parallelise over independent blocks of C and give each thread its
// own scratch (gemm_scratch_floats()).
//
// The microkernel comes in ISA variants, one template (gemm-microkernel.inc)
// built once per ISA with its own register tile: baseline (SSE2 6 x 8, WebAssembly
// SIMD128 4 x 8), avx2 (AVX2 + FMA, 6 x 16), avx512 (AVX-512 + FMA, 6 x 32).
// gemm_microkernel() picks one at run time from what the CPU supports.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wtconv {

// Element (i, j) of a matrix view lies at data[i * row_stride + j * col_stride].
struct MatrixView {
  const float* data;
  ptrdiff_t row_stride;
  ptrdiff_t col_stride;
  const float* at(ptrdiff_t i, ptrdiff_t j) const { return data + i * row_stride + j * col_stride; }
};

namespace gemm_blocking {
// Cache blocks: a kMc x kKc panel of A (L2) against a kKc x kNc panel of B.
// kMc and kNc are multiples of every variant's register tile.
constexpr int kKc = 256;
constexpr int kMc = 96;
constexpr int kNc = 256;
// A B whose rows are contiguous and at most this many floats apart is not
// packed: its whole panels of nr columns are read where they lie (same results).
constexpr ptrdiff_t kInPlaceBRowFloats = 256;
}  // namespace gemm_blocking

// C (mc x nc) = [C +] packed A * B over kc (see gemm_pack_a), then + row_bias[i]
// on row i when row_bias is given (after the sum, so the result rounds as a
// separate pass adding it would). B comes in panels of nr columns, b_panel
// floats apart, each row of a panel b_row floats after the one before: packed
// (gemm_pack_b) b_row = nr and b_panel = kc * nr; read where it lies, from a
// matrix with contiguous rows ldb apart, b_row = ldb and b_panel = nr (then
// nc is a multiple of nr: a panel reads nr floats of every row).
using GemmMacroKernelFn = void (*)(int32_t mc, int32_t nc, int32_t kc, const float* packed_a, const float* b,
                                   ptrdiff_t b_row, ptrdiff_t b_panel, float* c, ptrdiff_t ldc, bool accumulate,
                                   const float* row_bias);

// C (m x n) = [C +] A (m x k) * B (n x k)^T, A's and B's rows contiguous along
// k, lda / ldb apart (see gemm_nt).
using GemmNtFn = void (*)(int32_t m, int32_t n, int32_t k, const float* a, ptrdiff_t lda,
                          const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, bool accumulate);

// One ISA variant of the microkernel: its register tile (mr rows x nr columns
// of C) and the macro kernel that sweeps it over a packed block; and the
// dot-product kernel for operands that both run along k.
struct GemmMicrokernel {
  const char* isa;
  int32_t mr;
  int32_t nr;
  GemmMacroKernelFn macro_kernel;
  GemmNtFn nt;
};

// The variant this CPU runs (chosen once).
const GemmMicrokernel& gemm_microkernel();

// The variants built into this binary: baseline always; avx2 and avx512 on x86-64
// (WTCONV_GEMM_KERNEL_VARIANTS), callable only where the CPU has the ISA.
namespace baseline { extern const GemmMicrokernel kGemmMicrokernel; }
#if defined(WTCONV_GEMM_KERNEL_VARIANTS)
namespace avx2 { extern const GemmMicrokernel kGemmMicrokernel; }
namespace avx512 { extern const GemmMicrokernel kGemmMicrokernel; }
#endif

// Floats of scratch one gemm() call needs (packed panels of A and B).
size_t gemm_scratch_floats();

// C[i * ldc + j] = (accumulate ? C[i * ldc + j] : 0) + sum_p A(i, p) * B(p, j).
// Summation runs over p in a fixed order, whatever the thread count or the
// position of the block, so results do not depend on how callers split C.
// The gemm_with* forms take an optional row_bias (m floats): + row_bias[i] on
// row i once the sum is done, as a convolution's bias (bit for bit what a pass
// adding it afterwards gives, without that pass over C).
void gemm(int32_t m, int32_t n, int32_t k, MatrixView a, MatrixView b, float* c, ptrdiff_t ldc,
          bool accumulate, float* scratch);

// With an explicit variant (tests and benchmarks of each ISA).
void gemm_with(const GemmMicrokernel& kernel, int32_t m, int32_t n, int32_t k, MatrixView a,
               MatrixView b, float* c, ptrdiff_t ldc, bool accumulate, float* scratch,
               const float* row_bias = nullptr);

// C (m x n) = [C +] A (m x k) * B (n x k)^T where the rows of both operands
// are contiguous along k (a convolution's weight gradient: grad_y and the
// unfolded input both run along the summed pixels). Nothing is packed: each
// dot product reads the two rows in place into a vector of partial sums (lane
// l sums the k = l mod lanes), reduced in a fixed order, then the k remainder
// in order; so results do not depend on how callers split C.
void gemm_nt(int32_t m, int32_t n, int32_t k, const float* a, ptrdiff_t lda, const float* b,
             ptrdiff_t ldb, float* c, ptrdiff_t ldc, bool accumulate);

// A packed once for many products with the same left operand (a convolution's
// weight against every image): gemm_pack_a_whole() lays all of A (m x k) out in
// the panels gemm_with_packed_a() reads, in gemm_packed_a_floats(kernel, m, k) floats.
size_t gemm_packed_a_floats(const GemmMicrokernel& kernel, int32_t m, int32_t k);
void gemm_pack_a_whole(const GemmMicrokernel& kernel, int32_t m, int32_t k, MatrixView a, float* packed);
// The positions of gemm_pack_a_whole()'s layout for an m x k A, in memory
// order: f(i, p, at) for element (i, p) at packed + at, i >= m for the padding
// rows (to be zero). For producers that write that layout directly; only the
// rows of the mr-row panels [panel_begin, panel_end) when given.
template <typename F>
void gemm_packed_a_for_each(const GemmMicrokernel& kernel, int32_t m, int32_t k, F&& f, int32_t panel_begin = 0,
                            int32_t panel_end = INT32_MAX) {
  const int32_t mr = kernel.mr;
  size_t at = 0;
  for (int32_t ic = 0; ic < m; ic += gemm_blocking::kMc) {
    const int32_t mc = m - ic < gemm_blocking::kMc ? m - ic : gemm_blocking::kMc;
    for (int32_t pc = 0; pc < k; pc += gemm_blocking::kKc) {
      const int32_t kc = k - pc < gemm_blocking::kKc ? k - pc : gemm_blocking::kKc;
      for (int32_t i0 = ic; i0 < ic + mc; i0 += mr) {
        if (i0 / mr < panel_begin || i0 / mr >= panel_end) {
          at += static_cast<size_t>(kc) * mr;
          continue;
        }
        for (int32_t p = pc; p < pc + kc; ++p) {
          for (int32_t i = i0; i < i0 + mr; ++i) f(i, p, at++);
        }
      }
    }
  }
}
// Where block (ic, pc) (mc rows) of gemm_pack_a_whole()'s layout starts, and
// where it puts element (i, p) of an m x k A (i < round_up(m, mr)).
inline size_t gemm_packed_a_block(const GemmMicrokernel& kernel, int32_t k, int32_t ic, int32_t mc, int32_t pc) {
  return static_cast<size_t>(ic) * k + static_cast<size_t>((mc + kernel.mr - 1) / kernel.mr * kernel.mr) * pc;
}
inline size_t gemm_packed_a_offset(const GemmMicrokernel& kernel, int32_t m, int32_t k, int32_t i, int32_t p) {
  const int32_t ic = i / gemm_blocking::kMc * gemm_blocking::kMc, pc = p / gemm_blocking::kKc * gemm_blocking::kKc;
  const int32_t mc = m - ic < gemm_blocking::kMc ? m - ic : gemm_blocking::kMc;
  const size_t kc = static_cast<size_t>(k - pc < gemm_blocking::kKc ? k - pc : gemm_blocking::kKc);
  const size_t mr = static_cast<size_t>(kernel.mr), row = static_cast<size_t>(i - ic);
  return gemm_packed_a_block(kernel, k, ic, mc, pc) + row / mr * kc * mr + static_cast<size_t>(p - pc) * mr + row % mr;
}
// gemm_with() with A already packed (same results, bit for bit).
void gemm_with_packed_a(const GemmMicrokernel& kernel, int32_t m, int32_t n, int32_t k,
                        const float* packed_a, MatrixView b, float* c, ptrdiff_t ldc,
                        bool accumulate, float* scratch, const float* row_bias = nullptr);

// B packed whole, for producers that can write the panel layout directly (an
// unfolding that would otherwise be written out and packed again): the k rows
// run in blocks of gemm_blocking::kKc; block pc (kc = min(kKc, k - pc) rows)
// starts at pc * round_up(n, nr), its panel of columns [j, j + nr) at
// + j * kc, and element (p, j + i) of that panel at + (p - pc) * nr + i.
// Columns past n are padding (any finite value: their results are dropped).
size_t gemm_packed_b_floats(const GemmMicrokernel& kernel, int32_t k, int32_t n);
// gemm_with_packed_a() with B packed whole as well (no packing at all).
void gemm_with_packed_ab(const GemmMicrokernel& kernel, int32_t m, int32_t n, int32_t k,
                         const float* packed_a, const float* packed_b, float* c, ptrdiff_t ldc,
                         bool accumulate, const float* row_bias = nullptr);

// Writes B whole in that packed layout for an nr-column kernel (nr a multiple
// of 8), gathering: element (p, j) is row_of(p)[offsets[j]] for j < n, and
// offsets[j] for n <= j < round_up(n, nr) must point at readable floats (their
// columns are padding). Where offsets rise strictly over [0, n), 8 of them
// spanning 7 are consecutive and copied as a block.
template <typename RowOf>
void gemm_pack_b_gathered(int32_t nr, int32_t k, size_t n, const ptrdiff_t* offsets, RowOf&& row_of,
                          float* packed) {
  const size_t n_padded = (n + nr - 1) / nr * nr;
  for (int32_t pc = 0; pc < k; pc += gemm_blocking::kKc) {
    const int32_t kc = k - pc < gemm_blocking::kKc ? k - pc : gemm_blocking::kKc;
    for (int32_t p = pc; p < pc + kc; ++p) {
      const float* src = row_of(p);
      float* row = packed + static_cast<size_t>(p - pc) * nr;
      for (size_t j = 0; j < n_padded; j += nr, row += static_cast<size_t>(kc) * nr) {
        for (int32_t g = 0; g < nr; g += 8) {
          const ptrdiff_t* off = offsets + j + g;
          if (j + g + 8 <= n && off[7] - off[0] == 7) {
            std::memcpy(row + g, src + off[0], 8 * sizeof(float));
          } else {
            for (int i = 0; i < 8; ++i) row[g + i] = src[off[i]];
          }
        }
      }
    }
    packed += static_cast<size_t>(kc) * n_padded;
  }
}

// Packs rows [0, mc) x columns [0, kc) of A into mr-row panels (zero-padded).
void gemm_pack_a(int32_t mr, int32_t mc, int32_t kc, MatrixView a, float* packed);
// Packs rows [0, kc) x columns [0, nc) of B into nr-column panels (zero-padded).
void gemm_pack_b(int32_t nr, int32_t kc, int32_t nc, MatrixView b, float* packed);

}  // namespace wtconv
