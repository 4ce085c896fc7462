// The CUDA executor: kernels of kernels.h launched on one stream, a grow-only
// device workspace, and the runtime entry points of cuda_api.h. The CUDA
// runtime is linked statically and finds the driver (libcuda) only when first
// used, so the addon loads on machines without one and reports why it cannot run.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>
#include <map>

#include "ops.h"
#include "wtconv/cuda_api.h"

namespace wtconv_cuda {

template <typename K>
__global__ void __launch_bounds__(kThreads) run_kernel(const K k) {
  extern __shared__ float smem[];
  const Block b{static_cast<int>(blockIdx.x), static_cast<int>(blockIdx.y), static_cast<int>(blockIdx.z),
                static_cast<int>(gridDim.x), static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x)};
#pragma unroll 1
  for (int phase = 0; phase < K::kPhases; ++phase) {
    if (phase) __syncthreads();
    k(phase, b, smem);
  }
}

wtconv_status cuda_fail(cudaError_t e, const char* what) {
  const wtconv_status s = e == cudaErrorMemoryAllocation ? WTCONV_E_OOM : WTCONV_E_CUDA;
  return fail(s, "cuda: %s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

#define WTCONV_CUDA_TRY(call, what)                   \
  do {                                                \
    const cudaError_t e_ = (call);                    \
    if (e_ != cudaSuccess) return cuda_fail(e_, what); \
  } while (0)

struct DeviceExec {
  cudaStream_t stream = nullptr;
  void* ws_ = nullptr;
  size_t ws_bytes_ = 0;
  int tier_ = 1;
  bool sync_ = true;

  wtconv_status ensure_stream() {
    if (stream) return WTCONV_OK;
    WTCONV_CUDA_TRY(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    return WTCONV_OK;
  }
  int tier() const { return tier_; }
  void* workspace(size_t bytes) {
    if (bytes <= ws_bytes_) return ws_;
    release();
    if (cudaMalloc(&ws_, bytes) != cudaSuccess) {
      const cudaError_t e = cudaGetLastError();
      ws_ = nullptr;
      cuda_fail(e == cudaSuccess ? cudaErrorMemoryAllocation : e, "workspace allocation");
      fail(WTCONV_E_OOM, "cuda: cannot allocate a workspace of %zu bytes on the device (out of memory)", bytes);
      return nullptr;
    }
    ws_bytes_ = bytes;
    return ws_;
  }
  void release() {
    if (ws_) {
      if (stream) cudaStreamSynchronize(stream);
      cudaFree(ws_);
    }
    ws_ = nullptr;
    ws_bytes_ = 0;
  }
  template <typename K>
  wtconv_status launch(const K& k, int64_t nbx, int nby, int threads, int shared_floats) {
    WTCONV_CHECK(ensure_stream());
    if (nbx < 1 || nbx > 0x7fffffff || nby < 1 || nby > 65535) {
      return fail(WTCONV_E_SHAPE, "cuda: a grid of (%lld, %d) blocks exceeds the device's limits", static_cast<long long>(nbx), nby);
    }
    run_kernel<K><<<dim3(static_cast<unsigned>(nbx), static_cast<unsigned>(nby)), threads,
                    sizeof(float) * static_cast<size_t>(shared_floats), stream>>>(k);
    WTCONV_CUDA_TRY(cudaGetLastError(), "kernel launch");
    return WTCONV_OK;
  }
  wtconv_status finish(const char* op) {
    if (!sync_) return WTCONV_OK;
    const cudaError_t e = cudaStreamSynchronize(stream);
    if (e != cudaSuccess) return cuda_fail(e, op);
    return WTCONV_OK;
  }
};

DeviceExec& executor() {
  static DeviceExec ex;
  return ex;
}

}  // namespace wtconv_cuda

using wtconv_cuda::cuda_fail;
using wtconv_cuda::executor;

#include "api.inc"

extern "C" {

int32_t wtconv_cuda_probe(char* name, int32_t name_len, int32_t* cc_major, int32_t* cc_minor,
                          int32_t* driver_version, int32_t* runtime_version) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  if (driver_version) *driver_version = driver;
  if (runtime_version) *runtime_version = runtime;
  if (e != cudaSuccess) {
    cudaGetLastError();
    wtconv::fail(WTCONV_E_CUDA, "%s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
    return -1;
  }
  if (count == 0) {
    wtconv::fail(WTCONV_E_CUDA, "no CUDA device is visible");
    return 0;
  }
  cudaDeviceProp prop;
  const cudaError_t pe = cudaGetDeviceProperties(&prop, 0);
  if (pe != cudaSuccess) {
    wtconv::fail(WTCONV_E_CUDA, "cudaGetDeviceProperties: %s", cudaGetErrorString(pe));
    return -1;
  }
  if (name && name_len > 0) std::snprintf(name, static_cast<size_t>(name_len), "%s", prop.name);
  if (cc_major) *cc_major = prop.major;
  if (cc_minor) *cc_minor = prop.minor;
  // A first real call: kernels built for this architecture (or PTX it can JIT) must load.
  void* probe = nullptr;
  cudaError_t me = cudaMalloc(&probe, 256);
  if (me == cudaSuccess) {
    float* d = static_cast<float*>(probe);
    wtconv_cuda::ZeroLLK z{d, 1, 1, 1};
    wtconv_cuda::run_kernel<wtconv_cuda::ZeroLLK><<<1, 32>>>(z);
    me = cudaGetLastError();
    if (me == cudaSuccess) me = cudaDeviceSynchronize();
    cudaFree(probe);
  }
  if (me != cudaSuccess) {
    cudaGetLastError();
    wtconv::fail(WTCONV_E_CUDA, "device 0 (%s, compute capability %d.%d) cannot run wtconv's kernels: %s",
                 prop.name, prop.major, prop.minor, cudaGetErrorString(me));
    return -1;
  }
  wtconv::ok();
  return count;
}

// Freed tensors go to a pool of blocks by size (at most kPoolBytes held), so
// a chain of layers called again and again allocates nothing after the first
// pass. One stream orders every kernel, so a block reused by a later operator
// is only written after the earlier operators' kernels are done with it.
namespace {
constexpr size_t kPoolBytes = size_t(1) << 30;
std::multimap<size_t, void*>& pool() {
  static std::multimap<size_t, void*> p;
  return p;
}
std::map<void*, size_t>& sizes() {
  static std::map<void*, size_t> s;
  return s;
}
size_t pooled = 0;
size_t round_up(size_t bytes) { return bytes <= 4096 ? 4096 : (bytes + 65535) / 65536 * 65536; }
void drain_pool() {
  for (auto& e : pool()) {
    sizes().erase(e.second);
    cudaFree(e.second);
  }
  pool().clear();
  pooled = 0;
}
}  // namespace

wtconv_status wtconv_cuda_malloc(size_t bytes, void** out) {
  *out = nullptr;
  const size_t size = round_up(bytes);
  auto it = pool().find(size);
  if (it != pool().end()) {
    *out = it->second;
    pooled -= size;
    pool().erase(it);
    return WTCONV_OK;
  }
  cudaError_t e = cudaMalloc(out, size);
  if (e == cudaErrorMemoryAllocation && !pool().empty()) {
    cudaGetLastError();
    drain_pool();
    e = cudaMalloc(out, size);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    *out = nullptr;
    return wtconv::fail(e == cudaErrorMemoryAllocation ? WTCONV_E_OOM : WTCONV_E_CUDA,
                        "cuda: cannot allocate %zu bytes on the device: %s", bytes, cudaGetErrorString(e));
  }
  sizes()[*out] = size;
  return WTCONV_OK;
}

void wtconv_cuda_free(void* p) {
  if (!p) return;
  auto it = sizes().find(p);
  if (it == sizes().end()) return;
  if (pooled + it->second <= kPoolBytes) {
    pool().emplace(it->second, p);
    pooled += it->second;
    return;
  }
  sizes().erase(it);
  cudaFree(p);
}

void wtconv_cuda_release_pool(void) { drain_pool(); }

static wtconv_status copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, const char* what) {
  auto& ex = executor();
  WTCONV_CHECK(ex.ensure_stream());
  cudaError_t e = cudaMemcpyAsync(dst, src, bytes, kind, ex.stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(ex.stream);
  if (e != cudaSuccess) return cuda_fail(e, what);
  return WTCONV_OK;
}

wtconv_status wtconv_cuda_copy_to_device(void* dst, const void* src, size_t bytes) {
  return copy(dst, src, bytes, cudaMemcpyHostToDevice, "copy to the device");
}
wtconv_status wtconv_cuda_copy_to_host(void* dst, const void* src, size_t bytes) {
  return copy(dst, src, bytes, cudaMemcpyDeviceToHost, "copy to the host");
}
wtconv_status wtconv_cuda_copy_device(void* dst, const void* src, size_t bytes) {
  return copy(dst, src, bytes, cudaMemcpyDeviceToDevice, "device-to-device copy");
}

wtconv_status wtconv_cuda_synchronize(void) {
  auto& ex = executor();
  WTCONV_CHECK(ex.ensure_stream());
  const cudaError_t e = cudaStreamSynchronize(ex.stream);
  if (e != cudaSuccess) return cuda_fail(e, "synchronize");
  return WTCONV_OK;
}

void wtconv_cuda_set_synchronous(int32_t on) { executor().sync_ = on != 0; }

}  // extern "C"
