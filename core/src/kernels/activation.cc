// GELU with a rational erf (odd degree-13 / even degree-8 polynomials on
// |x| <= 4, absolute error below 5e-7 against erf) and a Cephes-style exp, so
// the kernels vectorise; the same operations run on every ISA and in WASM.
#include "activation.h"

#include <cstdint>
#include <cstring>

#include "../common.h"
#include "../simd.h"
#include "dropout-mask.h"

namespace wtconv {
namespace {

using simd::vf;
typedef int32_t vi __attribute__((vector_size(sizeof(vf))));

WTCONV_INLINE vf vmin(vf a, vf b) { return a < b ? a : b; }
WTCONV_INLINE vf vmax(vf a, vf b) { return a > b ? a : b; }

// erf(z) for z already scaled (z = x / sqrt 2).
WTCONV_INLINE vf verf(vf z) {
  const vf c = vmax(vmin(z, simd::splat(4.0f)), simd::splat(-4.0f));
  const vf c2 = c * c;
  vf p = simd::splat(-2.72614225801306e-10f);
  p = p * c2 + 2.77068142495902e-08f;
  p = p * c2 + -2.10102402082508e-06f;
  p = p * c2 + -5.69250639462346e-05f;
  p = p * c2 + -7.34990630326855e-04f;
  p = p * c2 + -2.95459980854025e-03f;
  p = p * c2 + -1.60960333262415e-02f;
  p = p * c;
  vf q = simd::splat(-1.45660718464996e-05f);
  q = q * c2 + -2.13374055278905e-04f;
  q = q * c2 + -1.68282697438203e-03f;
  q = q * c2 + -7.37332916720468e-03f;
  q = q * c2 + -1.42647390514189e-02f;
  return p / q;
}

// exp(v) for v <= 0 (underflows to ~0 below -87).
WTCONV_INLINE vf vexp_nonpositive(vf v) {
  const vf x = vmax(v, simd::splat(-87.0f));
  const vf magic = simd::splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const vf n = (x * 1.44269504088896341f + magic) - magic;
  const vf r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  vf p = simd::splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const vf e = (p * r) * r + r + 1.0f;
  const vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
  vf scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return e * scale;
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

WTCONV_INLINE vf gelu(vf x) { return x * (0.5f + 0.5f * verf(x * kInvSqrt2)); }
WTCONV_INLINE vf gelu_grad(vf x, vf g) {
  const vf cdf = 0.5f + 0.5f * verf(x * kInvSqrt2);
  const vf pdf = vexp_nonpositive(-0.5f * x * x) * kInvSqrt2Pi;
  return g * (cdf + x * pdf);
}

// A tail shorter than a vector goes through a zero-padded copy.
template <typename F>
WTCONV_INLINE void tail(size_t left, const float* a, const float* b, float* out, F f) {
  float ta[simd::kLanes] = {}, tb[simd::kLanes] = {}, to[simd::kLanes];
  std::memcpy(ta, a, sizeof(float) * left);
  if (b != nullptr) std::memcpy(tb, b, sizeof(float) * left);
  simd::store(to, f(simd::load(ta), simd::load(tb)));
  std::memcpy(out, to, sizeof(float) * left);
}

typedef uint32_t vu __attribute__((vector_size(sizeof(vf))));

}  // namespace

WTCONV_MULTIVERSION
void dropout_span_forward(const float* x, float* y, float* mask, size_t count, uint32_t first,
                          uint32_t key, uint32_t threshold, float scale) {
  vu lane;
  for (int j = 0; j < simd::kLanes; ++j) lane[j] = static_cast<uint32_t>(j);
  vi scale_bits;
  {
    const vf s = simd::splat(scale);
    std::memcpy(&scale_bits, &s, sizeof(s));
  }
  size_t i = 0;
  for (; i + simd::kLanes <= count; i += simd::kLanes) {
    const vu h = lowbias32((lane + static_cast<uint32_t>(first + i)) ^ key);
    const vi keep = (vi)(h < threshold);  // all ones where kept
    const vi bits = keep & scale_bits;
    vf m;
    std::memcpy(&m, &bits, sizeof(m));
    simd::store(mask + i, m);
    simd::store(y + i, simd::load(x + i) * m);
  }
  for (; i < count; ++i) {
    const uint32_t h = lowbias32((static_cast<uint32_t>(first + i)) ^ key);
    mask[i] = h < threshold ? scale : 0.0f;
    y[i] = x[i] * mask[i];
  }
}

WTCONV_MULTIVERSION
void gelu_span_forward(const float* x, float* y, size_t count) {
  size_t i = 0;
  for (; i + simd::kLanes <= count; i += simd::kLanes) simd::store(y + i, gelu(simd::load(x + i)));
  if (i < count) tail(count - i, x + i, nullptr, y + i, [](vf a, vf) { return gelu(a); });
}

WTCONV_MULTIVERSION
void gelu_span_backward(const float* x, const float* grad_y, float* grad_x, size_t count) {
  size_t i = 0;
  for (; i + simd::kLanes <= count; i += simd::kLanes) {
    simd::store(grad_x + i, gelu_grad(simd::load(x + i), simd::load(grad_y + i)));
  }
  if (i < count) tail(count - i, x + i, grad_y + i, grad_x + i, [](vf a, vf g) { return gelu_grad(a, g); });
}

}  // namespace wtconv
