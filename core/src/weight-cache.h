// Transformed weights kept from one call to the next (the Winograd forms' U):
// computing them is a pass over the weight every call, and as several threads
// write parts of them that every thread then reads, each core reads the
// others' parts out of their caches (6x slower than its own here). An entry
// holds a transform and a copy of the weight it was computed from; a call
// compares its weight with that copy piece by piece and recomputes only the
// pieces that differ, so a weight changed in place (a training step) is never
// served stale, and an unchanged transform is only read, from every core's
// cache alike.
//
// Entries are found by a key (what the transform is: the form and its
// geometry) and the weight's content (a few sampled floats, then the copy),
// else by the weight's address (the same weight, changed); at most
// kWeightCacheBytes in all (and 64 entries), the least recently used going
// first. An entry is used by one call at a time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wtconv {

constexpr size_t kWeightCacheBytes = size_t{48} << 20;

class WeightCache {
 public:
  struct Entry;

  // Pins an entry until destroyed; empty (data() null) when the transform does
  // not fit the budget or every entry that could take it is in use: the caller
  // then computes into memory of its own.
  class Handle {
   public:
    Handle() = default;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : entry_(other.entry_) { other.entry_ = nullptr; }
    ~Handle();
    // The transform's floats (64-byte aligned).
    float* data() const;
    // Whether weight floats [begin, end) are those the transform was computed
    // from (never before the whole transform has been computed once); if not,
    // records them as the ones it is now computed from. Disjoint ranges may
    // be asked from several threads at once.
    bool unchanged(size_t begin, size_t end) const;
    // The caller computed (or found unchanged) every piece: the transform is whole.
    void complete();

   private:
    friend class WeightCache;
    explicit Handle(Entry* entry) : entry_(entry) {}
    Entry* entry_ = nullptr;
  };

  // An entry of `floats` floats for the transform `key` of weight[0, weight_floats)
  // and extra[0, extra_floats) (a per-channel scale folded in; compared whole
  // here: when it differs, every piece is recomputed). `weight` stays readable
  // while the handle lives.
  static Handle acquire(uint64_t key, const float* weight, size_t weight_floats, const float* extra,
                        size_t extra_floats, size_t floats);
  // Frees every entry not in use.
  static void release();
  // Bytes the entries hold.
  static size_t bytes();
};

// key with v mixed in: keys are built from the geometry a transform depends on.
inline uint64_t key_combine(uint64_t key, uint64_t v) {
  key ^= v + 0x9e3779b97f4a7c15ull + (key << 6) + (key >> 2);
  return key;
}

}  // namespace wtconv
