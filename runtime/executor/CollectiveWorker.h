//===- CollectiveWorker.h - a rank's communication thread -------*- C++ -*-===//
//
// Runs a step's collectives on a thread of their own, one at a time in the
// order they were started, so that a rank communicates while it computes:
// an instruction starts a collective and goes on; a later Wait instruction
// blocks until it has completed (Program.h). Every rank starts the same
// collectives in the same order, which is all the communicators need.
//
// Nothing is allocated per step: the queue is a ring sized once, for all
// of the program's collectives.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_EXECUTOR_COLLECTIVEWORKER_H
#define ACCEL_RUNTIME_EXECUTOR_COLLECTIVEWORKER_H

#include "llvm/Support/Error.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace accel::rt {

class CollectiveWorker {
public:
  /// `run(pc)` performs the collective of instruction `pc`; at most
  /// `capacity` collectives are queued at once (a step's: all of them),
  /// and instructions are numbered below `instructions`.
  CollectiveWorker(std::function<llvm::Error(size_t)> run, size_t capacity,
                   size_t instructions);
  /// Finishes the collectives already started (a failed step's fail at
  /// once once its communicator is aborted), then ends the thread.
  ~CollectiveWorker();

  /// Queues instruction `pc`'s collective.
  void start(size_t pc);
  /// Blocks until `pc`'s collective has completed; its error, if it
  /// failed. After one collective fails, those started after it fail with
  /// the same error without running (the step is lost; nothing may wait
  /// for a timeout again).
  llvm::Error wait(size_t pc);

private:
  void loop();

  enum class State : unsigned char { Idle, Queued, Done };
  std::function<llvm::Error(size_t)> run;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<size_t> ring; // queued instructions, FIFO
  size_t head = 0, queued = 0;
  std::vector<State> state;        // per instruction
  std::vector<std::string> errors; // per instruction, when it failed
  std::string failure;             // the first failure
  bool stopping = false;
  std::thread thread; // last: started once the rest exists
};

} // namespace accel::rt

#endif // ACCEL_RUNTIME_EXECUTOR_COLLECTIVEWORKER_H
