// Argument checks of the WaveMix layers (batch norm, linear, channel concat,
// dropout), shared by the CPU operators and the CUDA ones (cuda/src/ops.h);
// the element-wise sizes are checked by elementwise.h.
#pragma once

#include <cmath>

#include "validate.h"

namespace wtconv {

inline wtconv_status check_dropout_probability(float p) {
  if (!(p >= 0.0f && p <= 1.0f)) return fail(WTCONV_E_ARG, "p: expected a probability in [0, 1], got %g", p);
  return ok();
}

inline wtconv_status check_batch_norm2d(int32_t n, int32_t c, int32_t h, int32_t w, int32_t training) {
  WTCONV_CHECK(check_nchw(n, c, h, w, "x"));
  if (training != 0 && training != 1) return fail(WTCONV_E_ARG, "training: expected 0 or 1, got %d", training);
  return ok();
}

// Everything wtconv_batch_norm2d_forward checks before it computes.
inline wtconv_status check_batch_norm2d_forward(int32_t n, int32_t c, int32_t h, int32_t w, int32_t training,
                                                float momentum, float eps, const float* x,
                                                const float* running_mean, const float* running_var, const float* y,
                                                const float* save_mean, const float* save_invstd,
                                                const float* new_running_mean, const float* new_running_var) {
  WTCONV_CHECK(check_batch_norm2d(n, c, h, w, training));
  if (!(eps > 0.0f) || !std::isfinite(eps)) return fail(WTCONV_E_ARG, "eps: expected a positive value, got %g", eps);
  if (!(momentum >= 0.0f && momentum <= 1.0f)) {
    return fail(WTCONV_E_ARG, "momentum: expected a value in [0, 1], got %g", momentum);
  }
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(y, "y"));
  WTCONV_CHECK(check_pointer(save_mean, "save_mean"));
  WTCONV_CHECK(check_pointer(save_invstd, "save_invstd"));
  if (!training) {
    WTCONV_CHECK(check_pointer(running_mean, "running_mean"));
    WTCONV_CHECK(check_pointer(running_var, "running_var"));
  }
  if ((new_running_mean != nullptr || new_running_var != nullptr) &&
      (running_mean == nullptr || running_var == nullptr)) {
    return fail(WTCONV_E_ARG, "running_mean, running_var: expected buffers to update, got NULL");
  }
  if (training && static_cast<size_t>(h) * w * n < 2 && new_running_var != nullptr) {
    return fail(WTCONV_E_SHAPE, "x: training needs more than 1 value per channel, got (%d, %d, %d, %d)", n, c, h, w);
  }
  return ok();
}

inline wtconv_status check_linear(int32_t n, int32_t in, int32_t out) {
  if (n < 1 || in < 1 || out < 1) {
    return fail(WTCONV_E_SHAPE, "linear: expected positive sizes, got n %d, in %d, out %d", n, in, out);
  }
  size_t total = 0;
  if (!checked_product({n, in, 16}, &total) || !checked_product({n, out, 16}, &total) ||
      !checked_product({out, in, 16}, &total)) {
    return fail(WTCONV_E_OOM, "linear: n %d, in %d, out %d needs more memory than this backend can address", n, in, out);
  }
  return ok();
}

inline wtconv_status check_concat(int32_t n, int32_t ca, int32_t cb, int32_t plane) {
  if (n < 1 || ca < 1 || cb < 1 || plane < 1) {
    return fail(WTCONV_E_SHAPE, "concat: expected positive sizes, got n %d, channels %d + %d, plane %d", n, ca, cb, plane);
  }
  if (ca > INT32_MAX - cb) return fail(WTCONV_E_SHAPE, "concat: %d + %d channels overflow", ca, cb);
  return check_nchw(n, ca + cb, plane, 1, "y");
}

}  // namespace wtconv
