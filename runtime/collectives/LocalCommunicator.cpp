//===- LocalCommunicator.cpp - ranks as threads of one process ------------===//

#include "runtime/collectives/LocalCommunicator.h"

#include "runtime/collectives/TypedValues.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstring>

namespace accel::rt {

LocalGroup::LocalGroup(int size, std::chrono::milliseconds timeout)
    : ranks(size), timeout(timeout), reached(size, 0), posted(size) {}

bool LocalGroup::arrive(int rank, uint64_t sequence, int phase,
                        std::string &error) {
  uint64_t target = 2 * sequence + phase;
  std::unique_lock<std::mutex> lock(mutex);
  reached[rank] = target;
  changed.notify_all();
  auto everyone = [&] {
    return !aborted.empty() ||
           std::all_of(reached.begin(), reached.end(),
                       [&](uint64_t r) { return r >= target; });
  };
  bool done = changed.wait_for(lock, timeout, everyone);
  if (!aborted.empty()) {
    error = aborted;
    return false;
  }
  if (done)
    return true;
  std::string missing;
  for (int q = 0; q < ranks; ++q)
    if (reached[q] < target)
      missing += (missing.empty() ? "" : ", ") + std::to_string(q);
  error = "timed out after " +
          llvm::formatv("{0:F1}", timeout.count() / 1000.0).str() +
          " s waiting for rank(s) " + missing;
  // The others stop waiting too: this job cannot finish the step.
  aborted = "rank " + std::to_string(rank) + " gave up: " + error;
  changed.notify_all();
  return false;
}

LocalCommunicator::LocalCommunicator(std::shared_ptr<LocalGroup> group, int rank)
    : group(std::move(group)), self(rank) {}

void LocalCommunicator::abort(llvm::StringRef reason) {
  std::lock_guard<std::mutex> lock(group->mutex);
  if (group->aborted.empty())
    group->aborted = "rank " + std::to_string(self) + " failed: " + reason.str();
  group->changed.notify_all();
}

static bool overlaps(const ReduceBuffer &out, const ReduceBuffer &in) {
  const char *o = static_cast<const char *>(out.output);
  const char *i = static_cast<const char *>(in.input);
  return o < i + in.count * valueBytes(in.type) &&
         i < o + out.count * valueBytes(out.type);
}

llvm::Error LocalCommunicator::failure(llvm::StringRef what,
                                       const std::string &why) const {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 what + " on rank " + llvm::Twine(self) +
                                     ": " + why);
}

template <typename Buffer>
llvm::Error LocalCommunicator::post(llvm::ArrayRef<Buffer> buffers,
                                    llvm::StringRef what) {
  ++sequence;
  {
    std::lock_guard<std::mutex> lock(group->mutex);
    std::vector<ReduceBuffer> &mine = group->posted[self];
    mine.clear(); // capacity kept: no allocation in a step
    for (const Buffer &b : buffers)
      mine.push_back({b.input, b.output, b.count, b.type});
  }
  std::string error;
  if (!group->arrive(self, sequence, 0, error))
    return failure(what, error);
  // Every rank has posted; nobody changes `posted` until the second
  // barrier, so it is read without the lock.
  const auto &posted = group->posted;
  for (int q = 0; q < group->size(); ++q) {
    bool same = posted[q].size() == buffers.size();
    for (size_t i = 0; same && i < buffers.size(); ++i)
      same = posted[q][i].count == buffers[i].count &&
             posted[q][i].type == buffers[i].type;
    if (!same) // every rank sees the same posts, so each fails here
      return failure(what, "rank " + std::to_string(q) +
                               " passes buffers of other sizes or types (the "
                               "ranks run different programs)");
  }
  return llvm::Error::success();
}

void LocalCommunicator::reduceInOrder(size_t i, int64_t begin, int64_t end,
                                      ReduceKind kind, float *out) const {
  // Every rank posted tensor i with the same type (post checked).
  const auto &posted = group->posted;
  ValueType type = posted[0][i].type;
  widenValues(valueAt(posted[0][i].input, type, begin), type, end - begin, out);
  for (int q = 1; q < group->size(); ++q)
    addWidenedValues(valueAt(posted[q][i].input, type, begin), type,
                     end - begin, out);
  if (kind == ReduceKind::Mean) {
    float scale = 1.0f / group->size();
    for (int64_t e = 0; e < end - begin; ++e)
      out[e] *= scale;
  }
}

llvm::Error LocalCommunicator::allReduce(llvm::ArrayRef<ReduceBuffer> buffers,
                                         ReduceKind kind, llvm::StringRef what) {
  if (llvm::Error e = post(buffers, what))
    return e;
  const auto &posted = group->posted;
  auto reduce = [&](size_t i, int64_t begin, int64_t end, float *out) {
    reduceInOrder(i, begin, end, kind, out);
  };
  // Usually each rank reduces its N-th of every tensor and writes it into
  // every rank's output (a reduce-scatter and an all-gather in one pass),
  // so a rank's work does not grow with N. An output that is exactly its
  // own input is fine: each element is read by the one thread that writes
  // it. Any other overlap of a rank's outputs with its inputs would let a
  // write reach what another rank still reads: then every rank reduces the
  // whole bucket into staging and rounds it into its outputs after the
  // second barrier.
  bool stage = false;
  for (int q = 0; q < group->size(); ++q)
    for (size_t i = 0; i < buffers.size(); ++i)
      for (size_t j = 0; j < buffers.size(); ++j)
        stage = stage ||
                (overlaps(posted[q][i], posted[q][j]) &&
                 !(i == j && posted[q][i].output == posted[q][j].input));
  if (stage) {
    size_t total = 0;
    for (const ReduceBuffer &b : buffers)
      total += b.count;
    staging.resize(total);
    size_t at = 0;
    for (size_t i = 0; i < buffers.size(); ++i) {
      reduce(i, 0, buffers[i].count, staging.data() + at);
      at += buffers[i].count;
    }
  } else {
    constexpr int64_t kBlock = 4096;
    staging.resize(kBlock);
    bytes.resize(kBlock * sizeof(uint16_t)); // a block of 16-bit results
    int n = group->size();
    for (size_t i = 0; i < buffers.size(); ++i) {
      int64_t count = buffers[i].count;
      ValueType type = buffers[i].type;
      int64_t first = count * self / n, last = count * (self + 1) / n;
      for (int64_t b = first; b < last; b += kBlock) {
        int64_t e = std::min(last, b + kBlock);
        reduce(i, b, e, staging.data());
        // Rounded once, then copied to every rank.
        const void *result = staging.data();
        if (type != ValueType::F32) {
          narrowValues(staging.data(), e - b, type, bytes.data());
          result = bytes.data();
        }
        for (int q = 0; q < n; ++q)
          std::memcpy(valueAt(posted[q][i].output, type, b), result,
                      (e - b) * valueBytes(type));
      }
    }
  }
  std::string error;
  if (!group->arrive(self, sequence, 1, error))
    return failure(what, error);
  if (stage) {
    size_t at = 0;
    for (const ReduceBuffer &b : buffers) {
      narrowValues(staging.data() + at, b.count, b.type, b.output);
      at += b.count;
    }
  }
  count(buffers);
  return llvm::Error::success();
}

llvm::Error LocalCommunicator::reduceScatter(llvm::ArrayRef<ShardBuffer> buffers,
                                             ReduceKind kind,
                                             llvm::StringRef what) {
  if (llvm::Error e = post(buffers, what))
    return e;
  // This rank's shards, summed as allReduce sums (the same bits), into
  // staging: an output may lie where another rank still reads this rank's
  // input until the second barrier.
  int n = group->size();
  size_t total = 0;
  for (const ShardBuffer &b : buffers)
    total += shardCount(b.count, n);
  staging.resize(total);
  size_t at = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    int64_t shard = shardCount(buffers[i].count, n);
    int64_t begin = std::min(buffers[i].count, self * shard);
    int64_t end = std::min(buffers[i].count, begin + shard);
    reduceInOrder(i, begin, end, kind, staging.data() + at);
    std::fill(staging.data() + at + (end - begin), staging.data() + at + shard,
              0.0f);
    at += shard;
  }
  std::string error;
  if (!group->arrive(self, sequence, 1, error))
    return failure(what, error);
  at = 0;
  for (const ShardBuffer &b : buffers) {
    int64_t shard = shardCount(b.count, n);
    narrowValues(staging.data() + at, shard, b.type, b.output);
    at += shard;
  }
  count(buffers);
  return llvm::Error::success();
}

llvm::Error LocalCommunicator::allGather(llvm::ArrayRef<ShardBuffer> buffers,
                                         llvm::StringRef what) {
  if (llvm::Error e = post(buffers, what))
    return e;
  // Assembled in staging first, for the same reason as reduceScatter.
  // Nothing is added: the values are copied as bytes, whatever their type.
  const auto &posted = group->posted;
  int n = group->size();
  size_t total = 0;
  for (const ShardBuffer &b : buffers)
    total += b.count * valueBytes(b.type);
  bytes.resize(total);
  size_t at = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    int64_t count = buffers[i].count, shard = shardCount(count, n);
    ValueType type = buffers[i].type;
    for (int q = 0; q < n; ++q) {
      int64_t begin = std::min(count, q * shard);
      int64_t end = std::min(count, begin + shard);
      std::memcpy(valueAt(bytes.data() + at, type, begin), posted[q][i].input,
                  (end - begin) * valueBytes(type));
    }
    at += count * valueBytes(type);
  }
  std::string error;
  if (!group->arrive(self, sequence, 1, error))
    return failure(what, error);
  at = 0;
  for (const ShardBuffer &b : buffers) {
    std::memcpy(b.output, bytes.data() + at, b.count * valueBytes(b.type));
    at += b.count * valueBytes(b.type);
  }
  count(buffers);
  return llvm::Error::success();
}

std::vector<std::unique_ptr<LocalCommunicator>>
makeLocalGroup(int size, std::chrono::milliseconds timeout) {
  auto group = std::make_shared<LocalGroup>(size, timeout);
  std::vector<std::unique_ptr<LocalCommunicator>> ranks;
  for (int r = 0; r < size; ++r)
    ranks.push_back(std::make_unique<LocalCommunicator>(group, r));
  return ranks;
}

} // namespace accel::rt
