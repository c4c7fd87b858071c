//===- MpiCommunicator.cpp - ranks as MPI processes -----------------------===//

#include "runtime/collectives/MpiCommunicator.h"

#include "runtime/collectives/TypedValues.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <thread>

namespace accel::rt {
namespace {

constexpr int kAnnounceTag = 7101;

llvm::Error mpiError(int code, const llvm::Twine &what) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 what + ": " + std::string(text, length));
}

template <typename Buffer> bool allF32(llvm::ArrayRef<Buffer> buffers) {
  return llvm::all_of(buffers,
                      [](const Buffer &b) { return b.type == ValueType::F32; });
}

/// Bytes of `count` values of `type`.
size_t sizeOf(int64_t count, ValueType type) {
  return static_cast<size_t>(count * valueBytes(type));
}

} // namespace

llvm::Error MpiCommunicator::checkCount(size_t units, llvm::StringRef unit,
                                        llvm::StringRef what) const {
  // MPI's counts are ints: a bigger block would wrap around, not fail.
  if (units <= static_cast<size_t>(INT_MAX))
    return llvm::Error::success();
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      what + " on rank " + llvm::Twine(self) + ": " + llvm::Twine(units) + " " +
          unit + " per rank, more than one MPI call can move (" +
          llvm::Twine(INT_MAX) + ")");
}

llvm::Expected<std::unique_ptr<MpiCommunicator>>
MpiCommunicator::create(int *argc, char ***argv,
                        std::chrono::milliseconds timeout, bool deterministic) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  // A step's collectives run on its communication thread, the rest of
  // accel-run's MPI calls on the main thread (between steps, or to end a
  // failed job while a collective waits): ask for concurrent calls, and
  // settle for calls from one thread at a time.
  int provided = 0;
  if (!initialized) {
    if (int code = MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided))
      return mpiError(code, "cannot start MPI");
  } else {
    MPI_Query_thread(&provided);
  }
  if (provided < MPI_THREAD_SERIALIZED)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "this MPI supports calls from one thread only; accel-run's "
        "collectives need MPI_THREAD_SERIALIZED or better");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int self = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &self);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  return std::unique_ptr<MpiCommunicator>(
      new MpiCommunicator(self, ranks, timeout, deterministic));
}

MpiCommunicator::MpiCommunicator(int self, int ranks,
                                 std::chrono::milliseconds timeout,
                                 bool deterministic)
    : self(self), ranks(ranks), timeout(timeout), deterministic(deterministic),
      reached(ranks, 0), heard(ranks, std::chrono::steady_clock::now()),
      inbox(ranks, 0), receiving(ranks, MPI_REQUEST_NULL) {
  for (int q = 0; q < ranks; ++q)
    if (q != self)
      MPI_Irecv(&inbox[q], 1, MPI_UINT64_T, q, kAnnounceTag, MPI_COMM_WORLD,
                &receiving[q]);
}

MpiCommunicator::~MpiCommunicator() {
  // Every rank leaves together, so no announcement is still on its way.
  MPI_Barrier(MPI_COMM_WORLD);
  for (MPI_Request &r : receiving)
    if (r != MPI_REQUEST_NULL) {
      MPI_Cancel(&r);
      MPI_Request_free(&r);
    }
  for (auto &[value, request] : sending)
    MPI_Wait(&request, MPI_STATUS_IGNORE);
  MPI_Finalize();
}

void MpiCommunicator::announce() {
  // Completed announcements free their slots first.
  while (!sending.empty()) {
    int done = 0;
    MPI_Test(&sending.front().second, &done, MPI_STATUS_IGNORE);
    if (!done)
      break;
    sending.pop_front();
  }
  for (int q = 0; q < ranks; ++q) {
    if (q == self)
      continue;
    sending.push_back({sequence, MPI_REQUEST_NULL});
    MPI_Isend(&sending.back().first, 1, MPI_UINT64_T, q, kAnnounceTag,
              MPI_COMM_WORLD, &sending.back().second);
  }
  reached[self] = sequence;
}

void MpiCommunicator::drainAnnouncements() {
  for (int q = 0; q < ranks; ++q) {
    while (q != self) {
      int done = 0;
      MPI_Test(&receiving[q], &done, MPI_STATUS_IGNORE);
      if (!done)
        break;
      reached[q] = std::max(reached[q], inbox[q]);
      heard[q] = std::chrono::steady_clock::now();
      MPI_Irecv(&inbox[q], 1, MPI_UINT64_T, q, kAnnounceTag, MPI_COMM_WORLD,
                &receiving[q]);
    }
  }
}

llvm::Error MpiCommunicator::wait(MPI_Request &request, llvm::StringRef what) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now(), deadline = start + timeout, lastBeat = start;
  // A rank waiting here re-announces itself every `beat`; one silent for
  // three beats has stopped (inside this collective, after announcing it).
  auto beat = std::max<Clock::duration>(timeout / 10,
                                        std::chrono::milliseconds(50));
  for (int spins = 0;; ++spins) {
    int done = 0;
    if (int code = MPI_Test(&request, &done, MPI_STATUS_IGNORE))
      return mpiError(code, what + " on rank " + llvm::Twine(self));
    if (done)
      return llvm::Error::success();
    drainAnnouncements();
    auto now = Clock::now();
    if (now - lastBeat > beat) {
      announce();
      lastBeat = now;
    }
    if (now > deadline) {
      std::string missing;
      for (int q = 0; q < ranks; ++q)
        if (q != self && (reached[q] < sequence || now - heard[q] > 3 * beat))
          missing += (missing.empty() ? "" : ", ") + std::to_string(q);
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          what + " on rank " + llvm::Twine(self) + ": timed out after " +
              llvm::formatv("{0:F1}", timeout.count() / 1000.0) +
              " s waiting for rank(s) " +
              (missing.empty()
                   ? std::string("none: every rank is alive and inside it")
                   : missing));
    }
    // Busy-poll briefly, then yield the core to the ranks being waited for.
    if (spins > 1000)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void MpiCommunicator::sumWidenedInRankOrder(size_t block, size_t at,
                                            int64_t count, ValueType type,
                                            ReduceKind kind, void *output) {
  // The local backend's arithmetic on widened values: rank order, one
  // addition at a time, then the scale, rounded once at the end.
  sums.resize(count);
  widenValues(gatheredBytes.data() + at, type, count, sums.data());
  for (int q = 1; q < ranks; ++q)
    addWidenedValues(gatheredBytes.data() + q * block + at, type, count,
                     sums.data());
  if (kind == ReduceKind::Mean) {
    float scale = 1.0f / ranks;
    for (float &v : sums)
      v *= scale;
  }
  narrowValues(sums.data(), count, type, output);
}

template <typename Buffer>
llvm::Error MpiCommunicator::exchangeShards(llvm::ArrayRef<Buffer> buffers,
                                            size_t block,
                                            llvm::StringRef what) {
  // Packed by destination: rank q's block holds its shard of every tensor,
  // zero-padded (zero bytes are 0.0 in every type), so after the
  // all-to-all block q of gatheredBytes is rank q's part of this rank's
  // shards.
  packedBytes.assign(block * ranks, 0);
  size_t at = 0;
  for (const Buffer &b : buffers) {
    int64_t shard = shardCount(b.count, ranks);
    for (int q = 0; q < ranks; ++q) {
      int64_t begin = std::min(b.count, q * shard);
      int64_t end = std::min(b.count, begin + shard);
      std::memcpy(packedBytes.data() + q * block + at,
                  valueAt(b.input, b.type, begin), sizeOf(end - begin, b.type));
    }
    at += sizeOf(shard, b.type);
  }
  gatheredBytes.resize(block * ranks);
  MPI_Request request;
  if (int code =
          MPI_Ialltoall(packedBytes.data(), static_cast<int>(block), MPI_BYTE,
                        gatheredBytes.data(), static_cast<int>(block), MPI_BYTE,
                        MPI_COMM_WORLD, &request))
    return mpiError(code, what);
  return wait(request, what);
}

/// Bytes of this rank's shards of `buffers`' tensors, side by side.
template <typename Buffer>
static size_t shardBlock(llvm::ArrayRef<Buffer> buffers, int ranks) {
  size_t block = 0;
  for (const Buffer &b : buffers)
    block += sizeOf(shardCount(b.count, ranks), b.type);
  return block;
}

llvm::Error MpiCommunicator::allReduce(llvm::ArrayRef<ReduceBuffer> buffers,
                                       ReduceKind kind, llvm::StringRef what) {
  if (deterministic || !allF32(buffers))
    return allReduceInRankOrder(buffers, kind, what);
  size_t total = 0;
  for (const ReduceBuffer &b : buffers)
    total += b.count;
  if (llvm::Error e = checkCount(total, "values", what))
    return e;
  ++sequence;
  announce();
  packed.resize(total);
  size_t at = 0;
  for (const ReduceBuffer &b : buffers) {
    std::memcpy(packed.data() + at, b.input, b.count * sizeof(float));
    at += b.count;
  }
  MPI_Request request;
  if (int code =
          MPI_Iallreduce(MPI_IN_PLACE, packed.data(), static_cast<int>(total),
                         MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request))
    return mpiError(code, what);
  if (llvm::Error e = wait(request, what))
    return e;
  float scale = kind == ReduceKind::Mean ? 1.0f / ranks : 1.0f;
  at = 0;
  for (const ReduceBuffer &b : buffers) {
    float *out = static_cast<float *>(b.output);
    for (int64_t e = 0; e < b.count; ++e)
      out[e] =
          kind == ReduceKind::Mean ? packed[at + e] * scale : packed[at + e];
    at += b.count;
  }
  count(buffers);
  return llvm::Error::success();
}

llvm::Error
MpiCommunicator::allReduceInRankOrder(llvm::ArrayRef<ReduceBuffer> buffers,
                                      ReduceKind kind, llvm::StringRef what) {
  // A reduce-scatter (all-to-all, then each rank sums its shards in rank
  // order and rounds them) and an all-gather of the results: each value
  // is added by one rank, as the local backend adds it, and 2(N - 1)/N
  // of the payload travels per rank, as in a ring.
  size_t block = shardBlock(buffers, ranks);
  if (llvm::Error e = checkCount(block, "bytes", what))
    return e;
  ++sequence;
  announce();
  if (llvm::Error e = exchangeShards(buffers, block, what))
    return e;
  reducedBytes.resize(block);
  size_t at = 0;
  for (const ReduceBuffer &b : buffers) {
    int64_t shard = shardCount(b.count, ranks);
    sumWidenedInRankOrder(block, at, shard, b.type, kind,
                          reducedBytes.data() + at);
    at += sizeOf(shard, b.type);
  }
  MPI_Request request;
  if (int code =
          MPI_Iallgather(reducedBytes.data(), static_cast<int>(block), MPI_BYTE,
                         gatheredBytes.data(), static_cast<int>(block),
                         MPI_BYTE, MPI_COMM_WORLD, &request))
    return mpiError(code, what);
  if (llvm::Error e = wait(request, what))
    return e;
  unpackWholes(buffers, block);
  count(buffers);
  return llvm::Error::success();
}

template <typename Buffer>
void MpiCommunicator::unpackWholes(llvm::ArrayRef<Buffer> buffers,
                                   size_t block) {
  // Block q of gatheredBytes holds rank q's shard of every tensor.
  size_t at = 0;
  for (const Buffer &b : buffers) {
    int64_t shard = shardCount(b.count, ranks);
    for (int q = 0; q < ranks; ++q) {
      int64_t begin = std::min(b.count, q * shard);
      int64_t end = std::min(b.count, begin + shard);
      std::memcpy(valueAt(b.output, b.type, begin),
                  gatheredBytes.data() + q * block + at,
                  sizeOf(end - begin, b.type));
    }
    at += sizeOf(shard, b.type);
  }
}

llvm::Error MpiCommunicator::reduceScatter(llvm::ArrayRef<ShardBuffer> buffers,
                                           ReduceKind kind,
                                           llvm::StringRef what) {
  if (deterministic || !allF32(buffers))
    return reduceScatterInRankOrder(buffers, kind, what);
  size_t block = 0;
  for (const ShardBuffer &b : buffers)
    block += shardCount(b.count, ranks);
  if (llvm::Error e = checkCount(block, "values", what))
    return e;
  ++sequence;
  announce();
  // Packed by destination, as exchangeShards does; MPI's own sum leaves
  // this rank's combined block at the front.
  packed.assign(block * ranks, 0.0f);
  size_t at = 0;
  for (const ShardBuffer &b : buffers) {
    int64_t shard = shardCount(b.count, ranks);
    for (int q = 0; q < ranks; ++q) {
      int64_t begin = std::min(b.count, q * shard);
      int64_t end = std::min(b.count, begin + shard);
      std::memcpy(packed.data() + q * block + at,
                  static_cast<const float *>(b.input) + begin,
                  (end - begin) * sizeof(float));
    }
    at += shard;
  }
  MPI_Request request;
  if (int code = MPI_Ireduce_scatter_block(MPI_IN_PLACE, packed.data(),
                                           static_cast<int>(block), MPI_FLOAT,
                                           MPI_SUM, MPI_COMM_WORLD, &request))
    return mpiError(code, what);
  if (llvm::Error e = wait(request, what))
    return e;
  float scale = kind == ReduceKind::Mean ? 1.0f / ranks : 1.0f;
  at = 0;
  for (const ShardBuffer &b : buffers) {
    int64_t shard = shardCount(b.count, ranks);
    float *out = static_cast<float *>(b.output);
    for (int64_t e = 0; e < shard; ++e)
      out[e] =
          kind == ReduceKind::Mean ? packed[at + e] * scale : packed[at + e];
    at += shard;
  }
  count(buffers);
  return llvm::Error::success();
}

llvm::Error
MpiCommunicator::reduceScatterInRankOrder(llvm::ArrayRef<ShardBuffer> buffers,
                                          ReduceKind kind,
                                          llvm::StringRef what) {
  size_t block = shardBlock(buffers, ranks);
  if (llvm::Error e = checkCount(block, "bytes", what))
    return e;
  ++sequence;
  announce();
  if (llvm::Error e = exchangeShards(buffers, block, what))
    return e;
  size_t at = 0;
  for (const ShardBuffer &b : buffers) {
    int64_t shard = shardCount(b.count, ranks);
    sumWidenedInRankOrder(block, at, shard, b.type, kind, b.output);
    at += sizeOf(shard, b.type);
  }
  count(buffers);
  return llvm::Error::success();
}

llvm::Error MpiCommunicator::allGather(llvm::ArrayRef<ShardBuffer> buffers,
                                       llvm::StringRef what) {
  // Bytes: nothing is added, so any mix of types travels as it is.
  size_t block = shardBlock(buffers, ranks);
  if (llvm::Error e = checkCount(block, "bytes", what))
    return e;
  ++sequence;
  announce();
  packedBytes.resize(block);
  size_t at = 0;
  for (const ShardBuffer &b : buffers) {
    size_t shard = sizeOf(shardCount(b.count, ranks), b.type);
    std::memcpy(packedBytes.data() + at, b.input, shard);
    at += shard;
  }
  gatheredBytes.resize(block * ranks);
  MPI_Request request;
  if (int code =
          MPI_Iallgather(packedBytes.data(), static_cast<int>(block), MPI_BYTE,
                         gatheredBytes.data(), static_cast<int>(block),
                         MPI_BYTE, MPI_COMM_WORLD, &request))
    return mpiError(code, what);
  if (llvm::Error e = wait(request, what))
    return e;
  unpackWholes(buffers, block);
  count(buffers);
  return llvm::Error::success();
}

llvm::Expected<std::vector<uint64_t>> MpiCommunicator::gather(uint64_t value) {
  std::vector<uint64_t> all(ranks);
  if (int code = MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1,
                               MPI_UINT64_T, MPI_COMM_WORLD))
    return mpiError(code, "gathering the ranks' programs");
  return all;
}

void MpiCommunicator::abort(llvm::StringRef reason) {
  llvm::errs() << "accel-run: error: rank " << self << " stops the job: "
               << reason << "\n";
  llvm::errs().flush();
  llvm::outs().flush();
  // mpirun forwards each rank's output asynchronously, and MPI_Abort ends
  // the job at once: give the message a moment to reach the user.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  MPI_Abort(MPI_COMM_WORLD, 1);
}

} // namespace accel::rt
