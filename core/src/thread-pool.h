// A small fork-join thread pool shared by every operator. The calling thread
// takes part; in a parallel region each thread works through its own slice of
// [0, count) (the same slice in every region of the same count, so data a
// thread wrote in one region is in its core's cache for the next), in chunks
// that shrink as they go, then helps the others with theirs from the back;
// and each thread has its own slice of a grow-only scratch workspace, passed
// with every chunk.
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

  // Two regions back to back, no other region between them, with `shared_bytes`
  // of workspace every thread sees (64-byte aligned, at shared() while they
  // run): fill(begin, end, scratch) over [0, fill_count) writes it, then
  // body(begin, end, scratch) over [0, count) reads it. For what every task
  // needs and one thread would otherwise compute for itself (transformed weights).
  template <typename Fill, typename F>
  wtconv_status parallel_for_shared(size_t shared_bytes, size_t fill_count, Fill& fill, size_t count,
                                    size_t scratch_bytes, F& body) {
    return run_shared(shared_bytes, fill_count, &invoke<Fill>, &fill, count, scratch_bytes, &invoke<F>, &body);
  }
  // The shared memory of the parallel_for_shared() call that is running.
  void* shared() const { return workspace_; }

 private:
  ThreadPool();
  template <typename F>
  static wtconv_status invoke(void* context, size_t begin, size_t end, void* scratch) {
    return (*static_cast<F*>(context))(begin, end, scratch);
  }
  wtconv_status run(size_t count, size_t scratch_bytes, Body body, void* context);
  wtconv_status run_shared(size_t shared_bytes, size_t fill_count, Body fill, void* fill_context, size_t count,
                           size_t scratch_bytes, Body body, void* context);
  // Reserves shared_bytes + threads x scratch_bytes and lays the slices out.
  wtconv_status reserve_region(size_t shared_bytes, size_t scratch_bytes);
  // One region with the workspace already laid out; the caller holds the call lock.
  wtconv_status run_region(size_t count, Body body, void* context);
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
  size_t scratch_offset_ = 0;  // of thread 0's scratch, past the shared memory

  struct Impl;  // threads and synchronisation; absent in single-threaded builds
  struct CallLock;
  Impl* impl_ = nullptr;
};

}  // namespace wtconv
