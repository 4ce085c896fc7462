/*
 * wtconv C ABI: the one flat interface that both the WebAssembly module and the
 * native N-API addon call. Every tensor is float32, contiguous, NCHW.
 *
 * Conventions
 * - Every operator returns a wtconv_status; on failure wtconv_last_error()
 *   returns a message naming the argument at fault (thread-local).
 * - Outputs are overwritten, never accumulated into.
 * - Sizes are int32; products are checked in 64-bit arithmetic.
 * - Lists of per-level tensors are passed as arrays of pointers.
 * - Scratch memory comes from a grow-only workspace owned by the thread pool, so
 *   repeated calls with the same shapes allocate nothing.
 * - Weights transformed for a faster form (Winograd) are kept for later calls
 *   with the same weight (compared with a copy: a weight changed in place is
 *   transformed again), up to 48 MiB, the least recently used going first.
 */
#ifndef WTCONV_C_API_H_
#define WTCONV_C_API_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#define WTCONV_API EMSCRIPTEN_KEEPALIVE
#elif defined(_WIN32)
#define WTCONV_API
#else
#define WTCONV_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wtconv_status {
  WTCONV_OK = 0,
  WTCONV_E_ARG = 1,      /* an argument has a bad value (levels 0, stride 0, unknown wavelet) */
  WTCONV_E_SHAPE = 2,    /* sizes that are inconsistent, non-positive or overflow */
  WTCONV_E_OOM = 3,      /* a workspace allocation failed */
  WTCONV_E_INTERNAL = 4  /* a bug: please report */
} wtconv_status;

/* ---- runtime ---------------------------------------------------------- */
WTCONV_API const char* wtconv_last_error(void);
WTCONV_API const char* wtconv_version(void);
/* The vector ISA the hot kernels run with here ("avx512f", "avx2", "sse2", "wasm-simd128", ...). */
WTCONV_API const char* wtconv_isa(void);
/* Threads used by operators (including the calling thread). n < 1 selects 1. Returns the count in effect. */
WTCONV_API int32_t wtconv_set_num_threads(int32_t n);
WTCONV_API int32_t wtconv_get_num_threads(void);
/* Number of distinct threads that ran a share of the most recent parallel operator. */
WTCONV_API int32_t wtconv_threads_used_last(void);
/* Bytes currently held by the scratch workspace and the kept transformed weights. */
WTCONV_API double wtconv_workspace_bytes(void);
/* Frees the scratch workspace and the kept transformed weights (they grow again on the next calls). */
WTCONV_API void wtconv_release_workspace(void);

/* ---- wavelets ----------------------------------------------------------
 * Wavelet ids: 1..4 = db1 (Haar) .. db4, PyWavelets' coefficients.
 * Filter length F = 2 * id. */
WTCONV_API int32_t wtconv_wavelet_filter_length(int32_t wavelet);
/* Writes dec_lo, dec_hi, rec_lo, rec_hi (F each) into out (4F floats). */
WTCONV_API wtconv_status wtconv_wavelet_filters(int32_t wavelet, float* out);

/* ---- depthwise conv2d, NCHW (depthwise-conv2d-nchw.cc) -----------------
 * y[n,c] = conv(x[n,c], weight[c]) + bias[c]; weight (C,1,kh,kw), bias may be NULL.
 * Padding (top, left, bottom, right) with zeros; stride (sh, sw); no dilation.
 * Output size: (h + pt + pb - kh) / sh + 1 by (w + pl + pr - kw) / sw + 1. */
WTCONV_API wtconv_status wtconv_depthwise_conv2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh, int32_t kw,
    int32_t pad_top, int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
    int32_t stride_h, int32_t stride_w,
    const float* x, const float* weight, const float* bias, float* y);
/* grad_x, grad_weight, grad_bias may each be NULL (not computed). */
WTCONV_API wtconv_status wtconv_depthwise_conv2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh, int32_t kw,
    int32_t pad_top, int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
    int32_t stride_h, int32_t stride_w,
    const float* x, const float* weight, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias);

/* ---- multi-level 2-D DWT, NCHW (dwt2d-nchw.cc) --------------------------
 * Level l of an (n, c, h, w) input has bands (n, c, 4, h_l, w_l) with
 * h_0 = ceil(h / 2), h_{l+1} = ceil(h_l / 2) (odd sizes are zero-padded at the
 * bottom / right before each level). */
WTCONV_API wtconv_status wtconv_dwt2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
    const float* x, float* const* bands);
WTCONV_API wtconv_status wtconv_dwt2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
    const float* const* grad_bands, float* grad_x);
/* Inverse of wtconv_dwt2d_forward for an (n, c, h, w) signal: only the last
 * level's LL band is read; the LL bands of lower levels are ignored. */
WTCONV_API wtconv_status wtconv_idwt2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
    const float* const* bands, float* y);
/* grad_bands[l] is written in full (the ignored LL bands get zeros). */
WTCONV_API wtconv_status wtconv_idwt2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t levels, int32_t wavelet,
    const float* grad_y, float* const* grad_bands);

/* ---- WTConv2d, NCHW (wtconv2d-nchw.cc) ---------------------------------
 * Parameters as in the PyTorch module's state_dict:
 *   base_weight (C,1,k,k), base_bias (C) or NULL, base_scale (C),
 *   wavelet_weight[i] (4C,1,k,k), wavelet_scale[i] (4C) for i < levels.
 * Output (n, c, ceil(h / sh), ceil(w / sw)). */
WTCONV_API wtconv_status wtconv_wtconv2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kernel_size, int32_t levels,
    int32_t stride_h, int32_t stride_w, int32_t wavelet,
    const float* x, const float* base_weight, const float* base_bias,
    const float* base_scale, const float* const* wavelet_weight,
    const float* const* wavelet_scale, float* y);
/* Gradients of sum(grad_y * y) for x and every parameter; grad_base_bias is
 * NULL exactly when base_bias is NULL. */
WTCONV_API wtconv_status wtconv_wtconv2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t kernel_size, int32_t levels,
    int32_t stride_h, int32_t stride_w, int32_t wavelet,
    const float* x, const float* base_weight, const float* base_bias,
    const float* base_scale, const float* const* wavelet_weight,
    const float* const* wavelet_scale, const float* grad_y,
    float* grad_x, float* grad_base_weight, float* grad_base_bias,
    float* grad_base_scale, float* const* grad_wavelet_weight,
    float* const* grad_wavelet_scale);

/* ---- general convolutions (conv1d-ncl.cc, conv2d-nchw.cc, conv3d-ncdhw.cc,
 * conv-transpose2d-nchw.cc) ------------------------------------------------
 * PyTorch's F.conv{1,2,3}d: x (n, cin, *in), weight (cout, cin / groups, *k),
 * bias (cout) or NULL, symmetric zero padding, stride, dilation, groups.
 * Output size per axis: (in + 2 pad - dilation (k - 1) - 1) / stride + 1.
 * Computed as unfold -> packed, blocked GEMM -> fold; conv2d with
 * groups == cin == cout and no dilation takes the direct depthwise kernels.
 * In backward, grad_x, grad_weight and grad_bias may each be NULL. */
WTCONV_API wtconv_status wtconv_conv1d_forward(
    int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k, int32_t stride, int32_t pad,
    int32_t dilation, int32_t groups, const float* x, const float* weight, const float* bias,
    float* y);
WTCONV_API wtconv_status wtconv_conv1d_backward(
    int32_t n, int32_t cin, int32_t l, int32_t cout, int32_t k, int32_t stride, int32_t pad,
    int32_t dilation, int32_t groups, const float* x, const float* weight, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias);
WTCONV_API wtconv_status wtconv_conv2d_forward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t dilation_h,
    int32_t dilation_w, int32_t groups, const float* x, const float* weight, const float* bias,
    float* y);
WTCONV_API wtconv_status wtconv_conv2d_backward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t dilation_h,
    int32_t dilation_w, int32_t groups, const float* x, const float* weight, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias);
WTCONV_API wtconv_status wtconv_conv3d_forward(
    int32_t n, int32_t cin, int32_t d, int32_t h, int32_t w, int32_t cout, int32_t kd, int32_t kh,
    int32_t kw, int32_t stride_d, int32_t stride_h, int32_t stride_w, int32_t pad_d, int32_t pad_h,
    int32_t pad_w, int32_t dilation_d, int32_t dilation_h, int32_t dilation_w, int32_t groups,
    const float* x, const float* weight, const float* bias, float* y);
WTCONV_API wtconv_status wtconv_conv3d_backward(
    int32_t n, int32_t cin, int32_t d, int32_t h, int32_t w, int32_t cout, int32_t kd, int32_t kh,
    int32_t kw, int32_t stride_d, int32_t stride_h, int32_t stride_w, int32_t pad_d, int32_t pad_h,
    int32_t pad_w, int32_t dilation_d, int32_t dilation_h, int32_t dilation_w, int32_t groups,
    const float* x, const float* weight, const float* grad_y, float* grad_x, float* grad_weight,
    float* grad_bias);
/* PyTorch's F.conv_transpose2d: x (n, cin, h, w), weight (cin, cout / groups, kh, kw),
 * output (n, cout, (h - 1) s - 2 p + d (k - 1) + output_pad + 1, ...);
 * output_pad must be smaller than the stride or the dilation. The forward pass
 * computes y[:, o] = channel_scale[o] * conv_transpose2d(x, weight)[:, o] + bias[o]
 * + residual[:, o] (an eval-mode BatchNorm folded in, then a skip connection);
 * channel_scale, bias and residual (y's shape, not overlapping y) may be null. */
WTCONV_API wtconv_status wtconv_conv_transpose2d_forward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* channel_scale, const float* bias, const float* residual, float* y);
WTCONV_API wtconv_status wtconv_conv_transpose2d_backward(
    int32_t n, int32_t cin, int32_t h, int32_t w, int32_t cout, int32_t kh, int32_t kw,
    int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t output_pad_h,
    int32_t output_pad_w, int32_t dilation_h, int32_t dilation_w, int32_t groups, const float* x,
    const float* weight, const float* grad_y, float* grad_x, float* grad_weight,
    float* grad_bias);

/* ---- DCLS kernel construction (dcls-construct.cc) ------------------------
 * dims 1..3 spatial axes; weight (out, in_per_group, count); P (and SIG for
 * the Gaussian version) (dims, out, in_per_group, count), positions stored
 * centred; kernel (out, in_per_group, size0[, size1[, size2]]); sizes past
 * dims must be 1. version 0 = 'v0' (bilinear), 1 = 'gauss' (SIG required).
 * Backward: grad_weight, grad_P, grad_SIG may each be NULL. */
WTCONV_API wtconv_status wtconv_dcls_construct_forward(
    int32_t dims, int32_t out, int32_t in_per_group, int32_t count, int32_t size0, int32_t size1,
    int32_t size2, int32_t version, const float* weight, const float* P, const float* SIG,
    float* kernel);
WTCONV_API wtconv_status wtconv_dcls_construct_backward(
    int32_t dims, int32_t out, int32_t in_per_group, int32_t count, int32_t size0, int32_t size1,
    int32_t size2, int32_t version, const float* weight, const float* P, const float* SIG,
    const float* grad_kernel, float* grad_weight, float* grad_P, float* grad_SIG);

/* ---- WaveMix layers (add.cc, gelu.cc, dropout.cc, batch-norm2d-nchw.cc, linear-nc.cc,
 * global-avg-pool2d-nchw.cc, concat-channels-nchw.cc) -----------------------
 * Element-wise layers take (n, size): n * size values, each at most INT32_MAX.
 * In backward, every gradient output may be NULL (not computed). */
/* Element-wise sum y = a + b (add.cc); y may be a or b. */
WTCONV_API wtconv_status wtconv_add_forward(int32_t n, int32_t size, const float* a, const float* b,
                                            float* y);
/* GELU, erf form: y = x * Phi(x). */
WTCONV_API wtconv_status wtconv_gelu_forward(int32_t n, int32_t size, const float* x, float* y);
WTCONV_API wtconv_status wtconv_gelu_backward(int32_t n, int32_t size, const float* x,
                                              const float* grad_y, float* grad_x);
/* Dropout (training mode): mask[i] = 1 / (1 - p) with probability 1 - p, else 0;
 * y = x * mask. The draw is a hash of (seed, i): the same seed gives the same
 * mask on every backend and thread count. p in [0, 1]; p = 0 copies x. */
WTCONV_API wtconv_status wtconv_dropout_forward(int32_t n, int32_t size, float p, int32_t seed,
                                                const float* x, float* y, float* mask);
/* grad_x = grad_y * mask. */
WTCONV_API wtconv_status wtconv_dropout_backward(int32_t n, int32_t size, const float* mask,
                                                 const float* grad_y, float* grad_x);
/* BatchNorm2d over (n, c, h, w); weight, bias (c) may be NULL (1, 0).
 * training != 0: normalise with the batch mean and biased variance, and (when
 * new_running_mean / new_running_var are not NULL) write
 * new = (1 - momentum) * running + momentum * batch (unbiased variance);
 * the new_* buffers may alias running_*. training == 0: normalise with the
 * running statistics. save_mean / save_invstd (c) receive the mean and
 * 1 / sqrt(var + eps) used, for backward. */
WTCONV_API wtconv_status wtconv_batch_norm2d_forward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t training, float momentum, float eps,
    const float* x, const float* weight, const float* bias, const float* running_mean,
    const float* running_var, float* y, float* save_mean, float* save_invstd,
    float* new_running_mean, float* new_running_var);
WTCONV_API wtconv_status wtconv_batch_norm2d_backward(
    int32_t n, int32_t c, int32_t h, int32_t w, int32_t training, const float* x,
    const float* weight, const float* save_mean, const float* save_invstd, const float* grad_y,
    float* grad_x, float* grad_weight, float* grad_bias);
/* Linear: y (n, out) = x (n, in) weight^T + bias; weight (out, in), bias (out) or NULL. */
WTCONV_API wtconv_status wtconv_linear_forward(int32_t n, int32_t in, int32_t out, const float* x,
                                               const float* weight, const float* bias, float* y);
WTCONV_API wtconv_status wtconv_linear_backward(int32_t n, int32_t in, int32_t out,
                                                const float* x, const float* weight,
                                                const float* grad_y, float* grad_x,
                                                float* grad_weight, float* grad_bias);
/* Global average pooling: y (n, c) = mean over (h, w) of x (n, c, h, w). */
WTCONV_API wtconv_status wtconv_global_avg_pool2d_forward(int32_t n, int32_t c, int32_t h,
                                                          int32_t w, const float* x, float* y);
WTCONV_API wtconv_status wtconv_global_avg_pool2d_backward(int32_t n, int32_t c, int32_t h,
                                                           int32_t w, const float* grad_y,
                                                           float* grad_x);
/* Channel concatenation of a (n, ca, plane) and b (n, cb, plane) into y
 * (n, ca + cb, plane); backward splits grad_y. */
WTCONV_API wtconv_status wtconv_concat_channels_forward(int32_t n, int32_t ca, int32_t cb,
                                                        int32_t plane, const float* a,
                                                        const float* b, float* y);
WTCONV_API wtconv_status wtconv_concat_channels_backward(int32_t n, int32_t ca, int32_t cb,
                                                         int32_t plane, const float* grad_y,
                                                         float* grad_a, float* grad_b);

#ifdef __cplusplus
}
#endif

#endif /* WTCONV_C_API_H_ */
