//===- CollectiveWorkerTest.cpp - a rank's communication thread -----------===//

#include "runtime/executor/CollectiveWorker.h"

#include "gtest/gtest.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace accel::rt {
namespace {

TEST(CollectiveWorkerTest, RunsInStartOrderWhileTheCallerGoesOn) {
  std::vector<size_t> ran;
  std::atomic<bool> release{false};
  CollectiveWorker worker(
      [&](size_t pc) {
        while (pc == 3 && !release) // the first blocks until released
          std::this_thread::yield();
        ran.push_back(pc);
        return llvm::Error::success();
      },
      3, 10);
  worker.start(3);
  worker.start(1);
  worker.start(7);
  // start() returned with the first collective still running.
  release = true;
  EXPECT_FALSE(static_cast<bool>(worker.wait(7)));
  EXPECT_FALSE(static_cast<bool>(worker.wait(3)));
  EXPECT_FALSE(static_cast<bool>(worker.wait(1)));
  EXPECT_EQ(ran, (std::vector<size_t>{3, 1, 7}));
  // Again, as the next step does.
  worker.start(3);
  EXPECT_FALSE(static_cast<bool>(worker.wait(3)));
  EXPECT_EQ(ran.size(), 4u);
}

TEST(CollectiveWorkerTest, AFailureFailsTheRestWithoutRunningThem) {
  std::vector<size_t> ran;
  CollectiveWorker worker(
      [&](size_t pc) -> llvm::Error {
        ran.push_back(pc);
        if (pc == 2)
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         "all_reduce bucket 2 timed out");
        return llvm::Error::success();
      },
      4, 8);
  for (size_t pc : {1, 2, 5, 6})
    worker.start(pc);
  EXPECT_FALSE(static_cast<bool>(worker.wait(1)));
  for (size_t pc : {2, 5, 6}) {
    llvm::Error e = worker.wait(pc);
    ASSERT_TRUE(static_cast<bool>(e));
    EXPECT_EQ(llvm::toString(std::move(e)), "all_reduce bucket 2 timed out");
  }
  EXPECT_EQ(ran, (std::vector<size_t>{1, 2})); // 5 and 6 never ran
}

TEST(CollectiveWorkerTest, AFullQueueWaitsForRoom) {
  std::atomic<int> ran{0};
  CollectiveWorker worker(
      [&](size_t) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ++ran;
        return llvm::Error::success();
      },
      1, 4);
  for (size_t pc = 0; pc < 4; ++pc)
    worker.start(pc); // room for one: each waits for the one before
  for (size_t pc = 0; pc < 4; ++pc)
    EXPECT_FALSE(static_cast<bool>(worker.wait(pc)));
  EXPECT_EQ(ran, 4);
}

TEST(CollectiveWorkerTest, DestructionFinishesWhatWasStarted) {
  std::atomic<int> ran{0};
  {
    CollectiveWorker worker(
        [&](size_t) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          ++ran;
          return llvm::Error::success();
        },
        2, 2);
    worker.start(0);
    worker.start(1);
  } // a failed step returns without waiting: the buffers must outlive these
  EXPECT_EQ(ran, 2);
}

} // namespace
} // namespace accel::rt
