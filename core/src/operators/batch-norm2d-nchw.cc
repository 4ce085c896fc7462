// BatchNorm2d, NCHW (PyTorch's nn.BatchNorm2d): training mode with batch
// statistics and the running-statistics update, eval mode with the running
// statistics; backward for both. Channels are independent: one task per
// channel walks its n planes (sums in double across planes).
#include <cmath>

#include "../kernels/channel-stats.h"
#include "../thread-pool.h"
#include "layer-checks.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_batch_norm2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t training, float momentum, float eps,
    const float* x, const float* weight, const float* bias, const float* running_mean,
    const float* running_var, float* y, float* save_mean, float* save_invstd,
    float* new_running_mean, float* new_running_var) {
  WTCONV_CHECK(check_batch_norm2d_forward(n, c, h, w, training, momentum, eps, x, running_mean, running_var, y, save_mean,
                                          save_invstd, new_running_mean, new_running_var));
  const size_t plane = static_cast<size_t>(h) * w;
  const size_t m = plane * n;
  const size_t stride = plane * c;
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t ch = begin; ch < end; ++ch) {
      float mean, invstd;
      if (training) {
        double s = 0.0;
        for (int32_t b = 0; b < n; ++b) s += plane_sum(x + b * stride + ch * plane, plane);
        mean = static_cast<float>(s / static_cast<double>(m));
        double sq = 0.0;
        for (int32_t b = 0; b < n; ++b) sq += plane_sq_dev(x + b * stride + ch * plane, plane, mean);
        const double var = sq / static_cast<double>(m);
        invstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
        if (new_running_mean != nullptr) {
          const double unbiased = m > 1 ? sq / static_cast<double>(m - 1) : var;
          const float rm = running_mean[ch], rv = running_var[ch];
          new_running_mean[ch] = static_cast<float>((1.0 - momentum) * rm + momentum * static_cast<double>(mean));
          new_running_var[ch] = static_cast<float>((1.0 - momentum) * rv + momentum * unbiased);
        }
      } else {
        mean = running_mean[ch];
        invstd = static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var[ch]) + eps));
      }
      save_mean[ch] = mean;
      save_invstd[ch] = invstd;
      const float scale = (weight != nullptr ? weight[ch] : 1.0f) * invstd;
      const float shift = (bias != nullptr ? bias[ch] : 0.0f) - mean * scale;
      for (int32_t b = 0; b < n; ++b) {
        plane_affine(x + b * stride + ch * plane, plane, scale, shift, y + b * stride + ch * plane);
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(c), 0, body);
}

wtconv_status wtconv_batch_norm2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t training, const float* x,
    const float* weight, const float* save_mean, const float* save_invstd, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias) {
  WTCONV_CHECK(check_batch_norm2d(n, c, h, w, training));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(save_mean, "save_mean"));
  WTCONV_CHECK(check_pointer(save_invstd, "save_invstd"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  const size_t plane = static_cast<size_t>(h) * w;
  const size_t m = plane * n;
  const size_t stride = plane * c;
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t ch = begin; ch < end; ++ch) {
      const float mean = save_mean[ch], invstd = save_invstd[ch];
      double sum_g = 0.0, sum_gx = 0.0;  // sum g, sum g (x - mean)
      for (int32_t b = 0; b < n; ++b) {
        const size_t off = b * stride + ch * plane;
        plane_grad_sums(grad_y + off, x + off, plane, mean, &sum_g, &sum_gx);
      }
      if (grad_bias != nullptr) grad_bias[ch] = static_cast<float>(sum_g);
      if (grad_weight != nullptr) grad_weight[ch] = static_cast<float>(sum_gx * invstd);
      if (grad_x == nullptr) continue;
      const float wi = (weight != nullptr ? weight[ch] : 1.0f) * invstd;
      // training: grad_x = w invstd (g - mean(g) - xhat mean(g xhat)); eval: w invstd g
      const float mean_g = training ? static_cast<float>(sum_g / static_cast<double>(m)) : 0.0f;
      const float b2 = training ? static_cast<float>(-static_cast<double>(wi) * invstd * invstd * sum_gx /
                                                     static_cast<double>(m))
                                : 0.0f;
      for (int32_t b = 0; b < n; ++b) {
        const size_t off = b * stride + ch * plane;
        plane_bn_grad(grad_y + off, x + off, plane, wi, mean_g, b2, mean, grad_x + off);
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(c), 0, body);
}

}  // extern "C"
