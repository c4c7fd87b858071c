//===- MpiCommunicator.h - ranks as MPI processes ---------------*- C++ -*-===//
//
// The `mpi` collectives backend: one rank per process of an MPI job
// (`mpirun -np N accel-run ... --collectives mpi`), over MPI_COMM_WORLD.
//
// An all-reduce and a reduce-scatter of f32 values are MPI's own
// (MPI_Iallreduce, MPI_Ireduce_scatter_block: the library picks the
// algorithm and the order of additions), or, `deterministic`, an
// all-to-all of the shards after which each rank adds its shards' values
// in rank order, as the local backend does — the same bits as
// `--collectives local` — followed, for an all-reduce, by an all-gather of
// the combined shards (2(N - 1)/N of the payload per rank, as a ring).
// MPI has no bf16 or f16 sum: a reduction with any 16-bit tensor always
// takes the deterministic path, its values exchanged as bytes, widened to
// f32, added in rank order and rounded once. An all-gather is
// MPI_Iallgather of the values as bytes, whatever their types (exact
// either way).
//
// MPI itself has no timeouts: every rank also tells every other rank when
// it enters a collective, and repeats it while it waits there. A rank that
// waits past the timeout names those that never arrived or fell silent
// (stopped inside the collective), then aborts the job (MPI_Abort), so no
// rank hangs.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_COLLECTIVES_MPICOMMUNICATOR_H
#define ACCEL_RUNTIME_COLLECTIVES_MPICOMMUNICATOR_H

#include "runtime/collectives/Communicator.h"

#include <mpi.h>

#include <chrono>
#include <deque>
#include <memory>
#include <vector>

namespace accel::rt {

class MpiCommunicator final : public Communicator {
public:
  /// Initialises MPI (once per process) and joins MPI_COMM_WORLD.
  static llvm::Expected<std::unique_ptr<MpiCommunicator>>
  create(int *argc, char ***argv, std::chrono::milliseconds timeout,
         bool deterministic);
  ~MpiCommunicator() override;

  int rank() const override { return self; }
  int size() const override { return ranks; }
  llvm::Error allReduce(llvm::ArrayRef<ReduceBuffer> buffers, ReduceKind kind,
                        llvm::StringRef what) override;
  llvm::Error reduceScatter(llvm::ArrayRef<ShardBuffer> buffers,
                            ReduceKind kind, llvm::StringRef what) override;
  llvm::Error allGather(llvm::ArrayRef<ShardBuffer> buffers,
                        llvm::StringRef what) override;
  /// Prints the reason and ends every process of the job.
  void abort(llvm::StringRef reason) override;

  /// Every rank's `value` (a hash of the program it runs, say), rank order.
  llvm::Expected<std::vector<uint64_t>> gather(uint64_t value);

private:
  MpiCommunicator(int self, int ranks, std::chrono::milliseconds timeout,
                  bool deterministic);
  /// Tells the other ranks this one entered collective `sequence`.
  void announce();
  /// Records the other ranks' announcements received so far.
  void drainAnnouncements();
  /// Polls `request` until it completes or the timeout passes (then the
  /// error names the ranks that never entered this collective).
  llvm::Error wait(MPI_Request &request, llvm::StringRef what);
  /// Reductions added in rank order (deterministic, or 16-bit values).
  llvm::Error allReduceInRankOrder(llvm::ArrayRef<ReduceBuffer> buffers,
                                   ReduceKind kind, llvm::StringRef what);
  llvm::Error reduceScatterInRankOrder(llvm::ArrayRef<ShardBuffer> buffers,
                                       ReduceKind kind, llvm::StringRef what);
  /// The all-to-all of every tensor's shards (`block` bytes per rank):
  /// afterwards block q of gatheredBytes is rank q's part of this rank's
  /// shards.
  template <typename Buffer>
  llvm::Error exchangeShards(llvm::ArrayRef<Buffer> buffers, size_t block,
                             llvm::StringRef what);
  /// `output` = the `count` values of `type` at byte `at` of each rank's
  /// `block`-byte block of gatheredBytes, widened, added in rank order,
  /// times 1/size for a mean, then rounded once to `type`.
  void sumWidenedInRankOrder(size_t block, size_t at, int64_t count,
                             ValueType type, ReduceKind kind, void *output);
  /// Every tensor's output = the ranks' shards of it in gatheredBytes
  /// (`block` bytes per rank), side by side, without the padding.
  template <typename Buffer>
  void unpackWholes(llvm::ArrayRef<Buffer> buffers, size_t block);
  /// An error naming `what` when a rank's block of `units` (values or
  /// bytes) is too big for MPI's int counts.
  llvm::Error checkCount(size_t units, llvm::StringRef unit,
                         llvm::StringRef what) const;

  int self, ranks;
  std::chrono::milliseconds timeout;
  bool deterministic;
  uint64_t sequence = 0;
  std::vector<uint64_t> reached; // per rank: the last collective it entered
  /// Per rank: when its last announcement arrived (waiting ranks repeat
  /// theirs, so a stopped rank falls silent).
  std::vector<std::chrono::steady_clock::time_point> heard;
  std::vector<uint64_t> inbox;        // per rank: its announcement's slot
  std::vector<MPI_Request> receiving; // per rank: the posted receive
  /// Announcements in flight (values live until their send completes).
  std::deque<std::pair<uint64_t, MPI_Request>> sending;
  // Staging, its capacity kept from step to step: no allocation once warm.
  std::vector<float> packed; // MPI's own f32 reductions
  std::vector<char> packedBytes, gatheredBytes, reducedBytes; // the others
  std::vector<float> sums; // one tensor's widened sums
};

} // namespace accel::rt

#endif // ACCEL_RUNTIME_COLLECTIVES_MPICOMMUNICATOR_H
