//===- ThreadPool.h - the CPU driver's worker threads -----------*- C++ -*-===//
//
// A fixed pool of workers that run one parallel loop at a time: the training
// step is a sequence of kernels, each parallel over rows or elements, so a
// fork-join loop with static chunks is all the scheduling it needs. Workers
// are created once, never per step.
//
// A step is hundreds of loops, many of a few microseconds, with little
// between them: a worker that went to sleep after each loop would be woken
// through the kernel for the next (several microseconds each time, more
// than many of the loops take). So workers spin for a while on the loop
// counter before they sleep, and the caller spins for the workers' chunks
// before it waits; a sleeping side is woken through the condition
// variables as before.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_THREADPOOL_H
#define ACCEL_RUNTIME_CPU_THREADPOOL_H

#include "llvm/ADT/STLFunctionalExtras.h"

#include <atomic>
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
  // The loop being run: written by the caller before it bumps `generation`,
  // read by the workers after they see the new value.
  llvm::function_ref<void(int64_t, int64_t)> task;
  int64_t taskSize = 0;
  int chunks = 0;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0}; // workers not done with this loop yet
  std::atomic<bool> stopping{false};
  // Who sleeps: a side about to sleep says so under the mutex, then checks
  // its condition again under it, so a change made before the other side
  // reads the count is seen, and one made after it is notified.
  std::mutex mutex;
  std::condition_variable wake, done;
  std::atomic<int> sleepingWorkers{0};
  std::atomic<bool> callerSleeping{false};
};

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_THREADPOOL_H
