// Error reporting and checked size arithmetic of the core (common.h), shared
// by every library built from it: the CPU core and the CUDA addon.
#include <cstdarg>
#include <cstdio>
#include <initializer_list>

#include "common.h"

namespace wtconv {

namespace {
thread_local char last_error[1024] = {0};
}

wtconv_status fail(wtconv_status status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(last_error, sizeof(last_error), format, args);
  va_end(args);
  return status;
}

wtconv_status ok() {
  last_error[0] = '\0';
  return WTCONV_OK;
}

const char* last_error_message() { return last_error; }

bool checked_product(std::initializer_list<int32_t> sizes, size_t* out) {
  size_t p = 1;
  for (int32_t s : sizes) {
    if (s < 0 || !checked_mul(p, static_cast<size_t>(s), &p)) return false;
  }
  *out = p;
  return true;
}

}  // namespace wtconv
