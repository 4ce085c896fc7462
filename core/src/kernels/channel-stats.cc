#include "channel-stats.h"

#include "../common.h"
#include "../simd.h"

namespace wtconv {

using simd::vf;

WTCONV_MULTIVERSION
double plane_sum(const float* x, size_t count) {
  vf acc = simd::zero();
  size_t i = 0;
  for (; i + simd::kLanes <= count; i += simd::kLanes) acc += simd::load(x + i);
  double s = simd::reduce_add(acc);
  for (; i < count; ++i) s += x[i];
  return s;
}

WTCONV_MULTIVERSION
double plane_sq_dev(const float* x, size_t count, float mean) {
  vf acc = simd::zero();
  const vf m = simd::splat(mean);
  size_t i = 0;
  for (; i + simd::kLanes <= count; i += simd::kLanes) {
    const vf d = simd::load(x + i) - m;
    acc += d * d;
  }
  double s = simd::reduce_add(acc);
  for (; i < count; ++i) {
    const float d = x[i] - mean;
    s += d * d;
  }
  return s;
}

WTCONV_MULTIVERSION
void plane_affine(const float* x, size_t count, float scale, float shift, float* y) {
  const vf a = simd::splat(scale), b = simd::splat(shift);
  size_t i = 0;
  for (; i + simd::kLanes <= count; i += simd::kLanes) simd::store(y + i, simd::load(x + i) * a + b);
  for (; i < count; ++i) y[i] = x[i] * scale + shift;
}

WTCONV_MULTIVERSION
void plane_grad_sums(const float* g, const float* x, size_t count, float mean, double* sum_g,
                     double* sum_gx) {
  vf ag = simd::zero(), agx = simd::zero();
  const vf m = simd::splat(mean);
  size_t i = 0;
  for (; i + simd::kLanes <= count; i += simd::kLanes) {
    const vf gv = simd::load(g + i);
    ag += gv;
    agx += gv * (simd::load(x + i) - m);
  }
  double sg = simd::reduce_add(ag), sgx = simd::reduce_add(agx);
  for (; i < count; ++i) {
    sg += g[i];
    sgx += g[i] * (x[i] - mean);
  }
  *sum_g += sg;
  *sum_gx += sgx;
}

WTCONV_MULTIVERSION
void plane_bn_grad(const float* g, const float* x, size_t count, float a, float mean_g, float b,
                   float mean, float* grad_x) {
  const vf va = simd::splat(a), vmg = simd::splat(mean_g), vb = simd::splat(b), vm = simd::splat(mean);
  size_t i = 0;
  for (; i + simd::kLanes <= count; i += simd::kLanes) {
    simd::store(grad_x + i, va * (simd::load(g + i) - vmg) + vb * (simd::load(x + i) - vm));
  }
  for (; i < count; ++i) grad_x[i] = a * (g[i] - mean_g) + b * (x[i] - mean);
}

}  // namespace wtconv
