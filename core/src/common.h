// Shared helpers of the core: status reporting, checked size arithmetic and the
// attribute that gives hot kernels run-time ISA dispatch in the native build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "wtconv/c_api.h"

namespace wtconv {

// Records a printf-style message for wtconv_last_error() and returns `status`.
wtconv_status fail(wtconv_status status, const char* format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// Clears the last error and returns WTCONV_OK.
wtconv_status ok();

// The message of the calling thread's last failure (empty after ok()).
const char* last_error_message();

// a * b with overflow detection (both non-negative); false on overflow.
inline bool checked_mul(size_t a, size_t b, size_t* out) {
  if (a != 0 && b > SIZE_MAX / a) return false;
  *out = a * b;
  return true;
}

// Product of non-negative int32 sizes as a size_t; false on overflow.
bool checked_product(std::initializer_list<int32_t> sizes, size_t* out);

inline int32_t ceil_div(int32_t a, int32_t b) { return (a + b - 1) / b; }
inline size_t ceil_div_size(size_t a, size_t b) { return (a + b - 1) / b; }
// floor(a / b) for b > 0 and any sign of a.
inline int32_t floor_div(int32_t a, int32_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
// v rounded up to a multiple of m.
inline size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

}  // namespace wtconv

// Hot kernels are compiled once per x86-64 ISA level and picked at load time
// (GNU ifunc), so the addon vectorises with AVX2/AVX-512 where the CPU has them
// and still runs on a baseline x86-64 CPU. Other targets compile one version.
// The clones are named by feature ("avx2"), never by CPU model ("arch=haswell"
// dispatches on the model and is never taken on an AMD CPU).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(WTCONV_NO_MULTIVERSION)
#define WTCONV_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WTCONV_MULTIVERSION
#endif
