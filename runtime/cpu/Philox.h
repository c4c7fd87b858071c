//===- Philox.h - the counter-based generator behind dropout ----*- C++ -*-===//
//
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
// easy as 1, 2, 3", SC'11): a keyed bijection of a 128-bit counter. A
// dropout mask is a pure function of (seed, stream, element index), so the
// backward pass recomputes the forward's mask instead of storing it, any
// thread can produce any element, and a resumed run draws the same masks.
//
// accel's dropout mask, which every driver must reproduce exactly:
//   key     = (seed & 0xffffffff, seed >> 32)
//   counter = (block & 0xffffffff, block >> 32, stream & 0xffffffff,
//              stream >> 32) with block = index / 4
//   u       = (philox(counter, key)[index % 4] >> 8) * 2^-24, in [0, 1)
//   element `index` is kept iff u >= p.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_PHILOX_H
#define ACCEL_RUNTIME_CPU_PHILOX_H

#include <array>
#include <cstdint>

namespace accel::rt::cpu {

inline std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter,
                                          std::array<uint32_t, 2> key) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(kMul0) * counter[0];
    uint64_t p1 = static_cast<uint64_t>(kMul1) * counter[2];
    counter = {static_cast<uint32_t>(p1 >> 32) ^ counter[1] ^ key[0],
               static_cast<uint32_t>(p1),
               static_cast<uint32_t>(p0 >> 32) ^ counter[3] ^ key[1],
               static_cast<uint32_t>(p0)};
    key[0] += kWeyl0;
    key[1] += kWeyl1;
  }
  return counter;
}

/// The four uniforms in [0, 1) of dropout block `block` (elements 4*block
/// to 4*block+3).
inline std::array<float, 4> dropoutUniforms(uint64_t seed, uint64_t stream,
                                            uint64_t block) {
  std::array<uint32_t, 4> bits = philox4x32(
      {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
       static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)},
      {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
  std::array<float, 4> u;
  for (int i = 0; i < 4; ++i)
    u[i] = static_cast<float>(bits[i] >> 8) * (1.0f / 16777216.0f);
  return u;
}

/// Blocks per dropoutUniformsBatch call.
constexpr int kPhiloxBatch = 16;

/// Whether this CPU has what dropoutUniformsBatch needs (AVX2).
bool philoxBatchAvailable();

/// dropoutUniforms of kPhiloxBatch consecutive blocks at once, one per
/// 32-bit lane of two AVX2 registers (PhiloxBatch.cpp): u[4 * j + i] is
/// dropoutUniforms(seed, stream, firstBlock + j)[i], bit for bit. Only when
/// philoxBatchAvailable().
void dropoutUniformsBatch(uint64_t seed, uint64_t stream, uint64_t firstBlock,
                          float u[4 * kPhiloxBatch]);

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_PHILOX_H
