// A small fork-join thread pool shared by every operator. The calling thread
// takes part; in a parallel region the threads take contiguous chunks of
// [0, count) (about four per thread) until none are left, and each thread has
// its own slice of a grow-only scratch workspace, passed with every chunk.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "common.h"

namespace wtconv {

// A thread's scratch outlives the chunks of one parallel region, so a body
// may leave work there for its own later chunks (a packed weight). ScratchTag,
// kept at the start of the scratch, names what it holds: `call` comes from
// new_scratch_call(), unique per region, so nothing left by another call (or
// an uninitialised workspace) is ever taken for it.
struct ScratchTag {
  uint64_t call;
  uint64_t key;
  bool holds(uint64_t c, uint64_t k) const { return call == c && key == k; }
};
// Bytes a ScratchTag takes at the start of a scratch (keeps what follows 64-byte aligned).
constexpr size_t kScratchTagBytes = 64;
uint64_t new_scratch_call();

class ThreadPool {
 public:
  using Body = wtconv_status (*)(void* context, size_t begin, size_t end, void* scratch);

  static ThreadPool& instance();

  int32_t set_threads(int32_t n);
  // These may be read from any thread, also while another runs a region.
  int32_t threads() const { return threads_.load(std::memory_order_relaxed); }
  int32_t threads_used_last() const { return threads_used_last_.load(std::memory_order_relaxed); }
  size_t workspace_bytes() const { return workspace_bytes_.load(std::memory_order_relaxed); }
  // Frees the workspace; waits for a running parallel region to finish first.
  void release_workspace();

  // Runs body(begin, end, scratch) over [0, count); each thread's scratch holds
  // scratch_bytes (64-byte aligned). Returns the first failure of any share.
  template <typename F>
  wtconv_status parallel_for(size_t count, size_t scratch_bytes, F& body) {
    return run(count, scratch_bytes, &invoke<F>, &body);
  }

 private:
  ThreadPool();
  template <typename F>
  static wtconv_status invoke(void* context, size_t begin, size_t end, void* scratch) {
    return (*static_cast<F*>(context))(begin, end, scratch);
  }
  wtconv_status run(size_t count, size_t scratch_bytes, Body body, void* context);
  bool reserve_workspace(size_t bytes);
  void free_workspace();  // the caller holds the region lock (or is single-threaded)
  void worker_loop(int32_t index, uint64_t generation);
  wtconv_status run_share(int32_t index);

  std::atomic<int32_t> threads_{1};
  std::atomic<int32_t> threads_used_last_{0};
  void* workspace_ = nullptr;
  std::atomic<size_t> workspace_bytes_{0};

  // The current parallel region.
  Body body_ = nullptr;
  void* context_ = nullptr;
  size_t count_ = 0;
  size_t scratch_stride_ = 0;

  struct Impl;  // threads and synchronisation; absent in single-threaded builds
  Impl* impl_ = nullptr;
};

}  // namespace wtconv
