//===- HalfFloatTest.cpp - bf16/fp16 conversions against c10 --------------===//
//
// accel's 16-bit float conversions (cpu/HalfFloat.h) must give exactly the
// bits of c10::BFloat16 and c10::Half, which ATen's kernels round through:
// every 16-bit pattern back to float, and to 16 bits every float whose
// discarded bits sit at or around a rounding tie, across all exponents,
// plus random floats, infinities and NaNs.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/HalfFloat.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace accel::rt::cpu;

namespace {

uint16_t c10Bits(c10::BFloat16 v) { return v.x; }
uint16_t c10Bits(c10::Half v) { return v.x; }

TEST(HalfFloat, EveryPatternWidensExactly) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    float mine = bf16ToFloat(bits), theirs = c10::BFloat16(bits, c10::BFloat16::from_bits());
    if (std::isnan(theirs))
      EXPECT_TRUE(std::isnan(mine)) << bits;
    else
      EXPECT_EQ(floatBits(mine), floatBits(theirs)) << "bf16 " << bits;
    float half = f16ToFloat(bits), c10half = c10::Half(bits, c10::Half::from_bits());
    if (std::isnan(c10half))
      EXPECT_TRUE(std::isnan(half)) << bits;
    else
      EXPECT_EQ(floatBits(half), floatBits(c10half)) << "f16 " << bits;
  }
}

/// Checks one float against both c10 conversions; counts mismatches.
int mismatches(float f) {
  int bad = 0;
  if (std::isnan(f)) {
    bad += !std::isnan(bf16ToFloat(floatToBf16(f)));
    bad += !std::isnan(f16ToFloat(floatToF16(f)));
    return bad;
  }
  bad += floatToBf16(f) != c10Bits(c10::BFloat16(f));
  bad += floatToF16(f) != c10Bits(c10::Half(f));
  return bad;
}

TEST(HalfFloat, RoundsTiesToEvenLikeC10) {
  // bf16 drops 16 bits, fp16 13 (more for subnormals): values exactly at,
  // just below and just above each tie, for every sign and exponent.
  const uint32_t lowBf16[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff};
  const uint32_t lowF16[] = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff};
  int bad = 0;
  for (uint32_t high = 0; high <= 0xffff; ++high)
    for (uint32_t low : lowBf16)
      bad += mismatches(bitsFloat((high << 16) | low));
  for (uint32_t high = 0; high < (1u << 19); ++high)
    for (uint32_t low : lowF16)
      bad += mismatches(bitsFloat((high << 13) | low));
  EXPECT_EQ(bad, 0);
}

TEST(HalfFloat, RandomFloatsAndSpecialValues) {
  std::mt19937 gen(7);
  int bad = 0;
  for (int i = 0; i < 2000000; ++i)
    bad += mismatches(bitsFloat(static_cast<uint32_t>(gen())));
  for (float f : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 65504.0f, 65519.0f,
                  65520.0f, 3.4e38f, 1e-8f, 5.96e-8f, 2.98e-8f, -6.1e-5f})
    bad += mismatches(f);
  EXPECT_EQ(bad, 0);
  // The overflow edges the formats define.
  EXPECT_EQ(floatToF16(65519.0f), 0x7bff);
  EXPECT_EQ(floatToF16(65520.0f), 0x7c00);
  EXPECT_EQ(floatToBf16(3.4e38f), 0x7f80);
}

} // namespace
