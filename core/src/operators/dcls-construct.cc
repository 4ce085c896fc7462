// DCLS kernel construction (SPEC section 4), 1-D to 3-D: each of `count`
// weights per (out, in / groups) pair is placed at a learnable float position
// P and spread over the kernel, bilinearly ('v0') or by a normalised Gaussian
// ('gauss', widths from SIG). Forward builds the dense kernel; backward maps
// its gradient to weight, P and SIG. One (out, in) kernel slice per task.
#include <cmath>
#include <cstring>

#include "../thread-pool.h"
#include "validate.h"

namespace wtconv {
namespace {

enum Version : int32_t { kV0 = 0, kGauss = 1 };

// Kernel axis addressed by position axis d (upstream's index grids).
constexpr int32_t kAxesV0[3][3] = {{0, 0, 0}, {0, 1, 0}, {0, 2, 1}};
constexpr int32_t kAxesGauss[3][3] = {{0, 0, 0}, {1, 0, 0}, {2, 1, 0}};
constexpr double kSigmaFloor = 0.27;
constexpr double kNormEps = 1e-7;

struct Dcls {
  int32_t dims, out, in, count, version;
  int32_t size[3];
  size_t stride[3];  // floats between neighbours along each kernel axis
  size_t taps;       // floats per kernel slice
  size_t params;     // out * in * count (one position axis of P)
  const int32_t* axes;
};

wtconv_status make_dcls(int32_t dims, int32_t out, int32_t in, int32_t count, int32_t s0,
                        int32_t s1, int32_t s2, int32_t version, Dcls* d) {
  if (dims < 1 || dims > 3) return fail(WTCONV_E_ARG, "dims: expected 1, 2 or 3, got %d", dims);
  if (version != kV0 && version != kGauss) {
    return fail(WTCONV_E_ARG, "version: expected 0 ('v0') or 1 ('gauss'), got %d", version);
  }
  if (out < 1 || in < 1 || count < 1) {
    return fail(WTCONV_E_SHAPE, "weight: expected positive sizes (out, in / groups, count), got (%d, %d, %d)",
                out, in, count);
  }
  const int32_t sizes[3] = {s0, s1, s2};
  for (int32_t a = 0; a < 3; ++a) {
    if (a < dims ? sizes[a] < 1 : sizes[a] != 1) {
      return fail(WTCONV_E_ARG, "dilated_kernel_size: expected %d positive sizes (the others 1), got (%d, %d, %d)",
                  dims, s0, s1, s2);
    }
  }
  size_t total = 0;
  if (!checked_product({out, in, s0, s1, s2, 16}, &total) || !checked_product({out, in, count, 3, 16}, &total)) {
    return fail(WTCONV_E_OOM, "dcls: the kernel needs more memory than this backend can address");
  }
  *d = Dcls{dims, out, in, count, version, {s0, s1, s2}, {0, 0, 0}, 0, 0,
            version == kV0 ? kAxesV0[dims - 1] : kAxesGauss[dims - 1]};
  size_t st = 1;
  for (int32_t a = dims - 1; a >= 0; --a) {
    d->stride[a] = st;
    st *= static_cast<size_t>(d->size[a]);
  }
  d->taps = st;
  d->params = static_cast<size_t>(out) * in * count;
  return ok();
}

// Index positions p_d = P[d] + size[d] // 2 of parameter j.
void positions(const Dcls& d, const float* P, size_t j, double* p) {
  for (int32_t a = 0; a < d.dims; ++a) p[a] = static_cast<double>(P[a * d.params + j]) + d.size[a] / 2;
}

// Bilinear corners of parameter j: calls visit(offset, factors[], bits) for
// every neighbour inside the kernel; factors[a] is that corner's weight on axis a.
template <typename Visit>
void for_each_corner(const Dcls& d, const double* p, Visit&& visit) {
  int64_t base[3];
  double r[3];
  for (int32_t a = 0; a < d.dims; ++a) {
    if (!std::isfinite(p[a]) || std::fabs(p[a]) > 1e9) return;  // nowhere in the kernel
    const double fl = std::floor(p[a]);
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
void for_each_tap(const Dcls& d, const double* p, const double* s, Visit&& visit) {
  int32_t x[3] = {0, 0, 0};
  for (size_t offset = 0; offset < d.taps; ++offset) {
    double q = 0.0, delta[3];
    for (int32_t a = 0; a < d.dims; ++a) {
      delta[a] = x[d.axes[a]] - p[a];
      const double z = delta[a] / s[a];
      q += z * z;
    }
    visit(offset, std::exp(-0.5 * q), delta);
    for (int32_t a = d.dims - 1; a >= 0; --a) {  // next tap, row-major
      if (++x[a] < d.size[a]) break;
      x[a] = 0;
    }
  }
}

void sigmas(const Dcls& d, const float* SIG, size_t j, double* s) {
  for (int32_t a = 0; a < d.dims; ++a) s[a] = std::fabs(static_cast<double>(SIG[a * d.params + j])) + kSigmaFloor;
}

void construct_slice(const Dcls& d, size_t slice, const float* weight, const float* P,
                     const float* SIG, float* kernel) {
  float* k = kernel + slice * d.taps;
  std::memset(k, 0, sizeof(float) * d.taps);
  for (int32_t c = 0; c < d.count; ++c) {
    const size_t j = slice * d.count + c;
    const double w = weight[j];
    double p[3];
    positions(d, P, j, p);
    if (d.version == kV0) {
      for_each_corner(d, p, [&](size_t off, const double* f, int32_t) {
        double v = w;
        for (int32_t a = 0; a < d.dims; ++a) v *= f[a];
        k[off] += static_cast<float>(v);
      });
      continue;
    }
    double s[3], sum = 0.0;
    sigmas(d, SIG, j, s);
    for_each_tap(d, p, s, [&](size_t, double e, const double*) { sum += e; });
    const double scale = w / (sum + kNormEps);
    for_each_tap(d, p, s, [&](size_t off, double e, const double*) { k[off] += static_cast<float>(e * scale); });
  }
}

void backward_slice(const Dcls& d, size_t slice, const float* weight, const float* P,
                    const float* SIG, const float* grad_kernel, float* grad_weight, float* grad_P,
                    float* grad_SIG) {
  const float* gk = grad_kernel + slice * d.taps;
  for (int32_t c = 0; c < d.count; ++c) {
    const size_t j = slice * d.count + c;
    const double w = weight[j];
    double p[3], gw = 0.0, gp[3] = {0, 0, 0}, gs[3] = {0, 0, 0};
    positions(d, P, j, p);
    if (d.version == kV0) {
      for_each_corner(d, p, [&](size_t off, const double* f, int32_t corner) {
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
      sigmas(d, SIG, j, s);
      for_each_tap(d, p, s, [&](size_t off, double e, const double* delta) {
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
      const double norm = sum + kNormEps;
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

}  // namespace
}  // namespace wtconv

using namespace wtconv;

extern "C" {

wtconv_status wtconv_dcls_construct_forward(int32_t dims, int32_t out, int32_t in_per_group,
                                            int32_t count, int32_t size0, int32_t size1,
                                            int32_t size2, int32_t version, const float* weight,
                                            const float* P, const float* SIG, float* kernel) {
  Dcls d;
  WTCONV_CHECK(make_dcls(dims, out, in_per_group, count, size0, size1, size2, version, &d));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(P, "P"));
  if (version == kGauss) WTCONV_CHECK(check_pointer(SIG, "SIG"));
  WTCONV_CHECK(check_pointer(kernel, "kernel"));
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t slice = begin; slice < end; ++slice) construct_slice(d, slice, weight, P, SIG, kernel);
    return WTCONV_OK;
  };
  WTCONV_CHECK(ThreadPool::instance().parallel_for(static_cast<size_t>(out) * in_per_group, 0, body));
  return ok();
}

wtconv_status wtconv_dcls_construct_backward(int32_t dims, int32_t out, int32_t in_per_group,
                                             int32_t count, int32_t size0, int32_t size1,
                                             int32_t size2, int32_t version, const float* weight,
                                             const float* P, const float* SIG,
                                             const float* grad_kernel, float* grad_weight,
                                             float* grad_P, float* grad_SIG) {
  Dcls d;
  WTCONV_CHECK(make_dcls(dims, out, in_per_group, count, size0, size1, size2, version, &d));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(P, "P"));
  if (version == kGauss) WTCONV_CHECK(check_pointer(SIG, "SIG"));
  WTCONV_CHECK(check_pointer(grad_kernel, "grad_kernel"));
  if (version != kGauss) grad_SIG = nullptr;
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t slice = begin; slice < end; ++slice) {
      backward_slice(d, slice, weight, P, SIG, grad_kernel, grad_weight, grad_P, grad_SIG);
    }
    return WTCONV_OK;
  };
  WTCONV_CHECK(ThreadPool::instance().parallel_for(static_cast<size_t>(out) * in_per_group, 0, body));
  return ok();
}

}  // extern "C"
