#include "thread-pool.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef WTCONV_SINGLE_THREADED
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace wtconv {

namespace {
constexpr size_t kAlign = 64;
size_t round_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }
}  // namespace

#ifndef WTCONV_SINGLE_THREADED
struct ThreadPool::Impl {
  std::mutex call_mutex;  // one parallel region at a time
  std::mutex mutex;
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  std::vector<std::thread> workers;
  uint64_t generation = 0;
  int32_t pending = 0;
  bool stop = false;
  std::atomic<int32_t> used{0};
  std::atomic<size_t> next{0};  // first index not yet taken
  size_t chunk = 1;             // indices taken at a time
  wtconv_status status = WTCONV_OK;
  char message[512] = {0};
};
#endif

ThreadPool& ThreadPool::instance() {
  // Never destroyed: worker threads may outlive static destructors at exit.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::ThreadPool() {
#ifndef WTCONV_SINGLE_THREADED
  impl_ = new Impl();
#endif
}

bool ThreadPool::reserve_workspace(size_t bytes) {
  if (bytes <= workspace_bytes_) return true;
  void* fresh = nullptr;
#if defined(_WIN32)
  fresh = _aligned_malloc(bytes, kAlign);
#else
  if (posix_memalign(&fresh, kAlign, bytes) != 0) fresh = nullptr;
#endif
  if (fresh == nullptr) return false;
  free_workspace();
  workspace_ = fresh;
  workspace_bytes_ = bytes;
  return true;
}

void ThreadPool::release_workspace() {
#ifndef WTCONV_SINGLE_THREADED
  std::lock_guard<std::mutex> call(impl_->call_mutex);
#endif
  free_workspace();
}

void ThreadPool::free_workspace() {
#if defined(_WIN32)
  _aligned_free(workspace_);
#else
  free(workspace_);
#endif
  workspace_ = nullptr;
  workspace_bytes_ = 0;
}

uint64_t new_scratch_call() {
  static std::atomic<uint64_t> calls{0};
  return calls.fetch_add(1, std::memory_order_relaxed) + 1;
}

wtconv_status ThreadPool::run_share(int32_t index) {
  void* scratch = static_cast<char*>(workspace_) + scratch_stride_ * static_cast<size_t>(index);
#ifdef WTCONV_SINGLE_THREADED
  return body_(context_, 0, count_, scratch);
#else
  // Threads take chunks of about a quarter of a fair share until none are
  // left, so a thread the OS delays does not hold the whole region back.
  bool counted = false;
  for (;;) {
    const size_t begin = impl_->next.fetch_add(impl_->chunk, std::memory_order_relaxed);
    if (begin >= count_) return WTCONV_OK;
    const size_t end = begin + impl_->chunk < count_ ? begin + impl_->chunk : count_;
    if (!counted) {
      impl_->used.fetch_add(1, std::memory_order_relaxed);
      counted = true;
    }
    const wtconv_status status = body_(context_, begin, end, scratch);
    if (status != WTCONV_OK) {
      impl_->next.store(count_, std::memory_order_relaxed);  // the others stop too
      return status;
    }
  }
#endif
}

#ifdef WTCONV_SINGLE_THREADED

int32_t ThreadPool::set_threads(int32_t) { return threads_ = 1; }

wtconv_status ThreadPool::run(size_t count, size_t scratch_bytes, Body body, void* context) {
  if (count == 0) return ok();
  scratch_stride_ = round_up(scratch_bytes);
  if (scratch_stride_ > 0 && !reserve_workspace(scratch_stride_)) {
    return fail(WTCONV_E_OOM, "cannot allocate a %zu-byte workspace", scratch_stride_);
  }
  body_ = body;
  context_ = context;
  count_ = count;
  threads_used_last_ = 1;
  return run_share(0);
}

#else

int32_t ThreadPool::set_threads(int32_t n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  std::lock_guard<std::mutex> call(impl_->call_mutex);
  if (n == threads_) return threads_;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->work_cv.notify_all();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
  impl_->stop = false;
  threads_ = 1;
  for (int32_t i = 1; i < n; ++i) {
    impl_->workers.emplace_back([this, i, start = impl_->generation] { worker_loop(i, start); });
    threads_ = i + 1;
  }
  return threads_;
}

void ThreadPool::worker_loop(int32_t index, uint64_t seen) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(impl_->mutex);
      impl_->work_cv.wait(lock, [&] { return impl_->stop || impl_->generation != seen; });
      if (impl_->stop) return;
      seen = impl_->generation;
    }
    const wtconv_status status = run_share(index);
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (status != WTCONV_OK && impl_->status == WTCONV_OK) {
      impl_->status = status;
      std::snprintf(impl_->message, sizeof(impl_->message), "%s", wtconv_last_error());
    }
    if (--impl_->pending == 0) impl_->done_cv.notify_one();
  }
}

wtconv_status ThreadPool::run(size_t count, size_t scratch_bytes, Body body, void* context) {
  if (count == 0) return ok();
  std::lock_guard<std::mutex> call(impl_->call_mutex);
  scratch_stride_ = round_up(scratch_bytes);
  size_t total = 0;
  if (!checked_mul(scratch_stride_, static_cast<size_t>(threads_), &total) ||
      (total > 0 && !reserve_workspace(total))) {
    return fail(WTCONV_E_OOM, "cannot allocate a workspace of %zu bytes per thread for %d threads",
                scratch_stride_, threads_.load());
  }
  body_ = body;
  context_ = context;
  count_ = count;
  impl_->used.store(0);
  impl_->next.store(0);
  const size_t share = (count + threads_ - 1) / threads_;
  impl_->chunk = share > 4 ? (share + 3) / 4 : 1;
  impl_->status = WTCONV_OK;
  const int32_t helpers = threads_ - 1;
  if (helpers > 0) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->pending = helpers;
    ++impl_->generation;
  }
  if (helpers > 0) impl_->work_cv.notify_all();
  const wtconv_status own = run_share(0);
  char own_message[512] = {0};
  if (own != WTCONV_OK) std::snprintf(own_message, sizeof(own_message), "%s", wtconv_last_error());
  if (helpers > 0) {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    impl_->done_cv.wait(lock, [&] { return impl_->pending == 0; });
  }
  threads_used_last_ = impl_->used.load();
  if (own != WTCONV_OK) return fail(own, "%s", own_message);
  if (impl_->status != WTCONV_OK) return fail(impl_->status, "%s", impl_->message);
  return ok();
}

#endif

}  // namespace wtconv
