// Native test driver of the C ABI (core/include/wtconv/c_api.h), linked against
// the core directly and meant to run under AddressSanitizer + UBSan and under
// ThreadSanitizer (see test/native/CMakeLists.txt). Groups:
//   fixtures     every PyTorch fixture family the C ABI can run (SPEC section 5): WTConv2d,
//                DWT/IDWT, conv2d (and the depthwise ones through the depthwise entry
//                points), conv_transpose2d, DCLS construction and DCLS layers
//   random       randomised shapes and options of every op (depthwise conv2d, DWT, IDWT,
//                WTConv2d, conv1d/2d/3d, conv_transpose2d, the WaveMix layers) against plain double
//                references written here (forward) and their exact adjoints
//                (backward: y is affine in each input, so <grad, e_i> is exact)
//   invalid      invalid arguments give the right status and a message
//   oom          a failed allocation gives E_OOM and the core keeps working
//   pool         an error inside a parallel region reaches the caller; the pool stays usable
//   concurrency  several threads call every op at once while others resize the pool
// Usage: c_api_test <group> [--fixtures DIR] [--seed S] [--cases N]
// The seed (default: from the clock, or WTCONV_TEST_SEED) is printed so any run can be replayed.
//
// Adding an op family: write a `run_<op>_fixture` and list it in FIXTURE_FAMILIES, and a
// `random_<op>` case (a reference + Param list) in RANDOM_OPS, and its bad calls in invalid_calls().
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "../../core/src/thread-pool.h"
#include "safetensors.h"
#include "wtconv/c_api.h"

using wtconv_test::Json;
using wtconv_test::SafetensorsFile;
using wtconv_test::TensorF32;
using Vec = std::vector<double>;
using Floats = std::vector<float>;

namespace {

// ---- reporting -------------------------------------------------------------

uint64_t g_seed = 0;
int g_failures = 0;
int g_checks = 0;
std::string g_context;  // what the current case is, printed with a failure

void failure(const char* format, ...) {
  va_list args;
  va_start(args, format);
  char message[1024];
  std::vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  ++g_failures;
  if (g_failures <= 30) {
    std::printf("FAIL [%s] %s (seed %llu)\n", g_context.c_str(), message,
                static_cast<unsigned long long>(g_seed));
  }
}

bool expect_status(wtconv_status got, wtconv_status want, const char* what) {
  ++g_checks;
  if (got == want) return true;
  failure("%s: status %d, expected %d (%s)", what, got, want, wtconv_last_error());
  return false;
}

// SPEC section 5: relative L2 <= 1e-5 and every element within 1e-4 * max(1, max|ref|).
// The randomised cases take the relative L2 against max(|ref|_2, 0.1 sqrt(n)): a result
// whose RMS is below 0.1 (near-cancelling sums, e.g. high-pass bands of 1x1 planes) is
// held to an RMS error of 1e-6 instead, which float32 rounding can meet.
bool g_rms_floor = false;

// Empty when actual passes against ref, else what is wrong.
std::string parity_message(const float* actual, const Vec& ref) {
  double err2 = 0, ref2 = 0, max_abs = 0, max_ref = 0;
  size_t worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(actual[i]) - ref[i];
    err2 += d * d;
    ref2 += ref[i] * ref[i];
    const double a = std::isnan(d) ? INFINITY : std::fabs(d);
    if (a > max_abs) max_abs = a, worst = i;
    max_ref = std::max(max_ref, std::fabs(ref[i]));
  }
  if (g_rms_floor) ref2 = std::max(ref2, 0.01 * static_cast<double>(ref.size()));
  const double rel = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  const double bound = 1e-4 * std::max(1.0, max_ref);
  if (rel <= 1e-5 && max_abs <= bound) return "";
  char message[512];
  std::snprintf(message, sizeof(message),
                "relative L2 %.3g (<= 1e-5), max abs %.3g (<= %.3g) at %zu: got %.9g, reference %.9g", rel, max_abs,
                bound, worst, ref.empty() ? 0.0 : actual[worst], ref.empty() ? 0.0 : ref[worst]);
  return message;
}

bool expect_parity(const float* actual, const Vec& ref, const char* what) {
  ++g_checks;
  const std::string why = parity_message(actual, ref);
  if (why.empty()) return true;
  failure("%s: %s", what, why.c_str());
  return false;
}

bool expect_parity(const Floats& actual, const Vec& ref, const char* what) {
  if (actual.size() != ref.size()) {
    failure("%s: %zu elements, reference has %zu", what, actual.size(), ref.size());
    return false;
  }
  return expect_parity(actual.data(), ref, what);
}

// ---- random numbers (splitmix64) -------------------------------------------

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  int range(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<uint64_t>(hi - lo + 1)); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool coin() { return next() & 1; }
  Floats tensor(size_t size) {
    Floats v(size);
    for (float& f : v) f = static_cast<float>(2 * uniform() - 1);
    return v;
  }
};

Vec widen(const Floats& v) { return Vec(v.begin(), v.end()); }

// ---- plain references (double) ---------------------------------------------

// PyWavelets' dec_lo of db1..db4; the other filters by the quadrature-mirror relations.
const std::vector<std::vector<double>> DEC_LO = {
    {0.7071067811865476, 0.7071067811865476},
    {-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416},
    {0.03522629188570953, -0.08544127388202666, -0.13501102001025458, 0.45987750211849154,
     0.8068915093110925, 0.33267055295008263},
    {-0.010597401785069032, 0.0328830116668852, 0.030841381835560764, -0.18703481171909309,
     -0.027983769416859854, 0.6308807679298589, 0.7148465705529157, 0.2303778133088965},
};

struct Bank {
  int f = 0;
  Vec analysis[4], synthesis[4];  // [band][r * f + c]
  explicit Bank(int wavelet) {
    const Vec& dec_lo = DEC_LO[wavelet - 1];
    f = static_cast<int>(dec_lo.size());
    Vec rec_lo(dec_lo.rbegin(), dec_lo.rend()), dec_hi(f), rec_hi(f);
    for (int i = 0; i < f; ++i) dec_hi[i] = i % 2 == 0 ? -rec_lo[i] : rec_lo[i];
    rec_hi.assign(dec_hi.rbegin(), dec_hi.rend());
    const Vec lo(dec_lo.rbegin(), dec_lo.rend()), hi(dec_hi.rbegin(), dec_hi.rend());
    auto build = [&](Vec* out, const Vec& a, const Vec& b) {
      const Vec* rows[4] = {&a, &b, &a, &b};
      const Vec* cols[4] = {&a, &a, &b, &b};
      for (int band = 0; band < 4; ++band) {
        out[band].resize(f * f);
        for (int r = 0; r < f; ++r)
          for (int c = 0; c < f; ++c) out[band][r * f + c] = (*rows[band])[r] * (*cols[band])[c];
      }
    };
    build(analysis, lo, hi);
    build(synthesis, rec_lo, rec_hi);
  }
};

// One plane (H, W) -> 4 bands (ceil(H/2), ceil(W/2)): zero-pad odd sizes, stride-2
// cross-correlation with padding F/2-1.
Vec ref_analyze(const Bank& b, const double* in, int H, int W) {
  const int h = (H + 1) / 2, w = (W + 1) / 2, p = b.f / 2 - 1;
  Vec out(4 * h * w, 0.0);
  for (int band = 0; band < 4; ++band)
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < w; ++j) {
        double s = 0;
        for (int r = 0; r < b.f; ++r)
          for (int c = 0; c < b.f; ++c) {
            const int y = 2 * i + r - p, x = 2 * j + c - p;
            if (y >= 0 && y < H && x >= 0 && x < W) s += in[y * W + x] * b.analysis[band][r * b.f + c];
          }
        out[(band * h + i) * w + j] = s;
      }
  return out;
}

// 4 bands (h, w) -> transposed stride-2 convolution, cropped to (H, W).
Vec ref_synthesize(const Bank& b, const double* bands, int h, int w, int H, int W) {
  const int p = b.f / 2 - 1;
  Vec out(static_cast<size_t>(H) * W, 0.0);
  for (int band = 0; band < 4; ++band)
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < w; ++j)
        for (int r = 0; r < b.f; ++r)
          for (int c = 0; c < b.f; ++c) {
            const int y = 2 * i + r - p, x = 2 * j + c - p;
            if (y >= 0 && y < H && x >= 0 && x < W)
              out[y * W + x] += bands[(band * h + i) * w + j] * b.synthesis[band][r * b.f + c];
          }
  return out;
}

struct ConvGeometry {
  int h, w, kh, kw, pt, pl, pb, pr, sh, sw;
  int out_h() const { return (h + pt + pb - kh) / sh + 1; }
  int out_w() const { return (w + pl + pr - kw) / sw + 1; }
};

Vec ref_conv_plane(const ConvGeometry& g, const double* in, const double* k, double bias) {
  Vec out(static_cast<size_t>(g.out_h()) * g.out_w());
  for (int i = 0; i < g.out_h(); ++i)
    for (int j = 0; j < g.out_w(); ++j) {
      double s = bias;
      for (int a = 0; a < g.kh; ++a)
        for (int b = 0; b < g.kw; ++b) {
          const int y = i * g.sh - g.pt + a, x = j * g.sw - g.pl + b;
          if (y >= 0 && y < g.h && x >= 0 && x < g.w) s += in[y * g.w + x] * k[a * g.kw + b];
        }
      out[i * g.out_w() + j] = s;
    }
  return out;
}

ConvGeometry same(int h, int w, int k) { return {h, w, k, k, (k - 1) / 2, (k - 1) / 2, k / 2, k / 2, 1, 1}; }

struct DwShape {
  int n, c;
  ConvGeometry g;
};

Vec ref_depthwise(const DwShape& s, const Vec& x, const Vec& wt, const Vec* bias) {
  Vec y;
  const size_t plane = static_cast<size_t>(s.g.h) * s.g.w, taps = static_cast<size_t>(s.g.kh) * s.g.kw;
  for (int p = 0; p < s.n * s.c; ++p) {
    const int ch = p % s.c;
    Vec o = ref_conv_plane(s.g, &x[p * plane], &wt[ch * taps], bias ? (*bias)[ch] : 0.0);
    y.insert(y.end(), o.begin(), o.end());
  }
  return y;
}

struct DwtShape {
  int n, c, h, w, levels, wavelet;
  std::vector<int> in_h, in_w, band_h, band_w;
  void init() {
    int hh = h, ww = w;
    for (int l = 0; l < levels; ++l) {
      in_h.push_back(hh), in_w.push_back(ww);
      band_h.push_back(hh = (hh + 1) / 2), band_w.push_back(ww = (ww + 1) / 2);
    }
  }
  size_t bands_size(int l) const { return static_cast<size_t>(n) * c * 4 * band_h[l] * band_w[l]; }
  size_t x_size() const { return static_cast<size_t>(n) * c * h * w; }
};

// Bands of every level, concatenated.
Vec ref_dwt(const DwtShape& s, const Vec& x) {
  const Bank bank(s.wavelet);
  std::vector<Vec> levels(s.levels);
  for (int p = 0; p < s.n * s.c; ++p) {
    Vec cur(&x[p * static_cast<size_t>(s.h) * s.w], &x[(p + 1) * static_cast<size_t>(s.h) * s.w]);
    for (int l = 0; l < s.levels; ++l) {
      Vec t = ref_analyze(bank, cur.data(), s.in_h[l], s.in_w[l]);
      levels[l].insert(levels[l].end(), t.begin(), t.end());
      cur.assign(t.begin(), t.begin() + s.band_h[l] * s.band_w[l]);
    }
  }
  Vec all;
  for (const Vec& v : levels) all.insert(all.end(), v.begin(), v.end());
  return all;
}

// Inverse from concatenated bands (LL of levels below the last ignored).
Vec ref_idwt(const DwtShape& s, const Vec& bands) {
  const Bank bank(s.wavelet);
  std::vector<size_t> offset(s.levels, 0);
  for (int l = 1; l < s.levels; ++l) offset[l] = offset[l - 1] + s.bands_size(l - 1);
  Vec y;
  for (int p = 0; p < s.n * s.c; ++p) {
    Vec below;
    for (int l = s.levels - 1; l >= 0; --l) {
      const size_t bp = static_cast<size_t>(s.band_h[l]) * s.band_w[l];
      Vec t(&bands[offset[l] + p * 4 * bp], &bands[offset[l] + (p + 1) * 4 * bp]);
      if (!below.empty()) std::copy(below.begin(), below.end(), t.begin());
      below = ref_synthesize(bank, t.data(), s.band_h[l], s.band_w[l], s.in_h[l], s.in_w[l]);
    }
    y.insert(y.end(), below.begin(), below.end());
  }
  return y;
}

struct WtShape {
  int n, c, h, w, k, levels, sh, sw, wavelet;
  bool bias;
  int out_h() const { return (h + sh - 1) / sh; }
  int out_w() const { return (w + sw - 1) / sw; }
};

struct WtParams {
  Vec x, base_weight, base_bias, base_scale;
  std::vector<Vec> wavelet_weight, wavelet_scale;
};

// SPEC section 1, plane by plane.
Vec ref_wtconv2d(const WtShape& s, const WtParams& P) {
  const Bank bank(s.wavelet);
  const size_t taps = static_cast<size_t>(s.k) * s.k;
  Vec y;
  for (int p = 0; p < s.n * s.c; ++p) {
    const int ch = p % s.c;
    const double* x = &P.x[p * static_cast<size_t>(s.h) * s.w];
    std::vector<Vec> z(s.levels);
    std::vector<int> H(s.levels), W(s.levels);
    Vec cur(x, x + static_cast<size_t>(s.h) * s.w);
    int hh = s.h, ww = s.w;
    for (int l = 0; l < s.levels; ++l) {
      H[l] = hh, W[l] = ww;
      const Vec t = ref_analyze(bank, cur.data(), hh, ww);
      const int bh = (hh + 1) / 2, bw = (ww + 1) / 2;
      const size_t bp = static_cast<size_t>(bh) * bw;
      z[l].resize(4 * bp);
      for (int b = 0; b < 4; ++b) {
        const int bc = ch * 4 + b;
        Vec o = ref_conv_plane(same(bh, bw, s.k), &t[b * bp], &P.wavelet_weight[l][bc * taps], 0.0);
        for (size_t i = 0; i < bp; ++i) z[l][b * bp + i] = o[i] * P.wavelet_scale[l][bc];
      }
      cur.assign(t.begin(), t.begin() + bp);
      hh = bh, ww = bw;
    }
    Vec next;
    for (int l = s.levels - 1; l >= 0; --l) {
      const int bh = (H[l] + 1) / 2, bw = (W[l] + 1) / 2;
      for (size_t i = 0; i < next.size(); ++i) z[l][i] += next[i];
      next = ref_synthesize(bank, z[l].data(), bh, bw, H[l], W[l]);
    }
    const Vec base = ref_conv_plane(same(s.h, s.w, s.k), x, &P.base_weight[ch * taps],
                                    s.bias ? P.base_bias[ch] : 0.0);
    for (int i = 0; i < s.h; i += s.sh)
      for (int j = 0; j < s.w; j += s.sw)
        y.push_back(P.base_scale[ch] * base[i * s.w + j] + next[i * s.w + j]);
  }
  return y;
}

// conv{1,2,3}d as one 3-axis convolution (leading axes of size 1).
struct ConvNd {
  int dims, n, cin, cout, groups;
  int S[3] = {1, 1, 1}, K[3] = {1, 1, 1}, st[3] = {1, 1, 1}, pd[3] = {0, 0, 0}, dl[3] = {1, 1, 1};
  int O(int a) const { return (S[a] + 2 * pd[a] - dl[a] * (K[a] - 1) - 1) / st[a] + 1; }
  size_t in_plane() const { return static_cast<size_t>(S[0]) * S[1] * S[2]; }
  size_t out_plane() const { return static_cast<size_t>(O(0)) * O(1) * O(2); }
  size_t taps() const { return static_cast<size_t>(K[0]) * K[1] * K[2]; }
  size_t x_size() const { return static_cast<size_t>(n) * cin * in_plane(); }
  size_t w_size() const { return static_cast<size_t>(cout) * (cin / groups) * taps(); }
  size_t y_size() const { return static_cast<size_t>(n) * cout * out_plane(); }
};

Vec ref_conv(const ConvNd& c, const Vec& x, const Vec& w, const Vec* bias) {
  Vec y(c.y_size());
  const int cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  for (int b = 0; b < c.n; ++b)
    for (int o = 0; o < c.cout; ++o) {
      const int grp = o / cout_g;
      for (int oz = 0; oz < c.O(0); ++oz)
        for (int oy = 0; oy < c.O(1); ++oy)
          for (int ox = 0; ox < c.O(2); ++ox) {
            double acc = bias ? (*bias)[o] : 0.0;
            for (int ci = 0; ci < cin_g; ++ci)
              for (int kz = 0; kz < c.K[0]; ++kz)
                for (int ky = 0; ky < c.K[1]; ++ky)
                  for (int kx = 0; kx < c.K[2]; ++kx) {
                    const int iz = oz * c.st[0] - c.pd[0] + kz * c.dl[0], iy = oy * c.st[1] - c.pd[1] + ky * c.dl[1],
                              ix = ox * c.st[2] - c.pd[2] + kx * c.dl[2];
                    if (iz < 0 || iz >= c.S[0] || iy < 0 || iy >= c.S[1] || ix < 0 || ix >= c.S[2]) continue;
                    acc += x[(static_cast<size_t>(b) * c.cin + grp * cin_g + ci) * c.in_plane() +
                             (static_cast<size_t>(iz) * c.S[1] + iy) * c.S[2] + ix] *
                           w[(static_cast<size_t>(o) * cin_g + ci) * c.taps() + (kz * c.K[1] + ky) * c.K[2] + kx];
                  }
            y[(static_cast<size_t>(b) * c.cout + o) * c.out_plane() + (static_cast<size_t>(oz) * c.O(1) + oy) * c.O(2) + ox] = acc;
          }
    }
  return y;
}

// conv_transpose2d: x (n, cin, h, w), weight (cin, cout / groups, kh, kw).
struct ConvT2d {
  int n, cin, cout, groups, h, w, kh, kw, sh, sw, ph, pw, oph, opw, dh, dw;
  int out_h() const { return (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1; }
  int out_w() const { return (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1; }
};

Vec ref_conv_transpose2d(const ConvT2d& c, const Vec& x, const Vec& wt, const Vec* bias) {
  const int OH = c.out_h(), OW = c.out_w(), cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  Vec y(static_cast<size_t>(c.n) * c.cout * OH * OW);
  for (int b = 0; b < c.n; ++b)
    for (int o = 0; o < c.cout; ++o)
      for (int i = 0; i < OH * OW; ++i) y[(static_cast<size_t>(b) * c.cout + o) * OH * OW + i] = bias ? (*bias)[o] : 0.0;
  for (int b = 0; b < c.n; ++b)
    for (int ci = 0; ci < c.cin; ++ci) {
      const int grp = ci / cin_g;
      for (int i = 0; i < c.h; ++i)
        for (int j = 0; j < c.w; ++j) {
          const double v = x[((static_cast<size_t>(b) * c.cin + ci) * c.h + i) * c.w + j];
          for (int oc = 0; oc < cout_g; ++oc)
            for (int a = 0; a < c.kh; ++a)
              for (int e = 0; e < c.kw; ++e) {
                const int oy = i * c.sh - c.ph + a * c.dh, ox = j * c.sw - c.pw + e * c.dw;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                y[((static_cast<size_t>(b) * c.cout + grp * cout_g + oc) * OH + oy) * OW + ox] +=
                    v * wt[((static_cast<size_t>(ci) * cout_g + oc) * c.kh + a) * c.kw + e];
              }
        }
    }
  return y;
}

wtconv_status conv_forward(const ConvNd& c, const float* x, const float* w, const float* b, float* y) {
  if (c.dims == 1) return wtconv_conv1d_forward(c.n, c.cin, c.S[2], c.cout, c.K[2], c.st[2], c.pd[2], c.dl[2], c.groups, x, w, b, y);
  if (c.dims == 2) {
    return wtconv_conv2d_forward(c.n, c.cin, c.S[1], c.S[2], c.cout, c.K[1], c.K[2], c.st[1], c.st[2], c.pd[1], c.pd[2],
                                 c.dl[1], c.dl[2], c.groups, x, w, b, y);
  }
  return wtconv_conv3d_forward(c.n, c.cin, c.S[0], c.S[1], c.S[2], c.cout, c.K[0], c.K[1], c.K[2], c.st[0], c.st[1],
                               c.st[2], c.pd[0], c.pd[1], c.pd[2], c.dl[0], c.dl[1], c.dl[2], c.groups, x, w, b, y);
}

wtconv_status conv_backward(const ConvNd& c, const float* x, const float* w, const float* gy, float* gx, float* gw,
                            float* gb) {
  if (c.dims == 1) {
    return wtconv_conv1d_backward(c.n, c.cin, c.S[2], c.cout, c.K[2], c.st[2], c.pd[2], c.dl[2], c.groups, x, w, gy, gx,
                                  gw, gb);
  }
  if (c.dims == 2) {
    return wtconv_conv2d_backward(c.n, c.cin, c.S[1], c.S[2], c.cout, c.K[1], c.K[2], c.st[1], c.st[2], c.pd[1],
                                  c.pd[2], c.dl[1], c.dl[2], c.groups, x, w, gy, gx, gw, gb);
  }
  return wtconv_conv3d_backward(c.n, c.cin, c.S[0], c.S[1], c.S[2], c.cout, c.K[0], c.K[1], c.K[2], c.st[0], c.st[1],
                                c.st[2], c.pd[0], c.pd[1], c.pd[2], c.dl[0], c.dl[1], c.dl[2], c.groups, x, w, gy, gx,
                                gw, gb);
}

// ---- gradient checks --------------------------------------------------------

// An input of an op whose output is affine in it: the reference reads *value
// (double), the core wrote *grad.
struct Param {
  std::string name;
  Vec* value;
  const Floats* grad;
};

// grad_i = <f(v + e_i) - f(v), gy> exactly (f is affine in v). Checks sampled
// elements with the SPEC criterion and the whole vector with a dot product.
void check_grads(const std::function<Vec()>& f, const Vec& gy, const std::vector<Param>& params, Rng& rng) {
  const Vec y0 = f();
  for (const Param& p : params) {
    Vec& v = *p.value;
    if (p.grad->size() != v.size()) {
      failure("grad %s: %zu elements, expected %zu", p.name.c_str(), p.grad->size(), v.size());
      continue;
    }
    // Sampled elements (all of them when few).
    std::vector<size_t> idx;
    if (v.size() <= 24) {
      for (size_t i = 0; i < v.size(); ++i) idx.push_back(i);
    } else {
      for (int j = 0; j < 16; ++j) idx.push_back(rng.next() % v.size());
    }
    Vec want, terms;
    Floats got;
    for (size_t i : idx) {
      const double keep = v[i];
      v[i] = keep + 1.0;
      const Vec y1 = f();
      v[i] = keep;
      double g = 0, abs = 0;
      for (size_t j = 0; j < y1.size(); ++j) g += (y1[j] - y0[j]) * gy[j], abs += std::fabs((y1[j] - y0[j]) * gy[j]);
      want.push_back(g);
      terms.push_back(abs);
      got.push_back((*p.grad)[i]);
    }
    ++g_checks;
    const std::string why = parity_message(got.data(), want);
    // A gradient that is a long, cancelling float32 sum (a bias summing every output) is
    // judged by its conditioning instead: error <= 1e-5 * sum of |terms|.
    bool conditioned = true;
    for (size_t j = 0; j < got.size(); ++j) conditioned &= std::fabs(got[j] - want[j]) <= 1e-5 * terms[j] + 1e-7;
    if (!why.empty() && !conditioned) failure("grad %s (sampled): %s", p.name.c_str(), why.c_str());
    // Whole vector: <grad, d> = <f(v + d) - f(v), gy>.
    Vec d(v.size());
    for (double& e : d) e = 2 * rng.uniform() - 1;
    const Vec keep = v;
    for (size_t i = 0; i < v.size(); ++i) v[i] += d[i];
    const Vec y1 = f();
    v = keep;
    double lhs = 0, lhs_abs = 0, rhs = 0, rhs_abs = 0;
    for (size_t i = 0; i < v.size(); ++i) lhs += (*p.grad)[i] * d[i], lhs_abs += std::fabs((*p.grad)[i] * d[i]);
    for (size_t j = 0; j < y1.size(); ++j) rhs += (y1[j] - y0[j]) * gy[j], rhs_abs += std::fabs((y1[j] - y0[j]) * gy[j]);
    ++g_checks;
    if (!(std::fabs(lhs - rhs) <= 1e-5 * std::max({lhs_abs, rhs_abs, 1e-3}))) {
      failure("grad %s: <grad, d> = %.9g but the reference gives %.9g", p.name.c_str(), lhs, rhs);
    }
  }
}

// ---- fixtures ------------------------------------------------------------------

Floats get(const SafetensorsFile& f, const std::string& name) { return f.at(name).data; }
Vec getd(const SafetensorsFile& f, const std::string& name) { return widen(f.at(name).data); }

int wavelet_id(const std::string& name) {
  if (name == "haar" || name == "db1") return 1;
  if (name.size() == 3 && name[0] == 'd' && name[1] == 'b' && name[2] >= '1' && name[2] <= '4') return name[2] - '0';
  return 0;
}

// Returns false when the C ABI has no entry point for this fixture's configuration.
bool run_wtconv2d_fixture(const SafetensorsFile& f) {
  const Json& cfg = f.config;
  const TensorF32& x = f.at("x");
  WtShape s{static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), static_cast<int>(x.dim(2)),
            static_cast<int>(x.dim(3)), static_cast<int>(cfg.num("kernel_size", 0)),
            static_cast<int>(cfg.num("levels", 0)), static_cast<int>(cfg.pair("stride", 0, 1)),
            static_cast<int>(cfg.pair("stride", 1, 1)), wavelet_id(cfg.str("wavelet", "db1")),
            f.has("base_conv.bias")};
  std::vector<Floats> ww, ws, gww(s.levels), gws(s.levels);
  std::vector<const float*> pww, pws;
  std::vector<float*> pgww, pgws;
  for (int l = 0; l < s.levels; ++l) {
    ww.push_back(get(f, "wavelet_convs." + std::to_string(l) + ".weight"));
    ws.push_back(get(f, "wavelet_scale." + std::to_string(l) + ".weight"));
  }
  for (int l = 0; l < s.levels; ++l) {
    pww.push_back(ww[l].data()), pws.push_back(ws[l].data());
    gww[l].resize(ww[l].size()), gws[l].resize(ws[l].size());
    pgww.push_back(gww[l].data()), pgws.push_back(gws[l].data());
  }
  const Floats bw = get(f, "base_conv.weight"), bs = get(f, "base_scale.weight");
  const Floats bb = s.bias ? get(f, "base_conv.bias") : Floats();
  const Floats xv = get(f, "x"), gy = get(f, "grad_y");
  Floats y(f.at("y").data.size());
  expect_status(wtconv_wtconv2d_forward(s.n, s.c, s.h, s.w, s.k, s.levels, s.sh, s.sw, s.wavelet, xv.data(),
                                        bw.data(), s.bias ? bb.data() : nullptr, bs.data(), pww.data(),
                                        pws.data(), y.data()),
                WTCONV_OK, "forward");
  expect_parity(y, getd(f, "y"), "y");
  // The plain reference agrees with PyTorch too (so the random cases test against the right thing).
  WtParams P{widen(xv), widen(bw), widen(bb), widen(bs), {}, {}};
  for (int l = 0; l < s.levels; ++l) P.wavelet_weight.push_back(widen(ww[l])), P.wavelet_scale.push_back(widen(ws[l]));
  Floats plain;
  for (double v : ref_wtconv2d(s, P)) plain.push_back(static_cast<float>(v));
  expect_parity(plain, getd(f, "y"), "plain reference y");
  Floats gx(xv.size()), gbw(bw.size()), gbb(bb.size()), gbs(bs.size());
  expect_status(wtconv_wtconv2d_backward(s.n, s.c, s.h, s.w, s.k, s.levels, s.sh, s.sw, s.wavelet, xv.data(),
                                         bw.data(), s.bias ? bb.data() : nullptr, bs.data(), pww.data(),
                                         pws.data(), gy.data(), gx.data(), gbw.data(),
                                         s.bias ? gbb.data() : nullptr, gbs.data(), pgww.data(), pgws.data()),
                WTCONV_OK, "backward");
  expect_parity(gx, getd(f, "grad.x"), "grad.x");
  expect_parity(gbw, getd(f, "grad.base_conv.weight"), "grad.base_conv.weight");
  if (s.bias) expect_parity(gbb, getd(f, "grad.base_conv.bias"), "grad.base_conv.bias");
  expect_parity(gbs, getd(f, "grad.base_scale.weight"), "grad.base_scale.weight");
  for (int l = 0; l < s.levels; ++l) {
    const std::string i = std::to_string(l);
    expect_parity(gww[l], getd(f, "grad.wavelet_convs." + i + ".weight"), ("grad.wavelet_convs." + i).c_str());
    expect_parity(gws[l], getd(f, "grad.wavelet_scale." + i + ".weight"), ("grad.wavelet_scale." + i).c_str());
  }
  return true;
}

bool run_dwt2d_fixture(const SafetensorsFile& f) {
  const TensorF32& x = f.at("x");
  DwtShape s{static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), static_cast<int>(x.dim(2)),
             static_cast<int>(x.dim(3)), static_cast<int>(f.config.num("levels", 0)),
             wavelet_id(f.config.str("wavelet", "db1")), {}, {}, {}, {}};
  s.init();
  std::vector<Floats> bands(s.levels), ref_bands(s.levels), grad_bands(s.levels), igrad(s.levels);
  std::vector<float*> pb, pig;
  std::vector<const float*> pref, pgrad;
  for (int l = 0; l < s.levels; ++l) {
    const std::string i = std::to_string(l);
    bands[l].resize(s.bands_size(l)), igrad[l].resize(s.bands_size(l));
    ref_bands[l] = get(f, "bands." + i), grad_bands[l] = get(f, "grad_bands." + i);
    pb.push_back(bands[l].data()), pig.push_back(igrad[l].data());
    pref.push_back(ref_bands[l].data()), pgrad.push_back(grad_bands[l].data());
  }
  const Floats xv = get(f, "x");
  expect_status(wtconv_dwt2d_forward(s.n, s.c, s.h, s.w, s.levels, s.wavelet, xv.data(), pb.data()), WTCONV_OK,
                "dwt forward");
  const Vec plain = ref_dwt(s, widen(xv));
  size_t at = 0;
  for (int l = 0; l < s.levels; ++l) {
    const std::string i = std::to_string(l);
    expect_parity(bands[l], getd(f, "bands." + i), ("bands." + i).c_str());
    Floats r(plain.begin() + at, plain.begin() + at + s.bands_size(l));
    expect_parity(r, getd(f, "bands." + i), ("plain reference bands." + i).c_str());
    at += s.bands_size(l);
  }
  Floats gx(xv.size()), y(xv.size());
  expect_status(wtconv_dwt2d_backward(s.n, s.c, s.h, s.w, s.levels, s.wavelet, pgrad.data(), gx.data()), WTCONV_OK,
                "dwt backward");
  expect_parity(gx, getd(f, "grad.x"), "grad.x");
  expect_status(wtconv_idwt2d_forward(s.n, s.c, s.h, s.w, s.levels, s.wavelet, pref.data(), y.data()), WTCONV_OK,
                "idwt forward");
  expect_parity(y, getd(f, "idwt.y"), "idwt.y");
  const Floats igy = get(f, "idwt.grad_y");
  expect_status(wtconv_idwt2d_backward(s.n, s.c, s.h, s.w, s.levels, s.wavelet, igy.data(), pig.data()), WTCONV_OK,
                "idwt backward");
  for (int l = 0; l < s.levels; ++l) {
    const std::string i = std::to_string(l);
    expect_parity(igrad[l], getd(f, "idwt.grad.bands." + i), ("idwt.grad.bands." + i).c_str());
  }
  return true;
}

// conv2d fixtures through the general entry points, and the depthwise ones (groups = in = out
// channels, dilation 1) through the depthwise entry points too.
bool run_conv2d_fixture(const SafetensorsFile& f) {
  const Json& cfg = f.config;
  const TensorF32& x = f.at("x");
  const TensorF32& wt = f.at("weight");
  const bool bias = f.has("bias");
  const Floats xv = get(f, "x"), wv = get(f, "weight"), bv = bias ? get(f, "bias") : Floats(), gy = get(f, "grad_y");
  ConvNd c{2, static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), static_cast<int>(wt.dim(0)),
           static_cast<int>(cfg.num("groups", 1))};
  for (int a = 0; a < 2; ++a) {
    c.S[1 + a] = static_cast<int>(x.dim(2 + a)), c.K[1 + a] = static_cast<int>(wt.dim(2 + a));
    c.st[1 + a] = static_cast<int>(cfg.pair("stride", a, 1)), c.pd[1 + a] = static_cast<int>(cfg.pair("padding", a, 0));
    c.dl[1 + a] = static_cast<int>(cfg.pair("dilation", a, 1));
  }
  Floats y(c.y_size()), gx(xv.size()), gw(wv.size()), gb(bv.size());
  expect_status(conv_forward(c, xv.data(), wv.data(), bias ? bv.data() : nullptr, y.data()), WTCONV_OK, "conv2d forward");
  expect_parity(y, getd(f, "y"), "y");
  Floats plain;
  const Vec bd = widen(bv);
  for (double v : ref_conv(c, widen(xv), widen(wv), bias ? &bd : nullptr)) plain.push_back(static_cast<float>(v));
  expect_parity(plain, getd(f, "y"), "plain reference y");
  expect_status(conv_backward(c, xv.data(), wv.data(), gy.data(), gx.data(), gw.data(), bias ? gb.data() : nullptr),
                WTCONV_OK, "conv2d backward");
  expect_parity(gx, getd(f, "grad.x"), "grad.x");
  expect_parity(gw, getd(f, "grad.weight"), "grad.weight");
  if (bias) expect_parity(gb, getd(f, "grad.bias"), "grad.bias");
  if (c.groups == c.cin && c.cout == c.cin && c.dl[1] == 1 && c.dl[2] == 1) {
    const int n = c.n, ch = c.cin, h = c.S[1], w = c.S[2], kh = c.K[1], kw = c.K[2], ph = c.pd[1], pw = c.pd[2];
    Floats y2(y.size()), gx2(gx.size()), gw2(gw.size()), gb2(gb.size());
    expect_status(wtconv_depthwise_conv2d_forward(n, ch, h, w, kh, kw, ph, pw, ph, pw, c.st[1], c.st[2], xv.data(),
                                                  wv.data(), bias ? bv.data() : nullptr, y2.data()),
                  WTCONV_OK, "depthwise forward");
    expect_parity(y2, getd(f, "y"), "depthwise y");
    expect_status(wtconv_depthwise_conv2d_backward(n, ch, h, w, kh, kw, ph, pw, ph, pw, c.st[1], c.st[2], xv.data(),
                                                   wv.data(), gy.data(), gx2.data(), gw2.data(),
                                                   bias ? gb2.data() : nullptr),
                  WTCONV_OK, "depthwise backward");
    expect_parity(gx2, getd(f, "grad.x"), "depthwise grad.x");
    expect_parity(gw2, getd(f, "grad.weight"), "depthwise grad.weight");
  }
  return true;
}

bool run_conv_transpose2d_fixture(const SafetensorsFile& f) {
  const Json& cfg = f.config;
  const TensorF32& x = f.at("x");
  const TensorF32& wt = f.at("weight");
  const bool bias = f.has("bias");
  const int groups = static_cast<int>(cfg.num("groups", 1));
  ConvT2d c{static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), static_cast<int>(wt.dim(1)) * groups, groups,
            static_cast<int>(x.dim(2)), static_cast<int>(x.dim(3)), static_cast<int>(wt.dim(2)),
            static_cast<int>(wt.dim(3)), static_cast<int>(cfg.pair("stride", 0, 1)),
            static_cast<int>(cfg.pair("stride", 1, 1)), static_cast<int>(cfg.pair("padding", 0, 0)),
            static_cast<int>(cfg.pair("padding", 1, 0)), static_cast<int>(cfg.pair("output_padding", 0, 0)),
            static_cast<int>(cfg.pair("output_padding", 1, 0)), static_cast<int>(cfg.pair("dilation", 0, 1)),
            static_cast<int>(cfg.pair("dilation", 1, 1))};
  const Floats xv = get(f, "x"), wv = get(f, "weight"), bv = bias ? get(f, "bias") : Floats(), gy = get(f, "grad_y");
  Floats y(f.at("y").data.size()), gx(xv.size()), gw(wv.size()), gb(bv.size());
  expect_status(wtconv_conv_transpose2d_forward(c.n, c.cin, c.h, c.w, c.cout, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.oph,
                                                c.opw, c.dh, c.dw, c.groups, xv.data(), wv.data(), nullptr,
                                                bias ? bv.data() : nullptr, nullptr, y.data()),
                WTCONV_OK, "conv_transpose2d forward");
  expect_parity(y, getd(f, "y"), "y");
  Floats plain;
  const Vec bd = widen(bv);
  for (double v : ref_conv_transpose2d(c, widen(xv), widen(wv), bias ? &bd : nullptr)) plain.push_back(static_cast<float>(v));
  expect_parity(plain, getd(f, "y"), "plain reference y");
  expect_status(wtconv_conv_transpose2d_backward(c.n, c.cin, c.h, c.w, c.cout, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.oph,
                                                 c.opw, c.dh, c.dw, c.groups, xv.data(), wv.data(), gy.data(),
                                                 gx.data(), gw.data(), bias ? gb.data() : nullptr),
                WTCONV_OK, "conv_transpose2d backward");
  expect_parity(gx, getd(f, "grad.x"), "grad.x");
  expect_parity(gw, getd(f, "grad.weight"), "grad.weight");
  if (bias) expect_parity(gb, getd(f, "grad.bias"), "grad.bias");
  return true;
}

// DCLS kernel construction, and the DCLS layers as construction followed by conv{1,2,3}d
// (the chain rule joins the two backward passes).
bool run_dcls_fixture(const SafetensorsFile& f) {
  const Json& cfg = f.config;
  const std::string op = cfg.str("op", "");
  const bool layer = op != "dcls_construct";
  const TensorF32& wt = f.at("weight");
  const int dims = layer ? op[4] - '0' : static_cast<int>(cfg.num("dims", 0));
  const int version = cfg.str("version", "v0") == "gauss" ? 1 : 0;
  int size[3] = {1, 1, 1};
  for (int a = 0; a < dims; ++a) size[a] = static_cast<int>(cfg.pair("dilated_kernel_size", a, 1));
  const int out = static_cast<int>(wt.dim(0)), in_g = static_cast<int>(wt.dim(1)), count = static_cast<int>(wt.dim(2));
  const Floats wv = get(f, "weight"), P = get(f, "P"), SIG = version ? get(f, "SIG") : Floats();
  Floats kernel(static_cast<size_t>(out) * in_g * size[0] * size[1] * size[2]);
  expect_status(wtconv_dcls_construct_forward(dims, out, in_g, count, size[0], size[1], size[2], version, wv.data(),
                                              P.data(), version ? SIG.data() : nullptr, kernel.data()),
                WTCONV_OK, "construct forward");
  Floats gw(wv.size()), gP(P.size()), gSIG(SIG.size());
  if (!layer) {
    expect_parity(kernel, getd(f, "y"), "kernel");
    const Floats gk = get(f, "grad_y");
    expect_status(wtconv_dcls_construct_backward(dims, out, in_g, count, size[0], size[1], size[2], version, wv.data(),
                                                 P.data(), version ? SIG.data() : nullptr, gk.data(), gw.data(),
                                                 gP.data(), version ? gSIG.data() : nullptr),
                  WTCONV_OK, "construct backward");
  } else {
    const TensorF32& x = f.at("x");
    const bool bias = f.has("bias");
    ConvNd c{dims, static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)), out, static_cast<int>(cfg.num("groups", 1))};
    for (int a = 0; a < dims; ++a) {
      const int axis = 3 - dims + a;
      c.S[axis] = static_cast<int>(x.dim(2 + a)), c.K[axis] = size[a];
      c.st[axis] = static_cast<int>(cfg.pair("stride", a, 1)), c.pd[axis] = static_cast<int>(cfg.pair("padding", a, 0));
    }
    const Floats xv = get(f, "x"), bv = bias ? get(f, "bias") : Floats(), gy = get(f, "grad_y");
    Floats y(c.y_size()), gx(xv.size()), gk(kernel.size()), gb(bv.size());
    expect_status(conv_forward(c, xv.data(), kernel.data(), bias ? bv.data() : nullptr, y.data()), WTCONV_OK, "conv forward");
    expect_parity(y, getd(f, "y"), "y");
    expect_status(conv_backward(c, xv.data(), kernel.data(), gy.data(), gx.data(), gk.data(), bias ? gb.data() : nullptr),
                  WTCONV_OK, "conv backward");
    expect_parity(gx, getd(f, "grad.x"), "grad.x");
    if (bias) expect_parity(gb, getd(f, "grad.bias"), "grad.bias");
    expect_status(wtconv_dcls_construct_backward(dims, out, in_g, count, size[0], size[1], size[2], version, wv.data(),
                                                 P.data(), version ? SIG.data() : nullptr, gk.data(), gw.data(),
                                                 gP.data(), version ? gSIG.data() : nullptr),
                  WTCONV_OK, "construct backward");
  }
  expect_parity(gw, getd(f, "grad.weight"), "grad.weight");
  expect_parity(gP, getd(f, "grad.P"), "grad.P");
  if (version) expect_parity(gSIG, getd(f, "grad.SIG"), "grad.SIG");
  return true;
}

struct FixtureFamily {
  const char* op;  // __metadata__.config.op
  bool (*run)(const SafetensorsFile&);
};
const FixtureFamily FIXTURE_FAMILIES[] = {
    {"wtconv2d", run_wtconv2d_fixture},
    {"dwt2d", run_dwt2d_fixture},
    {"conv2d", run_conv2d_fixture},
    {"conv_transpose2d", run_conv_transpose2d_fixture},
    {"dcls_construct", run_dcls_fixture},
    {"dcls1d", run_dcls_fixture},
    {"dcls2d", run_dcls_fixture},
    {"dcls3d", run_dcls_fixture},
};

int group_fixtures(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0) names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    std::printf("FAIL no fixtures in %s\n", dir.c_str());
    return 1;
  }
  int ran = 0;
  std::string not_in_abi;
  for (const std::string& name : names) {
    SafetensorsFile f;
    std::string error;
    g_context = name;
    if (!read_safetensors(dir + "/" + name, &f, &error)) {
      failure("cannot read: %s", error.c_str());
      continue;
    }
    const std::string op = f.config.str("op", "");
    bool done = false;
    for (const FixtureFamily& family : FIXTURE_FAMILIES) {
      if (op == family.op) {
        wtconv_set_num_threads(1 + ran % 3);
        done = family.run(f);
      }
    }
    if (done) {
      ++ran;
    } else {
      not_in_abi += " " + name.substr(0, name.size() - 12);
    }
  }
  std::printf("fixtures: %d run through the C ABI, %d checks; no C ABI entry point yet for:%s\n", ran, g_checks,
              not_in_abi.c_str());
  return ran > 0 ? 0 : 1;
}

// ---- random cases ------------------------------------------------------------

void random_depthwise(Rng& rng) {
  DwShape s{rng.range(1, 2), rng.range(1, 4), {}};
  ConvGeometry& g = s.g;
  g.h = rng.range(1, 12), g.w = rng.range(1, 12);
  g.pt = rng.range(0, 3), g.pl = rng.range(0, 3), g.pb = rng.range(0, 3), g.pr = rng.range(0, 3);
  g.kh = rng.range(1, std::min(8, g.h + g.pt + g.pb)), g.kw = rng.range(1, std::min(8, g.w + g.pl + g.pr));
  g.sh = rng.range(1, 4), g.sw = rng.range(1, 4);
  if (rng.range(0, 3) == 0) {
    // A large square kernel at stride 1 (AVX-512 reads its window through a stage).
    g.kh = g.kw = rng.range(6, 20);
    g.h = rng.range(1, 40), g.w = rng.range(1, 40);
    g.pt = g.pl = rng.range((g.kh - 1) / 2, g.kh - 1);
    g.pb = g.kh - 1 - g.pt, g.pr = g.kw - 1 - g.pl;
    g.sh = g.sw = 1;
  }
  const bool bias = rng.coin();
  char ctx[200];
  std::snprintf(ctx, sizeof(ctx), "depthwise n%d c%d %dx%d k%dx%d pad(%d,%d,%d,%d) stride(%d,%d) bias %d", s.n, s.c,
                g.h, g.w, g.kh, g.kw, g.pt, g.pl, g.pb, g.pr, g.sh, g.sw, bias);
  g_context = ctx;
  const size_t taps = static_cast<size_t>(g.kh) * g.kw;
  Floats x = rng.tensor(static_cast<size_t>(s.n) * s.c * g.h * g.w), wt = rng.tensor(s.c * taps),
         b = rng.tensor(bias ? s.c : 0);
  Floats y(static_cast<size_t>(s.n) * s.c * g.out_h() * g.out_w());
  expect_status(wtconv_depthwise_conv2d_forward(s.n, s.c, g.h, g.w, g.kh, g.kw, g.pt, g.pl, g.pb, g.pr, g.sh, g.sw,
                                                x.data(), wt.data(), bias ? b.data() : nullptr, y.data()),
                WTCONV_OK, "forward");
  Vec xd = widen(x), wd = widen(wt), bd = widen(b);
  auto f = [&] { return ref_depthwise(s, xd, wd, bias ? &bd : nullptr); };
  expect_parity(y, f(), "y");
  const Floats gy = rng.tensor(y.size());
  // Any subset of the gradients may be asked for.
  const int want = rng.range(1, 7);
  Floats gx(x.size()), gw(wt.size()), gb(bias ? s.c : 0);
  expect_status(wtconv_depthwise_conv2d_backward(s.n, s.c, g.h, g.w, g.kh, g.kw, g.pt, g.pl, g.pb, g.pr, g.sh, g.sw,
                                                 x.data(), wt.data(), gy.data(), want & 1 ? gx.data() : nullptr,
                                                 want & 2 ? gw.data() : nullptr,
                                                 want & 4 && bias ? gb.data() : nullptr),
                WTCONV_OK, "backward");
  std::vector<Param> params;
  if (want & 1) params.push_back({"x", &xd, &gx});
  if (want & 2) params.push_back({"weight", &wd, &gw});
  if (want & 4 && bias) params.push_back({"bias", &bd, &gb});
  check_grads(f, widen(gy), params, rng);
}

DwtShape random_dwt_shape(Rng& rng) {
  DwtShape s{rng.range(1, 2), rng.range(1, 3), rng.range(1, 20), rng.range(1, 20), 0, rng.range(1, 4), {}, {}, {}, {}};
  s.levels = rng.range(1, rng.coin() ? 3 : 7);  // deep cascades reach 1x1 planes
  s.init();
  return s;
}

// Splits a concatenation of every level's bands into per-level buffers.
struct BandBuffers {
  std::vector<Floats> level;
  std::vector<float*> ptr;
  BandBuffers(const DwtShape& s, const Floats* all) {
    size_t at = 0;
    for (int l = 0; l < s.levels; ++l) {
      level.emplace_back(s.bands_size(l));
      if (all) std::copy(all->begin() + at, all->begin() + at + s.bands_size(l), level[l].begin());
      at += s.bands_size(l);
    }
    for (Floats& v : level) ptr.push_back(v.data());
  }
  Floats joined() const {
    Floats all;
    for (const Floats& v : level) all.insert(all.end(), v.begin(), v.end());
    return all;
  }
  const float* const* in() const { return ptr.data(); }
};

size_t total_bands(const DwtShape& s) {
  size_t t = 0;
  for (int l = 0; l < s.levels; ++l) t += s.bands_size(l);
  return t;
}

void set_context(const char* op, const DwtShape& s) {
  char ctx[200];
  std::snprintf(ctx, sizeof(ctx), "%s n%d c%d %dx%d levels %d db%d", op, s.n, s.c, s.h, s.w, s.levels, s.wavelet);
  g_context = ctx;
}

void random_dwt2d(Rng& rng) {
  const DwtShape s = random_dwt_shape(rng);
  set_context("dwt2d", s);
  Floats x = rng.tensor(s.x_size());
  BandBuffers bands(s, nullptr);
  expect_status(wtconv_dwt2d_forward(s.n, s.c, s.h, s.w, s.levels, s.wavelet, x.data(), bands.ptr.data()), WTCONV_OK,
                "forward");
  Vec xd = widen(x);
  auto f = [&] { return ref_dwt(s, xd); };
  expect_parity(bands.joined(), f(), "bands");
  const Floats gy = rng.tensor(total_bands(s));
  BandBuffers gb(s, &gy);
  Floats gx(x.size());
  expect_status(wtconv_dwt2d_backward(s.n, s.c, s.h, s.w, s.levels, s.wavelet, gb.in(), gx.data()), WTCONV_OK,
                "backward");
  check_grads(f, widen(gy), {{"x", &xd, &gx}}, rng);
}

void random_idwt2d(Rng& rng) {
  const DwtShape s = random_dwt_shape(rng);
  set_context("idwt2d", s);
  const Floats in = rng.tensor(total_bands(s));
  BandBuffers bands(s, &in);
  Floats y(s.x_size());
  expect_status(wtconv_idwt2d_forward(s.n, s.c, s.h, s.w, s.levels, s.wavelet, bands.in(), y.data()), WTCONV_OK,
                "forward");
  Vec bd = widen(in);
  auto f = [&] { return ref_idwt(s, bd); };
  expect_parity(y, f(), "y");
  const Floats gy = rng.tensor(y.size());
  BandBuffers gb(s, nullptr);
  expect_status(wtconv_idwt2d_backward(s.n, s.c, s.h, s.w, s.levels, s.wavelet, gy.data(), gb.ptr.data()), WTCONV_OK,
                "backward");
  const Floats g = gb.joined();
  check_grads(f, widen(gy), {{"bands", &bd, &g}}, rng);
}

struct WtBuffers {
  Floats x, bw, bb, bs;
  std::vector<Floats> ww, ws;
  std::vector<const float*> pww, pws;
  WtBuffers(const WtShape& s, Rng& rng) {
    const size_t taps = static_cast<size_t>(s.k) * s.k;
    x = rng.tensor(static_cast<size_t>(s.n) * s.c * s.h * s.w);
    bw = rng.tensor(s.c * taps), bb = rng.tensor(s.bias ? s.c : 0), bs = rng.tensor(s.c);
    for (int l = 0; l < s.levels; ++l) ww.push_back(rng.tensor(4 * s.c * taps)), ws.push_back(rng.tensor(4 * s.c));
    for (int l = 0; l < s.levels; ++l) pww.push_back(ww[l].data()), pws.push_back(ws[l].data());
  }
  wtconv_status forward(const WtShape& s, float* y) const {
    return wtconv_wtconv2d_forward(s.n, s.c, s.h, s.w, s.k, s.levels, s.sh, s.sw, s.wavelet, x.data(), bw.data(),
                                   s.bias ? bb.data() : nullptr, bs.data(), pww.data(), pws.data(), y);
  }
};

WtShape random_wt_shape(Rng& rng) {
  WtShape s{rng.range(1, 2), rng.range(1, 3), rng.range(1, 14), rng.range(1, 14), rng.range(1, 7),
            rng.range(1, 3),  rng.range(1, 3), rng.range(1, 3),   rng.range(1, 4),  rng.coin()};
  if (rng.range(0, 4) == 0) s.levels = rng.range(4, 7), s.k = rng.range(1, 11);  // cascades to 1x1, kernels past the image
  return s;
}

void random_wtconv2d(Rng& rng) {
  const WtShape s = random_wt_shape(rng);
  char ctx[200];
  std::snprintf(ctx, sizeof(ctx), "wtconv2d n%d c%d %dx%d k%d levels %d stride(%d,%d) db%d bias %d", s.n, s.c, s.h,
                s.w, s.k, s.levels, s.sh, s.sw, s.wavelet, s.bias);
  g_context = ctx;
  WtBuffers b(s, rng);
  Floats y(static_cast<size_t>(s.n) * s.c * s.out_h() * s.out_w());
  expect_status(b.forward(s, y.data()), WTCONV_OK, "forward");
  WtParams P{widen(b.x), widen(b.bw), widen(b.bb), widen(b.bs), {}, {}};
  for (int l = 0; l < s.levels; ++l) P.wavelet_weight.push_back(widen(b.ww[l])), P.wavelet_scale.push_back(widen(b.ws[l]));
  auto f = [&] { return ref_wtconv2d(s, P); };
  expect_parity(y, f(), "y");
  const Floats gy = rng.tensor(y.size());
  Floats gx(b.x.size()), gbw(b.bw.size()), gbb(b.bb.size()), gbs(b.bs.size());
  std::vector<Floats> gww, gws;
  std::vector<float*> pgww, pgws;
  for (int l = 0; l < s.levels; ++l) gww.emplace_back(b.ww[l].size()), gws.emplace_back(b.ws[l].size());
  for (int l = 0; l < s.levels; ++l) pgww.push_back(gww[l].data()), pgws.push_back(gws[l].data());
  expect_status(wtconv_wtconv2d_backward(s.n, s.c, s.h, s.w, s.k, s.levels, s.sh, s.sw, s.wavelet, b.x.data(),
                                         b.bw.data(), s.bias ? b.bb.data() : nullptr, b.bs.data(), b.pww.data(),
                                         b.pws.data(), gy.data(), gx.data(), gbw.data(),
                                         s.bias ? gbb.data() : nullptr, gbs.data(), pgww.data(), pgws.data()),
                WTCONV_OK, "backward");
  std::vector<Param> params = {{"x", &P.x, &gx}, {"base_conv.weight", &P.base_weight, &gbw},
                               {"base_scale.weight", &P.base_scale, &gbs}};
  if (s.bias) params.push_back({"base_conv.bias", &P.base_bias, &gbb});
  for (int l = 0; l < s.levels; ++l) {
    params.push_back({"wavelet_convs." + std::to_string(l), &P.wavelet_weight[l], &gww[l]});
    params.push_back({"wavelet_scale." + std::to_string(l), &P.wavelet_scale[l], &gws[l]});
  }
  check_grads(f, widen(gy), params, rng);
}

void random_conv(Rng& rng) {
  ConvNd c{rng.range(1, 3), rng.range(1, 2), 0, 0, rng.range(1, 3)};
  c.cin = c.groups * rng.range(1, 3), c.cout = c.groups * rng.range(1, 3);
  for (int a = 3 - c.dims; a < 3; ++a) {
    c.S[a] = rng.range(1, c.dims == 3 ? 6 : 11), c.pd[a] = rng.range(0, 2), c.st[a] = rng.range(1, 3);
    c.dl[a] = rng.range(1, 2), c.K[a] = rng.range(1, 4);
    while (c.dl[a] * (c.K[a] - 1) + 1 > c.S[a] + 2 * c.pd[a]) c.K[a] > 1 ? --c.K[a] : --c.dl[a];
  }
  const bool bias = rng.coin();
  char ctx[240];
  std::snprintf(ctx, sizeof(ctx), "conv%dd n%d cin%d cout%d g%d in %dx%dx%d k %dx%dx%d s %d,%d,%d p %d,%d,%d d %d,%d,%d bias %d",
                c.dims, c.n, c.cin, c.cout, c.groups, c.S[0], c.S[1], c.S[2], c.K[0], c.K[1], c.K[2], c.st[0], c.st[1],
                c.st[2], c.pd[0], c.pd[1], c.pd[2], c.dl[0], c.dl[1], c.dl[2], bias);
  g_context = ctx;
  Floats x = rng.tensor(c.x_size()), w = rng.tensor(c.w_size()), b = rng.tensor(bias ? c.cout : 0), y(c.y_size());
  expect_status(conv_forward(c, x.data(), w.data(), bias ? b.data() : nullptr, y.data()), WTCONV_OK, "forward");
  Vec xd = widen(x), wd = widen(w), bd = widen(b);
  auto f = [&] { return ref_conv(c, xd, wd, bias ? &bd : nullptr); };
  expect_parity(y, f(), "y");
  const Floats gy = rng.tensor(y.size());
  const int want = rng.range(1, 7);
  Floats gx(x.size()), gw(w.size()), gb(b.size());
  expect_status(conv_backward(c, x.data(), w.data(), gy.data(), want & 1 ? gx.data() : nullptr,
                              want & 2 ? gw.data() : nullptr, want & 4 && bias ? gb.data() : nullptr),
                WTCONV_OK, "backward");
  std::vector<Param> params;
  if (want & 1) params.push_back({"x", &xd, &gx});
  if (want & 2) params.push_back({"weight", &wd, &gw});
  if (want & 4 && bias) params.push_back({"bias", &bd, &gb});
  check_grads(f, widen(gy), params, rng);
}

void random_conv_transpose2d(Rng& rng) {
  ConvT2d c{rng.range(1, 2), 0, 0, rng.range(1, 2), rng.range(1, 7), rng.range(1, 7), rng.range(1, 4), rng.range(1, 4),
            rng.range(1, 3), rng.range(1, 3), 0, 0, 0, 0, rng.range(1, 2), rng.range(1, 2)};
  c.cin = c.groups * rng.range(1, 3), c.cout = c.groups * rng.range(1, 3);
  c.oph = rng.range(0, std::max(c.sh, c.dh) - 1), c.opw = rng.range(0, std::max(c.sw, c.dw) - 1);
  c.ph = std::min(rng.range(0, 2), ((c.h - 1) * c.sh + c.dh * (c.kh - 1) + c.oph) / 2);
  c.pw = std::min(rng.range(0, 2), ((c.w - 1) * c.sw + c.dw * (c.kw - 1) + c.opw) / 2);
  const bool bias = rng.coin();
  char ctx[240];
  std::snprintf(ctx, sizeof(ctx), "conv_transpose2d n%d cin%d cout%d g%d %dx%d k%dx%d s%d,%d p%d,%d op%d,%d d%d,%d bias %d",
                c.n, c.cin, c.cout, c.groups, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.oph, c.opw, c.dh, c.dw, bias);
  g_context = ctx;
  Floats x = rng.tensor(static_cast<size_t>(c.n) * c.cin * c.h * c.w);
  Floats w = rng.tensor(static_cast<size_t>(c.cin) * (c.cout / c.groups) * c.kh * c.kw), b = rng.tensor(bias ? c.cout : 0);
  Floats y(static_cast<size_t>(c.n) * c.cout * c.out_h() * c.out_w());
  expect_status(wtconv_conv_transpose2d_forward(c.n, c.cin, c.h, c.w, c.cout, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.oph,
                                                c.opw, c.dh, c.dw, c.groups, x.data(), w.data(), nullptr,
                                                bias ? b.data() : nullptr, nullptr, y.data()),
                WTCONV_OK, "forward");
  Vec xd = widen(x), wd = widen(w), bd = widen(b);
  auto f = [&] { return ref_conv_transpose2d(c, xd, wd, bias ? &bd : nullptr); };
  expect_parity(y, f(), "y");
  {  // each output channel scaled, then the bias and a residual added, in the same pass
    const Floats scale = rng.tensor(c.cout), residual = rng.tensor(y.size());
    Floats ys(y.size());
    expect_status(wtconv_conv_transpose2d_forward(c.n, c.cin, c.h, c.w, c.cout, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw,
                                                  c.oph, c.opw, c.dh, c.dw, c.groups, x.data(), w.data(), scale.data(),
                                                  bias ? b.data() : nullptr, residual.data(), ys.data()),
                  WTCONV_OK, "forward, scaled with a residual");
    Vec want = ref_conv_transpose2d(c, xd, wd, nullptr);
    const size_t plane = static_cast<size_t>(c.out_h()) * c.out_w();
    for (size_t i = 0; i < want.size(); ++i) {
      const size_t o = i / plane % c.cout;
      want[i] = scale[o] * want[i] + (bias ? b[o] : 0.0) + residual[i];
    }
    expect_parity(ys, want, "y scaled, with a residual");
  }
  const Floats gy = rng.tensor(y.size());
  Floats gx(x.size()), gw(w.size()), gb(b.size());
  expect_status(wtconv_conv_transpose2d_backward(c.n, c.cin, c.h, c.w, c.cout, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.oph,
                                                 c.opw, c.dh, c.dw, c.groups, x.data(), w.data(), gy.data(),
                                                 gx.data(), gw.data(), bias ? gb.data() : nullptr),
                WTCONV_OK, "backward");
  std::vector<Param> params = {{"x", &xd, &gx}, {"weight", &wd, &gw}};
  if (bias) params.push_back({"bias", &bd, &gb});
  check_grads(f, widen(gy), params, rng);
}

// Gradients of a smooth, non-affine f by central differences in double (sampled elements).
void check_fd(const std::function<Vec()>& f, const Vec& gy, const char* name, Vec* v, const Floats& grad, Rng& rng) {
  Vec want;
  Floats got;
  for (int j = 0; j < 12; ++j) {
    const size_t i = rng.next() % v->size();
    const double keep = (*v)[i], h = 1e-4;
    (*v)[i] = keep + h;
    const Vec plus = f();
    (*v)[i] = keep - h;
    const Vec minus = f();
    (*v)[i] = keep;
    double g = 0;
    for (size_t k = 0; k < gy.size(); ++k) g += (plus[k] - minus[k]) * gy[k];
    want.push_back(g / (2 * h));
    got.push_back(grad[i]);
  }
  expect_parity(got, want, (std::string("grad ") + name + " (central differences)").c_str());
}

// The WaveMix layers: linear, global average pooling, channel concatenation (affine),
// GELU (erf form), dropout (a deterministic mask) and BatchNorm2d (training and eval).
void random_wavemix_layers(Rng& rng) {
  const int n = rng.range(1, 3), a = rng.range(1, 9), b = rng.range(1, 9), h = rng.range(1, 7), w = rng.range(1, 7);
  char ctx[160];
  std::snprintf(ctx, sizeof(ctx), "wavemix layers n%d a%d b%d %dx%d", n, a, b, h, w);
  g_context = ctx;
  {  // linear: y (n, b) = x (n, a) W^T + bias
    Floats x = rng.tensor(n * a), wt = rng.tensor(b * a), bias = rng.tensor(b), y(n * b);
    expect_status(wtconv_linear_forward(n, a, b, x.data(), wt.data(), bias.data(), y.data()), WTCONV_OK, "linear forward");
    Vec xd = widen(x), wd = widen(wt), bd = widen(bias);
    auto f = [&] {
      Vec out(n * b);
      for (int i = 0; i < n; ++i)
        for (int o = 0; o < b; ++o) {
          double s = bd[o];
          for (int k = 0; k < a; ++k) s += xd[i * a + k] * wd[o * a + k];
          out[i * b + o] = s;
        }
      return out;
    };
    expect_parity(y, f(), "linear y");
    const Floats gy = rng.tensor(y.size());
    Floats gx(x.size()), gw(wt.size()), gb(bias.size());
    expect_status(wtconv_linear_backward(n, a, b, x.data(), wt.data(), gy.data(), gx.data(), gw.data(), gb.data()), WTCONV_OK,
                  "linear backward");
    check_grads(f, widen(gy), {{"linear x", &xd, &gx}, {"linear weight", &wd, &gw}, {"linear bias", &bd, &gb}}, rng);
  }
  {  // global average pooling and channel concatenation
    Floats x = rng.tensor(static_cast<size_t>(n) * a * h * w), y(n * a), gx(x.size());
    expect_status(wtconv_global_avg_pool2d_forward(n, a, h, w, x.data(), y.data()), WTCONV_OK, "avg pool forward");
    Vec xd = widen(x);
    auto f = [&] {
      Vec out(n * a, 0.0);
      for (size_t i = 0; i < xd.size(); ++i) out[i / (h * w)] += xd[i] / (h * w);
      return out;
    };
    expect_parity(y, f(), "avg pool y");
    const Floats gy = rng.tensor(y.size());
    expect_status(wtconv_global_avg_pool2d_backward(n, a, h, w, gy.data(), gx.data()), WTCONV_OK, "avg pool backward");
    check_grads(f, widen(gy), {{"avg pool x", &xd, &gx}}, rng);
    const int plane = h * w;
    Floats xb = rng.tensor(static_cast<size_t>(n) * b * plane), cat(static_cast<size_t>(n) * (a + b) * plane);
    expect_status(wtconv_concat_channels_forward(n, a, b, plane, x.data(), xb.data(), cat.data()), WTCONV_OK, "concat forward");
    Floats ga(x.size()), gb(xb.size());
    expect_status(wtconv_concat_channels_backward(n, a, b, plane, cat.data(), ga.data(), gb.data()), WTCONV_OK, "concat backward");
    ++g_checks;
    if (ga != x || gb != xb) failure("concat backward does not split what forward joined");
    for (int i = 0; i < n; ++i) {
      if (!std::equal(x.begin() + i * a * plane, x.begin() + (i + 1) * a * plane, cat.begin() + i * (a + b) * plane) ||
          !std::equal(xb.begin() + i * b * plane, xb.begin() + (i + 1) * b * plane, cat.begin() + (i * (a + b) + a) * plane)) {
        failure("concat forward: sample %d is not (a, b)", i);
      }
    }
  }
  {  // add: the exact float sum, into a third buffer or in place
    const int size = a * h * w;
    Floats x = rng.tensor(static_cast<size_t>(n) * size), z = rng.tensor(x.size()), y(x.size());
    expect_status(wtconv_add_forward(n, size, x.data(), z.data(), y.data()), WTCONV_OK, "add");
    ++g_checks;
    for (size_t i = 0; i < x.size(); ++i) {
      if (y[i] != x[i] + z[i]) {
        failure("add: y[%zu] = %g, want %g", i, y[i], x[i] + z[i]);
        break;
      }
    }
    expect_status(wtconv_add_forward(n, size, x.data(), z.data(), x.data()), WTCONV_OK, "add in place");
    ++g_checks;
    if (x != y) failure("add in place differs from add");
  }
  {  // GELU and its derivative, exactly
    const int size = a * h * w;
    Floats x = rng.tensor(static_cast<size_t>(n) * size), y(x.size()), gx(x.size());
    for (float& v : x) v *= 6;
    const Floats gy = rng.tensor(x.size());
    expect_status(wtconv_gelu_forward(n, size, x.data(), y.data()), WTCONV_OK, "gelu forward");
    expect_status(wtconv_gelu_backward(n, size, x.data(), gy.data(), gx.data()), WTCONV_OK, "gelu backward");
    Vec want_y, want_g;
    for (size_t i = 0; i < x.size(); ++i) {
      const double v = x[i], cdf = 0.5 * std::erfc(-v / std::sqrt(2.0)), pdf = std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
      want_y.push_back(v * cdf);
      want_g.push_back(gy[i] * (cdf + v * pdf));
    }
    expect_parity(y, want_y, "gelu y");
    expect_parity(gx, want_g, "gelu grad x");
  }
  {  // dropout: y = x * mask, mask in {0, 1 / (1 - p)}, the same for a seed at any thread count
    const int size = a * h * w;
    const float p = static_cast<float>(rng.range(0, 9)) / 10;
    const int seed = rng.range(0, 1 << 30);
    Floats x = rng.tensor(static_cast<size_t>(n) * size), y(x.size()), mask(x.size()), y2(x.size()), mask2(x.size()), gx(x.size());
    expect_status(wtconv_dropout_forward(n, size, p, seed, x.data(), y.data(), mask.data()), WTCONV_OK, "dropout forward");
    wtconv_set_num_threads(rng.range(1, 4));
    expect_status(wtconv_dropout_forward(n, size, p, seed, x.data(), y2.data(), mask2.data()), WTCONV_OK, "dropout again");
    ++g_checks;
    if (mask != mask2 || y != y2) failure("dropout: the mask of seed %d changed with the thread count", seed);
    const float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < x.size(); ++i) {
      if (!(mask[i] == 0.0f || std::fabs(mask[i] - keep) <= 1e-6f * keep) || y[i] != x[i] * mask[i]) {
        failure("dropout p %g: element %zu has mask %g, y %g for x %g", p, i, mask[i], y[i], x[i]);
        break;
      }
    }
    expect_status(wtconv_dropout_backward(n, size, mask.data(), x.data(), gx.data()), WTCONV_OK, "dropout backward");
    ++g_checks;
    if (gx != y) failure("dropout backward is not grad * mask");
  }
  {  // BatchNorm2d, training and eval
    const int c = a, training = rng.coin();
    const float momentum = 0.1f, eps = 1e-5f;
    Floats x = rng.tensor(static_cast<size_t>(n) * c * h * w), wt = rng.tensor(c), bias = rng.tensor(c);
    Floats rm = rng.tensor(c), rv = rng.tensor(c), y(x.size()), sm(c), si(c), nm(c), nv(c);
    for (float& v : rv) v = 0.5f + std::fabs(v);
    const bool single = n * h * w == 1;  // one value per channel: its unbiased variance is undefined
    if (training && single) return;
    expect_status(wtconv_batch_norm2d_forward(n, c, h, w, training, momentum, eps, x.data(), wt.data(), bias.data(),
                                              rm.data(), rv.data(), y.data(), sm.data(), si.data(),
                                              training ? nm.data() : nullptr, training ? nv.data() : nullptr),
                  WTCONV_OK, "batch norm forward");
    Vec xd = widen(x), wd = widen(wt), bd = widen(bias);
    const size_t plane = static_cast<size_t>(h) * w, m = static_cast<size_t>(n) * plane;
    auto stats = [&](int ch, double* mean, double* var) {
      double s = 0, s2 = 0;
      for (int i = 0; i < n; ++i)
        for (size_t k = 0; k < plane; ++k) s += xd[(static_cast<size_t>(i) * c + ch) * plane + k];
      *mean = s / m;
      for (int i = 0; i < n; ++i)
        for (size_t k = 0; k < plane; ++k) s2 += std::pow(xd[(static_cast<size_t>(i) * c + ch) * plane + k] - *mean, 2);
      *var = s2 / m;
    };
    auto f = [&] {
      Vec out(xd.size());
      for (int ch = 0; ch < c; ++ch) {
        double mean = rm[ch], var = rv[ch];
        if (training) stats(ch, &mean, &var);
        for (int i = 0; i < n; ++i)
          for (size_t k = 0; k < plane; ++k) {
            const size_t at = (static_cast<size_t>(i) * c + ch) * plane + k;
            out[at] = (xd[at] - mean) / std::sqrt(var + eps) * wd[ch] + bd[ch];
          }
      }
      return out;
    };
    expect_parity(y, f(), "batch norm y");
    if (training) {
      Vec want_m, want_v;
      for (int ch = 0; ch < c; ++ch) {
        double mean, var;
        stats(ch, &mean, &var);
        want_m.push_back((1 - momentum) * rm[ch] + momentum * mean);
        want_v.push_back((1 - momentum) * rv[ch] + momentum * var * m / (m - 1));
      }
      expect_parity(nm, want_m, "batch norm running mean");
      expect_parity(nv, want_v, "batch norm running var");
    }
    const Floats gy = rng.tensor(y.size());
    Floats gx(x.size()), gw(c), gb(c);
    expect_status(wtconv_batch_norm2d_backward(n, c, h, w, training, x.data(), wt.data(), sm.data(), si.data(), gy.data(),
                                               gx.data(), gw.data(), gb.data()),
                  WTCONV_OK, "batch norm backward");
    check_grads(f, widen(gy), {{"batch norm weight", &wd, &gw}, {"batch norm bias", &bd, &gb}}, rng);
    if (training) {
      // A nearly constant channel makes 1 / sqrt(var + eps) large and the float32 gradient a
      // cancellation of large terms: check x only where every channel is well conditioned.
      double worst = INFINITY;
      for (int ch = 0; ch < c; ++ch) {
        double mean, var;
        stats(ch, &mean, &var);
        worst = std::min(worst, var);
      }
      if (worst >= 0.05) check_fd(f, widen(gy), "batch norm x", &xd, gx, rng);
    } else {
      check_grads(f, widen(gy), {{"batch norm x", &xd, &gx}}, rng);
    }
  }
}

struct RandomOp {
  const char* name;
  void (*run)(Rng&);
};
const RandomOp RANDOM_OPS[] = {
    {"depthwise_conv2d", random_depthwise},
    {"dwt2d", random_dwt2d},
    {"idwt2d", random_idwt2d},
    {"wtconv2d", random_wtconv2d},
    {"conv1d/2d/3d", random_conv},
    {"conv_transpose2d", random_conv_transpose2d},
    {"wavemix layers", random_wavemix_layers},
};

int group_random(int cases) {
  Rng rng(g_seed);
  g_rms_floor = true;
  for (const RandomOp& op : RANDOM_OPS) {
    for (int i = 0; i < cases; ++i) {
      wtconv_set_num_threads(rng.range(1, 4));
      op.run(rng);
    }
    if (rng.coin()) wtconv_release_workspace();
  }
  std::printf("random: %d cases per op x %zu ops, %d checks\n", cases, sizeof(RANDOM_OPS) / sizeof(RANDOM_OPS[0]),
              g_checks);
  return 0;
}

// ---- invalid arguments ---------------------------------------------------------

struct BadCall {
  const char* what;
  wtconv_status want;
  std::function<wtconv_status()> call;
};

std::vector<BadCall> invalid_calls() {
  static Floats buf(4096, 0.5f), out(4096);
  static float* outs[32];
  static const float* ins[32];
  for (int i = 0; i < 32; ++i) outs[i] = out.data(), ins[i] = buf.data();
  const float* x = buf.data();
  float* y = out.data();
  const int big = 1 << 30;
  std::vector<BadCall> calls = {
      // element-wise sum
      {"add: n 0", WTCONV_E_SHAPE, [=] { return wtconv_add_forward(0, 4, x, x, y); }},
      {"add: negative size", WTCONV_E_SHAPE, [=] { return wtconv_add_forward(1, -4, x, x, y); }},
      {"add: b NULL", WTCONV_E_ARG, [=] { return wtconv_add_forward(1, 4, x, nullptr, y); }},
      {"add: y NULL", WTCONV_E_ARG, [=] { return wtconv_add_forward(1, 4, x, x, nullptr); }},
      // depthwise
      {"dw: n 0", WTCONV_E_SHAPE, [=] { return wtconv_depthwise_conv2d_forward(0, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, x, x, nullptr, y); }},
      {"dw: negative width", WTCONV_E_SHAPE, [=] { return wtconv_depthwise_conv2d_forward(1, 1, 4, -4, 3, 3, 1, 1, 1, 1, 1, 1, x, x, nullptr, y); }},
      {"dw: kernel 0", WTCONV_E_SHAPE, [=] { return wtconv_depthwise_conv2d_forward(1, 1, 4, 4, 0, 3, 1, 1, 1, 1, 1, 1, x, x, nullptr, y); }},
      {"dw: kernel past padded input", WTCONV_E_SHAPE, [=] { return wtconv_depthwise_conv2d_forward(1, 1, 4, 4, 7, 3, 1, 1, 1, 1, 1, 1, x, x, nullptr, y); }},
      {"dw: negative padding", WTCONV_E_ARG, [=] { return wtconv_depthwise_conv2d_forward(1, 1, 4, 4, 3, 3, -1, 1, 1, 1, 1, 1, x, x, nullptr, y); }},
      {"dw: stride 0", WTCONV_E_ARG, [=] { return wtconv_depthwise_conv2d_forward(1, 1, 4, 4, 3, 3, 1, 1, 1, 1, 0, 1, x, x, nullptr, y); }},
      {"dw: x NULL", WTCONV_E_ARG, [=] { return wtconv_depthwise_conv2d_forward(1, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, nullptr, x, nullptr, y); }},
      {"dw: y NULL", WTCONV_E_ARG, [=] { return wtconv_depthwise_conv2d_forward(1, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, x, x, nullptr, nullptr); }},
      {"dw: sizes overflow", WTCONV_E_OOM, [=] { return wtconv_depthwise_conv2d_forward(big, big, big, big, 1, 1, 0, 0, 0, 0, 1, 1, x, x, nullptr, y); }},
      {"dw bwd: weight NULL", WTCONV_E_ARG, [=] { return wtconv_depthwise_conv2d_backward(1, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, x, nullptr, x, y, y, nullptr); }},
      {"dw bwd: stride 0", WTCONV_E_ARG, [=] { return wtconv_depthwise_conv2d_backward(1, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 0, x, x, x, y, y, nullptr); }},
      // dwt / idwt
      {"dwt: levels 0", WTCONV_E_ARG, [=] { return wtconv_dwt2d_forward(1, 1, 4, 4, 0, 1, x, outs); }},
      {"dwt: levels 31", WTCONV_E_ARG, [=] { return wtconv_dwt2d_forward(1, 1, 4, 4, 31, 1, x, outs); }},
      {"dwt: wavelet 0", WTCONV_E_ARG, [=] { return wtconv_dwt2d_forward(1, 1, 4, 4, 1, 0, x, outs); }},
      {"dwt: wavelet 5", WTCONV_E_ARG, [=] { return wtconv_dwt2d_forward(1, 1, 4, 4, 1, 5, x, outs); }},
      {"dwt: c 0", WTCONV_E_SHAPE, [=] { return wtconv_dwt2d_forward(1, 0, 4, 4, 1, 1, x, outs); }},
      {"dwt: bands NULL", WTCONV_E_ARG, [=] { return wtconv_dwt2d_forward(1, 1, 4, 4, 1, 1, x, nullptr); }},
      {"dwt: a level's band NULL", WTCONV_E_ARG, [=] {
         float* list[2] = {out.data(), nullptr};
         return wtconv_dwt2d_forward(1, 1, 4, 4, 2, 1, x, list);
       }},
      {"dwt bwd: grad_x NULL", WTCONV_E_ARG, [=] { return wtconv_dwt2d_backward(1, 1, 4, 4, 1, 1, ins, nullptr); }},
      {"idwt: y NULL", WTCONV_E_ARG, [=] { return wtconv_idwt2d_forward(1, 1, 4, 4, 1, 1, ins, nullptr); }},
      {"idwt: sizes overflow", WTCONV_E_OOM, [=] { return wtconv_idwt2d_forward(big, big, 4, 4, 1, 1, ins, y); }},
      {"idwt bwd: levels -3", WTCONV_E_ARG, [=] { return wtconv_idwt2d_backward(1, 1, 4, 4, -3, 1, x, outs); }},
      // wtconv2d
      {"wt: kernel 0", WTCONV_E_ARG, [=] { return wtconv_wtconv2d_forward(1, 1, 4, 4, 0, 1, 1, 1, 1, x, x, x, x, ins, ins, y); }},
      {"wt: kernel 1025", WTCONV_E_ARG, [=] { return wtconv_wtconv2d_forward(1, 1, 4, 4, 1025, 1, 1, 1, 1, x, x, x, x, ins, ins, y); }},
      {"wt: levels 0", WTCONV_E_ARG, [=] { return wtconv_wtconv2d_forward(1, 1, 4, 4, 3, 0, 1, 1, 1, x, x, x, x, ins, ins, y); }},
      {"wt: stride -1", WTCONV_E_ARG, [=] { return wtconv_wtconv2d_forward(1, 1, 4, 4, 3, 1, -1, 1, 1, x, x, x, x, ins, ins, y); }},
      {"wt: wavelet 9", WTCONV_E_ARG, [=] { return wtconv_wtconv2d_forward(1, 1, 4, 4, 3, 1, 1, 1, 9, x, x, x, x, ins, ins, y); }},
      {"wt: h 0", WTCONV_E_SHAPE, [=] { return wtconv_wtconv2d_forward(1, 1, 0, 4, 3, 1, 1, 1, 1, x, x, x, x, ins, ins, y); }},
      {"wt: base_scale NULL", WTCONV_E_ARG, [=] { return wtconv_wtconv2d_forward(1, 1, 4, 4, 3, 1, 1, 1, 1, x, x, x, nullptr, ins, ins, y); }},
      {"wt: wavelet_convs list NULL", WTCONV_E_ARG, [=] { return wtconv_wtconv2d_forward(1, 1, 4, 4, 3, 1, 1, 1, 1, x, x, x, x, nullptr, ins, y); }},
      {"wt: one wavelet_scale NULL", WTCONV_E_ARG, [=] {
         const float* list[2] = {x, nullptr};
         return wtconv_wtconv2d_forward(1, 1, 4, 4, 3, 2, 1, 1, 1, x, x, x, x, ins, list, y);
       }},
      {"wt: y NULL", WTCONV_E_ARG, [=] { return wtconv_wtconv2d_forward(1, 1, 4, 4, 3, 1, 1, 1, 1, x, x, x, x, ins, ins, nullptr); }},
      {"wt: sizes overflow", WTCONV_E_OOM, [=] { return wtconv_wtconv2d_forward(big, 64, big, big, 3, 1, 1, 1, 1, x, x, x, x, ins, ins, y); }},
      {"wt bwd: bias without its gradient", WTCONV_E_ARG, [=] {
         return wtconv_wtconv2d_backward(1, 1, 4, 4, 3, 1, 1, 1, 1, x, x, x, x, ins, ins, x, y, y, nullptr, y, outs, outs);
       }},
      {"wt bwd: grad wavelet_scale list NULL", WTCONV_E_ARG, [=] {
         return wtconv_wtconv2d_backward(1, 1, 4, 4, 3, 1, 1, 1, 1, x, x, nullptr, x, ins, ins, x, y, y, nullptr, y, outs, nullptr);
       }},
      // conv / conv_transpose / DCLS
      {"conv2d: groups 0", WTCONV_E_ARG, [=] { return wtconv_conv2d_forward(1, 2, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 0, x, x, nullptr, y); }},
      {"conv2d: groups not dividing", WTCONV_E_ARG, [=] { return wtconv_conv2d_forward(1, 3, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 2, x, x, nullptr, y); }},
      {"conv2d: dilation 0", WTCONV_E_ARG, [=] { return wtconv_conv2d_forward(1, 2, 4, 4, 2, 3, 3, 1, 1, 1, 1, 0, 1, 1, x, x, nullptr, y); }},
      {"conv2d: kernel past padded input", WTCONV_E_SHAPE, [=] { return wtconv_conv2d_forward(1, 2, 4, 4, 2, 9, 3, 1, 1, 1, 1, 1, 1, 1, x, x, nullptr, y); }},
      {"conv2d: x NULL", WTCONV_E_ARG, [=] { return wtconv_conv2d_forward(1, 2, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, nullptr, x, nullptr, y); }},
      {"conv1d: stride 0", WTCONV_E_ARG, [=] { return wtconv_conv1d_forward(1, 2, 8, 2, 3, 0, 1, 1, 1, x, x, nullptr, y); }},
      {"conv3d: negative padding", WTCONV_E_ARG, [=] { return wtconv_conv3d_forward(1, 1, 4, 4, 4, 1, 3, 3, 3, 1, 1, 1, -1, 1, 1, 1, 1, 1, 1, x, x, nullptr, y); }},
      {"conv_transpose2d: output padding >= stride and dilation", WTCONV_E_ARG, [=] { return wtconv_conv_transpose2d_forward(1, 2, 4, 4, 2, 3, 3, 2, 2, 1, 1, 2, 0, 1, 1, 1, x, x, nullptr, nullptr, nullptr, y); }},
      {"dcls: dims 4", WTCONV_E_ARG, [=] { return wtconv_dcls_construct_forward(4, 2, 1, 3, 5, 5, 1, 0, x, x, nullptr, y); }},
      {"dcls: gauss without SIG", WTCONV_E_ARG, [=] { return wtconv_dcls_construct_forward(2, 2, 1, 3, 5, 5, 1, 1, x, x, nullptr, y); }},
      {"wavelet filters: id 0", WTCONV_E_ARG, [=] { return wtconv_wavelet_filters(0, y); }},
      {"wavelet filters: out NULL", WTCONV_E_ARG, [=] { return wtconv_wavelet_filters(2, nullptr); }},
  };
  return calls;
}

int group_invalid() {
  g_context = "invalid";
  const std::vector<BadCall> calls = invalid_calls();
  for (const BadCall& c : calls) {
    const wtconv_status s = c.call();
    if (expect_status(s, c.want, c.what) && std::strlen(wtconv_last_error()) < 10) {
      failure("%s: the message is missing ('%s')", c.what, wtconv_last_error());
    }
  }
  // Limits of the runtime entry points.
  if (wtconv_wavelet_filter_length(0) != 0 || wtconv_wavelet_filter_length(4) != 8) failure("wavelet_filter_length");
  if (wtconv_set_num_threads(-5) != 1 || wtconv_set_num_threads(100000) != 256) failure("set_num_threads clamps");
  wtconv_set_num_threads(2);
  // The core's coefficients are PyWavelets' (the references above use their own table).
  for (int id = 1; id <= 4; ++id) {
    Floats f(8 * id);
    expect_status(wtconv_wavelet_filters(id, f.data()), WTCONV_OK, "wavelet filters");
    expect_parity(Floats(f.begin(), f.begin() + 2 * id), DEC_LO[id - 1], "dec_lo");
  }
  std::printf("invalid: %zu bad calls, %d checks\n", calls.size(), g_checks);
  return 0;
}

// ---- out of memory ---------------------------------------------------------------

// Sizes whose per-thread scratch (about 5 * 2^58 bytes) no 64-bit address space can
// hold, while every size product still fits: the allocation itself fails.
int group_oom() {
  g_context = "oom";
  Rng rng(g_seed);
  const WtShape s{1, 2, 9, 7, 3, 2, 1, 1, 2, true};
  WtBuffers b(s, rng);
  Floats before(static_cast<size_t>(s.n) * s.c * s.h * s.w), after(before.size());
  wtconv_set_num_threads(2);
  expect_status(b.forward(s, before.data()), WTCONV_OK, "forward before");
  Floats tiny(16);
  const float* in[1] = {tiny.data()};
  float* out[1] = {tiny.data()};
  const int huge = 1 << 29;
  expect_status(wtconv_idwt2d_forward(1, 1, huge, huge, 1, 1, in, tiny.data()), WTCONV_E_OOM, "idwt2d forward");
  if (!std::strstr(wtconv_last_error(), "workspace")) failure("message '%s' does not name the workspace", wtconv_last_error());
  expect_status(wtconv_dwt2d_backward(1, 1, huge, huge, 1, 1, in, tiny.data()), WTCONV_E_OOM, "dwt2d backward");
  expect_status(wtconv_idwt2d_backward(1, 1, huge, huge, 1, 1, tiny.data(), out), WTCONV_E_OOM, "idwt2d backward");
  wtconv_set_num_threads(1);
  expect_status(wtconv_idwt2d_forward(1, 1, huge, huge, 1, 1, in, tiny.data()), WTCONV_E_OOM, "idwt2d forward, 1 thread");
  wtconv_set_num_threads(2);
  expect_status(b.forward(s, after.data()), WTCONV_OK, "forward after");
  ++g_checks;
  if (before != after) failure("results changed after E_OOM");
  std::printf("oom: %d checks\n", g_checks);
  return 0;
}

// ---- thread pool ---------------------------------------------------------------------

// A transformed weight kept across calls (weight-cache.h) must follow its
// weight: the Winograd forms of conv_transpose2d (4x4 stride 2) and of a 3x3
// conv2d, called again with the same weight, with it changed in place (one
// float in the middle, the last one), with another weight copied into the
// same memory (as a reused staging buffer does) and back, with another
// channel scale, after a release; on 1 to 3 threads, bit for bit the same
// result for the same weight.
int group_weight_cache() {
  Rng rng(g_seed);
  const ConvT2d t{2, 16, 12, 1, 8, 8, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1};
  ConvNd c{2, 2, 16, 12, 1};
  c.S[1] = c.S[2] = 9, c.K[1] = c.K[2] = 3, c.pd[1] = c.pd[2] = 1;
  for (int threads = 1; threads <= 3; ++threads) {
    wtconv_set_num_threads(threads);
    const Floats xt = rng.tensor(static_cast<size_t>(t.n) * t.cin * t.h * t.w), xc = rng.tensor(c.x_size());
    const Floats other_t = rng.tensor(static_cast<size_t>(t.cin) * t.cout * t.kh * t.kw), other_c = rng.tensor(c.w_size());
    Floats wt = rng.tensor(other_t.size()), wc = rng.tensor(other_c.size()), scale = rng.tensor(t.cout);
    Floats yt(static_cast<size_t>(t.n) * t.cout * t.out_h() * t.out_w()), yc(c.y_size());
    auto run = [&](const char* what, bool scaled) {
      g_context = what;
      expect_status(wtconv_conv_transpose2d_forward(t.n, t.cin, t.h, t.w, t.cout, t.kh, t.kw, t.sh, t.sw, t.ph, t.pw, t.oph,
                                                    t.opw, t.dh, t.dw, t.groups, xt.data(), wt.data(),
                                                    scaled ? scale.data() : nullptr, nullptr, nullptr, yt.data()),
                    WTCONV_OK, "conv_transpose2d forward");
      Vec want = ref_conv_transpose2d(t, widen(xt), widen(wt), nullptr);
      const size_t plane = static_cast<size_t>(t.out_h()) * t.out_w();
      for (size_t i = 0; scaled && i < want.size(); ++i) want[i] *= scale[i / plane % t.cout];
      expect_parity(yt, want, "conv_transpose2d y");
      expect_status(conv_forward(c, xc.data(), wc.data(), nullptr, yc.data()), WTCONV_OK, "conv2d forward");
      expect_parity(yc, ref_conv(c, widen(xc), widen(wc), nullptr), "conv2d y");
    };
    run("weight cache: first call", false);
    const Floats first_t = yt, first_c = yc;
    run("weight cache: the same weight again", false);
    ++g_checks;
    if (yt != first_t || yc != first_c) failure("weight cache: the same weight gave another result");
    wt[wt.size() / 2] += 0.5f, wt.back() -= 0.25f, wc[wc.size() / 2] += 0.5f, wc.back() -= 0.25f;
    run("weight cache: the weight changed in place", false);
    const Floats saved_t = wt, saved_c = wc;
    std::copy(other_t.begin(), other_t.end(), wt.begin());
    std::copy(other_c.begin(), other_c.end(), wc.begin());
    run("weight cache: another weight in the same memory", false);
    std::copy(saved_t.begin(), saved_t.end(), wt.begin());
    std::copy(saved_c.begin(), saved_c.end(), wc.begin());
    run("weight cache: the first weight back in that memory", false);
    run("weight cache: a channel scale", true);
    scale[3] *= -2.0f;
    run("weight cache: another channel scale", true);
    wtconv_release_workspace();
    ++g_checks;
    if (wtconv_workspace_bytes() != 0) failure("weight cache: %g bytes held after a release", wtconv_workspace_bytes());
    run("weight cache: after a release", false);
  }
  std::printf("weight cache: %d checks\n", g_checks);
  return 0;
}

int group_pool() {
  g_context = "pool";
  auto& pool = wtconv::ThreadPool::instance();
  for (int threads = 1; threads <= 4; ++threads) {
    pool.set_threads(threads);
    // Every chunk fails; then only the chunks from index 50 on.
    for (const size_t failing_from : {size_t{0}, size_t{50}}) {
      std::atomic<int> ran{0};
      auto body = [&](size_t begin, size_t end, void*) {
        ran.fetch_add(1);
        if (end > failing_from) return wtconv::fail(WTCONV_E_INTERNAL, "chunk at %zu failed", begin);
        return wtconv::ok();
      };
      const wtconv_status s = pool.parallel_for(100, 64, body);
      ++g_checks;
      if (s != WTCONV_E_INTERNAL || !std::strstr(wtconv_last_error(), "failed")) {
        failure("threads %d, failing from %zu: status %d, message '%s'", threads, failing_from, s,
                wtconv_last_error());
      }
      if (ran.load() < 1) failure("threads %d: no chunk ran", threads);
    }
    // And the pool still works: sums over [0, 1000) in chunks, each with its scratch.
    std::atomic<long> sum{0};
    auto add = [&](size_t begin, size_t end, void* scratch) {
      std::memset(scratch, 1, 256);
      for (size_t i = begin; i < end; ++i) sum.fetch_add(static_cast<long>(i));
      return wtconv::ok();
    };
    expect_status(pool.parallel_for(1000, 256, add), WTCONV_OK, "run after failures");
    ++g_checks;
    if (sum.load() != 999 * 1000 / 2) failure("threads %d: sum %ld", threads, sum.load());
    if (pool.threads_used_last() < 1 || pool.threads_used_last() > threads) {
      failure("threads %d: %d used", threads, pool.threads_used_last());
    }
    // Every index runs exactly once, also when a thread is held up in its first
    // chunk and the others take the rest of its slice from the back.
    for (const size_t count : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{100}, size_t{1000}}) {
      for (const bool slow : {false, true}) {
        std::vector<std::atomic<int>> runs(count);
        std::atomic<bool> held{false};
        auto once = [&](size_t begin, size_t end, void*) {
          if (slow && !held.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds(2));
          for (size_t i = begin; i < end; ++i) runs[i].fetch_add(1);
          return wtconv::ok();
        };
        expect_status(pool.parallel_for(count, 0, once), WTCONV_OK, "exactly once");
        ++g_checks;
        for (size_t i = 0; i < count; ++i) {
          if (runs[i].load() != 1) {
            failure("threads %d, %zu tasks%s: task %zu ran %d times", threads, count, slow ? ", one thread held up" : "",
                    i, runs[i].load());
            break;
          }
        }
      }
    }
  }
  std::printf("pool: %d checks\n", g_checks);
  return 0;
}

// Several threads call every op at once (each op's results must equal the ones
// computed alone) while another thread resizes the pool and frees the workspace.
int group_concurrency(int rounds) {
  g_context = "concurrency";
  Rng rng(g_seed);
  struct Job {
    WtShape s;
    WtBuffers* b;
    Floats expected;
    DwtShape d;
    Floats x, bands_expected;
    ConvNd conv;
    Floats cx, cw, conv_expected;
  };
  std::vector<Job> jobs;
  g_rms_floor = true;
  std::vector<std::unique_ptr<WtBuffers>> keep;
  wtconv_set_num_threads(1);
  for (int i = 0; i < 4; ++i) {
    Job j;
    j.s = random_wt_shape(rng);
    keep.emplace_back(new WtBuffers(j.s, rng));
    j.b = keep.back().get();
    j.expected.resize(static_cast<size_t>(j.s.n) * j.s.c * j.s.out_h() * j.s.out_w());
    expect_status(j.b->forward(j.s, j.expected.data()), WTCONV_OK, "forward alone");
    j.d = random_dwt_shape(rng);
    j.x = rng.tensor(j.d.x_size());
    BandBuffers bands(j.d, nullptr);
    expect_status(wtconv_dwt2d_forward(j.d.n, j.d.c, j.d.h, j.d.w, j.d.levels, j.d.wavelet, j.x.data(), bands.ptr.data()),
                  WTCONV_OK, "dwt alone");
    j.bands_expected = bands.joined();
    // 3x3 stride 1; with 8 input channels per group (odd jobs) in Winograd form.
    j.conv = i % 2 == 1 ? ConvNd{2, 1, 16, 10, 2} : ConvNd{2, 1, 4, 6, 2};
    j.conv.S[1] = rng.range(3, 16), j.conv.S[2] = rng.range(3, 16), j.conv.K[1] = j.conv.K[2] = 3, j.conv.pd[1] = 1;
    j.cx = rng.tensor(j.conv.x_size()), j.cw = rng.tensor(j.conv.w_size()), j.conv_expected.resize(j.conv.y_size());
    expect_status(conv_forward(j.conv, j.cx.data(), j.cw.data(), nullptr, j.conv_expected.data()), WTCONV_OK, "conv alone");
    jobs.push_back(std::move(j));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> callers;
  for (size_t t = 0; t < jobs.size(); ++t) {
    callers.emplace_back([&, t] {
      const Job& j = jobs[t];
      for (int r = 0; r < rounds; ++r) {
        Floats y(j.expected.size());
        if (j.b->forward(j.s, y.data()) != WTCONV_OK) ++errors;
        if (y != j.expected) ++mismatches;
        BandBuffers bands(j.d, nullptr);
        if (wtconv_dwt2d_forward(j.d.n, j.d.c, j.d.h, j.d.w, j.d.levels, j.d.wavelet, j.x.data(), bands.ptr.data()) !=
            WTCONV_OK) {
          ++errors;
        }
        if (bands.joined() != j.bands_expected) ++mismatches;
        Floats cy(j.conv_expected.size());
        if (conv_forward(j.conv, j.cx.data(), j.cw.data(), nullptr, cy.data()) != WTCONV_OK) ++errors;
        if (cy != j.conv_expected) ++mismatches;
        // An error in one thread does not leak into another's status or message.
        if (wtconv_dwt2d_forward(1, 1, 4, 4, 0, 1, j.x.data(), bands.ptr.data()) != WTCONV_E_ARG ||
            !std::strstr(wtconv_last_error(), "levels")) {
          ++errors;
        }
      }
    });
  }
  std::thread resizer([&] {
    Rng r(g_seed + 1);
    while (!stop.load()) {
      wtconv_set_num_threads(r.range(1, 4));
      if (r.coin()) wtconv_release_workspace();
      (void)wtconv_workspace_bytes();
      (void)wtconv_threads_used_last();
      (void)wtconv_get_num_threads();
      std::this_thread::yield();
    }
  });
  for (std::thread& t : callers) t.join();
  stop = true;
  resizer.join();
  g_checks += 2;
  if (mismatches.load() != 0) failure("%d results differ from the single-threaded ones", mismatches.load());
  if (errors.load() != 0) failure("%d unexpected statuses", errors.load());
  std::printf("concurrency: %zu threads x %d rounds beside a resizer, %d checks\n", callers.size(), rounds, g_checks);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s fixtures|random|invalid|oom|pool|cache|concurrency [--fixtures DIR] [--seed S] [--cases N]\n", argv[0]);
    return 2;
  }
  const std::string group = argv[1];
  std::string fixtures = "../shared/fixtures";
  int cases = 40;
  const char* env_seed = std::getenv("WTCONV_TEST_SEED");
  g_seed = env_seed ? std::strtoull(env_seed, nullptr, 10)
                    : static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) % 1000000007ull;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--fixtures") fixtures = argv[i + 1];
    else if (key == "--seed") g_seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (key == "--cases") cases = std::atoi(argv[i + 1]);
    else return std::fprintf(stderr, "unknown option %s\n", key.c_str()), 2;
  }
  std::printf("%s: seed %llu (replay: WTCONV_TEST_SEED=%llu), isa %s\n", group.c_str(),
              static_cast<unsigned long long>(g_seed), static_cast<unsigned long long>(g_seed), wtconv_isa());
  int rc = 2;
  if (group == "fixtures") rc = group_fixtures(fixtures);
  else if (group == "random") rc = group_random(cases);
  else if (group == "invalid") rc = group_invalid();
  else if (group == "oom") rc = group_oom();
  else if (group == "pool") rc = group_pool();
  else if (group == "cache") rc = group_weight_cache();
  else if (group == "concurrency") rc = group_concurrency(cases);
  else std::fprintf(stderr, "unknown group %s\n", group.c_str());
  if (g_failures > 0) {
    std::printf("%d of %d checks failed (seed %llu)\n", g_failures, g_checks, static_cast<unsigned long long>(g_seed));
    return 1;
  }
  return rc;
}
