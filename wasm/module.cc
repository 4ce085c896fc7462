// The WebAssembly module is the core's C ABI as it is: every wtconv_* function
// is exported (EMSCRIPTEN_KEEPALIVE in c_api.h). This file only gives the
// module a translation unit of its own.
#include "wtconv/c_api.h"
