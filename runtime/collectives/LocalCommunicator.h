//===- LocalCommunicator.h - ranks as threads of one process ----*- C++ -*-===//
//
// The `local` collectives backend: N ranks are N threads sharing a
// LocalGroup. An all-reduce is two barriers: each rank publishes its
// buffers and waits for the others; then each rank adds its N-th of the
// elements over all ranks, in rank order and in f32 (so all get the same
// bits), rounds the sums once to the tensor's type and writes them into
// every rank's outputs; the second barrier keeps every rank from going on
// (and overwriting its inputs) before all sums are written. A
// reduce-scatter and an all-gather are two barriers too: each rank
// computes its own result from the posted buffers into staging and writes
// it out after the second barrier.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_COLLECTIVES_LOCALCOMMUNICATOR_H
#define ACCEL_RUNTIME_COLLECTIVES_LOCALCOMMUNICATOR_H

#include "runtime/collectives/Communicator.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace accel::rt {

/// The state the ranks of one local job share.
class LocalGroup {
public:
  LocalGroup(int size, std::chrono::milliseconds timeout);
  int size() const { return ranks; }

private:
  friend class LocalCommunicator;
  /// Waits until all ranks have arrived at barrier `phase` of collective
  /// `sequence`; false with the missing ranks listed in `error` on
  /// timeout or abort.
  bool arrive(int rank, uint64_t sequence, int phase, std::string &error);

  int ranks;
  std::chrono::milliseconds timeout;
  std::mutex mutex;
  std::condition_variable changed;
  /// Per rank: the last (sequence, phase) it arrived at, as 2·seq + phase.
  std::vector<uint64_t> reached;
  /// Per rank: the buffers of its current collective.
  std::vector<std::vector<ReduceBuffer>> posted;
  std::string aborted; // why, once a rank gave up
};

class LocalCommunicator final : public Communicator {
public:
  LocalCommunicator(std::shared_ptr<LocalGroup> group, int rank);
  int rank() const override { return self; }
  int size() const override { return group->size(); }
  llvm::Error allReduce(llvm::ArrayRef<ReduceBuffer> buffers, ReduceKind kind,
                        llvm::StringRef what) override;
  llvm::Error reduceScatter(llvm::ArrayRef<ShardBuffer> buffers,
                            ReduceKind kind, llvm::StringRef what) override;
  llvm::Error allGather(llvm::ArrayRef<ShardBuffer> buffers,
                        llvm::StringRef what) override;
  void abort(llvm::StringRef reason) override;

private:
  /// Enters the next collective: posts `buffers`, waits for every rank at
  /// its first barrier and checks that they all posted the same sizes and
  /// types.
  template <typename Buffer>
  llvm::Error post(llvm::ArrayRef<Buffer> buffers, llvm::StringRef what);
  /// Posted tensor i's values [begin, end), widened to f32, added over the
  /// ranks in rank order, one addition at a time, then times 1/N for a
  /// mean: the bits of summing micro-batches in gradient accumulation.
  /// The caller rounds them to the tensor's type.
  void reduceInOrder(size_t i, int64_t begin, int64_t end, ReduceKind kind,
                     float *out) const;
  llvm::Error failure(llvm::StringRef what, const std::string &why) const;

  std::shared_ptr<LocalGroup> group;
  int self;
  uint64_t sequence = 0; // collectives this rank has entered
  // Staging, its capacity kept from step to step: no allocation once warm.
  std::vector<float> staging; // f32 results on their way to the outputs
  std::vector<char> bytes;    // rounded results, gathered values: any type
};

/// The communicators of an N-rank local job, rank order.
std::vector<std::unique_ptr<LocalCommunicator>>
makeLocalGroup(int size, std::chrono::milliseconds timeout);

} // namespace accel::rt

#endif // ACCEL_RUNTIME_COLLECTIVES_LOCALCOMMUNICATOR_H
