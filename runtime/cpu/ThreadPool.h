//===- ThreadPool.h - the CPU driver's worker threads -----------*- C++ -*-===//
//
// A fixed pool of workers that run one parallel loop at a time: the training
// step is a sequence of kernels, each parallel over rows or elements, so a
// fork-join loop with static chunks is all the scheduling it needs. Workers
// are created once, never per step.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_THREADPOOL_H
#define ACCEL_RUNTIME_CPU_THREADPOOL_H

#include "llvm/ADT/STLFunctionalExtras.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace accel::rt::cpu {

class ThreadPool {
public:
  /// `threads` >= 1 counts the calling thread, which works too.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return static_cast<int>(workers.size()) + 1; }

  /// Calls body(begin, end) on disjoint chunks covering [0, n), in
  /// parallel, and returns when all are done. Small loops (fewer than
  /// `grain` iterations per thread) run on the caller alone. `body` is
  /// borrowed, not copied (a std::function here allocated on the heap for
  /// every kernel whose lambda captured more than two pointers).
  void parallelFor(int64_t n, int64_t grain,
                   llvm::function_ref<void(int64_t, int64_t)> body);

private:
  void work(int index);

  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, done;
  llvm::function_ref<void(int64_t, int64_t)> task;
  int64_t taskSize = 0;
  int chunks = 0;
  uint64_t generation = 0;
  int pending = 0;
  bool stopping = false;
};

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_THREADPOOL_H
