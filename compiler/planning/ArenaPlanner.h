//===- ArenaPlanner.h - static offsets for step-local buffers ---*- C++ -*-===//
//
// Every intermediate buffer of a training step gets an offset in one arena
// whose size is fixed at compile time. Two buffers may share bytes when
// their live ranges (first definition to last use, in execution order) do
// not overlap. Placement is greedy, largest first, each at the lowest
// aligned offset that does not collide with an already placed buffer whose
// live range overlaps — the strategy of TensorFlow Lite's arena planner,
// which packs activation-heavy graphs close to their liveness lower bound.
//
// Plain C++ over sizes and intervals, so it can be tested on its own.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_PLANNING_ARENAPLANNER_H
#define ACCEL_COMPILER_PLANNING_ARENAPLANNER_H

#include <cstdint>
#include <vector>

namespace accel::planning {

struct BufferRequest {
  uint64_t bytes;
  int64_t firstUse; // position of the op that defines it
  int64_t lastUse;  // position of its last reader (>= firstUse)
};

struct ArenaPlan {
  std::vector<uint64_t> offsets; // one per request, in request order
  uint64_t arenaBytes = 0;
  /// The most bytes live at any one position: no plan can be smaller.
  uint64_t liveLowerBound = 0;
};

/// Offsets aligned to `alignment` (a power of two) for every request.
ArenaPlan planArena(const std::vector<BufferRequest> &requests,
                    uint64_t alignment = 64);

} // namespace accel::planning

#endif // ACCEL_COMPILER_PLANNING_ARENAPLANNER_H
