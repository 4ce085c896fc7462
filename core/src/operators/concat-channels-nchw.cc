// Channel concatenation of two NCHW tensors (torch.cat(dim=1)) and its
// backward (the split). Each (n, channel-block) is one contiguous run.
#include <cstring>

#include "../thread-pool.h"
#include "layer-checks.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_concat_channels_forward(int32_t n, int32_t ca, int32_t cb, int32_t plane,
                                             const float* a, const float* b, float* y) {
  WTCONV_CHECK(check_concat(n, ca, cb, plane));
  WTCONV_CHECK(check_pointer(a, "a"));
  WTCONV_CHECK(check_pointer(b, "b"));
  WTCONV_CHECK(check_pointer(y, "y"));
  const size_t sa = static_cast<size_t>(ca) * plane, sb = static_cast<size_t>(cb) * plane;
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t i = begin; i < end; ++i) {
      const size_t s = i >> 1;
      float* dst = y + s * (sa + sb);
      if ((i & 1) == 0) std::memcpy(dst, a + s * sa, sizeof(float) * sa);
      else std::memcpy(dst + sa, b + s * sb, sizeof(float) * sb);
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(2 * static_cast<size_t>(n), 0, body);
}

wtconv_status wtconv_concat_channels_backward(int32_t n, int32_t ca, int32_t cb, int32_t plane,
                                              const float* grad_y, float* grad_a, float* grad_b) {
  WTCONV_CHECK(check_concat(n, ca, cb, plane));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  const size_t sa = static_cast<size_t>(ca) * plane, sb = static_cast<size_t>(cb) * plane;
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t i = begin; i < end; ++i) {
      const size_t s = i >> 1;
      const float* src = grad_y + s * (sa + sb);
      if ((i & 1) == 0) {
        if (grad_a != nullptr) std::memcpy(grad_a + s * sa, src, sizeof(float) * sa);
      } else if (grad_b != nullptr) {
        std::memcpy(grad_b + s * sb, src + sa, sizeof(float) * sb);
      }
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(2 * static_cast<size_t>(n), 0, body);
}

}  // extern "C"
