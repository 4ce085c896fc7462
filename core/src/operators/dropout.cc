// Dropout in training mode (PyTorch's F.dropout semantics: keep with
// probability 1 - p and scale by 1 / (1 - p)). The keep decision of value i is
// a hash of (seed, i) (kernels/activation.cc), so a seed gives the same mask on
// every backend, thread count and block split.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../kernels/activation.h"
#include "../kernels/dropout-mask.h"
#include "../thread-pool.h"
#include "elementwise.h"
#include "layer-checks.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_dropout_forward(int32_t n, int32_t size, float p, int32_t seed,
                                     const float* x, float* y, float* mask) {
  size_t count = 0;
  WTCONV_CHECK(check_elementwise(n, size, &count));
  WTCONV_CHECK(check_dropout_probability(p));
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(y, "y"));
  WTCONV_CHECK(check_pointer(mask, "mask"));
  const DropoutThreshold keep = dropout_threshold(p);
  auto body = [&](size_t begin, size_t end, void*) {
    const size_t lo = begin * kElementwiseBlock, hi = std::min(count, end * kElementwiseBlock);
    if (p == 0.0f) {
      std::memcpy(y + lo, x + lo, sizeof(float) * (hi - lo));
      std::fill(mask + lo, mask + hi, 1.0f);
      return WTCONV_OK;
    }
    // Blocks never straddle a multiple of 2^32 (the block size divides it): the
    // high half of the index goes into the key, the low half into the hash.
    for (size_t b = lo; b < hi; b += kElementwiseBlock) {
      const size_t e = std::min(hi, b + kElementwiseBlock);
      const uint32_t key = dropout_key(seed, static_cast<uint32_t>(static_cast<uint64_t>(b) >> 32));
      dropout_span_forward(x + b, y + b, mask + b, e - b, static_cast<uint32_t>(b), key, keep.threshold, keep.scale);
    }
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(elementwise_blocks(count), 0, body);
}

wtconv_status wtconv_dropout_backward(int32_t n, int32_t size, const float* mask,
                                      const float* grad_y, float* grad_x) {
  size_t count = 0;
  WTCONV_CHECK(check_elementwise(n, size, &count));
  WTCONV_CHECK(check_pointer(mask, "mask"));
  WTCONV_CHECK(check_pointer(grad_y, "grad_y"));
  if (grad_x == nullptr) return ok();
  auto body = [&](size_t begin, size_t end, void*) {
    const size_t lo = begin * kElementwiseBlock, hi = std::min(count, end * kElementwiseBlock);
    for (size_t i = lo; i < hi; ++i) grad_x[i] = grad_y[i] * mask[i];
    return WTCONV_OK;
  };
  return ThreadPool::instance().parallel_for(elementwise_blocks(count), 0, body);
}

}  // extern "C"
