// Dropout in training mode (PyTorch's F.dropout semantics: keep with
// probability 1 - p and scale by 1 / (1 - p)). The keep decision of value i is
// a hash of (seed, i) (kernels/activation.cc), so a seed gives the same mask on
// every backend, thread count and block split.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../kernels/activation.h"
#include "../thread-pool.h"
#include "elementwise.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_dropout_forward(int32_t n, int32_t size, float p, int32_t seed,
                                     const float* x, float* y, float* mask) {
  size_t count = 0;
  WTCONV_CHECK(check_elementwise(n, size, &count));
  if (!(p >= 0.0f && p <= 1.0f)) return fail(WTCONV_E_ARG, "p: expected a probability in [0, 1], got %g", p);
  WTCONV_CHECK(check_pointer(x, "x"));
  WTCONV_CHECK(check_pointer(y, "y"));
  WTCONV_CHECK(check_pointer(mask, "mask"));
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  // keep when the 32-bit hash falls below (1 - p) 2^32 (p > 0 here, so it fits)
  const double keep_scaled = std::ldexp(1.0 - static_cast<double>(p), 32);
  const uint32_t threshold = keep_scaled >= 4294967295.0 ? 0xffffffffu : static_cast<uint32_t>(keep_scaled);
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
      const uint32_t key = hash32(static_cast<uint32_t>(seed) ^ hash32(static_cast<uint32_t>(static_cast<uint64_t>(b) >> 32) + 0x9e3779b9u));
      dropout_span_forward(x + b, y + b, mask + b, e - b, static_cast<uint32_t>(b), key, threshold, scale);
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
