//===- PhiloxBatch.cpp - sixteen Philox4x32-10 blocks at once -------------===//
//
// Philox's rounds on sixteen counters side by side in AVX2 registers. Its
// 32 x 32 -> 64-bit products are _mm256_mul_epu32, which multiplies the
// even 32-bit lanes; the odd lanes go through a second product after a
// shift, and the halves are blended back into lanes. The integer
// arithmetic is Philox.h's exactly, so the masks are the same bits
// (SequenceKernelsTest compares every lane with philox4x32).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Philox.h"

#include <immintrin.h>

namespace accel::rt::cpu {
namespace {

const bool kAvx2 = __builtin_cpu_supports("avx2");

/// The high and low 32 bits of m * c in every lane.
__attribute__((target("avx2"))) inline void
mulHiLo(__m256i c, __m256i m, __m256i &hi, __m256i &lo) {
  __m256i even = _mm256_mul_epu32(c, m);
  __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);
  // even: lane 2k's product in 64-bit lane k (low half, high half);
  // odd: lane 2k+1's.
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

} // namespace

bool philoxBatchAvailable() { return kAvx2; }

// Two groups of eight counters, interleaved: each round's products are a
// chain of dependent instructions, and two independent chains keep the
// multiplier busy.
__attribute__((target("avx2"))) void
dropoutUniformsBatch(uint64_t seed, uint64_t stream, uint64_t firstBlock,
                     float u[4 * kPhiloxBatch]) {
  constexpr int kGroups = kPhiloxBatch / 8;
  alignas(32) uint32_t lo[kPhiloxBatch], hi[kPhiloxBatch];
  for (int j = 0; j < kPhiloxBatch; ++j) {
    uint64_t block = firstBlock + static_cast<uint64_t>(j);
    lo[j] = static_cast<uint32_t>(block);
    hi[j] = static_cast<uint32_t>(block >> 32);
  }
  __m256i c0[kGroups], c1[kGroups], c2[kGroups], c3[kGroups];
  for (int g = 0; g < kGroups; ++g) {
    c0[g] = _mm256_load_si256(reinterpret_cast<const __m256i *>(lo + 8 * g));
    c1[g] = _mm256_load_si256(reinterpret_cast<const __m256i *>(hi + 8 * g));
    c2[g] = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(stream)));
    c3[g] = _mm256_set1_epi32(
        static_cast<int>(static_cast<uint32_t>(stream >> 32)));
  }
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(0xCD9E8D57u));
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0));
    __m256i key1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int g = 0; g < kGroups; ++g) {
      __m256i hi0, lo0, hi1, lo1;
      mulHiLo(c0[g], m0, hi0, lo0);
      mulHiLo(c2[g], m1, hi1, lo1);
      c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[g]), key0);
      c1[g] = lo1;
      c2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[g]), key1);
      c3[g] = lo0;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  // (bits >> 8) * 2^-24: below 2^24, so the signed conversion is exact.
  const __m256 scale = _mm256_set1_ps(1.0f / 16777216.0f);
  alignas(32) float w[4][kPhiloxBatch];
  for (int g = 0; g < kGroups; ++g) {
    __m256i words[4] = {c0[g], c1[g], c2[g], c3[g]};
    for (int i = 0; i < 4; ++i)
      _mm256_store_ps(w[i] + 8 * g,
                      _mm256_mul_ps(_mm256_cvtepi32_ps(
                                        _mm256_srli_epi32(words[i], 8)),
                                    scale));
  }
  for (int j = 0; j < kPhiloxBatch; ++j)
    for (int i = 0; i < 4; ++i)
      u[4 * j + i] = w[i][j];
}

} // namespace accel::rt::cpu
