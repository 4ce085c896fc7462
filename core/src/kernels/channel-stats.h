// Per-plane reductions and affine maps behind BatchNorm2d and global average
// pooling: float vector accumulators within a plane, double across planes.
#pragma once

#include <cstddef>

namespace wtconv {

// Sum of x[0..count).
double plane_sum(const float* x, size_t count);
// Sum of (x - mean)^2.
double plane_sq_dev(const float* x, size_t count, float mean);
// y = x * scale + shift.
void plane_affine(const float* x, size_t count, float scale, float shift, float* y);
// *sum_g += sum g, *sum_gx += sum g (x - mean).
void plane_grad_sums(const float* g, const float* x, size_t count, float mean, double* sum_g,
                     double* sum_gx);
// grad_x = a (g - mean_g) + b (x - mean).
void plane_bn_grad(const float* g, const float* x, size_t count, float a, float mean_g, float b,
                   float mean, float* grad_x);

}  // namespace wtconv
