// DCLS kernel construction (SPEC section 4) per kernel slice: the `count`
// weights of one (out, in / groups) pair placed at their float positions P and
// spread over the kernel, bilinearly ('v0') or by a normalised Gaussian
// ('gauss', widths from SIG), and the backward to weight, P and SIG. Written
// once for the CPU operator (operators/dcls-construct.cc, one slice per task)
// and the CUDA one (cuda/src/kernels.h, one slice per thread): host/device
// functions of plain values, math in double.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../host-device.h"

namespace wtconv {

enum DclsVersion : int32_t { kDclsV0 = 0, kDclsGauss = 1 };

constexpr double kDclsSigmaFloor = 0.27;
constexpr double kDclsNormEps = 1e-7;

struct Dcls {
  int32_t dims, out, in, count, version;
  int32_t size[3];
  int32_t axes[3];   // kernel axis addressed by position axis d (upstream's index grids)
  size_t stride[3];  // floats between neighbours along each kernel axis
  size_t taps;       // floats per kernel slice
  size_t params;     // out * in * count (one position axis of P)
};

// Index positions p_d = P[d] + size[d] // 2 of parameter j.
WTCONV_HOST_DEVICE void dcls_positions(const Dcls& d, const float* P, size_t j, double* p) {
  for (int32_t a = 0; a < d.dims; ++a) p[a] = static_cast<double>(P[a * d.params + j]) + d.size[a] / 2;
}

WTCONV_HOST_DEVICE void dcls_sigmas(const Dcls& d, const float* SIG, size_t j, double* s) {
  for (int32_t a = 0; a < d.dims; ++a) s[a] = fabs(static_cast<double>(SIG[a * d.params + j])) + kDclsSigmaFloor;
}

// Bilinear corners of parameter j: calls visit(offset, factors[], bits) for
// every neighbour inside the kernel; factors[a] is that corner's weight on axis a.
template <typename Visit>
WTCONV_HOST_DEVICE void dcls_for_each_corner(const Dcls& d, const double* p, Visit&& visit) {
  int64_t base[3];
  double r[3];
  for (int32_t a = 0; a < d.dims; ++a) {
    if (!(fabs(p[a]) <= 1e9)) return;  // not finite, or nowhere in the kernel
    const double fl = floor(p[a]);
    base[a] = static_cast<int64_t>(fl);
    r[a] = p[a] - fl;
  }
  for (int32_t corner = 0; corner < (1 << d.dims); ++corner) {
    size_t offset = 0;
    double factors[3];
    bool inside = true;
    for (int32_t a = 0; a < d.dims; ++a) {
      const int32_t bit = (corner >> a) & 1;
      const int64_t q = base[a] + bit;
      const int32_t axis = d.axes[a];
      if (q < 0 || q >= d.size[axis]) inside = false;
      offset += static_cast<size_t>(q) * d.stride[axis];
      factors[a] = bit ? r[a] : 1.0 - r[a];
    }
    if (inside) visit(offset, factors, corner);
  }
}

// Gaussian of parameter j: calls visit(offset, e, delta[]) for every tap, with
// e = exp(-1/2 sum_a (delta_a / s_a)^2), delta_a = x_{axes[a]} - p_a.
template <typename Visit>
WTCONV_HOST_DEVICE void dcls_for_each_tap(const Dcls& d, const double* p, const double* s, Visit&& visit) {
  int32_t x[3] = {0, 0, 0};
  for (size_t offset = 0; offset < d.taps; ++offset) {
    double q = 0.0, delta[3];
    for (int32_t a = 0; a < d.dims; ++a) {
      delta[a] = x[d.axes[a]] - p[a];
      const double z = delta[a] / s[a];
      q += z * z;
    }
    visit(offset, exp(-0.5 * q), delta);
    for (int32_t a = d.dims - 1; a >= 0; --a) {  // next tap, row-major
      if (++x[a] < d.size[a]) break;
      x[a] = 0;
    }
  }
}

WTCONV_HOST_DEVICE void dcls_construct_slice(const Dcls& d, size_t slice, const float* weight, const float* P,
                                             const float* SIG, float* kernel) {
  float* k = kernel + slice * d.taps;
  for (size_t t = 0; t < d.taps; ++t) k[t] = 0.0f;
  for (int32_t c = 0; c < d.count; ++c) {
    const size_t j = slice * d.count + c;
    const double w = weight[j];
    double p[3];
    dcls_positions(d, P, j, p);
    if (d.version == kDclsV0) {
      dcls_for_each_corner(d, p, [&](size_t off, const double* f, int32_t) {
        double v = w;
        for (int32_t a = 0; a < d.dims; ++a) v *= f[a];
        k[off] += static_cast<float>(v);
      });
      continue;
    }
    double s[3], sum = 0.0;
    dcls_sigmas(d, SIG, j, s);
    dcls_for_each_tap(d, p, s, [&](size_t, double e, const double*) { sum += e; });
    const double scale = w / (sum + kDclsNormEps);
    dcls_for_each_tap(d, p, s, [&](size_t off, double e, const double*) { k[off] += static_cast<float>(e * scale); });
  }
}

WTCONV_HOST_DEVICE void dcls_backward_slice(const Dcls& d, size_t slice, const float* weight, const float* P,
                                            const float* SIG, const float* grad_kernel, float* grad_weight,
                                            float* grad_P, float* grad_SIG) {
  const float* gk = grad_kernel + slice * d.taps;
  for (int32_t c = 0; c < d.count; ++c) {
    const size_t j = slice * d.count + c;
    const double w = weight[j];
    double p[3], gw = 0.0, gp[3] = {0, 0, 0}, gs[3] = {0, 0, 0};
    dcls_positions(d, P, j, p);
    if (d.version == kDclsV0) {
      dcls_for_each_corner(d, p, [&](size_t off, const double* f, int32_t corner) {
        const double g = gk[off];
        double all = 1.0;
        for (int32_t a = 0; a < d.dims; ++a) all *= f[a];
        gw += g * all;
        for (int32_t a = 0; a < d.dims; ++a) {
          double others = ((corner >> a) & 1) ? 1.0 : -1.0;  // d factor_a / d p_a
          for (int32_t b = 0; b < d.dims; ++b) {
            if (b != a) others *= f[b];
          }
          gp[a] += g * others;
        }
      });
      for (int32_t a = 0; a < d.dims; ++a) gp[a] *= w;
    } else {
      // K = w e / S with S = sum e + eps: dK/dt = w (de/dt / S - e sum(de/dt) / S^2).
      double s[3], sum = 0.0, ge = 0.0, gde_p[3] = {0, 0, 0}, de_p[3] = {0, 0, 0};
      double gde_s[3] = {0, 0, 0}, de_s[3] = {0, 0, 0};
      dcls_sigmas(d, SIG, j, s);
      dcls_for_each_tap(d, p, s, [&](size_t off, double e, const double* delta) {
        const double g = gk[off];
        sum += e;
        ge += g * e;
        for (int32_t a = 0; a < d.dims; ++a) {
          const double dp = e * delta[a] / (s[a] * s[a]);
          const double ds = dp * delta[a] / s[a];
          de_p[a] += dp;
          gde_p[a] += g * dp;
          de_s[a] += ds;
          gde_s[a] += g * ds;
        }
      });
      const double norm = sum + kDclsNormEps;
      gw = ge / norm;
      for (int32_t a = 0; a < d.dims; ++a) {
        gp[a] = w * (gde_p[a] / norm - ge * de_p[a] / (norm * norm));
        const double sig = SIG[a * d.params + j];
        const double sign = sig > 0 ? 1.0 : (sig < 0 ? -1.0 : 0.0);
        gs[a] = sign * w * (gde_s[a] / norm - ge * de_s[a] / (norm * norm));
      }
    }
    if (grad_weight != nullptr) grad_weight[j] = static_cast<float>(gw);
    for (int32_t a = 0; a < d.dims; ++a) {
      if (grad_P != nullptr) grad_P[a * d.params + j] = static_cast<float>(gp[a]);
      if (grad_SIG != nullptr) grad_SIG[a * d.params + j] = static_cast<float>(gs[a]);
    }
  }
}

}  // namespace wtconv
