//===- Communicator.h - one rank's end of a collectives group ---*- C++ -*-===//
//
// What a data-parallel program needs from its transport: the ranks of a
// job each hold a Communicator and call the same collectives in the same
// order. Backends: `local` (the ranks are threads of one process,
// LocalCommunicator.h); MPI and NCCL implement the same interface.
//
// Every collective either completes on every rank with the same bits, or
// fails on every rank with an error that names the collective and the
// ranks that did not arrive: a rank that stalls or dies never leaves the
// others waiting past the timeout.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_COLLECTIVES_COMMUNICATOR_H
#define ACCEL_RUNTIME_COLLECTIVES_COMMUNICATOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace accel::rt {

enum class ReduceKind { Sum, Mean };

/// How one tensor's values are stored, in memory and on the wire. A
/// reduction of 16-bit values adds them in f32, in rank order (times
/// 1/size for Mean), and rounds the result once to nearest even — the
/// widened arithmetic of the f32 path, so a 16-bit collective gives the
/// same bits as rounding the f32 collective of the same values.
enum class ValueType : uint8_t { F32, BF16, F16 };

inline int64_t valueBytes(ValueType type) {
  return type == ValueType::F32 ? 4 : 2;
}

/// One tensor of an all-reduce: `count` values of `type` read from `input`
/// and written, combined, to `output`.
struct ReduceBuffer {
  const void *input;
  void *output;
  int64_t count;
  ValueType type = ValueType::F32;
};

/// One tensor of a reduce-scatter or an all-gather. The whole tensor has
/// `count` values of `type`; rank r's shard holds shardCount(count, N) of
/// them, starting at value r · shardCount(count, N), zero past the
/// tensor's end. reduceScatter reads the whole tensor at `input` and
/// writes this rank's combined shard to `output`; allGather reads this
/// rank's shard at `input` and writes the whole tensor to `output`. The
/// tensors of one collective may differ in type (an FSDP unit gathers its
/// matrices in bf16 and its norm weights in f32).
struct ShardBuffer {
  const void *input;
  void *output;
  int64_t count;
  ValueType type = ValueType::F32;
};

/// Values in one rank's shard of `count` values split over `ranks`.
inline int64_t shardCount(int64_t count, int64_t ranks) {
  return (count + ranks - 1) / ranks;
}

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  /// Combines every rank's buffers element-wise: output = Σ over ranks in
  /// rank order (times 1/size for Mean), the same bits on every rank.
  /// `what` names the collective in errors ("all_reduce bucket 2").
  virtual llvm::Error allReduce(llvm::ArrayRef<ReduceBuffer> buffers,
                                ReduceKind kind, llvm::StringRef what) = 0;

  /// allReduce's sum or mean, but each rank receives only its shard of
  /// each combined tensor (the same bits as that part of allReduce's).
  virtual llvm::Error reduceScatter(llvm::ArrayRef<ShardBuffer> buffers,
                                    ReduceKind kind, llvm::StringRef what) = 0;

  /// Every rank's shard of each tensor, side by side in rank order, as the
  /// whole tensor on every rank.
  virtual llvm::Error allGather(llvm::ArrayRef<ShardBuffer> buffers,
                                llvm::StringRef what) = 0;

  /// Collectives this rank has completed, and the bytes of the whole
  /// tensors they combined or assembled, in their value types (the
  /// payload, as accel-comm-report counts it).
  uint64_t completed() const { return calls; }
  uint64_t payloadBytes() const { return payload; }

  /// This rank stops taking part (its step failed): every collective the
  /// other ranks wait in, or call later, fails with `reason`.
  virtual void abort(llvm::StringRef reason) = 0;

protected:
  /// Backends count each completed collective here.
  template <typename Buffer> void count(llvm::ArrayRef<Buffer> buffers) {
    ++calls;
    for (const Buffer &b : buffers)
      payload += b.count * valueBytes(b.type);
  }

private:
  uint64_t calls = 0, payload = 0;
};

} // namespace accel::rt

#endif // ACCEL_RUNTIME_COLLECTIVES_COMMUNICATOR_H
