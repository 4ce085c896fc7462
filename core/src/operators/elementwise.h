// Shared by the element-wise operators (GELU, dropout): argument checks for an
// (n, size) tensor and the block size they thread over.
#pragma once

#include "validate.h"

namespace wtconv {

// Values per parallel task of an element-wise pass.
constexpr size_t kElementwiseBlock = 16384;

inline wtconv_status check_elementwise(int32_t n, int32_t size, size_t* count) {
  if (n < 1 || size < 1) return fail(WTCONV_E_SHAPE, "x: expected positive sizes, got (%d, %d)", n, size);
  if (!checked_product({n, size, 16}, count)) {
    return fail(WTCONV_E_OOM, "x: (%d, %d) needs more memory than this backend can address", n, size);
  }
  *count /= 16;
  return ok();
}

inline size_t elementwise_blocks(size_t count) { return (count + kElementwiseBlock - 1) / kElementwiseBlock; }

}  // namespace wtconv
