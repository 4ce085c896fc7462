// The CUDA N-API addon (wtconv_cuda.node; the host emulator builds the same
// binding as wtconv_cuda_emu.node). Device memory is held by DeviceBuffer
// externals, freed when collected or by free(); kernels take their arguments in
// the C function's order, with DeviceBuffers (or null) for tensors and arrays
// of DeviceBuffers for per-level lists. Failures become JS errors whose `code`
// is the status name (E_CUDA for CUDA's own errors) and whose message is
// wtconv_cuda_last_error(). Nothing here touches CUDA at load time.
#include <napi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "wtconv/cuda_api.h"

namespace {

struct DeviceBuffer {
  void* ptr;
  size_t bytes;
};

const char* status_code(wtconv_status s) {
  switch (static_cast<int>(s)) {
    case WTCONV_E_ARG: return "E_ARG";
    case WTCONV_E_SHAPE: return "E_SHAPE";
    case WTCONV_E_OOM: return "E_OOM";
    case 5: return "E_CUDA";
    default: return "E_INTERNAL";
  }
}

void throw_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
}

Napi::Value fail_with(Napi::Env env, wtconv_status s) {
  throw_error(env, status_code(s), wtconv_cuda_last_error());
  return env.Undefined();
}

DeviceBuffer* as_buffer(const Napi::Value& v) {
  if (!v.IsExternal()) return nullptr;
  return v.As<Napi::External<DeviceBuffer>>().Data();
}

class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info) {}
  int32_t i(size_t k) {
    if (!info_[k].IsNumber()) return bad(k, "a number"), -1;
    return info_[k].As<Napi::Number>().Int32Value();
  }
  float f(size_t k) {
    if (!info_[k].IsNumber()) return bad(k, "a number"), 0.0f;
    return info_[k].As<Napi::Number>().FloatValue();
  }
  float* d(size_t k) {  // DeviceBuffer or null
    if (info_[k].IsNull() || info_[k].IsUndefined()) return nullptr;
    return dev(info_[k], k);
  }
  float* const* list(size_t k, int32_t count, std::vector<float*>* out) {
    if (!info_[k].IsArray()) return bad(k, "an array of device buffers"), nullptr;
    Napi::Array a = info_[k].As<Napi::Array>();
    out->assign(std::max<size_t>(a.Length(), count > 0 ? count : 0), nullptr);
    for (uint32_t j = 0; j < a.Length(); ++j) (*out)[j] = dev(a.Get(j), k);
    return out->data();
  }
  bool failed() const { return failed_; }
  Napi::Env env() const { return info_.Env(); }

 private:
  float* dev(const Napi::Value& v, size_t k) {
    DeviceBuffer* b = as_buffer(v);
    if (b == nullptr) return bad(k, "a device buffer"), nullptr;
    if (b->ptr == nullptr) return bad(k, "a device buffer that was not freed"), nullptr;
    return static_cast<float*>(b->ptr);
  }
  void bad(size_t k, const char* expected) {
    if (failed_) return;
    failed_ = true;
    throw_error(info_.Env(), "E_ARG", "cuda argument " + std::to_string(k) + ": expected " + expected);
  }
  const Napi::CallbackInfo& info_;
  bool failed_ = false;
};

Napi::Value finish(Args& a, wtconv_status s) {
  if (!a.failed() && s != WTCONV_OK) throw_error(a.env(), status_code(s), wtconv_cuda_last_error());
  return a.env().Undefined();
}

// A type mismatch reads as -1 / NULL, which the C side rejects before any launch.
#define WTCONV_BIND(js_name, call)                      \
  Napi::Value js_name(const Napi::CallbackInfo& info) { \
    Args a(info);                                       \
    std::vector<float*> l0, l1, l2, l3;                 \
    const wtconv_status s = call;                       \
    return finish(a, s);                                \
  }

#define CL(k, n, v) const_cast<const float* const*>(a.list(k, n, v))

WTCONV_BIND(depthwiseConv2dForward,
            wtconv_cuda_depthwise_conv2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8),
                                                 a.i(9), a.i(10), a.i(11), a.d(12), a.d(13), a.d(14), a.d(15)))
WTCONV_BIND(depthwiseConv2dBackward,
            wtconv_cuda_depthwise_conv2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                                  a.i(8), a.i(9), a.i(10), a.i(11), a.d(12), a.d(13), a.d(14),
                                                  a.d(15), a.d(16), a.d(17)))
WTCONV_BIND(dwt2dForward, wtconv_cuda_dwt2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.d(6),
                                                    a.list(7, a.i(4), &l0)))
WTCONV_BIND(dwt2dBackward, wtconv_cuda_dwt2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5),
                                                      CL(6, a.i(4), &l0), a.d(7)))
WTCONV_BIND(idwt2dForward, wtconv_cuda_idwt2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5),
                                                      CL(6, a.i(4), &l0), a.d(7)))
WTCONV_BIND(idwt2dBackward, wtconv_cuda_idwt2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.d(6),
                                                        a.list(7, a.i(4), &l0)))
WTCONV_BIND(wtconv2dForward,
            wtconv_cuda_wtconv2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8),
                                         a.d(9), a.d(10), a.d(11), a.d(12), CL(13, a.i(5), &l0),
                                         CL(14, a.i(5), &l1), a.d(15)))
WTCONV_BIND(wtconv2dBackward,
            wtconv_cuda_wtconv2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8),
                                          a.d(9), a.d(10), a.d(11), a.d(12), CL(13, a.i(5), &l0),
                                          CL(14, a.i(5), &l1), a.d(15), a.d(16), a.d(17), a.d(18), a.d(19),
                                          a.list(20, a.i(5), &l2), a.list(21, a.i(5), &l3)))

WTCONV_BIND(conv1dForward, wtconv_cuda_conv1d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                                      a.i(8), a.d(9), a.d(10), a.d(11), a.d(12)))
WTCONV_BIND(conv1dBackward, wtconv_cuda_conv1d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                                        a.i(8), a.d(9), a.d(10), a.d(11), a.d(12), a.d(13), a.d(14)))
WTCONV_BIND(conv2dForward, wtconv_cuda_conv2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                                      a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.d(14),
                                                      a.d(15), a.d(16), a.d(17)))
WTCONV_BIND(conv2dBackward, wtconv_cuda_conv2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                                        a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.d(14),
                                                        a.d(15), a.d(16), a.d(17), a.d(18), a.d(19)))
WTCONV_BIND(conv3dForward, wtconv_cuda_conv3d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                                      a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.i(14),
                                                      a.i(15), a.i(16), a.i(17), a.i(18), a.d(19), a.d(20), a.d(21),
                                                      a.d(22)))
WTCONV_BIND(conv3dBackward, wtconv_cuda_conv3d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                                        a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.i(14),
                                                        a.i(15), a.i(16), a.i(17), a.i(18), a.d(19), a.d(20), a.d(21),
                                                        a.d(22), a.d(23), a.d(24)))

WTCONV_BIND(convTranspose2dForward,
            wtconv_cuda_conv_transpose2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.i(8),
                                                 a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.i(14), a.i(15), a.d(16),
                                                 a.d(17), a.d(18), a.d(19), a.d(20), a.d(21)))
WTCONV_BIND(convTranspose2dBackward,
            wtconv_cuda_conv_transpose2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7),
                                                  a.i(8), a.i(9), a.i(10), a.i(11), a.i(12), a.i(13), a.i(14), a.i(15),
                                                  a.d(16), a.d(17), a.d(18), a.d(19), a.d(20), a.d(21)))

WTCONV_BIND(addForward, wtconv_cuda_add_forward(a.i(0), a.i(1), a.d(2), a.d(3), a.d(4)))
WTCONV_BIND(geluForward, wtconv_cuda_gelu_forward(a.i(0), a.i(1), a.d(2), a.d(3)))
WTCONV_BIND(geluBackward, wtconv_cuda_gelu_backward(a.i(0), a.i(1), a.d(2), a.d(3), a.d(4)))
WTCONV_BIND(dropoutForward, wtconv_cuda_dropout_forward(a.i(0), a.i(1), a.f(2), a.i(3), a.d(4), a.d(5), a.d(6)))
WTCONV_BIND(dropoutBackward, wtconv_cuda_dropout_backward(a.i(0), a.i(1), a.d(2), a.d(3), a.d(4)))
WTCONV_BIND(batchNorm2dForward,
            wtconv_cuda_batch_norm2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.f(5), a.f(6), a.d(7), a.d(8),
                                             a.d(9), a.d(10), a.d(11), a.d(12), a.d(13), a.d(14), a.d(15), a.d(16)))
WTCONV_BIND(batchNorm2dBackward,
            wtconv_cuda_batch_norm2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.d(5), a.d(6), a.d(7), a.d(8),
                                              a.d(9), a.d(10), a.d(11), a.d(12)))
WTCONV_BIND(linearForward, wtconv_cuda_linear_forward(a.i(0), a.i(1), a.i(2), a.d(3), a.d(4), a.d(5), a.d(6)))
WTCONV_BIND(linearBackward, wtconv_cuda_linear_backward(a.i(0), a.i(1), a.i(2), a.d(3), a.d(4), a.d(5), a.d(6),
                                                        a.d(7), a.d(8)))
WTCONV_BIND(globalAvgPool2dForward, wtconv_cuda_global_avg_pool2d_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.d(4),
                                                                          a.d(5)))
WTCONV_BIND(globalAvgPool2dBackward, wtconv_cuda_global_avg_pool2d_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.d(4),
                                                                            a.d(5)))
WTCONV_BIND(concatChannelsForward, wtconv_cuda_concat_channels_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.d(4),
                                                                       a.d(5), a.d(6)))
WTCONV_BIND(concatChannelsBackward, wtconv_cuda_concat_channels_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.d(4),
                                                                         a.d(5), a.d(6)))

WTCONV_BIND(dclsConstructForward,
            wtconv_cuda_dcls_construct_forward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.d(8),
                                               a.d(9), a.d(10), a.d(11)))
WTCONV_BIND(dclsConstructBackward,
            wtconv_cuda_dcls_construct_backward(a.i(0), a.i(1), a.i(2), a.i(3), a.i(4), a.i(5), a.i(6), a.i(7), a.d(8),
                                                a.d(9), a.d(10), a.d(11), a.d(12), a.d(13), a.d(14)))

// probe() -> { count, name, computeCapability, driverVersion, runtimeVersion, reason }
Napi::Value probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  char name[256] = {0};
  int32_t major = 0, minor = 0, driver = 0, runtime = 0;
  const int32_t count = wtconv_cuda_probe(name, sizeof(name), &major, &minor, &driver, &runtime);
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", count);
  o.Set("name", name);
  o.Set("computeCapability", std::to_string(major) + "." + std::to_string(minor));
  o.Set("driverVersion", driver);
  o.Set("runtimeVersion", runtime);
  o.Set("reason", count > 0 ? "" : wtconv_cuda_last_error());
  return o;
}

// alloc(floats) -> DeviceBuffer
Napi::Value alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return throw_error(env, "E_ARG", "alloc: expected a float count"), env.Undefined();
  const double count = info[0].As<Napi::Number>().DoubleValue();
  if (!(count >= 0) || count > 1e12) return throw_error(env, "E_ARG", "alloc: bad float count"), env.Undefined();
  const size_t bytes = static_cast<size_t>(count) * sizeof(float);
  void* p = nullptr;
  const wtconv_status s = wtconv_cuda_malloc(bytes, &p);
  if (s != WTCONV_OK) return fail_with(env, s);
  auto* b = new DeviceBuffer{p, bytes};
  Napi::External<DeviceBuffer> ext = Napi::External<DeviceBuffer>::New(env, b, [](Napi::Env, DeviceBuffer* d) {
    wtconv_cuda_free(d->ptr);
    delete d;
  });
  return ext;
}

Napi::Value free_buffer(const Napi::CallbackInfo& info) {
  DeviceBuffer* b = as_buffer(info[0]);
  if (b && b->ptr) {
    wtconv_cuda_free(b->ptr);
    b->ptr = nullptr;
  }
  return info.Env().Undefined();
}

// upload(buffer, Float32Array) / download(buffer, Float32Array): whole arrays.
Napi::Value transfer(const Napi::CallbackInfo& info, bool to_device) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = as_buffer(info[0]);
  if (!b || !b->ptr) return throw_error(env, "E_ARG", "expected a live device buffer"), env.Undefined();
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    return throw_error(env, "E_ARG", "expected a Float32Array"), env.Undefined();
  }
  Napi::Float32Array a = info[1].As<Napi::Float32Array>();
  const size_t bytes = a.ElementLength() * sizeof(float);
  if (bytes > b->bytes) return throw_error(env, "E_ARG", "the array is larger than the device buffer"), env.Undefined();
  const wtconv_status s = to_device ? wtconv_cuda_copy_to_device(b->ptr, a.Data(), bytes)
                                    : wtconv_cuda_copy_to_host(a.Data(), b->ptr, bytes);
  if (s != WTCONV_OK) return fail_with(env, s);
  return env.Undefined();
}
Napi::Value upload(const Napi::CallbackInfo& info) { return transfer(info, true); }
Napi::Value download(const Napi::CallbackInfo& info) { return transfer(info, false); }

// copy(dst, src, floats): device to device.
Napi::Value copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* d = as_buffer(info[0]);
  DeviceBuffer* s = as_buffer(info[1]);
  if (!d || !s || !d->ptr || !s->ptr || !info[2].IsNumber()) return throw_error(env, "E_ARG", "copy(dst, src, floats)"), env.Undefined();
  const size_t bytes = static_cast<size_t>(info[2].As<Napi::Number>().DoubleValue()) * sizeof(float);
  if (bytes > d->bytes || bytes > s->bytes) return throw_error(env, "E_ARG", "copy: beyond a buffer's end"), env.Undefined();
  const wtconv_status st = wtconv_cuda_copy_device(d->ptr, s->ptr, bytes);
  if (st != WTCONV_OK) return fail_with(env, st);
  return env.Undefined();
}

Napi::Value synchronize(const Napi::CallbackInfo& info) {
  const wtconv_status s = wtconv_cuda_synchronize();
  if (s != WTCONV_OK) return fail_with(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value setSynchronous(const Napi::CallbackInfo& info) {
  wtconv_cuda_set_synchronous(info[0].ToBoolean().Value() ? 1 : 0);
  return info.Env().Undefined();
}

Napi::Value setTier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string t = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (t != "fused" && t != "baseline") return throw_error(env, "E_ARG", "setTier: expected 'fused' or 'baseline'"), env.Undefined();
  wtconv_cuda_set_tier(t == "fused" ? 1 : 0);
  return env.Undefined();
}

Napi::Value runtimeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", wtconv_cuda_version());
  o.Set("tier", wtconv_cuda_get_tier() ? "fused" : "baseline");
  o.Set("workspaceBytes", wtconv_cuda_workspace_bytes());
#ifdef WTCONV_CUDA_EMULATOR
  o.Set("emulator", true);
#else
  o.Set("emulator", false);
#endif
  return o;
}

Napi::Value releaseWorkspace(const Napi::CallbackInfo& info) {
  wtconv_cuda_release_workspace();
  return info.Env().Undefined();
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
  EXPORT(dclsConstructForward);
  EXPORT(dclsConstructBackward);
  EXPORT(probe);
  EXPORT(alloc);
  EXPORT(upload);
  EXPORT(download);
  EXPORT(copy);
  EXPORT(synchronize);
  EXPORT(setSynchronous);
  EXPORT(setTier);
  EXPORT(runtimeInfo);
  EXPORT(releaseWorkspace);
  exports.Set("free", Napi::Function::New(env, free_buffer, "free"));
#undef EXPORT
  return exports;
}

}  // namespace

NODE_API_MODULE(wtconv_cuda, Init)
