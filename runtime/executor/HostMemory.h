//===- HostMemory.h - aligned host allocations ------------------*- C++ -*-===//

#ifndef ACCEL_RUNTIME_EXECUTOR_HOSTMEMORY_H
#define ACCEL_RUNTIME_EXECUTOR_HOSTMEMORY_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <unistd.h>

namespace accel::rt {

/// Zero-initialised bytes aligned to a cache line (64 bytes), the alignment
/// the memory planner gives every arena offset, so planned buffers start on
/// cache lines and vector loads never straddle one.
class HostMemory {
public:
  static constexpr size_t kAlignment = 64;

  explicit HostMemory(size_t bytes = 0)
      : bytes(bytes),
        storage(static_cast<uint8_t *>(std::aligned_alloc(
                    kAlignment, roundUp(std::max<size_t>(bytes, 1)))),
                &std::free) {
    if (!storage)
      throw std::bad_alloc();
    std::memset(storage.get(), 0, roundUp(std::max<size_t>(bytes, 1)));
  }

  uint8_t *data() { return storage.get(); }
  const uint8_t *data() const { return storage.get(); }
  size_t size() const { return bytes; }

private:
  static size_t roundUp(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }
  size_t bytes;
  std::unique_ptr<uint8_t, void (*)(void *)> storage;
};

/// The machine's memory and the part of it free now, in bytes (what a host
/// driver reports as its device's memory); false when unknown.
inline bool machineMemory(uint64_t &total, uint64_t &available) {
  long pages = sysconf(_SC_PHYS_PAGES), free = sysconf(_SC_AVPHYS_PAGES),
       size = sysconf(_SC_PAGESIZE);
  if (pages < 0 || free < 0 || size < 0)
    return false;
  total = uint64_t(pages) * uint64_t(size);
  available = uint64_t(free) * uint64_t(size);
  return true;
}

} // namespace accel::rt

#endif // ACCEL_RUNTIME_EXECUTOR_HOSTMEMORY_H
