// The dropout mask as a function of (seed, index), written once for the CPU
// kernels (activation.inc, dropout.cc) and the CUDA ones (cuda/src/kernels.h):
// value i is kept when lowbias32(low half of i ^ key) < threshold, the key
// mixing the seed with the high half of i. So a seed gives the same mask on
// every backend, ISA, thread count and split.
#pragma once

#include <cmath>
#include <cstdint>

#include "../host-device.h"

namespace wtconv {

// A 32-bit mixing function (lowbias32); T is uint32_t or a vector of them.
template <typename T>
WTCONV_HOST_DEVICE T lowbias32(T h) {
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  h ^= h >> 16;
  return h;
}

// The key of the values whose index has this high half.
WTCONV_HOST_DEVICE uint32_t dropout_key(int32_t seed, uint32_t index_high) {
  return lowbias32(static_cast<uint32_t>(seed) ^ lowbias32(index_high + 0x9e3779b9u));
}

// Kept values are scaled by 1 / (1 - p) (0 when p = 1); an index is kept when
// its hash is below (1 - p) 2^32.
struct DropoutThreshold {
  uint32_t threshold;
  float scale;
};
inline DropoutThreshold dropout_threshold(float p) {
  const double keep_scaled = std::ldexp(1.0 - static_cast<double>(p), 32);
  return {keep_scaled >= 4294967295.0 ? 0xffffffffu : static_cast<uint32_t>(keep_scaled),
          p < 1.0f ? 1.0f / (1.0f - p) : 0.0f};
}

}  // namespace wtconv
