// Global average pooling, NCHW -> (n, c) (AdaptiveAvgPool2d(1) then flatten),
// forward and backward; one task per (n, c) plane.
#include <algorithm>

#include "../kernels/channel-stats.h"
#include "../thread-pool.h"
#include "validate.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_global_avg_pool2d_forward(int32_t n, int32_t c, int32_t h, int32_t w,
                                               const float* x, float* y) {
  WTCONV_CHECK(check_nchw(n, c, h, w, "x"));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(y, "y"));
  const size_t plane = static_cast<size_t>(h) * w;
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t p = begin; p < end; ++p) {
      y[p] = static_cast<float>(plane_sum(x + p * plane, plane) / static_cast<double>(plane));
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c, 0, body);
}

wtconv_status wtconv_global_avg_pool2d_backward(int32_t n, int32_t c, int32_t h, int32_t w,
                                                const float* grad_y, float* grad_x) {
  WTCONV_CHECK(check_nchw(n, c, h, w, "grad_x"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  WTCONV_CHECK(check_pointer(grad_x, "grad_x"));
  const size_t plane = static_cast<size_t>(h) * w;
  const float inv = static_cast<float>(1.0 / static_cast<double>(plane));
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t p = begin; p < end; ++p) std::fill(grad_x + p * plane, grad_x + (p + 1) * plane, grad_y[p] * inv);
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(static_cast<size_t>(n) * c, 0, body);
}

}  // extern "C"
