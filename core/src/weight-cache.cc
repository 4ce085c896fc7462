#include "weight-cache.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>
#if defined(_WIN32)
#include <malloc.h>
#endif

#include "simd.h"

namespace wtconv {

struct WeightCache::Entry {
  uint64_t key = 0, fingerprint = 0, last_use = 0;
  const float* weight = nullptr;  // the address the weight had when last used
  size_t weight_floats = 0, extra_floats = 0, floats = 0, bytes = 0;
  float* data = nullptr;  // the transform, then the copy of weight and extra
  bool in_use = false, whole = false, completed = false;
  float* copy() const { return data + (floats + 15) / 16 * 16; }
};

namespace {

// At most this many entries, so the list never grows past what it reserves
// (the core is built without exceptions: no allocation may throw).
constexpr size_t kMaxEntries = 64;

struct State {
  std::mutex mutex;
  std::vector<WeightCache::Entry*> entries;
  size_t bytes = 0;
  uint64_t clock = 0;
  State() { entries.reserve(kMaxEntries); }
};

State& state() {
  static State* s = new State();  // never destroyed: calls may run during static destruction
  return *s;
}

// The key, the weight's size and 16 of its floats spread over it.
uint64_t fingerprint(uint64_t key, const float* weight, size_t floats) {
  uint64_t h = key_combine(key, floats);
  for (size_t i = 0; i < 16 && floats > 0; ++i) {
    uint32_t bits;
    std::memcpy(&bits, weight + i * (floats - 1) / 15, sizeof(bits));
    h = key_combine(h, bits);
  }
  return h;
}

void free_entry(State& s, WeightCache::Entry* e) {
  s.bytes -= e->bytes;
#if defined(_WIN32)
  _aligned_free(e->data);
#else
  std::free(e->data);
#endif
  delete e;
}

}  // namespace

WeightCache::Handle WeightCache::acquire(uint64_t key, const float* weight, size_t weight_floats, const float* extra,
                                         size_t extra_floats, size_t floats) {
  const size_t limit = kWeightCacheBytes / sizeof(float);
  if (floats > limit || weight_floats > limit || extra_floats > limit ||
      (floats + 15) / 16 * 16 + weight_floats + extra_floats > limit) {
    return Handle();
  }
  const size_t bytes = sizeof(float) * (((floats + 15) / 16 * 16 + weight_floats + extra_floats + 15) / 16 * 16);
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  const uint64_t print = fingerprint(key, weight, weight_floats);
  auto fits = [&](const Entry* e) {
    return !e->in_use && e->key == key && e->weight_floats == weight_floats && e->extra_floats == extra_floats &&
           e->floats == floats;
  };
  Entry* pick = nullptr;
  for (size_t i = 0; pick == nullptr && i < s.entries.size(); ++i) {  // the same content, wherever it lies now
    if (fits(s.entries[i]) && s.entries[i]->whole && s.entries[i]->fingerprint == print) pick = s.entries[i];
  }
  for (size_t i = 0; pick == nullptr && i < s.entries.size(); ++i) {  // the same weight, changed
    if (fits(s.entries[i]) && s.entries[i]->weight == weight) pick = s.entries[i];
  }
  if (pick == nullptr) {
    // The least recently used go first.
    while (s.bytes + bytes > kWeightCacheBytes || s.entries.size() == kMaxEntries) {
      size_t oldest = s.entries.size();
      for (size_t i = 0; i < s.entries.size(); ++i) {
        if (!s.entries[i]->in_use && (oldest == s.entries.size() || s.entries[i]->last_use < s.entries[oldest]->last_use)) {
          oldest = i;
        }
      }
      if (oldest == s.entries.size()) return Handle();  // all in use
      free_entry(s, s.entries[oldest]);
      s.entries.erase(s.entries.begin() + static_cast<ptrdiff_t>(oldest));
    }
    pick = new (std::nothrow) Entry();
    if (pick == nullptr) return Handle();
    void* data = nullptr;
#if defined(_WIN32)
    data = _aligned_malloc(bytes, 64);
#else
    if (posix_memalign(&data, 64, bytes) != 0) data = nullptr;
#endif
    if (data == nullptr) {
      delete pick;
      return Handle();
    }
    pick->key = key;
    pick->weight_floats = weight_floats;
    pick->extra_floats = extra_floats;
    pick->floats = floats;
    pick->bytes = bytes;
    pick->data = static_cast<float*>(data);
    s.entries.push_back(pick);
    s.bytes += bytes;
  }
  pick->in_use = true;
  pick->completed = false;
  pick->last_use = ++s.clock;
  pick->weight = weight;
  float* extra_copy = pick->copy() + weight_floats;
  if (extra_floats > 0 && (!pick->whole || std::memcmp(extra_copy, extra, sizeof(float) * extra_floats) != 0)) {
    pick->whole = false;  // folded into every piece
    std::memcpy(extra_copy, extra, sizeof(float) * extra_floats);
  }
  return Handle(pick);
}

WeightCache::Handle::~Handle() {
  if (entry_ == nullptr) return;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!entry_->completed) entry_->whole = false;  // some pieces may not have been computed
  entry_->in_use = false;
}

float* WeightCache::Handle::data() const { return entry_ != nullptr ? entry_->data : nullptr; }

bool WeightCache::Handle::unchanged(size_t begin, size_t end) const {
  float* copy = entry_->copy() + begin;
  const float* now = entry_->weight + begin;
  if (entry_->whole && simd::same_floats(copy, now, end - begin)) return true;
  simd::copy_floats(copy, now, end - begin);
  return false;
}

void WeightCache::Handle::complete() {
  entry_->whole = true;
  entry_->completed = true;
  entry_->fingerprint = fingerprint(entry_->key, entry_->weight, entry_->weight_floats);
}

void WeightCache::release() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  std::vector<Entry*> kept;
  for (Entry* e : s.entries) {
    if (e->in_use) {
      kept.push_back(e);
    } else {
      free_entry(s, e);
    }
  }
  s.entries.swap(kept);
}

size_t WeightCache::bytes() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.bytes;
}

}  // namespace wtconv
