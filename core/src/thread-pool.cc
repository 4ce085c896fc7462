#include "thread-pool.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef WTCONV_SINGLE_THREADED
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
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
// A region: the caller publishes it (generation, open), wakes the workers and
// runs its own share; it then closes the region and waits only for the workers
// that entered it. A worker enters by counting itself `active` and then
// checking the region is still open (the caller closes, then reads `active`:
// sequentially consistent, so one of them sees the other), so a worker that
// wakes late never holds the caller back, and small regions cost the caller
// no wake-up latency (high for WebAssembly workers). Both sides spin briefly
// before sleeping: back-to-back regions find the workers awake.
struct ThreadPool::Impl {
  std::mutex call_mutex;  // one parallel region at a time
  std::mutex mutex;       // guards the sleeps, status and message
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  std::vector<std::thread> workers;
  std::atomic<uint64_t> generation{0};  // of the latest region
  std::atomic<uint64_t> open{0};        // generation of the open region, 0 when none is
  std::atomic<int32_t> active{0};       // workers inside a region
  std::atomic<bool> stop{false};
  std::atomic<int32_t> used{0};
  // Each thread's home range of the open region, [lo, hi) packed as lo << 32 | hi
  // (one word, so its owner taking from the front and others from the back
  // never take an index twice), one cache line each.
  struct alignas(64) Range {
    std::atomic<uint64_t> span{0};
  };
  std::unique_ptr<Range[]> ranges;  // one per thread of the pool
  wtconv_status status = WTCONV_OK;
  char message[512] = {0};
};

namespace {
// How long a thread spins for the next event before it sleeps. Longer in
// WebAssembly, whose workers wake from their futex wait too late for calls of
// a fraction of a millisecond: a 29 MFLOP conv on 2 threads took 0.55-0.74 ms
// at 50 us (the worker joined 4 calls in 5) and 0.52 ms at 300 or 1000 us
// (both modules taking turns in one process); WTConv2d and WaveMix 1.0x.
#if defined(__EMSCRIPTEN__)
constexpr auto kSpin = std::chrono::microseconds(300);
#else
constexpr auto kSpin = std::chrono::microseconds(50);
#endif

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until done() or kSpin has passed; returns done().
template <typename Done>
bool spin_until(Done&& done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}
}  // namespace
#endif

ThreadPool& ThreadPool::instance() {
  // Never destroyed: worker threads may outlive static destructors at exit.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::ThreadPool() {
#ifndef WTCONV_SINGLE_THREADED
  impl_ = new Impl();
  impl_->ranges.reset(new Impl::Range[1]);
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

// Held by a caller for all it does with the pool (nothing to hold single-threaded).
struct ThreadPool::CallLock {
#ifdef WTCONV_SINGLE_THREADED
  explicit CallLock(Impl*) {}
#else
  std::lock_guard<std::mutex> lock;
  explicit CallLock(Impl* im) : lock(im->call_mutex) {}
#endif
};

void ThreadPool::release_workspace() {
  CallLock call(impl_);
  free_workspace();
}

wtconv_status ThreadPool::run(size_t count, size_t scratch_bytes, Body body, void* context) {
  if (count == 0) return ok();
  CallLock call(impl_);
  const wtconv_status reserved = reserve_region(0, scratch_bytes);
  return reserved != WTCONV_OK ? reserved : run_region(count, body, context);
}

wtconv_status ThreadPool::run_shared(size_t shared_bytes, size_t fill_count, Body fill, void* fill_context,
                                     size_t count, size_t scratch_bytes, Body body, void* context) {
  CallLock call(impl_);
  wtconv_status status = reserve_region(shared_bytes, scratch_bytes);
  if (status == WTCONV_OK) status = run_region(fill_count, fill, fill_context);
  return status != WTCONV_OK ? status : run_region(count, body, context);
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

wtconv_status ThreadPool::reserve_region(size_t shared_bytes, size_t scratch_bytes) {
  scratch_offset_ = round_up(shared_bytes);
  scratch_stride_ = round_up(scratch_bytes);
  size_t total = 0;
  if (!checked_mul(scratch_stride_, static_cast<size_t>(threads_), &total) || total > SIZE_MAX - scratch_offset_ ||
      (total + scratch_offset_ > 0 && !reserve_workspace(total + scratch_offset_))) {
    return fail(WTCONV_E_OOM, "cannot allocate a workspace of %zu shared bytes and %zu bytes per thread for %d threads",
                scratch_offset_, scratch_stride_, threads_.load());
  }
  return ok();
}

uint64_t new_scratch_call() {
  static std::atomic<uint64_t> calls{0};
  return calls.fetch_add(1, std::memory_order_relaxed) + 1;
}

wtconv_status ThreadPool::run_share(int32_t index) {
  void* scratch = static_cast<char*>(workspace_) + scratch_offset_ + scratch_stride_ * static_cast<size_t>(index);
#ifdef WTCONV_SINGLE_THREADED
  return body_(context_, 0, count_, scratch);
#else
  // Home ranges: thread t starts on the t-th of `threads` equal slices of
  // [0, count), front to back, so where consecutive regions split their work
  // alike (image by image), a thread reads what it wrote itself, from its own
  // core's cache (data written by the other core came 6x slower here). It
  // takes a quarter of what is left of its slice at a time, then helps the
  // others from the back of theirs, a quarter at a time, so a thread the OS
  // delays holds back little.
  auto take = [this](int32_t t, bool own, size_t* begin, size_t* end) {
    std::atomic<uint64_t>& span = impl_->ranges[static_cast<size_t>(t)].span;
    uint64_t cur = span.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t lo = cur >> 32, hi = cur & 0xffffffffu;
      if (lo >= hi) return false;
      const uint64_t n = std::max<uint64_t>(1, (hi - lo) / 4);
      const uint64_t next = own ? (lo + n) << 32 | hi : lo << 32 | (hi - n);
      if (span.compare_exchange_weak(cur, next, std::memory_order_relaxed)) {
        *begin = static_cast<size_t>(own ? lo : hi - n);
        *end = static_cast<size_t>(own ? lo + n : hi);
        return true;
      }
    }
  };
  const int32_t threads = threads_.load(std::memory_order_relaxed);
  bool counted = false;
  for (int32_t step = 0; step < threads;) {
    size_t begin = 0, end = 0;
    const int32_t from = (index + step) % threads;
    if (!take(from, step == 0, &begin, &end)) {
      ++step;
      continue;
    }
    if (!counted) {
      impl_->used.fetch_add(1, std::memory_order_relaxed);
      counted = true;
    }
    const wtconv_status status = body_(context_, begin, end, scratch);
    if (status != WTCONV_OK) {
      for (int32_t t = 0; t < threads; ++t) {  // the others stop too
        impl_->ranges[t].span.store(0, std::memory_order_relaxed);
      }
      return status;
    }
  }
  return WTCONV_OK;
#endif
}

#ifdef WTCONV_SINGLE_THREADED

int32_t ThreadPool::set_threads(int32_t) { return threads_ = 1; }

wtconv_status ThreadPool::run_region(size_t count, Body body, void* context) {
  if (count == 0) return ok();
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
    impl_->stop.store(true);
  }
  impl_->work_cv.notify_all();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
  impl_->stop.store(false);
  threads_ = 1;
  impl_->ranges.reset(new Impl::Range[static_cast<size_t>(n)]);
  for (int32_t i = 1; i < n; ++i) {
    impl_->workers.emplace_back([this, i, start = impl_->generation.load()] { worker_loop(i, start); });
    threads_ = i + 1;
  }
  return threads_;
}

void ThreadPool::worker_loop(int32_t index, uint64_t seen) {
  Impl& im = *impl_;
  for (;;) {
    auto woken = [&] { return im.stop.load() || im.generation.load() != seen; };
    if (!spin_until(woken)) {
      std::unique_lock<std::mutex> lock(im.mutex);
      im.work_cv.wait(lock, woken);
    }
    if (im.stop.load()) return;
    seen = im.generation.load();
    im.active.fetch_add(1);
    if (im.open.load() == seen) {
      const wtconv_status status = run_share(index);
      if (status != WTCONV_OK) {
        std::lock_guard<std::mutex> lock(im.mutex);
        if (im.status == WTCONV_OK) {
          im.status = status;
          std::snprintf(im.message, sizeof(im.message), "%s", wtconv_last_error());
        }
      }
    }
    if (im.active.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(im.mutex);  // the caller checks `active` under it before sleeping
      im.done_cv.notify_one();
    }
  }
}

wtconv_status ThreadPool::run_region(size_t count, Body body, void* context) {
  if (count == 0) return ok();
  Impl& im = *impl_;
  body_ = body;
  context_ = context;
  count_ = count;
  im.used.store(0);
  if (count > 0xffffffffu) return fail(WTCONV_E_ARG, "a parallel region of %zu tasks (at most 2^32 - 1)", count);
  const size_t threads = static_cast<size_t>(threads_.load());
  for (size_t t = 0; t < threads; ++t) {
    const uint64_t lo = uint64_t{count} * t / threads, hi = uint64_t{count} * (t + 1) / threads;
    im.ranges[t].span.store(lo << 32 | hi, std::memory_order_relaxed);
  }
  im.status = WTCONV_OK;
  const bool helpers = threads_ > 1;
  if (helpers) {
    const uint64_t g = im.generation.load() + 1;
    im.open.store(g);
    {
      std::lock_guard<std::mutex> lock(im.mutex);  // a worker going to sleep sees it or is woken
      im.generation.store(g);
    }
    im.work_cv.notify_all();
  }
  const wtconv_status own = run_share(0);
  char own_message[512] = {0};
  if (own != WTCONV_OK) std::snprintf(own_message, sizeof(own_message), "%s", wtconv_last_error());
  if (helpers) {
    im.open.store(0);  // no worker enters from here on; wait for those inside
    auto drained = [&] { return im.active.load() == 0; };
    if (!spin_until(drained)) {
      std::unique_lock<std::mutex> lock(im.mutex);
      im.done_cv.wait(lock, drained);
    }
  }
  threads_used_last_ = im.used.load();
  if (own != WTCONV_OK) return fail(own, "%s", own_message);
  std::lock_guard<std::mutex> lock(im.mutex);
  if (im.status != WTCONV_OK) return fail(im.status, "%s", im.message);
  return ok();
}

#endif

}  // namespace wtconv
