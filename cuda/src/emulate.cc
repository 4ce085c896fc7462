// The host emulator of the CUDA library: the same operators (ops.h) and kernels
// (kernels.h), each block run on the CPU with one "thread" per phase. It builds
// without a GPU or nvcc (wtconv_cuda_emu.node), so tests on any machine check
// the kernels' index arithmetic, the launch sequences and the TypeScript CUDA
// backend end to end. It is a test instrument, not a backend for users.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "ops.h"
#include "wtconv/cuda_api.h"

namespace wtconv_cuda {

struct HostExec {
  void* ws_ = nullptr;
  size_t ws_bytes_ = 0;
  int tier_ = 1;
  std::vector<float> smem;

  int tier() const { return tier_; }
  void* workspace(size_t bytes) {
    if (bytes <= ws_bytes_) return ws_;
    release();
    ws_ = std::malloc(bytes);
    if (!ws_) {
      fail(WTCONV_E_OOM, "emulator: cannot allocate a workspace of %zu bytes", bytes);
      return nullptr;
    }
    // Fresh device memory holds garbage: so does the emulator's.
    std::memset(ws_, 0x7f, bytes);
    ws_bytes_ = bytes;
    return ws_;
  }
  void release() {
    std::free(ws_);
    ws_ = nullptr;
    ws_bytes_ = 0;
  }
  template <typename K>
  wtconv_status launch(const K& k, int64_t nbx, int nby, int threads, int shared_floats) {
    if (nbx < 1 || nbx > 0x7fffffff || nby < 1 || nby > 65535 || threads < 1) {
      return fail(WTCONV_E_SHAPE, "cuda: a grid of (%lld, %d) blocks exceeds the device's limits", static_cast<long long>(nbx), nby);
    }
    if (shared_floats > kMaxSharedFloats) return fail(WTCONV_E_INTERNAL, "emulator: %d floats of shared memory exceed 48 KiB", shared_floats);
    smem.assign(static_cast<size_t>(shared_floats) + 1, 0.0f);
    for (int by = 0; by < nby; ++by) {
      for (int64_t bx = 0; bx < nbx; ++bx) {
        const Block b{static_cast<int>(bx), by, 0, static_cast<int>(nbx), 0, 1};
        for (int phase = 0; phase < K::kPhases; ++phase) k(phase, b, smem.data());
      }
    }
    return WTCONV_OK;
  }
  wtconv_status finish(const char*) { return WTCONV_OK; }
};

HostExec& executor() {
  static HostExec ex;
  return ex;
}

}  // namespace wtconv_cuda

using wtconv_cuda::executor;

#include "api.inc"

extern "C" {

int32_t wtconv_cuda_probe(char* name, int32_t name_len, int32_t* cc_major, int32_t* cc_minor,
                          int32_t* driver_version, int32_t* runtime_version) {
  if (name && name_len > 0) std::snprintf(name, static_cast<size_t>(name_len), "%s", "wtconv host emulator (tests only)");
  if (cc_major) *cc_major = 0;
  if (cc_minor) *cc_minor = 0;
  if (driver_version) *driver_version = 0;
  if (runtime_version) *runtime_version = 0;
  wtconv::ok();
  return 1;
}

wtconv_status wtconv_cuda_malloc(size_t bytes, void** out) {
  *out = std::malloc(bytes == 0 ? 4 : bytes);
  if (!*out) return wtconv::fail(WTCONV_E_OOM, "emulator: cannot allocate %zu bytes", bytes);
  std::memset(*out, 0x7f, bytes == 0 ? 4 : bytes);
  return WTCONV_OK;
}
void wtconv_cuda_free(void* p) { std::free(p); }
void wtconv_cuda_release_pool(void) {}
wtconv_status wtconv_cuda_copy_to_device(void* dst, const void* src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return WTCONV_OK;
}
wtconv_status wtconv_cuda_copy_to_host(void* dst, const void* src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return WTCONV_OK;
}
wtconv_status wtconv_cuda_copy_device(void* dst, const void* src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return WTCONV_OK;
}
wtconv_status wtconv_cuda_synchronize(void) { return WTCONV_OK; }
void wtconv_cuda_set_synchronous(int32_t) {}

}  // extern "C"
