// The CUDA library's error and version exports, over the core's error
// reporting (core/src/errors.cc), so the CUDA addon needs nothing else of the
// CPU runtime.
#include "../../core/src/common.h"
#include "wtconv/cuda_api.h"

extern "C" const char* wtconv_cuda_last_error(void) { return wtconv::last_error_message(); }
extern "C" const char* wtconv_cuda_version(void) { return WTCONV_VERSION_STRING; }
