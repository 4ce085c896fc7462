/*
 * wtconv CUDA C ABI: the operators of c_api.h on device memory, plus the
 * runtime calls the N-API addon (cuda/binding.cc) needs. Argument order and
 * meaning are those of the CPU functions (wtconv_X -> wtconv_cuda_X); every
 * tensor pointer is a device pointer, lists of per-level tensors are host
 * arrays of device pointers. Failures return a status and set
 * wtconv_cuda_last_error(); CUDA errors (launch failures, out of memory, a
 * missing driver) come back as WTCONV_E_CUDA / WTCONV_E_OOM with CUDA's
 * message, never as an abort.
 */
#ifndef WTCONV_CUDA_API_H_
#define WTCONV_CUDA_API_H_

#include "wtconv/c_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A CUDA runtime or driver error; the message names the call and CUDA's error. */
#define WTCONV_E_CUDA ((wtconv_status)5)

WTCONV_API const char* wtconv_cuda_last_error(void);
WTCONV_API const char* wtconv_cuda_version(void);
/* Devices usable here (>= 1), 0 when there are none, -1 when the CUDA runtime
 * cannot start (no driver, driver too old): the reason is in last_error. On
 * success fills the name and compute capability of device 0 and the driver and
 * runtime versions (1000 * major + 10 * minor). */
WTCONV_API int32_t wtconv_cuda_probe(char* name, int32_t name_len, int32_t* cc_major,
                                     int32_t* cc_minor, int32_t* driver_version,
                                     int32_t* runtime_version);
WTCONV_API wtconv_status wtconv_cuda_malloc(size_t bytes, void** out);
/* Freed blocks are kept for reuse (up to 1 GiB); release_workspace returns them. */
WTCONV_API void wtconv_cuda_free(void* p);
WTCONV_API void wtconv_cuda_release_pool(void);
WTCONV_API wtconv_status wtconv_cuda_copy_to_device(void* dst, const void* src, size_t bytes);
WTCONV_API wtconv_status wtconv_cuda_copy_to_host(void* dst, const void* src, size_t bytes);
WTCONV_API wtconv_status wtconv_cuda_copy_device(void* dst, const void* src, size_t bytes);
/* Waits for every queued operator; returns the first error of any. */
WTCONV_API wtconv_status wtconv_cuda_synchronize(void);
/* 1 (default): every operator waits for its kernels and reports their errors;
 * 0: operators only queue kernels (benchmarks), wtconv_cuda_synchronize reports. */
WTCONV_API void wtconv_cuda_set_synchronous(int32_t on);
/* 1 (default): fused kernels where their shared memory fits, else baseline;
 * 0: the baseline kernels (one step per launch) always. */
WTCONV_API void wtconv_cuda_set_tier(int32_t fused);
WTCONV_API int32_t wtconv_cuda_get_tier(void);
WTCONV_API double wtconv_cuda_workspace_bytes(void);
WTCONV_API void wtconv_cuda_release_workspace(void);

WTCONV_API wtconv_status wtconv_cuda_depthwise_conv2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh, int32_t kw,
    int32_t pad_top, int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
    int32_t stride_h, int32_t stride_w,
    const float* x, const float* weight, const float* bias, float* y);
WTCONV_API wtconv_status wtconv_cuda_depthwise_conv2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh, int32_t kw,
    int32_t pad_top, int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
    int32_t stride_h, int32_t stride_w,
    const float* x, const float* weight, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias);
/* conv1d / conv2d / conv3d: the arguments of the core's wtconv_conv*d_* (c_api.h). */
WTCONV_API wtconv_status wtconv_cuda_conv1d_forward(
    int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k, int32_t stride, int32_t pad,
    int32_t dilation, int32_t groups, const float* x, const float* weight, const float* bias, float* y);
WTCONV_API wtconv_status wtconv_cuda_conv1d_backward(
    int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k, int32_t stride, int32_t pad,
    int32_t dilation, int32_t groups, const float* x, const float* weight, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias);
WTCONV_API wtconv_status wtconv_cuda_conv2d_forward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t dilation_h,
    int32_t dilation_w, int32_t groups, const float* x, const float* weight, const float* bias,
    float* y);
WTCONV_API wtconv_status wtconv_cuda_conv2d_backward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t dilation_h,
    int32_t dilation_w, int32_t groups, const float* x, const float* weight, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias);
WTCONV_API wtconv_status wtconv_cuda_conv3d_forward(
    int32_t n, int32_t cin, int32_t d, int32_t h, int32_t w, int32_t cout, int32_t kd, int32_t kh,
    int32_t kw, int32_t stride_d, int32_t stride_h, int32_t stride_w, int32_t pad_d, int32_t pad_h,
    int32_t pad_w, int32_t dilation_d, int32_t dilation_h, int32_t dilation_w, int32_t groups,
    const float* x, const float* weight, const float* bias, float* y);
WTCONV_API wtconv_status wtconv_cuda_conv3d_backward(
    int32_t n, int32_t cin, int32_t d, int32_t h, int32_t w, int32_t cout, int32_t kd, int32_t kh,
    int32_t kw, int32_t stride_d, int32_t stride_h, int32_t stride_w, int32_t pad_d, int32_t pad_h,
    int32_t pad_w, int32_t dilation_d, int32_t dilation_h, int32_t dilation_w, int32_t groups,
    const float* x, const float* weight, const float* grad_y, float* grad_x, float* grad_weight,
    float* grad_bias);
/* conv_transpose2d: the arguments of the core's wtconv_conv_transpose2d_* (c_api.h). */
WTCONV_API wtconv_status wtconv_cuda_conv_transpose2d_forward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* channel_scale, const float* bias, const float* residual, float* y);
WTCONV_API wtconv_status wtconv_cuda_conv_transpose2d_backward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* grad_y, float* grad_x, float* grad_weight, float* grad_bias);
/* The WaveMix layers: the arguments of the core's functions of the same names (c_api.h). */
WTCONV_API wtconv_status wtconv_cuda_add_forward(int32_t n, int32_t size, const float* a, const float* b, float* y);
WTCONV_API wtconv_status wtconv_cuda_gelu_forward(int32_t n, int32_t size, const float* x, float* y);
WTCONV_API wtconv_status wtconv_cuda_gelu_backward(int32_t n, int32_t size, const float* x, const float* grad_y,
                                                   float* grad_x);
WTCONV_API wtconv_status wtconv_cuda_dropout_forward(int32_t n, int32_t size, float p, int32_t seed, const float* x,
                                                     float* y, float* mask);
WTCONV_API wtconv_status wtconv_cuda_dropout_backward(int32_t n, int32_t size, const float* mask, const float* grad_y,
                                                      float* grad_x);
WTCONV_API wtconv_status wtconv_cuda_batch_norm2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t training, float momentum, float eps,
    const float* x, const float* weight, const float* bias, const float* running_mean,
    const float* running_var, float* y, float* save_mean, float* save_invstd,
    float* new_running_mean, float* new_running_var);
WTCONV_API wtconv_status wtconv_cuda_batch_norm2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t training, const float* x,
    const float* weight, const float* save_mean, const float* save_invstd, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias);
WTCONV_API wtconv_status wtconv_cuda_linear_forward(int32_t n, int32_t in, int32_t out, const float* x,
                                                    const float* weight, const float* bias, float* y);
WTCONV_API wtconv_status wtconv_cuda_linear_backward(int32_t n, int32_t in, int32_t out, const float* x,
                                                     const float* weight, const float* grad_y, float* grad_x,
                                                     float* grad_weight, float* grad_bias);
WTCONV_API wtconv_status wtconv_cuda_global_avg_pool2d_forward(int32_t n, int32_t c, int32_t h, int32_t w,
                                                               const float* x, float* y);
WTCONV_API wtconv_status wtconv_cuda_global_avg_pool2d_backward(int32_t n, int32_t c, int32_t h, int32_t w,
                                                                const float* grad_y, float* grad_x);
WTCONV_API wtconv_status wtconv_cuda_concat_channels_forward(int32_t n, int32_t ca, int32_t cb, int32_t plane,
                                                             const float* a, const float* b, float* y);
WTCONV_API wtconv_status wtconv_cuda_concat_channels_backward(int32_t n, int32_t ca, int32_t cb, int32_t plane,
                                                              const float* grad_y, float* grad_a, float* grad_b);
/* DCLS kernel construction: the arguments of the core's wtconv_dcls_construct_* (c_api.h). */
WTCONV_API wtconv_status wtconv_cuda_dcls_construct_forward(
    int32_t dims, int32_t out, int32_t in_per_group, int32_t count, int32_t size0, int32_t size1,
    int32_t size2, int32_t version, const float* weight, const float* P, const float* SIG, float* kernel);
WTCONV_API wtconv_status wtconv_cuda_dcls_construct_backward(
    int32_t dims, int32_t out, int32_t in_per_group, int32_t count, int32_t size0, int32_t size1,
    int32_t size2, int32_t version, const float* weight, const float* P, const float* SIG,
    const float* grad_kernel, float* grad_weight, float* grad_P, float* grad_SIG);
WTCONV_API wtconv_status wtconv_cuda_dwt2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
    const float* x, float* const* bands);
WTCONV_API wtconv_status wtconv_cuda_dwt2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
    const float* const* grad_bands, float* grad_x);
WTCONV_API wtconv_status wtconv_cuda_idwt2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
    const float* const* bands, float* y);
WTCONV_API wtconv_status wtconv_cuda_idwt2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
    const float* grad_y, float* const* grad_bands);
WTCONV_API wtconv_status wtconv_cuda_wtconv2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kernel_size, int32_t levels,
    int32_t stride_h, int32_t stride_w, int32_t wavelet,
    const float* x, const float* base_weight, const float* base_bias,
    const float* base_scale, const float* const* wavelet_weight,
    const float* const* wavelet_scale, float* y);
WTCONV_API wtconv_status wtconv_cuda_wtconv2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kernel_size, int32_t levels,
    int32_t stride_h, int32_t stride_w, int32_t wavelet,
    const float* x, const float* base_weight, const float* base_bias,
    const float* base_scale, const float* const* wavelet_weight,
    const float* const* wavelet_scale, const float* grad_y,
    float* grad_x, float* grad_base_weight, float* grad_base_bias,
    float* grad_base_scale, float* const* grad_wavelet_weight,
    float* const* grad_wavelet_scale);

#ifdef __cplusplus
}
#endif

#endif /* WTCONV_CUDA_API_H_ */
