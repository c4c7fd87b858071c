//===- OneOmpThread.h - oneDNN on one OpenMP thread -------------*- C++ -*-===//
//
// Debian's oneDNN runs on OpenMP, whose workers spin after each parallel
// region and would fight the pool's threads for the cores. accel calls
// oneDNN from inside the pool's threads, one OpenMP thread each.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_ONEOMPTHREAD_H
#define ACCEL_RUNTIME_CPU_ONEOMPTHREAD_H

#include <omp.h>

namespace accel::rt::cpu {

/// oneDNN asks OpenMP how many threads to use — when a primitive is
/// created (which fixes it) and when it runs, and in each sgemm call: one,
/// in the thread that holds this. A thread's first call allocates libgomp's
/// record of its setting.
class OneOmpThread {
public:
  OneOmpThread() : saved(omp_get_max_threads()) {
    if (saved != 1)
      omp_set_num_threads(1);
  }
  ~OneOmpThread() {
    if (saved != 1)
      omp_set_num_threads(saved);
  }
  OneOmpThread(const OneOmpThread &) = delete;
  OneOmpThread &operator=(const OneOmpThread &) = delete;

private:
  int saved;
};

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_ONEOMPTHREAD_H
