// DCLS kernel construction (SPEC section 4), 1-D to 3-D: each of `count`
// weights per (out, in / groups) pair is placed at a learnable float position
// P and spread over the kernel, bilinearly ('v0') or by a normalised Gaussian
// ('gauss', widths from SIG). Forward builds the dense kernel; backward maps
// its gradient to weight, P and SIG. One (out, in) kernel slice per task;
// the math of a slice is kernels/dcls-slice.h (shared with the CUDA backend).
#include "../thread-pool.h"
#include "dcls-geometry.h"

using namespace wtconv;

extern "C" {

wtconv_status wtconv_dcls_construct_forward(int32_t dims, int32_t out, int32_t in_per_group,
                                            int32_t count, int32_t size0, int32_t size1,
                                            int32_t size2, int32_t version, const float* weight,
                                            const float* P, const float* SIG, float* kernel) {
  Dcls d;
  WTCONV_CHECK(make_dcls(dims, out, in_per_group, count, size0, size1, size2, version, &d));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(P, "P"));
  if (version == kDclsGauss) WTCONV_CHECK(check_pointer(SIG, "SIG"));
  WTCONV_CHECK(check_pointer(kernel, "kernel"));
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t slice = begin; slice < end; ++slice) dcls_construct_slice(d, slice, weight, P, SIG, kernel);
    return WTCONV_OK;
  };
  WTCONV_CHECK(ThreadPool::instance().parallel_for(static_cast<size_t>(out) * in_per_group, 0, body));
  return ok();
}

wtconv_status wtconv_dcls_construct_backward(int32_t dims, int32_t out, int32_t in_per_group,
                                             int32_t count, int32_t size0, int32_t size1,
                                             int32_t size2, int32_t version, const float* weight,
                                             const float* P, const float* SIG,
                                             const float* grad_kernel, float* grad_weight,
                                             float* grad_P, float* grad_SIG) {
  Dcls d;
  WTCONV_CHECK(make_dcls(dims, out, in_per_group, count, size0, size1, size2, version, &d));
  WTCONV_CHECK(check_pointer(weight, "weight"));
  WTCONV_CHECK(check_pointer(P, "P"));
  if (version == kDclsGauss) WTCONV_CHECK(check_pointer(SIG, "SIG"));
  WTCONV_CHECK(check_pointer(grad_kernel, "grad_kernel"));
  if (version != kDclsGauss) grad_SIG = nullptr;
  auto body = [&](size_t begin, size_t end, void*) {
    for (size_t slice = begin; slice < end; ++slice) {
      dcls_backward_slice(d, slice, weight, P, SIG, grad_kernel, grad_weight, grad_P, grad_SIG);
    }
    return WTCONV_OK;
  };
  WTCONV_CHECK(ThreadPool::instance().parallel_for(static_cast<size_t>(out) * in_per_group, 0, body));
  return ok();
}

}  // extern "C"
