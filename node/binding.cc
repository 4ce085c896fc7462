// The N-API addon: a thin node-addon-api layer over the C ABI. Arguments come
// in the C function's order (numbers, Float32Array or null, arrays of
// Float32Array); outputs are written in place into the caller's arrays, so no
// tensor is copied. A failing status becomes a JS Error whose `code` is the
// status name and whose message is wtconv_last_error().
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "wtconv/c_api.h"

namespace {

const char* status_code(wtconv_status s) {
  switch (s) {
    case WTCONV_E_ARG: return "E_ARG";
    case WTCONV_E_SHAPE: return "E_SHAPE";
    case WTCONV_E_OOM: return "E_OOM";
    default: return "E_INTERNAL";
  }
}

void throw_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
}

// Positional argument reader; the first type mismatch is remembered and thrown.
class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info) {}

  int32_t i(size_t k) {
    // -1 on a mismatch: every size, padding, stride, level count and wavelet id
    // of the C ABI rejects negative values.
    if (!info_[k].IsNumber()) return bad(k, "a number"), -1;
    return info_[k].As<Napi::Number>().Int32Value();
  }
  // A float argument (probability, momentum, eps); NaN on a mismatch, which C rejects.
  float d(size_t k) {
    if (!info_[k].IsNumber()) return bad(k, "a number"), NAN;
    return static_cast<float>(info_[k].As<Napi::Number>().DoubleValue());
  }
  float* f(size_t k) {  // Float32Array or null
    if (info_[k].IsNull() || info_[k].IsUndefined()) return nullptr;
    return f32(info_[k], k);
  }
  // Array of Float32Array, held in `out` and padded with NULL to `count`
  // entries, so a short list is rejected by C instead of being read past.
  float* const* list(size_t k, int32_t count, std::vector<float*>* out) {
    if (!info_[k].IsArray()) return bad(k, "an array of Float32Array"), nullptr;
    Napi::Array a = info_[k].As<Napi::Array>();
    out->assign(std::max<size_t>(a.Length(), count > 0 ? count : 0), nullptr);
    for (uint32_t j = 0; j < a.Length(); ++j) (*out)[j] = f32(a.Get(j), k);
    return out->data();
  }
  bool failed() const { return failed_; }
  Napi::Env env() const { return info_.Env(); }

 private:
  float* f32(const Napi::Value& v, size_t k) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      return bad(k, "a Float32Array"), nullptr;
    }
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    return a.Data();
  }
  void bad(size_t k, const char* expected) {
    if (failed_) return;
    failed_ = true;
    throw_error(info_.Env(), "E_ARG",
                "native argument " + std::to_string(k) + ": expected " + expected);
  }
  const Napi::CallbackInfo& info_;
  bool failed_ = false;
};

Napi::Value finish(Args& a, wtconv_status s) {
  if (!a.failed() && s != WTCONV_OK) throw_error(a.env(), status_code(s), wtconv_last_error());
  return a.env().Undefined();
}

// `call` reads the arguments and calls C. A type mismatch sets failed() and
// reads as 0 / NULL, which the C side rejects before touching memory; the
// JS exception already thrown then wins over the C status.
#define WTCONV_BIND(js_name, call)                      \
  Napi::Value js_name(const Napi::CallbackInfo& info) { \
    Args a(info);                                       \
    std::vector<float*> l0, l1, l2, l3;                 \
    const wtconv_status s = call;                       \
    return finish(a, s);                                \
  }

WTCONV_BIND(depthwiseConv2dForward,
            wtconv_depthwise_conv2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6),
                                            a.i(7), a.i(8), a.i(9), a.i(10), a.i(11), a.f(12),
                                            a.f(13), a.f(14), a.f(15)))
WTCONV_BIND(depthwiseConv2dBackward,
            wtconv_depthwise_conv2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5),
                                             a.i(6), a.i(7), a.i(8), a.i(9), a.i(10), a.i(11),
                                             a.f(12), a.f(13), a.f(14), a.f(15), a.f(16), a.f(17)))
WTCONV_BIND(dwt2dForward, wtconv_dwt2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5),
                                               a.f(6), a.list(7, a.i(4), &l0)))
WTCONV_BIND(dwt2dBackward,
            wtconv_dwt2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5),
                                  const_cast<const float* const*>(a.list(6, a.i(4), &l0)), a.f(7)))
WTCONV_BIND(idwt2dForward,
            wtconv_idwt2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5),
                                  const_cast<const float* const*>(a.list(6, a.i(4), &l0)), a.f(7)))
WTCONV_BIND(idwt2dBackward, wtconv_idwt2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5),
                                                   a.f(6), a.list(7, a.i(4), &l0)))
WTCONV_BIND(wtconv2dForward,
            wtconv_wtconv2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                    a.i(8), a.f(9), a.f(10), a.f(11), a.f(12),
                                    const_cast<const float* const*>(a.list(13, a.i(5), &l0)),
                                    const_cast<const float* const*>(a.list(14, a.i(5), &l1)), a.f(15)))
WTCONV_BIND(wtconv2dBackward,
            wtconv_wtconv2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6),
                                     a.i(7), a.i(8), a.f(9), a.f(10), a.f(11), a.f(12),
                                     const_cast<const float* const*>(a.list(13, a.i(5), &l0)),
                                     const_cast<const float* const*>(a.list(14, a.i(5), &l1)), a.f(15),
                                     a.f(16), a.f(17), a.f(18), a.f(19), a.list(20, a.i(5), &l2),
                                     a.list(21, a.i(5), &l3)))

// General convolutions and DCLS kernel construction.
WTCONV_BIND(conv1dForward, wtconv_conv1d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8), a.f(9), a.f(10), a.f(11), a.f(12)))
WTCONV_BIND(conv1dBackward, wtconv_conv1d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8), a.f(9), a.f(10), a.f(11), a.f(12), a.f(13), a.f(14)))
WTCONV_BIND(conv2dForward, wtconv_conv2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.f(14), a.f(15), a.f(16), a.f(17)))
WTCONV_BIND(conv2dBackward, wtconv_conv2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.f(14), a.f(15), a.f(16), a.f(17), a.f(18), a.f(19)))
WTCONV_BIND(conv3dForward, wtconv_conv3d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.i(14), a.i(15), a.i(16), a.i(17), a.i(18), a.f(19), a.f(20), a.f(21), a.f(22)))
WTCONV_BIND(conv3dBackward, wtconv_conv3d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.i(14), a.i(15), a.i(16), a.i(17), a.i(18), a.f(19), a.f(20), a.f(21), a.f(22), a.f(23), a.f(24)))
WTCONV_BIND(convTranspose2dForward, wtconv_conv_transpose2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.i(14), a.i(15), a.f(16), a.f(17), a.f(18), a.f(19), a.f(20), a.f(21)))
WTCONV_BIND(convTranspose2dBackward, wtconv_conv_transpose2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.i(14), a.i(15), a.f(16), a.f(17), a.f(18), a.f(19), a.f(20), a.f(21)))
WTCONV_BIND(dclsConstructForward, wtconv_dcls_construct_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.f(8), a.f(9), a.f(10), a.f(11)))
WTCONV_BIND(dclsConstructBackward, wtconv_dcls_construct_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.f(8), a.f(9), a.f(10), a.f(11), a.f(12), a.f(13), a.f(14)))

// WaveMix layers.
WTCONV_BIND(addForward, wtconv_add_forward(a.i(0), a.i(1), a.f(2), a.f(3), a.f(4)))
WTCONV_BIND(geluForward, wtconv_gelu_forward(a.i(0), a.i(1), a.f(2), a.f(3)))
WTCONV_BIND(geluBackward, wtconv_gelu_backward(a.i(0), a.i(1), a.f(2), a.f(3), a.f(4)))
WTCONV_BIND(dropoutForward, wtconv_dropout_forward(a.i(0), a.i(1), a.d(2), a.i(3), a.f(4), a.f(5), a.f(6)))
WTCONV_BIND(dropoutBackward, wtconv_dropout_backward(a.i(0), a.i(1), a.f(2), a.f(3), a.f(4)))
WTCONV_BIND(batchNorm2dForward, wtconv_batch_norm2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.d(5), a.d(6), a.f(7), a.f(8), a.f(9), a.f(10), a.f(11), a.f(12), a.f(13), a.f(14), a.f(15), a.f(16)))
WTCONV_BIND(batchNorm2dBackward, wtconv_batch_norm2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.f(5), a.f(6), a.f(7), a.f(8), a.f(9), a.f(10), a.f(11), a.f(12)))
WTCONV_BIND(linearForward, wtconv_linear_forward(a.i(0), a.i(1), a.i(2), a.f(3), a.f(4), a.f(5), a.f(6)))
WTCONV_BIND(linearBackward, wtconv_linear_backward(a.i(0), a.i(1), a.i(2), a.f(3), a.f(4), a.f(5), a.f(6), a.f(7), a.f(8)))
WTCONV_BIND(globalAvgPool2dForward, wtconv_global_avg_pool2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.f(4), a.f(5)))
WTCONV_BIND(globalAvgPool2dBackward, wtconv_global_avg_pool2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.f(4), a.f(5)))
WTCONV_BIND(concatChannelsForward, wtconv_concat_channels_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.f(4), a.f(5), a.f(6)))
WTCONV_BIND(concatChannelsBackward, wtconv_concat_channels_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.f(4), a.f(5), a.f(6)))

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  Args a(info);
  const int32_t n = a.i(0);
  if (a.failed()) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), wtconv_set_num_threads(n));
}

Napi::Value runtimeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", wtconv_version());
  o.Set("isa", wtconv_isa());
  o.Set("threads", wtconv_get_num_threads());
  o.Set("threadsUsedLast", wtconv_threads_used_last());
  o.Set("workspaceBytes", wtconv_workspace_bytes());
  return o;
}

Napi::Value releaseWorkspace(const Napi::CallbackInfo& info) {
  wtconv_release_workspace();
  return info.Env().Undefined();
}

Napi::Value waveletFilters(const Napi::CallbackInfo& info) {
  Args a(info);
  const int32_t id = a.i(0);
  if (a.failed()) return info.Env().Undefined();
  const int32_t f = wtconv_wavelet_filter_length(id);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), 4 * static_cast<size_t>(f > 0 ? f : 0));
  const wtconv_status s = wtconv_wavelet_filters(id, out.Data());
  if (s != WTCONV_OK) {
    throw_error(info.Env(), status_code(s), wtconv_last_error());
    return info.Env().Undefined();
  }
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
#define EXPORT(name) exports.Set(#name, Napi::Function::New(env, name, #name))
  EXPORT(depthwiseConv2dForward);
  EXPORT(depthwiseConv2dBackward);
  EXPORT(dwt2dForward);
  EXPORT(dwt2dBackward);
  EXPORT(idwt2dForward);
  EXPORT(idwt2dBackward);
  EXPORT(wtconv2dForward);
  EXPORT(wtconv2dBackward);
  EXPORT(conv1dForward);
  EXPORT(conv1dBackward);
  EXPORT(conv2dForward);
  EXPORT(conv2dBackward);
  EXPORT(conv3dForward);
  EXPORT(conv3dBackward);
  EXPORT(convTranspose2dForward);
  EXPORT(convTranspose2dBackward);
  EXPORT(dclsConstructForward);
  EXPORT(dclsConstructBackward);
  EXPORT(addForward);
  EXPORT(geluForward);
  EXPORT(geluBackward);
  EXPORT(dropoutForward);
  EXPORT(dropoutBackward);
  EXPORT(batchNorm2dForward);
  EXPORT(batchNorm2dBackward);
  EXPORT(linearForward);
  EXPORT(linearBackward);
  EXPORT(globalAvgPool2dForward);
  EXPORT(globalAvgPool2dBackward);
  EXPORT(concatChannelsForward);
  EXPORT(concatChannelsBackward);
  EXPORT(setNumThreads);
  EXPORT(runtimeInfo);
  EXPORT(releaseWorkspace);
  EXPORT(waveletFilters);
#undef EXPORT
  return exports;
}

}  // namespace

NODE_API_MODULE(wtconv, Init)
