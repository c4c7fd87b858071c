//===- ThreadPool.cpp - the CPU driver's worker threads -------------------===//

#include "runtime/cpu/ThreadPool.h"

#include <algorithm>

namespace accel::rt::cpu {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(threads, 1); ++i)
    workers.emplace_back([this, i] { work(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
}

/// Chunk `index` of `chunks` over [0, n).
static std::pair<int64_t, int64_t> chunk(int64_t n, int chunks, int index) {
  int64_t base = n / chunks, extra = n % chunks;
  int64_t begin = index * base + std::min<int64_t>(index, extra);
  return {begin, begin + base + (index < extra ? 1 : 0)};
}

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
  {
    std::lock_guard<std::mutex> lock(mutex);
    task = body;
    taskSize = n;
    chunks = parts;
    pending = parts - 1;
    ++generation;
  }
  wake.notify_all();
  auto [begin, end] = chunk(n, parts, 0);
  body(begin, end);
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&] { return pending == 0; });
  task = {};
}

void ThreadPool::work(int index) {
  uint64_t seen = 0;
  while (true) {
    std::unique_lock<std::mutex> lock(mutex);
    wake.wait(lock, [&] { return stopping || generation != seen; });
    if (stopping)
      return;
    seen = generation;
    if (index >= chunks)
      continue; // this loop has fewer chunks than threads
    llvm::function_ref<void(int64_t, int64_t)> body = task;
    auto [begin, end] = chunk(taskSize, chunks, index);
    lock.unlock();
    body(begin, end);
    lock.lock();
    if (--pending == 0)
      done.notify_one();
  }
}

} // namespace accel::rt::cpu
