//===- ArenaPlanner.cpp - static offsets for step-local buffers -----------===//

#include "compiler/planning/ArenaPlanner.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace accel::planning {

static uint64_t alignUp(uint64_t v, uint64_t alignment) {
  return (v + alignment - 1) & ~(alignment - 1);
}

ArenaPlan planArena(const std::vector<BufferRequest> &requests,
                    uint64_t alignment) {
  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);

  // Largest first; ties by earlier definition for a deterministic plan.
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes)
      return requests[a].bytes > requests[b].bytes;
    return requests[a].firstUse < requests[b].firstUse;
  });

  std::vector<size_t> placed;
  for (size_t r : order) {
    const BufferRequest &req = requests[r];
    uint64_t size = alignUp(std::max<uint64_t>(req.bytes, 1), alignment);
    // The placed buffers alive at the same time, by offset.
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    for (size_t p : placed) {
      const BufferRequest &other = requests[p];
      if (other.firstUse <= req.lastUse && req.firstUse <= other.lastUse)
        busy.push_back({plan.offsets[p],
                        plan.offsets[p] +
                            alignUp(std::max<uint64_t>(other.bytes, 1), alignment)});
    }
    std::sort(busy.begin(), busy.end());
    // The lowest gap that fits.
    uint64_t offset = 0;
    for (auto [begin, end] : busy) {
      if (begin >= offset + size)
        break;
      offset = std::max(offset, end);
    }
    plan.offsets[r] = offset;
    plan.arenaBytes = std::max(plan.arenaBytes, offset + size);
    placed.push_back(r);
  }

  // Bytes live at each position, for the lower bound.
  std::map<int64_t, int64_t> delta;
  for (const BufferRequest &req : requests) {
    int64_t size = static_cast<int64_t>(alignUp(std::max<uint64_t>(req.bytes, 1), alignment));
    delta[req.firstUse] += size;
    delta[req.lastUse + 1] -= size;
  }
  int64_t live = 0;
  for (auto [position, change] : delta) {
    live += change;
    plan.liveLowerBound = std::max(plan.liveLowerBound, static_cast<uint64_t>(live));
  }
  return plan;
}

} // namespace accel::planning
