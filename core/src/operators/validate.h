// Argument checks shared by the operators: every C ABI entry point re-checks
// what the TypeScript layer validated, so nothing reaches a kernel unchecked.
#pragma once

#include "../common.h"
#include "../wavelets.h"

namespace wtconv {

// n, c, h, w >= 1, and 32 bytes per element (tensors plus per-plane scratch)
// stay addressable, so no size computed from them can overflow size_t. Past
// that the request cannot fit this backend's memory (WASM: 4 GiB): E_OOM.
inline wtconv_status check_nchw(int32_t n, int32_t c, int32_t h, int32_t w, const char* what) {
  if (n < 1 || c < 1 || h < 1 || w < 1) {
    return fail(WTCONV_E_SHAPE, "%s: expected positive sizes, got (%d, %d, %d, %d)", what, n, c, h,
                w);
  }
  size_t total = 0;
  if (!checked_product({n, c, h, w, 32}, &total)) {
    return fail(WTCONV_E_OOM, "%s: (%d, %d, %d, %d) needs more memory than this backend can address", what,
                n, c, h, w);
  }
  return ok();
}

inline wtconv_status check_pointer(const void* p, const char* what) {
  return p != nullptr ? ok() : fail(WTCONV_E_ARG, "%s: expected a buffer, got NULL", what);
}

inline wtconv_status check_wavelet(int32_t wavelet) {
  return valid_wavelet(wavelet)
             ? ok()
             : fail(WTCONV_E_ARG, "wavelet: expected an id in 1..4 (db1..db4), got %d", wavelet);
}

inline wtconv_status check_levels(int32_t levels) {
  return levels >= 1 && levels <= 30
             ? ok()
             : fail(WTCONV_E_ARG, "levels: expected an integer in 1..30, got %d", levels);
}

}  // namespace wtconv

#define WTCONV_CHECK(expr)                          \
  do {                                              \
    const wtconv_status wtconv_check_s_ = (expr);   \
    if (wtconv_check_s_ != WTCONV_OK) return wtconv_check_s_; \
  } while (0)
