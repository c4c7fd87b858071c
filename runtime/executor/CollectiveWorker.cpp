//===- CollectiveWorker.cpp - a rank's communication thread ---------------===//

#include "runtime/executor/CollectiveWorker.h"

#include <algorithm>

namespace accel::rt {

CollectiveWorker::CollectiveWorker(std::function<llvm::Error(size_t)> run,
                                   size_t capacity, size_t instructions)
    : run(std::move(run)), ring(std::max<size_t>(capacity, 1)),
      state(instructions, State::Idle), errors(instructions),
      thread([this] { loop(); }) {}

CollectiveWorker::~CollectiveWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  changed.notify_all();
  thread.join();
}

void CollectiveWorker::start(size_t pc) {
  std::unique_lock<std::mutex> lock(mutex);
  // A ring smaller than what is started waits for room.
  changed.wait(lock, [&] { return queued < ring.size(); });
  ring[(head + queued) % ring.size()] = pc;
  ++queued;
  state[pc] = State::Queued;
  errors[pc].clear();
  changed.notify_all();
}

llvm::Error CollectiveWorker::wait(size_t pc) {
  std::unique_lock<std::mutex> lock(mutex);
  changed.wait(lock, [&] { return state[pc] != State::Queued; });
  state[pc] = State::Idle;
  if (errors[pc].empty())
    return llvm::Error::success();
  return llvm::createStringError(llvm::inconvertibleErrorCode(), errors[pc]);
}

void CollectiveWorker::loop() {
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    changed.wait(lock, [&] { return stopping || queued > 0; });
    if (queued == 0)
      return; // stopping, with nothing left to finish
    size_t pc = ring[head];
    std::string error = failure;
    if (failure.empty()) {
      lock.unlock();
      if (llvm::Error e = run(pc))
        error = llvm::toString(std::move(e));
      lock.lock();
      if (!error.empty())
        failure = error;
    }
    errors[pc] = std::move(error);
    state[pc] = State::Done;
    head = (head + 1) % ring.size();
    --queued;
    changed.notify_all();
  }
}

} // namespace accel::rt
