// The argument checks and layout of a DCLS kernel construction (Dcls of
// kernels/dcls-slice.h), shared by the CPU operator (dcls-construct.cc) and the
// CUDA one (cuda/src/ops.h).
#pragma once

#include "../kernels/dcls-slice.h"
#include "validate.h"

namespace wtconv {

inline wtconv_status make_dcls(int32_t dims, int32_t out, int32_t in, int32_t count, int32_t s0, int32_t s1,
                               int32_t s2, int32_t version, Dcls* d) {
  // Kernel axis addressed by position axis d (upstream's index grids).
  static constexpr int32_t kAxesV0[3][3] = {{0, 0, 0}, {0, 1, 0}, {0, 2, 1}};
  static constexpr int32_t kAxesGauss[3][3] = {{0, 0, 0}, {1, 0, 0}, {2, 1, 0}};
  if (dims < 1 || dims > 3) return fail(WTCONV_E_ARG, "dims: expected 1, 2 or 3, got %d", dims);
  if (version != kDclsV0 && version != kDclsGauss) {
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
  const int32_t* axes = version == kDclsV0 ? kAxesV0[dims - 1] : kAxesGauss[dims - 1];
  *d = Dcls{dims, out, in, count, version, {s0, s1, s2}, {axes[0], axes[1], axes[2]}, {0, 0, 0}, 0, 0};
  size_t st = 1;
  for (int32_t a = dims - 1; a >= 0; --a) {
    d->stride[a] = st;
    st *= static_cast<size_t>(d->size[a]);
  }
  d->taps = st;
  d->params = static_cast<size_t>(out) * in * count;
  return ok();
}

}  // namespace wtconv
