// Tester and benchmark of the microkernels, built once per ISA variant (the
// variant's files depthwise-conv2d-padded-*.cc, gemm-microkernel-*.cc and activation-*.cc, with
// -march=x86-64, haswell or x86-64-v4; or for WebAssembly), as XNNPACK does for
// its microkernels:
//   kernels check   compares every kernel with a plain reference on random
//                   planes (odd sizes, kernel sizes 1..13) and GEMM shapes (odd,
//                   strided / transposed operands, accumulate) and the GELU /
//                   dropout spans (every length up to two vectors past 16 and
//                   a long one), printing a digest of their output bits, which
//                   every variant must share; exit 1 on a mismatch
//   kernels bench   GFLOP/s of each kernel on square planes (7 to 224: WTConv's
//                   deeper levels run on the small ones; Haar on the even ones) and of the
//                   GEMM (one thread) on square and convolution-like shapes, as JSON
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "../../core/src/kernels/activation.h"
#include "../../core/src/kernels/depthwise-conv2d-padded.h"
#include "../../core/src/kernels/dropout-mask.h"
#include "../../core/src/kernels/gemm.h"
#include "../../core/src/kernels/haar-plane.h"

using namespace wtconv;

// The variant under test: wtconv::baseline, wtconv::avx2 or wtconv::avx512.
#ifndef KERNEL_ISA
#define KERNEL_ISA baseline
#endif
namespace isa = wtconv::KERNEL_ISA;

namespace {

std::mt19937 rng(1234);
std::vector<float> random_vector(size_t n) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// A padded plane with its interior set from `plane` (h x w) and zeros elsewhere.
PaddedPlane make_padded(std::vector<float>& storage, const std::vector<float>& plane, int h, int w, int k, int before) {
  PaddedPlane p = PaddedPlane::layout(h, w, k, before);
  storage.assign(p.floats(), 0.0f);
  p.data = storage.data();
  for (int y = 0; y < h; ++y) std::memcpy(p.interior() + static_cast<size_t>(y) * p.stride, &plane[static_cast<size_t>(y) * w], sizeof(float) * w);
  return p;
}

double at(const std::vector<float>& v, int h, int w, int y, int x) {
  return y >= 0 && y < h && x >= 0 && x < w ? v[static_cast<size_t>(y) * w + x] : 0.0;
}

bool close(double got, double want, double scale, const char* what, int k, int h, int w) {
  if (std::fabs(got - want) <= 1e-5 * scale) return true;
  std::printf("MISMATCH %s k=%d plane %dx%d: got %.8g, want %.8g\n", what, k, h, w, got, want);
  return false;
}

bool check_case(int h, int w, int k) {
  const int before = (k - 1) / 2;
  const std::vector<float> x = random_vector(static_cast<size_t>(h) * w);
  const std::vector<float> weight = random_vector(static_cast<size_t>(k) * k);
  const std::vector<float> g = random_vector(static_cast<size_t>(h) * w);
  std::vector<float> storage;
  const PaddedPlane px = make_padded(storage, x, h, w, k, before);
  // forward: out = 0.5 * correlation with 'same' padding
  std::vector<float> out(static_cast<size_t>(h) * w, NAN);
  isa::dwconv2d_padded_forward(px, k, weight.data(), 0.5f, out.data(), w);
  bool ok = true;
  for (int y = 0; y < h && ok; ++y) {
    for (int xx = 0; xx < w && ok; ++xx) {
      double s = 0, a = 0;
      for (int i = 0; i < k; ++i) {
        for (int j = 0; j < k; ++j) {
          const double t = weight[i * k + j] * at(x, h, w, y + i - before, xx + j - before);
          s += t;
          a += std::fabs(t);
        }
      }
      ok = close(out[static_cast<size_t>(y) * w + xx], 0.5 * s, 1 + a, "dwconv2d_padded_forward", k, h, w);
    }
  }
  // backward weight: grad_out needs a row stride of at least the vector width, zero beyond w
  const PaddedPlane pg = PaddedPlane::layout(h, w, k, k - 1 - before);
  std::vector<float> gstore(static_cast<size_t>(h) * pg.stride, 0.0f);
  for (int y = 0; y < h; ++y) std::memcpy(&gstore[static_cast<size_t>(y) * pg.stride], &g[static_cast<size_t>(y) * w], sizeof(float) * w);
  std::vector<double> gw(static_cast<size_t>(k) * k, 0.0);
  isa::dwconv2d_padded_backward_weight(px, k, gstore.data(), pg.stride, gw.data());
  for (int i = 0; i < k && ok; ++i) {
    for (int j = 0; j < k && ok; ++j) {
      double s = 0, a = 0;
      for (int y = 0; y < h; ++y) {
        for (int xx = 0; xx < w; ++xx) {
          const double t = g[static_cast<size_t>(y) * w + xx] * at(x, h, w, y + i - before, xx + j - before);
          s += t;
          a += std::fabs(t);
        }
      }
      ok = close(gw[i * k + j], s, 1 + a, "dwconv2d_padded_backward_weight", k, h, w);
    }
  }
  // Haar: synthesis(analysis(x)) is x (orthogonal, cropped)
  const int bh = (h + 1) / 2, bw = (w + 1) / 2;
  std::vector<float> bands(4 * static_cast<size_t>(bh) * bw);
  float* b[4] = {&bands[0], &bands[static_cast<size_t>(bh) * bw], &bands[2 * static_cast<size_t>(bh) * bw], &bands[3 * static_cast<size_t>(bh) * bw]};
  haar_plane_analyze(x.data(), w, h, w, b, bw);
  std::vector<float> back(static_cast<size_t>(h) * w);
  haar_plane_synthesize(b, bw, h, w, back.data(), w);
  for (size_t i = 0; i < back.size() && ok; ++i) ok = close(back[i], x[i], 1, "haar analysis/synthesis round trip", 0, h, w);
  const double ll = 0.5 * (at(x, h, w, 0, 0) + at(x, h, w, 0, 1) + at(x, h, w, 1, 0) + at(x, h, w, 1, 1));
  return ok && close(b[0][0], ll, 1, "haar LL", 0, h, w);
}

// gemm_packed_a_offset() against gemm_pack_a_whole() and gemm_packed_a_for_each().
bool check_packed_a_offsets(int m, int k) {
  const GemmMicrokernel& kernel = isa::kGemmMicrokernel;
  std::vector<float> a(static_cast<size_t>(m) * k);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i + 1);
  std::vector<float> packed(gemm_packed_a_floats(kernel, m, k));
  gemm_pack_a_whole(kernel, m, k, MatrixView{a.data(), k, 1}, packed.data());
  bool ok = true;
  gemm_packed_a_for_each(kernel, m, k, [&](int32_t i, int32_t p, size_t at) {
    const size_t offset = gemm_packed_a_offset(kernel, m, k, i, p);
    const float want = i < m ? a[static_cast<size_t>(i) * k + p] : 0.0f;
    if (offset != at || packed[offset] != want) ok = false;
  });
  if (!ok) std::fprintf(stderr, "gemm_packed_a_offset: wrong for m %d, k %d\n", m, k);
  return ok;
}

// C = [C +] A * B [+ row bias] with A (m x k) and B (k x n) read through strided
// views (row-major, or transposed when `trans_*`), against a double-precision
// sum; with a row bias also bit for bit against the GEMM without it followed
// by a pass adding it.
bool check_gemm(int m, int n, int k, bool trans_a, bool trans_b, bool accumulate, bool with_bias) {
  const GemmMicrokernel& kernel = isa::kGemmMicrokernel;
  const std::vector<float> a = random_vector(static_cast<size_t>(m) * k);
  const std::vector<float> b = random_vector(static_cast<size_t>(k) * n);
  const std::vector<float> c0 = random_vector(static_cast<size_t>(m) * n);
  const MatrixView va = trans_a ? MatrixView{a.data(), 1, m} : MatrixView{a.data(), k, 1};
  const MatrixView vb = trans_b ? MatrixView{b.data(), 1, k} : MatrixView{b.data(), n, 1};
  const int ldc = n + 3;  // C rows with a gap, which must stay untouched
  std::vector<float> c(static_cast<size_t>(m) * ldc, 7.0f);
  for (int i = 0; i < m; ++i) std::memcpy(&c[static_cast<size_t>(i) * ldc], &c0[static_cast<size_t>(i) * n], sizeof(float) * n);
  std::vector<float> scratch(gemm_scratch_floats());
  const std::vector<float> bias = random_vector(static_cast<size_t>(m));
  std::vector<float> separate = c;
  gemm_with(kernel, m, n, k, va, vb, c.data(), ldc, accumulate, scratch.data(), with_bias ? bias.data() : nullptr);
  char what[96];
  std::snprintf(what, sizeof(what), "gemm %s %dx%dx%d%s%s%s%s", kernel.isa, m, n, k, trans_a ? " A^T" : "", trans_b ? " B^T" : "",
                accumulate ? " +=" : "", with_bias ? " +bias" : "");
  if (!trans_b) {
    // B with rows this close together is read in place (its whole panels of
    // nr columns): bit for bit what packing it gives, which B's rows spread
    // out past gemm_blocking::kInPlaceBRowFloats get.
    const int spread = std::max(n, static_cast<int>(gemm_blocking::kInPlaceBRowFloats) + 1);
    std::vector<float> wide(static_cast<size_t>(k) * spread);  // the rows of B, spread apart
    for (int p = 0; p < k; ++p) std::memcpy(&wide[static_cast<size_t>(p) * spread], &b[static_cast<size_t>(p) * n], sizeof(float) * n);
    std::vector<float> packed = separate;
    gemm_with(kernel, m, n, k, va, MatrixView{wide.data(), spread, 1}, packed.data(), ldc, accumulate, scratch.data(),
              with_bias ? bias.data() : nullptr);
    std::vector<float> in_place = separate;
    gemm_with(kernel, m, n, k, va, vb, in_place.data(), ldc, accumulate, scratch.data(), with_bias ? bias.data() : nullptr);
    if (std::memcmp(packed.data(), in_place.data(), sizeof(float) * packed.size()) != 0) {
      std::printf("MISMATCH gemm %s %dx%dx%d: B read in place differs from B packed\n", kernel.isa, m, n, k);
      return false;
    }
  }
  if (with_bias) {
    gemm_with(kernel, m, n, k, va, vb, separate.data(), ldc, accumulate, scratch.data());
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        const size_t at = static_cast<size_t>(i) * ldc + j;
        if (c[at] != separate[at] + bias[i]) {
          std::printf("MISMATCH %s at C[%d][%d]: %.9g with the bias in the GEMM, %.9g added afterwards\n", what, i, j, c[at], separate[at] + bias[i]);
          return false;
        }
      }
    }
  }
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < ldc; ++j) {
      const float got = c[static_cast<size_t>(i) * ldc + j];
      if (j >= n) {
        if (got == 7.0f) continue;
        std::printf("MISMATCH %s: wrote C[%d][%d] beyond column n\n", what, i, j);
        return false;
      }
      double s = accumulate ? c0[static_cast<size_t>(i) * n + j] : 0.0, mag = std::fabs(s);
      for (int p = 0; p < k; ++p) {
        const double t = static_cast<double>(*va.at(i, p)) * *vb.at(p, j);
        s += t;
        mag += std::fabs(t);
      }
      if (with_bias) s += bias[i], mag += std::fabs(bias[i]);
      if (std::fabs(got - s) > 1e-5 * (1 + mag)) {
        std::printf("MISMATCH %s at C[%d][%d]: got %.8g, want %.8g\n", what, i, j, got, s);
        return false;
      }
    }
  }
  return true;
}

// C = [C +] A * B^T with A (m x k) and B (n x k) rows apart by lda / ldb
// (padded rows), against a double-precision sum.
bool check_gemm_nt(int m, int n, int k, bool accumulate) {
  const GemmMicrokernel& kernel = isa::kGemmMicrokernel;
  const int lda = k + 5, ldb = k + 2, ldc = n + 3;
  const std::vector<float> a = random_vector(static_cast<size_t>(m) * lda);
  const std::vector<float> b = random_vector(static_cast<size_t>(n) * ldb);
  const std::vector<float> c0 = random_vector(static_cast<size_t>(m) * ldc);
  std::vector<float> c = c0;
  for (int i = 0; i < m; ++i) {
    for (int j = n; j < ldc; ++j) c[static_cast<size_t>(i) * ldc + j] = 7.0f;  // the gap must stay untouched
  }
  kernel.nt(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < ldc; ++j) {
      const float got = c[static_cast<size_t>(i) * ldc + j];
      if (j >= n) {
        if (got == 7.0f) continue;
        std::printf("MISMATCH gemm_nt %s %dx%dx%d: wrote C[%d][%d] beyond column n\n", kernel.isa, m, n, k, i, j);
        return false;
      }
      double s = accumulate ? c0[static_cast<size_t>(i) * ldc + j] : 0.0, mag = std::fabs(s);
      for (int p = 0; p < k; ++p) {
        const double t = static_cast<double>(a[static_cast<size_t>(i) * lda + p]) * b[static_cast<size_t>(j) * ldb + p];
        s += t;
        mag += std::fabs(t);
      }
      if (std::fabs(got - s) > 1e-5 * (1 + mag)) {
        std::printf("MISMATCH gemm_nt %s %dx%dx%d%s at C[%d][%d]: got %.8g, want %.8g\n", kernel.isa, m, n, k,
                    accumulate ? " +=" : "", i, j, got, s);
        return false;
      }
    }
  }
  return true;
}

// The element-wise spans of the variant against double-precision GELU, its
// derivative and the dropout rule, over spans of every length from 0 to 47 and
// one of 5000 (vector bodies and tails); *digest gets an FNV-1a hash of every
// output's bits, the same for every variant (each lane computes alone).
bool check_activation(uint32_t* digest) {
  uint32_t h = 2166136261u;
  auto mix = [&h](const std::vector<float>& v) {
    for (float f : v) {
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof(bits));
      for (int b = 0; b < 4; ++b) h = (h ^ ((bits >> (8 * b)) & 0xffu)) * 16777619u;
    }
  };
  std::vector<int> lengths;
  for (int n = 0; n < 48; ++n) lengths.push_back(n);
  lengths.push_back(5000);
  for (const int n : lengths) {
    std::vector<float> x = random_vector(static_cast<size_t>(n)), gy = random_vector(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) x[i] *= i % 7 == 0 ? 9.0f : 4.0f;  // past the erf's clamp at |x / sqrt 2| = 4 too
    std::vector<float> y(x.size()), gx(x.size()), dy(x.size()), mask(x.size());
    isa::gelu_span_forward(x.data(), y.data(), x.size());
    isa::gelu_span_backward(x.data(), gy.data(), gx.data(), x.size());
    isa::dropout_span_forward(x.data(), dy.data(), mask.data(), x.size(), 1000u + n, 0x9e3779b9u, 0x80000000u, 2.0f);
    for (int i = 0; i < n; ++i) {
      const double v = x[i], cdf = 0.5 * (1 + std::erf(v / std::sqrt(2.0))), pdf = std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
      const double want_y = v * cdf, want_gx = gy[i] * (cdf + v * pdf);
      if (std::fabs(y[i] - want_y) > 2e-6 * (1 + std::fabs(v)) || std::fabs(gx[i] - want_gx) > 4e-6 * (1 + std::fabs(v))) {
        std::printf("MISMATCH gelu span %d at %d: x %.8g, y %.8g (want %.8g), grad %.8g (want %.8g)\n", n, i, v, y[i], want_y, gx[i], want_gx);
        return false;
      }
      const bool keep = lowbias32((1000u + n + i) ^ 0x9e3779b9u) < 0x80000000u;
      if (mask[i] != (keep ? 2.0f : 0.0f) || dy[i] != x[i] * mask[i]) {
        std::printf("MISMATCH dropout span %d at %d: mask %.8g, y %.8g\n", n, i, mask[i], dy[i]);
        return false;
      }
    }
    mix(y);
    mix(gx);
    mix(dy);
  }
  *digest = h;
  return true;
}

double seconds_per_call(const std::function<void()>& f) {
  f();
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    int calls = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
      f();
      ++calls;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (elapsed < 0.05);
    best = std::min(best, elapsed / calls);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "check";
  if (mode == "check") {
    int cases = 0;
    for (int k = 1; k <= 13; ++k) {
      for (const auto& hw : {std::pair<int, int>{1, 1}, {3, 2}, {6, 12}, {7, 17}, {8, 9}, {16, 16}, {23, 33}, {64, 65}}) {
        if (!check_case(hw.first, hw.second, k)) return 1;
        ++cases;
      }
    }
    // Large kernels, whose window AVX-512 reads through a stage a few columns
    // at a time (k = 500: too wide for the stage, read from the plane; 70 x 200:
    // the weight gradient's partial sums go to double more than once), and
    // WebAssembly's tap loop at its largest size (32) and one past it.
    for (int k : {17, 31, 32, 33, 500}) {
      for (const auto& hw : {std::pair<int, int>{7, 17}, {23, 33}, {40, 37}, {70, 200}}) {
        if (k == 500 && hw.first != 7) continue;
        if (k >= 31 && hw.first == 70) continue;
        if (!check_case(hw.first, hw.second, k)) return 1;
        ++cases;
      }
    }
    int gemm_cases = 0;
    for (const int m : {1, 5, 6, 7, 13, 96, 97, 200}) {
      for (const int k : {1, 3, 64, 255, 257, 600}) {
        if (!check_packed_a_offsets(m, k)) return 1;
      }
      for (const int n : {1, 8, 15, 16, 33, 257, 300}) {
        for (const int k : {1, 3, 64, 255, 257, 600}) {
          const int variant = gemm_cases++;
          if (!check_gemm(m, n, k, variant % 2 == 1, variant % 3 == 1, variant % 5 < 2, variant % 7 < 3)) return 1;
        }
      }
    }
    int nt_cases = 0;
    for (const int m : {1, 2, 3, 4, 5, 16}) {
      for (const int n : {1, 2, 3, 7, 36}) {
        for (const int k : {1, 7, 8, 9, 64, 1000}) {
          if (!check_gemm_nt(m, n, k, nt_cases++ % 3 == 1)) return 1;
        }
      }
    }
    uint32_t digest = 0;
    if (!check_activation(&digest)) return 1;
    std::printf("%d cases passed, %d gemm cases passed, %d gemm_nt cases passed (%s microkernel, %dx%d)\n", cases, gemm_cases,
                nt_cases, isa::kGemmMicrokernel.isa, isa::kGemmMicrokernel.mr, isa::kGemmMicrokernel.nr);
    std::printf("activation spans passed, digest %08x\n", digest);
    return 0;
  }
  std::vector<std::string> rows;
  char line[160];
  for (int size : {7, 14, 28, 56, 64, 224}) {
    const std::vector<float> x = random_vector(static_cast<size_t>(size) * size);
    std::vector<float> out(x.size());
    for (int k : {3, 5, 7, 17}) {
      const std::vector<float> weight = random_vector(static_cast<size_t>(k) * k);
      std::vector<float> storage;
      const PaddedPlane px = make_padded(storage, x, size, size, k, (k - 1) / 2);
      std::vector<double> gw(static_cast<size_t>(k) * k);
      const double flops = 2.0 * k * k * size * size;
      const double fwd = seconds_per_call([&] { isa::dwconv2d_padded_forward(px, k, weight.data(), 1.0f, out.data(), size); });
      const double bwd = seconds_per_call([&] { isa::dwconv2d_padded_backward_weight(px, k, out.data(), size, gw.data()); });
      std::snprintf(line, sizeof(line), "{\"kernel\": \"dwconv2d_padded_forward\", \"plane\": %d, \"k\": %d, \"gflops\": %.2f}", size, k, flops / fwd / 1e9);
      rows.push_back(line);
      std::snprintf(line, sizeof(line), "{\"kernel\": \"dwconv2d_padded_backward_weight\", \"plane\": %d, \"k\": %d, \"gflops\": %.2f}", size, k, flops / bwd / 1e9);
      rows.push_back(line);
    }
    if (size % 2 != 0) continue;
    const int bh = size / 2;
    std::vector<float> bands(4 * static_cast<size_t>(bh) * bh);
    float* b[4] = {&bands[0], &bands[bh * bh], &bands[2 * bh * bh], &bands[3 * bh * bh]};
    const double haar_flops = 4.0 * 8 * bh * bh;  // 4 bands, 4 taps, multiply-add
    const double a = seconds_per_call([&] { haar_plane_analyze(x.data(), size, size, size, b, bh); });
    const double s = seconds_per_call([&] { haar_plane_synthesize(b, bh, size, size, out.data(), size); });
    std::snprintf(line, sizeof(line), "{\"kernel\": \"haar_plane_analyze\", \"plane\": %d, \"gflops\": %.2f}", size, haar_flops / a / 1e9);
    rows.push_back(line);
    std::snprintf(line, sizeof(line), "{\"kernel\": \"haar_plane_synthesize\", \"plane\": %d, \"gflops\": %.2f}", size, haar_flops / s / 1e9);
    rows.push_back(line);
  }
  // GEMM, one thread: square sizes and the 1x1 / im2col shapes of small conv layers.
  struct GemmShape { int m, n, k; };
  for (const GemmShape sh : {GemmShape{256, 256, 256}, {1024, 1024, 1024}, {128, 64, 64}, {64, 1024, 144}, {64, 3136, 576}}) {
    const std::vector<float> a = random_vector(static_cast<size_t>(sh.m) * sh.k);
    const std::vector<float> b = random_vector(static_cast<size_t>(sh.k) * sh.n);
    std::vector<float> c(static_cast<size_t>(sh.m) * sh.n);
    std::vector<float> scratch(gemm_scratch_floats());
    const double t = seconds_per_call([&] {
      gemm_with(isa::kGemmMicrokernel, sh.m, sh.n, sh.k, MatrixView{a.data(), sh.k, 1}, MatrixView{b.data(), sh.n, 1}, c.data(), sh.n, false, scratch.data());
    });
    std::snprintf(line, sizeof(line), "{\"kernel\": \"gemm\", \"m\": %d, \"n\": %d, \"k\": %d, \"gflops\": %.2f}", sh.m, sh.n, sh.k,
                  2.0 * sh.m * sh.n * sh.k / t / 1e9);
    rows.push_back(line);
  }
  // gemm_nt, one thread: the weight gradient of a 3x3 conv (32 x 144 over 1024 pixels) and a 1x1 one.
  for (const GemmShape sh : {GemmShape{32, 144, 1024}, {32, 144, 256}, {64, 256, 1024}, {64, 256, 256}}) {
    const std::vector<float> a = random_vector(static_cast<size_t>(sh.m) * sh.k);
    const std::vector<float> b = random_vector(static_cast<size_t>(sh.n) * sh.k);
    std::vector<float> c(static_cast<size_t>(sh.m) * sh.n);
    const double t = seconds_per_call([&] { isa::kGemmMicrokernel.nt(sh.m, sh.n, sh.k, a.data(), sh.k, b.data(), sh.k, c.data(), sh.n, false); });
    std::snprintf(line, sizeof(line), "{\"kernel\": \"gemm_nt\", \"m\": %d, \"n\": %d, \"k\": %d, \"gflops\": %.2f}", sh.m, sh.n, sh.k,
                  2.0 * sh.m * sh.n * sh.k / t / 1e9);
    rows.push_back(line);
  }
  // The GELU span and its derivative, one thread, over a WaveMix block's
  // activation (16 x 128 x 8 x 8 floats, in L2): values a second, in G/s.
  {
    const std::vector<float> x = random_vector(131072), gy = random_vector(131072);
    std::vector<float> y(x.size());
    const double f = seconds_per_call([&] { isa::gelu_span_forward(x.data(), y.data(), x.size()); });
    const double b = seconds_per_call([&] { isa::gelu_span_backward(x.data(), gy.data(), y.data(), x.size()); });
    std::snprintf(line, sizeof(line), "{\"kernel\": \"gelu_span_forward\", \"count\": %zu, \"gvalues\": %.2f}", x.size(), x.size() / f / 1e9);
    rows.push_back(line);
    std::snprintf(line, sizeof(line), "{\"kernel\": \"gelu_span_backward\", \"count\": %zu, \"gvalues\": %.2f}", x.size(), x.size() / b / 1e9);
    rows.push_back(line);
  }
  std::printf("[\n");
  for (size_t i = 0; i < rows.size(); ++i) std::printf("  %s%s\n", rows[i].c_str(), i + 1 < rows.size() ? "," : "");
  std::printf("]\n");
  return 0;
}
