// GELU, erf form (PyTorch's nn.GELU(approximate='none')), forward and backward.
// Element-wise: layout-free, threaded over blocks of values.
#include <algorithm>

#include "../kernels/activation.h"
#include "../thread-pool.h"
#include "elementwise.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_gelu_forward(int32_t n, int32_t size, const float* x, float* y) {
  size_t count = 0;
  WTCONV_CHECK(check_elementwise(n, size, &count));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(y, "y"));
  auto body = [&](size_t begin, size_t end, void*) {
    const size_t lo = begin * kElementwiseBlock, hi = std::min(count, end * kElementwiseBlock);
    gelu_span_forward(x + lo, y + lo, hi - lo);
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(elementwise_blocks(count), 0, body);
}

wtconv_status wtconv_gelu_backward(int32_t n, int32_t size, const float* x, const float* grad_y,
                                   float* grad_x) {
  size_t count = 0;
  WTCONV_CHECK(check_elementwise(n, size, &count));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  if (grad_x == nullptr) return ok();
  auto body = [&](size_t begin, size_t end, void*) {
    const size_t lo = begin * kElementwiseBlock, hi = std::min(count, end * kElementwiseBlock);
    gelu_span_backward(x + lo, grad_y + lo, grad_x + lo, hi - lo);
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(elementwise_blocks(count), 0, body);
}

}  // extern "C"
