//===- Float8Test.cpp - FP8 conversions against LLVM's APFloat ------------===//
//
// Every one of the 2^32 float bit patterns is converted to E4M3FN and E5M2
// by accel (cpu/Float8.h) and compared with LLVM's APFloat (round to
// nearest even) followed by the overflow rule PyTorch applies on the CPU
// (E4M3FN: every overflow and infinity saturates to +-448; E5M2: overflow
// to infinity). APFloat is exact but slow, so the reference is a table
// made with it: the conversion drops at least the low 16 bits of a float's
// mantissa into the sticky bit, so within one upper half of the bits the
// result depends on the lower half only through "is it zero" — two APFloat
// calls per upper half cover all 2^32 inputs. Widening back to float is
// checked for all 256 codes of each format, and TransformerEngine's
// satfinite mode on its boundaries.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Float8.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

using namespace accel::rt::cpu;

namespace {

/// APFloat's conversion of `bits` to `semantics`, nearest even, then
/// PyTorch's overflow rule for formats without infinity (saturate).
uint8_t reference(uint32_t bits, const llvm::fltSemantics &semantics,
                  bool saturateOverflow) {
  float f = bitsFloat(bits);
  llvm::APFloat value(f);
  bool lost;
  llvm::APFloat::opStatus status =
      value.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &lost);
  uint8_t code = static_cast<uint8_t>(value.bitcastToAPInt().getZExtValue());
  bool overflowed = (status & llvm::APFloat::opOverflow) || std::isinf(f);
  if (saturateOverflow && overflowed && !std::isnan(f)) {
    llvm::APFloat largest = llvm::APFloat::getLargest(semantics, std::signbit(f));
    code = static_cast<uint8_t>(largest.bitcastToAPInt().getZExtValue());
  }
  return code;
}

/// table[high * 2 + (low != 0)]: the reference for every float whose upper
/// 16 bits are `high`.
std::vector<uint8_t> referenceTable(const llvm::fltSemantics &semantics,
                                    bool saturateOverflow) {
  std::vector<uint8_t> table(1u << 17);
  for (uint32_t high = 0; high < (1u << 16); ++high) {
    table[high * 2] = reference(high << 16, semantics, saturateOverflow);
    table[high * 2 + 1] = reference((high << 16) | 1u, semantics, saturateOverflow);
  }
  return table;
}

bool sameCode(uint8_t mine, uint8_t theirs, bool e4m3) {
  // NaN payloads are not part of the contract: any NaN code matches.
  auto isNaN = [e4m3](uint8_t c) {
    return e4m3 ? (c & 0x7f) == 0x7f : (c & 0x7c) == 0x7c && (c & 0x03) != 0;
  };
  return mine == theirs || (isNaN(mine) && isNaN(theirs));
}

/// Converts all 2^32 floats on every core; returns the mismatches and
/// keeps the first one in `firstBad`.
template <typename Convert>
uint64_t exhaustiveMismatches(const std::vector<uint8_t> &table, bool e4m3,
                              Convert convert, uint32_t &firstBad) {
  unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<uint64_t> bad{0};
  std::atomic<uint32_t> first{0xffffffffu};
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      uint64_t local = 0;
      for (uint64_t high = w; high < (1u << 16); high += workers)
        for (uint32_t low = 0; low < (1u << 16); ++low) {
          uint32_t bits = static_cast<uint32_t>(high << 16) | low;
          uint8_t expected = table[high * 2 + (low != 0)];
          if (!sameCode(convert(bitsFloat(bits)), expected, e4m3)) {
            ++local;
            uint32_t seen = first.load();
            while (bits < seen && !first.compare_exchange_weak(seen, bits)) {
            }
          }
        }
      bad += local;
    });
  for (std::thread &t : threads)
    t.join();
  firstBad = first;
  return bad;
}

TEST(Float8, E4M3FNMatchesAPFloatOnAllFloats) {
  std::vector<uint8_t> table =
      referenceTable(llvm::APFloat::Float8E4M3FN(), /*saturateOverflow=*/true);
  uint32_t firstBad;
  uint64_t bad = exhaustiveMismatches(
      table, true, [](float f) { return floatToE4M3(f); }, firstBad);
  EXPECT_EQ(bad, 0u) << "first mismatch at float bits 0x" << std::hex << firstBad;
}

TEST(Float8, E5M2MatchesAPFloatOnAllFloats) {
  std::vector<uint8_t> table =
      referenceTable(llvm::APFloat::Float8E5M2(), /*saturateOverflow=*/false);
  uint32_t firstBad;
  uint64_t bad = exhaustiveMismatches(
      table, false, [](float f) { return floatToE5M2(f); }, firstBad);
  EXPECT_EQ(bad, 0u) << "first mismatch at float bits 0x" << std::hex << firstBad;
}

TEST(Float8, EveryCodeWidensExactly) {
  for (uint32_t c = 0; c < 256; ++c) {
    for (bool e4m3 : {true, false}) {
      llvm::APInt bits(8, c);
      llvm::APFloat value(e4m3 ? llvm::APFloat::Float8E4M3FN()
                               : llvm::APFloat::Float8E5M2(),
                          bits);
      float mine = e4m3 ? e4m3ToFloat(c) : e5m2ToFloat(c);
      if (value.isNaN()) {
        EXPECT_TRUE(std::isnan(mine)) << c << " " << e4m3;
        continue;
      }
      bool lost;
      value.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
                    &lost);
      EXPECT_FALSE(lost);
      EXPECT_EQ(floatBits(mine), floatBits(value.convertToFloat()))
          << c << " " << e4m3;
    }
  }
}

TEST(Float8, MeasuredTorchBoundaries) {
  // torch 2.15, CPU: x.to(torch.float8_e4m3fn) / x.to(torch.float8_e5m2).
  EXPECT_EQ(e4m3ToFloat(floatToE4M3(464.0f)), 448.0f);
  EXPECT_EQ(e4m3ToFloat(floatToE4M3(465.0f)), 448.0f);
  EXPECT_EQ(e4m3ToFloat(floatToE4M3(500.0f)), 448.0f);
  EXPECT_EQ(e4m3ToFloat(floatToE4M3(1e6f)), 448.0f);
  EXPECT_EQ(e4m3ToFloat(floatToE4M3(INFINITY)), 448.0f);
  EXPECT_EQ(e4m3ToFloat(floatToE4M3(-INFINITY)), -448.0f);
  EXPECT_TRUE(std::isnan(e4m3ToFloat(floatToE4M3(NAN))));
  EXPECT_EQ(e5m2ToFloat(floatToE5M2(61439.0f)), 57344.0f);
  EXPECT_TRUE(std::isinf(e5m2ToFloat(floatToE5M2(61440.0f))));
  EXPECT_TRUE(std::isinf(e5m2ToFloat(floatToE5M2(1e6f))));
  EXPECT_TRUE(std::isnan(e5m2ToFloat(floatToE5M2(NAN))));
}

TEST(Float8, SatFinite) {
  // TransformerEngine's satfinite: out of range and infinite saturate.
  auto sat = Float8Overflow::SatFinite;
  EXPECT_EQ(e5m2ToFloat(floatToE5M2(61440.0f, sat)), 57344.0f);
  EXPECT_EQ(e5m2ToFloat(floatToE5M2(-INFINITY, sat)), -57344.0f);
  EXPECT_EQ(e5m2ToFloat(floatToE5M2(60000.0f, sat)), 57344.0f);
  EXPECT_TRUE(std::isnan(e5m2ToFloat(floatToE5M2(NAN, sat))));
  EXPECT_EQ(e4m3ToFloat(floatToE4M3(1e9f, sat)), 448.0f);
}

} // namespace
