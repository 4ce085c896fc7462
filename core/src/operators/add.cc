// Element-wise sum, y = a + b: the residual connections of WaveMix (x = block(x)
// + x) and the sums of gradients where a tensor feeds two layers. Layout-free,
// threaded over blocks of values; y may be a or b (each value is read before
// it is written).
#include <algorithm>

#include "../thread-pool.h"
#include "elementwise.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_add_forward(int32_t n, int32_t size, const float* a, const float* b, float* y) {
  size_t count = 0;
  WTCONV_CHECK(check_elementwise(n, size, &count));
  WTCONV_CHECK(check_pointer(a, "a"));
  WTCONV_CHECK(check_pointer(b, "b"));
  WTCONV_CHECK(check_pointer(y, "y"));
  auto body = [&](size_t begin, size_t end, void*) {
    const size_t lo = begin * kElementwiseBlock, hi = std::min(count, end * kElementwiseBlock);
    for (size_t i = lo; i < hi; ++i) y[i] = a[i] + b[i];
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(elementwise_blocks(count), 0, body);
}

}  // extern "C"
