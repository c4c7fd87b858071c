//===- LocalCommunicatorTest.cpp - the local collectives backend ----------===//
//
// N ranks as threads: every rank gets the same bits (the ranks' values
// added in rank order), whatever order they arrive in; a missing rank
// fails the others within the timeout, naming it; a failed rank's abort
// reaches the ranks waiting for it.
//
//===----------------------------------------------------------------------===//

#include "runtime/collectives/LocalCommunicator.h"

#include "gtest/gtest.h"

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using namespace accel::rt;
using namespace std::chrono_literals;

/// Runs `body(rank)` on one thread per rank and joins them.
template <typename F> void onRanks(int n, F body) {
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back(body, r);
  for (std::thread &t : threads)
    t.join();
}

TEST(LocalCommunicator, SumAndMeanInRankOrder) {
  for (int n : {1, 2, 3, 4}) {
    auto comms = makeLocalGroup(n, 10s);
    const int64_t count = 1000;
    // Values whose sum depends on the order of additions in f32.
    std::vector<std::vector<float>> in(n), sum(n), mean(n), one(n);
    for (int r = 0; r < n; ++r) {
      for (int64_t i = 0; i < count; ++i)
        in[r].push_back((r % 2 ? 1e7f : 1.0f) / (1 + i + r));
      sum[r].assign(count, 0);
      mean[r].assign(count, 0);
      one[r].assign(1, 0);
    }
    std::vector<std::string> errors(n);
    onRanks(n, [&](int r) {
      // Ranks arrive in reverse order: the result must not care.
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * (n - r)));
      float scalar = static_cast<float>(r + 1);
      for (auto [kind, out] : {std::pair{ReduceKind::Sum, &sum[r]},
                               std::pair{ReduceKind::Mean, &mean[r]}}) {
        ReduceBuffer buffers[] = {{in[r].data(), out->data(), count},
                                  {&scalar, one[r].data(), 1}};
        if (llvm::Error e = comms[r]->allReduce(buffers, kind, "test"))
          errors[r] = llvm::toString(std::move(e));
      }
    });
    for (int r = 0; r < n; ++r) {
      ASSERT_EQ(errors[r], "") << n;
      for (int64_t i = 0; i < count; ++i) {
        float expected = in[0][i];
        for (int q = 1; q < n; ++q)
          expected += in[q][i];
        ASSERT_EQ(sum[r][i], expected) << n << " ranks, rank " << r << ", " << i;
        ASSERT_EQ(mean[r][i], expected * (1.0f / n)) << n << " " << r << " " << i;
      }
      // The last collective was the mean of 1..n.
      EXPECT_EQ(one[r][0], (n * (n + 1) / 2) * (1.0f / n));
    }
  }
}

TEST(LocalCommunicator, ReduceScatterIsAllReducesShard) {
  // Each rank's shard holds the bits allReduce gives for those elements,
  // zero past the tensor's end (7 and 1 values do not divide by 2 or 3).
  for (int n : {1, 2, 3, 4}) {
    auto comms = makeLocalGroup(n, 10s);
    const int64_t counts[] = {7, 1};
    std::vector<std::vector<float>> in(n), whole(n), shards(n);
    for (int r = 0; r < n; ++r)
      for (int64_t i = 0; i < 8; ++i)
        in[r].push_back((r % 2 ? 1e7f : 1.0f) / (1 + i + r));
    std::vector<std::string> errors(n);
    onRanks(n, [&](int r) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * (n - r)));
      whole[r].assign(8, 0);
      shards[r].assign(shardCount(7, n) + shardCount(1, n), -1);
      ReduceBuffer all[] = {{in[r].data(), whole[r].data(), 7},
                            {in[r].data() + 7, whole[r].data() + 7, 1}};
      ShardBuffer mine[] = {{in[r].data(), shards[r].data(), counts[0]},
                            {in[r].data() + 7,
                             shards[r].data() + shardCount(7, n), counts[1]}};
      llvm::Error e = comms[r]->allReduce(all, ReduceKind::Mean, "test");
      if (!e)
        e = comms[r]->reduceScatter(mine, ReduceKind::Mean, "test");
      if (e)
        errors[r] = llvm::toString(std::move(e));
    });
    for (int r = 0; r < n; ++r) {
      ASSERT_EQ(errors[r], "") << n;
      int64_t at = 0, base = 0;
      for (int64_t count : counts) {
        int64_t shard = shardCount(count, n);
        for (int64_t e = 0; e < shard; ++e) {
          int64_t element = r * shard + e;
          float expected = element < count ? whole[r][base + element] : 0.0f;
          EXPECT_EQ(shards[r][at + e], expected)
              << n << " ranks, rank " << r << ", element " << element;
        }
        at += shard;
        base += count;
      }
    }
    EXPECT_EQ(comms[0]->payloadBytes(), 2 * 8 * sizeof(float));
  }
}

TEST(LocalCommunicator, AllGatherAssemblesShardsInPlace) {
  // Every rank's output overlaps its own shard (the arena may place them
  // so); the assembled tensor is still every rank's shard in rank order.
  for (int n : {1, 2, 3}) {
    auto comms = makeLocalGroup(n, 10s);
    const int64_t count = 5, shard = shardCount(count, n);
    std::vector<std::vector<float>> buffer(n);
    std::vector<std::string> errors(n);
    onRanks(n, [&](int r) {
      buffer[r].assign(count + shard, -1);
      // The shard sits at the front of the output.
      for (int64_t e = 0; e < shard; ++e)
        buffer[r][e] = static_cast<float>(r * shard + e);
      ShardBuffer b[] = {{buffer[r].data(), buffer[r].data(), count}};
      if (llvm::Error e = comms[r]->allGather(b, "test"))
        errors[r] = llvm::toString(std::move(e));
    });
    for (int r = 0; r < n; ++r) {
      ASSERT_EQ(errors[r], "") << n;
      for (int64_t e = 0; e < count; ++e)
        EXPECT_EQ(buffer[r][e], static_cast<float>(e)) << n << " " << r;
    }
  }
}

TEST(LocalCommunicator, ShardSizesMustAgree) {
  // Ranks that run different programs fail instead of mixing tensors.
  auto comms = makeLocalGroup(2, 10s);
  std::vector<float> in(8, 1), out(8);
  std::vector<std::string> errors(2);
  onRanks(2, [&](int r) {
    ShardBuffer b[] = {{in.data(), out.data(), r == 0 ? 8 : 6}};
    if (llvm::Error e = comms[r]->reduceScatter(b, ReduceKind::Sum, "shards"))
      errors[r] = llvm::toString(std::move(e));
  });
  for (int r = 0; r < 2; ++r)
    EXPECT_NE(errors[r].find("run different programs"), std::string::npos)
        << errors[r];
}

TEST(LocalCommunicator, InPlaceOutputs) {
  // An output that is the rank's own input is written only after every
  // rank has read it.
  const int n = 3;
  auto comms = makeLocalGroup(n, 10s);
  std::vector<std::vector<float>> data(n);
  for (int r = 0; r < n; ++r)
    data[r].assign(4096, static_cast<float>(r + 1));
  onRanks(n, [&](int r) {
    ReduceBuffer b[] = {{data[r].data(), data[r].data(), 4096}};
    llvm::cantFail(comms[r]->allReduce(b, ReduceKind::Sum, "in place"));
  });
  for (int r = 0; r < n; ++r)
    for (float v : data[r])
      ASSERT_EQ(v, 6.0f);
}

TEST(LocalCommunicator, MissingRankTimesOut) {
  auto comms = makeLocalGroup(3, 200ms);
  std::vector<std::string> errors(3);
  auto started = std::chrono::steady_clock::now();
  // Rank 2 never calls the collective.
  onRanks(2, [&](int r) {
    float x = 1, y = 0;
    ReduceBuffer b[] = {{&x, &y, 1}};
    if (llvm::Error e = comms[r]->allReduce(b, ReduceKind::Sum, "all_reduce bucket 7"))
      errors[r] = llvm::toString(std::move(e));
  });
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - started).count();
  EXPECT_LT(seconds, 5.0);
  for (int r = 0; r < 2; ++r) {
    EXPECT_NE(errors[r].find("all_reduce bucket 7 on rank " + std::to_string(r)),
              std::string::npos)
        << errors[r];
    EXPECT_NE(errors[r].find("rank(s) 2"), std::string::npos) << errors[r];
  }
}

TEST(LocalCommunicator, MissingRankTimesOutOfShardedCollectives) {
  // ZeRO's and FSDP's collectives wait as the all-reduce does: rank 2
  // never gathers, and the others name it within the timeout.
  auto comms = makeLocalGroup(3, 200ms);
  std::vector<std::string> errors(3);
  onRanks(2, [&](int r) {
    float shard = 1, whole[3] = {};
    ShardBuffer b[] = {{&shard, whole, 3}};
    if (llvm::Error e = comms[r]->allGather(b, "all_gather bucket 4"))
      errors[r] = llvm::toString(std::move(e));
  });
  for (int r = 0; r < 2; ++r) {
    EXPECT_NE(errors[r].find("all_gather bucket 4 on rank " + std::to_string(r)),
              std::string::npos)
        << errors[r];
    EXPECT_NE(errors[r].find("rank(s) 2"), std::string::npos) << errors[r];
  }
}

TEST(LocalCommunicator, AbortReachesWaitingRanks) {
  auto comms = makeLocalGroup(2, 60s);
  std::string error;
  auto started = std::chrono::steady_clock::now();
  std::thread waiting([&] {
    float x = 1, y = 0;
    ReduceBuffer b[] = {{&x, &y, 1}};
    if (llvm::Error e = comms[0]->allReduce(b, ReduceKind::Mean, "bucket 0"))
      error = llvm::toString(std::move(e));
  });
  std::this_thread::sleep_for(50ms);
  comms[1]->abort("embedding index 99 out of range");
  waiting.join();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                          started).count(),
            10.0);
  EXPECT_NE(error.find("rank 1 failed: embedding index 99 out of range"),
            std::string::npos)
      << error;
  // Later collectives fail at once too.
  float x = 1, y = 0;
  ReduceBuffer b[] = {{&x, &y, 1}};
  llvm::Error again = comms[0]->allReduce(b, ReduceKind::Sum, "bucket 1");
  EXPECT_TRUE(static_cast<bool>(again));
  llvm::consumeError(std::move(again));
}

TEST(LocalCommunicator, MismatchedBucketsAreRefused) {
  auto comms = makeLocalGroup(2, 10s);
  std::vector<std::string> errors(2);
  onRanks(2, [&](int r) {
    std::vector<float> x(r + 1, 1.0f), y(r + 1);
    ReduceBuffer b[] = {{x.data(), y.data(), static_cast<int64_t>(x.size())}};
    if (llvm::Error e = comms[r]->allReduce(b, ReduceKind::Sum, "bucket 0"))
      errors[r] = llvm::toString(std::move(e));
  });
  for (const std::string &e : errors)
    EXPECT_NE(e.find("different programs"), std::string::npos) << e;
}

} // namespace
