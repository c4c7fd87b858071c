//===- LocalCommunicatorTest.cpp - the local collectives backend ----------===//
//
// N ranks as threads: every rank gets the same bits (the ranks' values
// added in rank order), whatever order they arrive in; 16-bit values are
// added in f32 and rounded once; a missing rank fails the others within
// the timeout, naming it; a failed rank's abort reaches the ranks waiting
// for it.
//
//===----------------------------------------------------------------------===//

#include "runtime/collectives/LocalCommunicator.h"
#include "runtime/cpu/HalfFloat.h"

#include "gtest/gtest.h"

#include <chrono>
#include <cmath>
#include <cstdint>
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

//===----------------------------------------------------------------------===//
// 16-bit values
//===----------------------------------------------------------------------===//

using accel::rt::cpu::bf16ToFloat;
using accel::rt::cpu::f16ToFloat;
using accel::rt::cpu::floatToBf16;
using accel::rt::cpu::floatToF16;

uint16_t narrow(float v, ValueType type) {
  return type == ValueType::BF16 ? floatToBf16(v) : floatToF16(v);
}
float widen(uint16_t h, ValueType type) {
  return type == ValueType::BF16 ? bf16ToFloat(h) : f16ToFloat(h);
}

/// The documented result for element e: every rank's value widened, added
/// in f32 in rank order, times 1/N for a mean, rounded once.
uint16_t roundedOnce(const std::vector<std::vector<uint16_t>> &in, size_t e,
                     ValueType type, ReduceKind kind) {
  float sum = widen(in[0][e], type);
  for (size_t q = 1; q < in.size(); ++q)
    sum += widen(in[q][e], type);
  if (kind == ReduceKind::Mean)
    sum *= 1.0f / in.size();
  return narrow(sum, type);
}

/// What rounding to the 16-bit type after every operation would give.
uint16_t roundedPerStep(const std::vector<std::vector<uint16_t>> &in, size_t e,
                        ValueType type, ReduceKind kind) {
  uint16_t sum = in[0][e];
  for (size_t q = 1; q < in.size(); ++q)
    sum = narrow(widen(sum, type) + widen(in[q][e], type), type);
  if (kind == ReduceKind::Mean)
    sum = narrow(widen(sum, type) * (1.0f / in.size()), type);
  return sum;
}

/// `count` 16-bit values per rank, of many magnitudes and both signs
/// (below 1024, so that no sum of three overflows f16).
std::vector<std::vector<uint16_t>> sixteenBitInputs(int n, int64_t count,
                                                    ValueType type) {
  std::vector<std::vector<uint16_t>> in(n);
  uint32_t state = 12345;
  for (int r = 0; r < n; ++r)
    for (int64_t e = 0; e < count; ++e) {
      state = state * 1664525u + 1013904223u;
      int32_t mantissa = static_cast<int32_t>(state >> 8) - (1 << 23);
      float v = std::ldexp(static_cast<float>(mantissa), -13 - state % 16);
      in[r].push_back(narrow(v, type));
    }
  return in;
}

TEST(LocalCommunicator, SixteenBitAllReduceRoundsOnce) {
  // A bucket of a 16-bit tensor (its own output buffer), the same tensor
  // reduced in place, and an f32 tensor: each gets its type's result.
  const int64_t count = 5000;
  for (int n : {2, 3})
    for (ValueType type : {ValueType::BF16, ValueType::F16})
      for (ReduceKind kind : {ReduceKind::Sum, ReduceKind::Mean}) {
        auto comms = makeLocalGroup(n, 10s);
        std::vector<std::vector<uint16_t>> in =
            sixteenBitInputs(n, count, type);
        // Element 0: 1 plus half an ulp from every other rank. Added in
        // f32 the halves make a whole ulp; rounded after each addition
        // each half is lost (a tie, to even).
        float halfUlp = type == ValueType::BF16 ? 0x1p-8f : 0x1p-11f;
        // Element 1: near f16's largest value. The f32 mean is finite,
        // though the sum rounded to f16 would be infinite.
        for (int r = 0; r < n; ++r) {
          in[r][0] = narrow(r == 0 ? 1.0f : halfUlp, type);
          in[r][1] = narrow(60000.0f, type);
        }
        std::vector<std::vector<uint16_t>> out(n), inPlace = in;
        std::vector<std::vector<float>> f32(n), f32Out(n);
        for (int r = 0; r < n; ++r) {
          out[r].assign(count, 0xffff);
          for (int64_t e = 0; e < 100; ++e)
            f32[r].push_back((r % 2 ? 1e7f : 1.0f) / (1 + e + r));
          f32Out[r].assign(100, -1);
        }
        std::vector<std::string> errors(n);
        onRanks(n, [&](int r) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5 * (n - r)));
          ReduceBuffer b[] = {
              {in[r].data(), out[r].data(), count, type},
              {inPlace[r].data(), inPlace[r].data(), count, type},
              {f32[r].data(), f32Out[r].data(), 100, ValueType::F32}};
          if (llvm::Error e = comms[r]->allReduce(b, kind, "test"))
            errors[r] = llvm::toString(std::move(e));
        });
        // The chosen elements tell rounding once from rounding per step.
        if (n == 3) {
          ASSERT_NE(roundedOnce(in, 0, type, kind),
                    roundedPerStep(in, 0, type, kind));
        }
        if (type == ValueType::F16 && kind == ReduceKind::Mean) {
          ASSERT_NE(roundedOnce(in, 1, type, kind),
                    roundedPerStep(in, 1, type, kind));
        }
        for (int r = 0; r < n; ++r) {
          ASSERT_EQ(errors[r], "");
          for (int64_t e = 0; e < count; ++e) {
            uint16_t expected = roundedOnce(in, e, type, kind);
            ASSERT_EQ(out[r][e], expected)
                << n << " ranks, rank " << r << ", element " << e;
            ASSERT_EQ(inPlace[r][e], expected)
                << n << " ranks, rank " << r << ", element " << e;
          }
          for (int64_t e = 0; e < 100; ++e) {
            float expected = f32[0][e];
            for (int q = 1; q < n; ++q)
              expected += f32[q][e];
            if (kind == ReduceKind::Mean)
              expected *= 1.0f / n;
            ASSERT_EQ(f32Out[r][e], expected) << n << " " << r << " " << e;
          }
        }
      }
}

TEST(LocalCommunicator, SixteenBitAllReduceThroughStaging) {
  // Tensor 0's output is tensor 1's input: every rank reduces the bucket
  // into staging first, and still rounds each result once.
  const int n = 3, count = 64;
  for (ValueType type : {ValueType::BF16, ValueType::F16}) {
    auto comms = makeLocalGroup(n, 10s);
    std::vector<std::vector<uint16_t>> in =
        sixteenBitInputs(n, 2 * count, type);
    std::vector<std::vector<uint16_t>> buffer = in;
    std::vector<std::string> errors(n);
    onRanks(n, [&](int r) {
      ReduceBuffer b[] = {
          {buffer[r].data(), buffer[r].data() + count, count, type},
          {buffer[r].data() + count, buffer[r].data(), count, type}};
      if (llvm::Error e = comms[r]->allReduce(b, ReduceKind::Mean, "staged"))
        errors[r] = llvm::toString(std::move(e));
    });
    for (int r = 0; r < n; ++r) {
      ASSERT_EQ(errors[r], "");
      for (int64_t e = 0; e < count; ++e) {
        EXPECT_EQ(buffer[r][count + e],
                  roundedOnce(in, e, type, ReduceKind::Mean));
        EXPECT_EQ(buffer[r][e],
                  roundedOnce(in, count + e, type, ReduceKind::Mean));
      }
    }
  }
}

TEST(LocalCommunicator, SixteenBitReduceScatterPadsWithZeros) {
  // 7 values do not divide by 2 or 3: the last shard ends in zeros.
  const int64_t count = 7;
  for (int n : {2, 3})
    for (ValueType type : {ValueType::BF16, ValueType::F16})
      for (ReduceKind kind : {ReduceKind::Sum, ReduceKind::Mean}) {
        auto comms = makeLocalGroup(n, 10s);
        std::vector<std::vector<uint16_t>> in =
            sixteenBitInputs(n, count, type);
        const int64_t shard = shardCount(count, n);
        std::vector<std::vector<uint16_t>> out(n);
        std::vector<std::string> errors(n);
        onRanks(n, [&](int r) {
          out[r].assign(shard, 0xffff);
          ShardBuffer b[] = {{in[r].data(), out[r].data(), count, type}};
          if (llvm::Error e = comms[r]->reduceScatter(b, kind, "test"))
            errors[r] = llvm::toString(std::move(e));
        });
        for (int r = 0; r < n; ++r) {
          ASSERT_EQ(errors[r], "");
          for (int64_t e = 0; e < shard; ++e) {
            int64_t element = r * shard + e;
            uint16_t expected =
                element < count ? roundedOnce(in, element, type, kind) : 0;
            EXPECT_EQ(out[r][e], expected)
                << n << " ranks, rank " << r << ", element " << element;
          }
        }
      }
}

TEST(LocalCommunicator, AllGatherCopiesMixedTypesExactly) {
  // One bf16 and one f32 tensor in a bucket; the bit patterns include
  // NaNs that a conversion would change (a signalling f32 NaN, a bf16 NaN
  // with a payload): an all-gather copies bytes.
  const int64_t bf16Count = 5, f32Count = 4;
  for (int n : {2, 3}) {
    auto comms = makeLocalGroup(n, 10s);
    const int64_t bf16Shard = shardCount(bf16Count, n),
                  f32Shard = shardCount(f32Count, n);
    auto bf16Bits = [](int64_t e) {
      return static_cast<uint16_t>(e == 2 ? 0x7f81 : 0x3f80 + 3 * e);
    };
    auto f32Bits = [](int64_t e) {
      return static_cast<uint32_t>(e == 1 ? 0x7f800001u : 0xbf800000u + 7 * e);
    };
    std::vector<std::vector<uint16_t>> bf16In(n), bf16Out(n);
    std::vector<std::vector<uint32_t>> f32In(n), f32Out(n);
    for (int r = 0; r < n; ++r) {
      for (int64_t e = 0; e < bf16Shard; ++e)
        bf16In[r].push_back(bf16Bits(r * bf16Shard + e));
      for (int64_t e = 0; e < f32Shard; ++e)
        f32In[r].push_back(f32Bits(r * f32Shard + e));
      bf16Out[r].assign(bf16Count, 0);
      f32Out[r].assign(f32Count, 0);
    }
    std::vector<std::string> errors(n);
    onRanks(n, [&](int r) {
      ShardBuffer b[] = {
          {bf16In[r].data(), bf16Out[r].data(), bf16Count, ValueType::BF16},
          {f32In[r].data(), f32Out[r].data(), f32Count, ValueType::F32}};
      if (llvm::Error e = comms[r]->allGather(b, "test"))
        errors[r] = llvm::toString(std::move(e));
    });
    for (int r = 0; r < n; ++r) {
      ASSERT_EQ(errors[r], "");
      for (int64_t e = 0; e < bf16Count; ++e)
        EXPECT_EQ(bf16Out[r][e], bf16Bits(e)) << n << " " << r << " " << e;
      for (int64_t e = 0; e < f32Count; ++e)
        EXPECT_EQ(f32Out[r][e], f32Bits(e)) << n << " " << r << " " << e;
    }
  }
}

TEST(LocalCommunicator, ValueTypesMustAgree) {
  // Rank 1 passes f16 where the others pass bf16 (the same sizes): every
  // rank fails, naming the first rank whose buffers differ from its own,
  // instead of adding mismatched bits.
  const int n = 3;
  auto comms = makeLocalGroup(n, 10s);
  std::vector<std::string> errors(n);
  onRanks(n, [&](int r) {
    uint16_t x[4] = {}, y[4] = {};
    ValueType type = r == 1 ? ValueType::F16 : ValueType::BF16;
    ReduceBuffer b[] = {{x, y, 4, type}};
    if (llvm::Error e = comms[r]->allReduce(b, ReduceKind::Sum, "bucket 3"))
      errors[r] = llvm::toString(std::move(e));
  });
  for (int r = 0; r < n; ++r)
    EXPECT_NE(errors[r].find("bucket 3 on rank " + std::to_string(r) +
                             ": rank " + (r == 1 ? "0" : "1") +
                             " passes buffers of other sizes or types (the "
                             "ranks run different programs)"),
              std::string::npos)
        << errors[r];
}

TEST(LocalCommunicator, PayloadCountsValueBytes) {
  // 2 bytes per 16-bit value, 4 per f32 value, of the whole tensors.
  const int n = 2;
  auto comms = makeLocalGroup(n, 10s);
  onRanks(n, [&](int r) {
    uint16_t h[8] = {}, hOut[8];
    float f[3] = {}, fOut[3];
    ReduceBuffer reduce[] = {{h, hOut, 5, ValueType::BF16},
                             {f, fOut, 3, ValueType::F32}};
    llvm::cantFail(comms[r]->allReduce(reduce, ReduceKind::Sum, "a"));
    ShardBuffer scatter[] = {{h, hOut, 7, ValueType::F16}};
    llvm::cantFail(comms[r]->reduceScatter(scatter, ReduceKind::Mean, "b"));
    ShardBuffer gather[] = {{h, hOut, 4, ValueType::BF16}};
    llvm::cantFail(comms[r]->allGather(gather, "c"));
  });
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(comms[r]->completed(), 3u);
    EXPECT_EQ(comms[r]->payloadBytes(),
              uint64_t{(5 * 2 + 3 * 4) + 7 * 2 + 4 * 2});
  }
}

} // namespace
