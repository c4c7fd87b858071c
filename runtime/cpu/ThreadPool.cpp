//===- ThreadPool.cpp - the CPU driver's worker threads -------------------===//

#include "runtime/cpu/ThreadPool.h"

#include <algorithm>
#include <chrono>

namespace accel::rt::cpu {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(threads, 1); ++i)
    workers.emplace_back([this, i] { work(i); });
}

ThreadPool::~ThreadPool() {
  stopping = true;
  { std::lock_guard<std::mutex> lock(mutex); }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
}

namespace {
/// Chunk `index` of `chunks` over [0, n).
std::pair<int64_t, int64_t> chunk(int64_t n, int chunks, int index) {
  int64_t base = n / chunks, extra = n % chunks;
  int64_t begin = index * base + std::min<int64_t>(index, extra);
  return {begin, begin + base + (index < extra ? 1 : 0)};
}

/// Spins until `ready()` or for about `kSpin` (then false). Long enough to
/// cover the gap between two loops of a step and the imbalance of a loop's
/// chunks; short enough that a pool idle between steps sleeps.
constexpr auto kSpin = std::chrono::microseconds(100);
template <typename Ready> bool spinUntil(Ready ready) {
  auto until = std::chrono::steady_clock::now() + kSpin;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (ready())
        return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (std::chrono::steady_clock::now() >= until)
      return ready();
  }
}
} // namespace

void ThreadPool::parallelFor(int64_t n, int64_t grain,
                             llvm::function_ref<void(int64_t, int64_t)> body) {
  if (n <= 0)
    return;
  int64_t useful = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  int parts = static_cast<int>(std::min<int64_t>(size(), useful));
  if (parts <= 1) {
    body(0, n);
    return;
  }
  task = body;
  taskSize = n;
  chunks = parts;
  // Every worker reports back, those without a chunk too: none may still be
  // reading this loop's fields when the next loop writes them.
  pending = size() - 1;
  ++generation; // publishes the fields above (sequentially consistent)
  if (sleepingWorkers > 0) {
    { std::lock_guard<std::mutex> lock(mutex); }
    wake.notify_all();
  }
  auto [begin, end] = chunk(n, parts, 0);
  body(begin, end);
  if (!spinUntil([&] { return pending == 0; })) {
    std::unique_lock<std::mutex> lock(mutex);
    callerSleeping = true;
    done.wait(lock, [&] { return pending == 0; });
    callerSleeping = false;
  }
  task = {};
}

void ThreadPool::work(int index) {
  uint64_t seen = 0;
  while (true) {
    auto fresh = [&] { return stopping || generation != seen; };
    if (!spinUntil(fresh)) {
      std::unique_lock<std::mutex> lock(mutex);
      ++sleepingWorkers;
      wake.wait(lock, fresh);
      --sleepingWorkers;
    }
    if (stopping)
      return;
    seen = generation;
    if (index < chunks) { // a loop may have fewer chunks than threads
      auto [begin, end] = chunk(taskSize, chunks, index);
      task(begin, end);
    }
    if (--pending == 0 && callerSleeping) {
      { std::lock_guard<std::mutex> lock(mutex); }
      done.notify_one();
    }
  }
}

} // namespace accel::rt::cpu
