//===- ArenaPlannerTest.cpp - arena offsets from live ranges --------------===//

#include "compiler/planning/ArenaPlanner.h"

#include <gtest/gtest.h>

#include <random>

using accel::planning::ArenaPlan;
using accel::planning::BufferRequest;
using accel::planning::planArena;

namespace {

/// No two buffers that are alive at the same time share a byte.
void expectNoConflicts(const std::vector<BufferRequest> &r, const ArenaPlan &p,
                       uint64_t alignment) {
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % alignment, 0u);
    EXPECT_LE(p.offsets[i] + r[i].bytes, p.arenaBytes);
    for (size_t j = i + 1; j < r.size(); ++j) {
      bool liveTogether = r[i].firstUse <= r[j].lastUse && r[j].firstUse <= r[i].lastUse;
      bool overlap = p.offsets[i] < p.offsets[j] + r[j].bytes &&
                     p.offsets[j] < p.offsets[i] + r[i].bytes;
      EXPECT_FALSE(liveTogether && overlap) << i << " and " << j;
    }
  }
}

TEST(ArenaPlanner, ReusesBytesOfDeadBuffers) {
  // A chain a -> b -> c: a and c never live together, so c reuses a.
  std::vector<BufferRequest> chain = {{1024, 0, 1}, {1024, 1, 2}, {1024, 2, 3}};
  ArenaPlan plan = planArena(chain);
  expectNoConflicts(chain, plan, 64);
  EXPECT_EQ(plan.arenaBytes, 2048u);
  EXPECT_EQ(plan.liveLowerBound, 2048u);
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
}

TEST(ArenaPlanner, AlignsEveryBuffer) {
  std::vector<BufferRequest> r = {{10, 0, 5}, {3, 1, 5}, {100, 2, 5}};
  ArenaPlan plan = planArena(r, 64);
  expectNoConflicts(r, plan, 64);
  EXPECT_EQ(plan.arenaBytes, 64u + 64u + 128u);
}

TEST(ArenaPlanner, RandomGraphsStayCloseToTheLowerBound) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferRequest> r;
    for (int i = 0; i < 60; ++i) {
      int64_t first = rng() % 100;
      r.push_back({static_cast<uint64_t>(64 * (1 + rng() % 64)), first,
                   first + static_cast<int64_t>(rng() % 20)});
    }
    ArenaPlan plan = planArena(r);
    expectNoConflicts(r, plan, 64);
    EXPECT_GE(plan.arenaBytes, plan.liveLowerBound);
    // Greedy-by-size is near optimal on such graphs; far beyond would mean
    // reuse is broken.
    EXPECT_LE(plan.arenaBytes, plan.liveLowerBound * 3 / 2) << trial;
  }
}

} // namespace
