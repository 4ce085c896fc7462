// A small safetensors reader for the native tests: a JSON parser just big
// enough for safetensors headers and the fixtures' `config` metadata, and F32
// tensors copied out of the file. Independent of the library.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace wtconv_test {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json* get(const std::string& key) const {
    auto it = object.find(key);
    return kind == Object && it != object.end() ? &it->second : nullptr;
  }
  double num(const std::string& key, double fallback) const {
    const Json* v = get(key);
    return v != nullptr && v->kind == Number ? v->number : fallback;
  }
  std::string str(const std::string& key, const std::string& fallback) const {
    const Json* v = get(key);
    return v != nullptr && v->kind == String ? v->string : fallback;
  }
  bool flag(const std::string& key, bool fallback) const {
    const Json* v = get(key);
    return v != nullptr && v->kind == Bool ? v->boolean : fallback;
  }
  // A number, or the first element of a pair ([sh, sw] -> index 0 or 1).
  double pair(const std::string& key, int index, double fallback) const {
    const Json* v = get(key);
    if (v == nullptr) return fallback;
    if (v->kind == Number) return v->number;
    if (v->kind == Array && v->array.size() > static_cast<size_t>(index) &&
        v->array[index].kind == Number) {
      return v->array[index].number;
    }
    return fallback;
  }
};

class JsonParser {
 public:
  JsonParser(const char* begin, const char* end) : p_(begin), end_(end) {}
  bool parse(Json* out) {
    if (!value(out, 0)) return false;
    space();
    return p_ == end_;
  }

 private:
  void space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool literal(const char* word) {
    const size_t n = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }
  bool string(std::string* out) {
    if (p_ >= end_ || *p_ != '"') return false;
    ++p_;
    while (p_ < end_ && *p_ != '"') {
      if (*p_ == '\\') {
        if (++p_ >= end_) return false;
        switch (*p_) {
          case 'n': out->push_back('\n'); break;
          case 't': out->push_back('\t'); break;
          case 'r': out->push_back('\r'); break;
          case 'b': out->push_back('\b'); break;
          case 'f': out->push_back('\f'); break;
          case 'u': {  // kept as '?': names in the fixtures are ASCII
            if (end_ - p_ < 5) return false;
            p_ += 4;
            out->push_back('?');
            break;
          }
          default: out->push_back(*p_);
        }
        ++p_;
      } else {
        out->push_back(*p_++);
      }
    }
    if (p_ >= end_) return false;
    ++p_;
    return true;
  }
  bool value(Json* out, int depth) {
    if (depth > 64) return false;
    space();
    if (p_ >= end_) return false;
    const char ch = *p_;
    if (ch == '{') {
      out->kind = Json::Object;
      ++p_;
      space();
      if (p_ < end_ && *p_ == '}') return ++p_, true;
      for (;;) {
        space();
        std::string key;
        if (!string(&key)) return false;
        space();
        if (p_ >= end_ || *p_++ != ':') return false;
        Json v;
        if (!value(&v, depth + 1)) return false;
        out->object[key] = std::move(v);
        space();
        if (p_ >= end_) return false;
        if (*p_ == ',') { ++p_; continue; }
        if (*p_ == '}') return ++p_, true;
        return false;
      }
    }
    if (ch == '[') {
      out->kind = Json::Array;
      ++p_;
      space();
      if (p_ < end_ && *p_ == ']') return ++p_, true;
      for (;;) {
        Json v;
        if (!value(&v, depth + 1)) return false;
        out->array.push_back(std::move(v));
        space();
        if (p_ >= end_) return false;
        if (*p_ == ',') { ++p_; continue; }
        if (*p_ == ']') return ++p_, true;
        return false;
      }
    }
    if (ch == '"') {
      out->kind = Json::String;
      return string(&out->string);
    }
    if (literal("true")) return out->kind = Json::Bool, out->boolean = true, true;
    if (literal("false")) return out->kind = Json::Bool, out->boolean = false, true;
    if (literal("null")) return out->kind = Json::Null, true;
    const char* start = p_;
    while (p_ < end_ && (std::strchr("+-.eE", *p_) != nullptr || (*p_ >= '0' && *p_ <= '9'))) ++p_;
    if (p_ == start) return false;
    out->kind = Json::Number;
    out->number = std::strtod(std::string(start, p_).c_str(), nullptr);
    return true;
  }
  const char* p_;
  const char* end_;
};

struct TensorF32 {
  std::vector<int64_t> shape;
  std::vector<float> data;
  int64_t dim(size_t i) const { return i < shape.size() ? shape[i] : 1; }
};

struct SafetensorsFile {
  std::map<std::string, TensorF32> tensors;
  Json config;  // __metadata__.config, parsed
  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  const TensorF32& at(const std::string& name) const { return tensors.at(name); }
};

// Reads an F32 safetensors file; false with a message on anything unexpected.
inline bool read_safetensors(const std::string& path, SafetensorsFile* out, std::string* error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return *error = "cannot open " + path, false;
  std::vector<unsigned char> bytes;
  unsigned char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f.get())) > 0) bytes.insert(bytes.end(), buf, buf + got);
  if (bytes.size() < 8) return *error = "shorter than 8 bytes", false;
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = header_len << 8 | bytes[i];
  if (header_len > bytes.size() - 8) return *error = "header length past the end", false;
  Json header;
  const char* h = reinterpret_cast<const char*>(bytes.data() + 8);
  if (!JsonParser(h, h + header_len).parse(&header) || header.kind != Json::Object) {
    return *error = "header is not a JSON object", false;
  }
  const size_t data_start = 8 + header_len;
  for (const auto& [name, entry] : header.object) {
    if (name == "__metadata__") {
      const std::string config = entry.str("config", "");
      if (!config.empty() && !JsonParser(config.data(), config.data() + config.size()).parse(&out->config)) {
        return *error = "metadata config is not JSON", false;
      }
      continue;
    }
    const Json* shape = entry.get("shape");
    const Json* offsets = entry.get("data_offsets");
    if (entry.str("dtype", "") != "F32" || shape == nullptr || offsets == nullptr ||
        offsets->array.size() != 2) {
      return *error = "tensor '" + name + "': expected F32 with shape and data_offsets", false;
    }
    TensorF32 t;
    size_t count = 1;
    for (const Json& d : shape->array) {
      t.shape.push_back(static_cast<int64_t>(d.number));
      count *= static_cast<size_t>(d.number);
    }
    const size_t begin = static_cast<size_t>(offsets->array[0].number);
    const size_t end = static_cast<size_t>(offsets->array[1].number);
    if (end < begin || end - begin != 4 * count || data_start + end > bytes.size()) {
      return *error = "tensor '" + name + "': offsets do not match the shape or the file", false;
    }
    t.data.resize(count);
    std::memcpy(t.data.data(), bytes.data() + data_start + begin, 4 * count);  // little-endian hosts
    out->tensors[name] = std::move(t);
  }
  return true;
}

}  // namespace wtconv_test
