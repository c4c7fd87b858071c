//===- Float8KernelsTest.cpp - FP8 quantisation and scaled GEMM kernels ---===//
//
// The scale rule and its edge cases as docs/fp8-recipes.md records them
// from torchao (amax 0, infinity and NaN; the f32 log2 rounding of
// power-of-two scales), the scaled GEMM's dequantise-then-multiply, and
// delayed scaling's update rule (TransformerEngine's DelayedScaling).
// Whole training steps are compared with torchao in
// tests/lit/precision/fp8-*-parity.test.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Float8.h"
#include "runtime/cpu/Float8Kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace accel::rt::cpu;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

TEST(Fp8Scale, IsTheCorrectlyRoundedQuotient) {
  // f32(448 / 3) and f32(57344 / 1000), computed through f64.
  EXPECT_EQ(fp8Scale(3.0f, 448.0f, false), static_cast<float>(448.0 / 3.0));
  EXPECT_EQ(fp8Scale(1000.0f, 57344.0f, false), 57.344f);
  EXPECT_EQ(fp8Scale(448.0f, 448.0f, false), 1.0f);
}

TEST(Fp8Scale, ZeroAmaxUsesTheEpsilon) {
  // 448 / 1e-12 and 57344 / 1e-12 (torchao's EPS), as f32 bits.
  EXPECT_EQ(floatBits(fp8Scale(0.0f, 448.0f, false)), 0x57cbba10u);
  EXPECT_EQ(floatBits(fp8Scale(0.0f, 57344.0f, false)), 0x5b4bba10u);
  EXPECT_EQ(fp8Scale(0.0f, 448.0f, true), std::ldexp(1.0f, 48));
  EXPECT_EQ(fp8Scale(0.0f, 57344.0f, true), std::ldexp(1.0f, 55));
}

TEST(Fp8Scale, InfinityAndNaN) {
  EXPECT_EQ(fp8Scale(kInf, 448.0f, false), 0.0f);
  EXPECT_EQ(fp8Scale(kInf, 448.0f, true), 0.0f);
  EXPECT_TRUE(std::isnan(fp8Scale(kNaN, 448.0f, false)));
  EXPECT_TRUE(std::isnan(fp8Scale(kNaN, 448.0f, true)));
}

TEST(RoundScaleToPow2, FloorsAwayFromPowersOfTwo) {
  EXPECT_EQ(roundScaleToPow2(1.0f), 1.0f);
  EXPECT_EQ(roundScaleToPow2(1.9f), 1.0f);
  EXPECT_EQ(roundScaleToPow2(255.0f), 128.0f);
  EXPECT_EQ(roundScaleToPow2(0.3f), 0.25f);
  EXPECT_EQ(roundScaleToPow2(0.0f), 0.0f);
}

TEST(RoundScaleToPow2, RoundsUpJustBelowAPowerOfTwo) {
  // A row with amax 1.75 + 2^-23 gets scale 2^8, not 2^7: f32 log2 of
  // 255.99999 rounds to 8.
  float scale = fp8Scale(1.75f + std::ldexp(1.0f, -23), 448.0f, false);
  ASSERT_LT(scale, 256.0f);
  EXPECT_EQ(roundScaleToPow2(scale), 256.0f);
  // The threshold grows with the exponent (docs/fp8-recipes.md's table,
  // checked against torch's log2 on every scale near a power of two): for
  // 2^e x 1.m with e = 7 the mantissa field must reach 0x7ffffe, with
  // e = 8 0x7ffffb.
  EXPECT_EQ(roundScaleToPow2(bitsFloat((134u << 23) | 0x7ffffe)), 256.0f);
  EXPECT_EQ(roundScaleToPow2(bitsFloat((134u << 23) | 0x7ffffd)), 128.0f);
  EXPECT_EQ(roundScaleToPow2(bitsFloat((135u << 23) | 0x7ffffb)), 512.0f);
  EXPECT_EQ(roundScaleToPow2(bitsFloat((135u << 23) | 0x7ffffa)), 256.0f);
  // e = -3 and e = 2: 0x7fffff only; e = 1 and e = -2: never.
  EXPECT_EQ(roundScaleToPow2(bitsFloat((124u << 23) | 0x7fffff)), 0.25f);
  EXPECT_EQ(roundScaleToPow2(bitsFloat((129u << 23) | 0x7fffff)), 8.0f);
  EXPECT_EQ(roundScaleToPow2(bitsFloat((128u << 23) | 0x7fffff)), 2.0f);
  EXPECT_EQ(roundScaleToPow2(bitsFloat((125u << 23) | 0x7fffff)), 0.25f);
  // e = 100: from 0x7fffd4.
  EXPECT_EQ(roundScaleToPow2(bitsFloat((227u << 23) | 0x7fffd4)),
            std::ldexp(1.0f, 101));
  EXPECT_EQ(roundScaleToPow2(bitsFloat((227u << 23) | 0x7fffd3)),
            std::ldexp(1.0f, 100));
}

TEST(Fp8Quantize, RowwiseGroupsAreIndependent) {
  ThreadPool pool(2);
  // Rows: ordinary, zeros, an infinity, a NaN, a huge value.
  std::vector<float> x = {1.0f, -2.0f, 0.5f,  0.0f, 0.0f, 0.0f,
                          kInf, 1.0f,  -1.0f, kNaN, 1.0f, 2.0f,
                          1e30f, 1.0f, 0.0f};
  std::vector<float> scaled(x.size()), scale(5);
  fp8Quantize(pool, x.data(), 5, 3, Fp8Grouping::Row, /*pow2=*/false, 448.0f,
              scaled.data(), scale.data());
  EXPECT_EQ(scale[0], 224.0f);
  EXPECT_EQ(scaled[0], 224.0f);
  EXPECT_EQ(scaled[1], -448.0f);
  EXPECT_EQ(scaled[3], 0.0f); // zeros stay zero under the epsilon scale
  // amax infinity: scale 0, x * 0 is 0 or NaN.
  EXPECT_EQ(scale[2], 0.0f);
  EXPECT_TRUE(std::isnan(scaled[6]));
  EXPECT_EQ(scaled[7], 0.0f);
  // A NaN makes the row's scale NaN and every element NaN.
  EXPECT_TRUE(std::isnan(scale[3]));
  EXPECT_TRUE(std::isnan(scaled[10]));
  EXPECT_EQ(scaled[12], 448.0f);
  // Rounded as the executor stores them: saturated E4M3FN codes.
  EXPECT_EQ(floatToE4M3(scaled[1]), 0xfe);
}

TEST(Fp8Quantize, TensorwiseClampsBeforeRounding) {
  ThreadPool pool(2);
  std::vector<float> x = {57344.0f, -1.0f, 3.0f, 0.001f};
  std::vector<float> scaled(4), scale(1);
  fp8Quantize(pool, x.data(), 2, 2, Fp8Grouping::Tensor, /*pow2=*/false,
              57344.0f, scaled.data(), scale.data());
  EXPECT_EQ(scale[0], 1.0f);
  EXPECT_EQ(scaled[0], 57344.0f);
  EXPECT_EQ(floatToE5M2(scaled[0]), 0x7b); // largest finite, not infinity
  EXPECT_EQ(scaled[3], 0.001f);
}

TEST(ScaledMatmul, DividesByTheScalesThenMultiplies) {
  ThreadPool pool(2);
  // a [2, 3] with per-row scales, b [2, 3] with one scale.
  std::vector<float> a = {3.0f, 6.0f, 9.0f, 1.0f, 2.0f, 4.0f};
  std::vector<float> as = {3.0f, 0.5f};
  std::vector<float> b = {10.0f, 0.0f, -10.0f, 1.0f, 1.0f, 1.0f};
  float bs = 10.0f;
  std::vector<float> out(4), scratch(12);
  scaledMatmul(pool, a.data(), as.data(), Fp8Grouping::Row, b.data(), &bs,
               Fp8Grouping::Tensor, 2, 2, 3, out.data(), scratch.data());
  // a / as = [[1, 2, 3], [2, 4, 8]]; b / bs = [[1, 0, -1], [.1, .1, .1]].
  EXPECT_FLOAT_EQ(out[0], -2.0f);
  EXPECT_FLOAT_EQ(out[1], 0.6f);
  EXPECT_FLOAT_EQ(out[2], -6.0f);
  EXPECT_FLOAT_EQ(out[3], 1.4f);
  // The dequantised operands are quotients, as torchao divides: 1 / 3 is
  // not 1 * f32(1 / 3) in general.
  std::vector<float> one = {1.0f}, three = {3.0f}, unit = {1.0f};
  float r;
  scaledMatmul(pool, one.data(), three.data(), Fp8Grouping::Tensor,
               unit.data(), unit.data(), Fp8Grouping::Tensor, 1, 1, 1, &r,
               scratch.data());
  EXPECT_EQ(r, 1.0f / 3.0f);
}

TEST(E8M0, CodesArePowersOfTwo) {
  EXPECT_EQ(e8m0ToFloat(127), 1.0f);
  EXPECT_EQ(e8m0ToFloat(0), std::ldexp(1.0f, -127));
  EXPECT_EQ(e8m0ToFloat(254), std::ldexp(1.0f, 127));
  EXPECT_TRUE(std::isnan(e8m0ToFloat(0xff)));
  for (int c = 0; c < 255; ++c)
    EXPECT_EQ(floatToE8M0(e8m0ToFloat(static_cast<uint8_t>(c))), c);
  EXPECT_EQ(floatToE8M0(kNaN), 0xff);
}

/// One MX block of 32 elements, E4M3FN: the scale X and the element codes.
struct MxBlock {
  float scale;
  std::vector<uint8_t> codes;
};
MxBlock quantizeBlock(std::vector<float> block) {
  block.resize(kMxBlock, 0.0f);
  ThreadPool pool(1);
  std::vector<float> scaled(kMxBlock);
  float scale;
  fp8Quantize(pool, block.data(), 1, kMxBlock, Fp8Grouping::MxBlock, false,
              448.0f, scaled.data(), &scale);
  MxBlock out{scale, {}};
  for (float v : scaled)
    out.codes.push_back(floatToE4M3(v));
  return out;
}

// OCP Microscaling v1.0, 6.3: X = 2^(floor(log2(max |V|)) - emax_elem),
// emax_elem = 8 for E4M3; P_i = V_i / X rounded, normal overflow clamped.
TEST(MxQuantize, ScaleIsTheLargestPowerOfTwoBelowAmaxOver256) {
  MxBlock b = quantizeBlock({1.0f, -0.5f, 0.75f});
  EXPECT_EQ(b.scale, std::ldexp(1.0f, -8));
  EXPECT_EQ(b.codes[0], 0x78); // 256 = 1.0 x 2^8
  EXPECT_EQ(b.codes[1], 0xf0); // -128
  EXPECT_EQ(b.codes[2], 0x74); // 192 = 1.5 x 2^7
  // amax 448: X = 1, the block is exact.
  b = quantizeBlock({448.0f, 0.015625f});
  EXPECT_EQ(b.scale, 1.0f);
  EXPECT_EQ(b.codes[0], 0x7e);
  EXPECT_EQ(b.codes[1], 0x08); // 2^-6, the smallest normal
}

TEST(MxQuantize, ClampsNormalOverflow) {
  // amax 500: floor(log2) = 8, X = 1, and 500 / 1 clamps to 448.
  MxBlock b = quantizeBlock({500.0f, -479.0f});
  EXPECT_EQ(b.scale, 1.0f);
  EXPECT_EQ(b.codes[0], 0x7e);
  EXPECT_EQ(b.codes[1], 0xfe);
}

TEST(MxQuantize, ZerosAndSubnormals) {
  // All zeros: X = 2^-127 (E8M0's smallest), elements zero.
  MxBlock b = quantizeBlock({});
  EXPECT_EQ(floatToE8M0(b.scale), 0);
  for (uint8_t c : b.codes)
    EXPECT_EQ(c, 0);
  // An f32-subnormal amax clamps X to 2^-127: 2^-130 / 2^-127 = 2^-3.
  b = quantizeBlock({std::ldexp(1.0f, -130)});
  EXPECT_EQ(b.scale, std::ldexp(1.0f, -127));
  EXPECT_EQ(b.codes[0], 0x20); // 2^-3
  // Elements far below the block's amax become E4M3 subnormals, then zero.
  b = quantizeBlock({1.0f, 3 * std::ldexp(1.0f, -17), std::ldexp(1.0f, -20)});
  EXPECT_EQ(b.codes[1], 0x03); // 3 x 2^-9
  EXPECT_EQ(b.codes[2], 0x00);
}

TEST(MxQuantize, NaNAndInfinity) {
  // A NaN makes X NaN (E8M0 0xff) and every element NaN.
  MxBlock b = quantizeBlock({1.0f, kNaN});
  EXPECT_EQ(floatToE8M0(b.scale), 0xff);
  EXPECT_EQ(b.codes[0] & 0x7f, 0x7f);
  // An infinity counts as 2^128: X = 2^120, the infinity saturates.
  b = quantizeBlock({kInf, 1.0f});
  EXPECT_EQ(b.scale, std::ldexp(1.0f, 120));
  EXPECT_EQ(b.codes[0], 0x7e);
  EXPECT_EQ(b.codes[1], 0x00);
}

TEST(ScaledMatmul, MxBlocksMultiplyByTheirScales) {
  ThreadPool pool(1);
  // [1, 64] x [1, 64]: two blocks each, scales 2 and 4 (lhs), 1 and 0.5
  // (rhs); all elements 1.
  std::vector<float> a(64, 1.0f), b(64, 1.0f), as = {2.0f, 4.0f},
                     bs = {1.0f, 0.5f}, scratch(128);
  float r;
  scaledMatmul(pool, a.data(), as.data(), Fp8Grouping::MxBlock, b.data(),
               bs.data(), Fp8Grouping::MxBlock, 1, 1, 64, &r, scratch.data());
  EXPECT_EQ(r, 32 * 2.0f * 1.0f + 32 * 4.0f * 0.5f);
}

//===----------------------------------------------------------------------===//
// Delayed scaling (TransformerEngine's DelayedScaling update rule)
//===----------------------------------------------------------------------===//

TEST(Fp8QuantizeScaled, ScalesSaturatesAndReportsTheAmax) {
  ThreadPool pool(2);
  std::vector<float> x = {1.0f, -3.0f, 100.0f, kInf, 0.25f};
  std::vector<float> scaled(5);
  float amax;
  fp8QuantizeScaled(pool, x.data(), 5, 8.0f, 448.0f, scaled.data(), &amax);
  EXPECT_EQ(amax, kInf);
  EXPECT_EQ(scaled[0], 8.0f);
  EXPECT_EQ(scaled[1], -24.0f);
  EXPECT_EQ(scaled[2], 448.0f); // 800 saturates (satfinite)
  EXPECT_EQ(scaled[3], 448.0f);
  EXPECT_EQ(scaled[4], 2.0f);
  // E5M2: an overflow saturates to 57344 instead of becoming infinity.
  fp8QuantizeScaled(pool, x.data(), 3, 1000.0f, 57344.0f, scaled.data(), &amax);
  EXPECT_EQ(amax, 100.0f);
  EXPECT_EQ(floatToE5M2(scaled[2]), 0x7b);
  // A NaN is the amax and stays NaN.
  x[1] = kNaN;
  fp8QuantizeScaled(pool, x.data(), 2, 1.0f, 448.0f, scaled.data(), &amax);
  EXPECT_TRUE(std::isnan(amax));
  EXPECT_TRUE(std::isnan(scaled[1]));
  // Larger than one parallel chunk: the amax is found wherever it is.
  std::vector<float> big(40000, 1.0f), out(40000);
  big[39999] = -7.0f;
  fp8QuantizeScaled(pool, big.data(), 40000, 1.0f, 448.0f, out.data(), &amax);
  EXPECT_EQ(amax, 7.0f);
}

/// One update of a history of 4 with the given amax.
struct Updated {
  std::vector<float> history;
  float scale;
};
Updated update(std::vector<float> history, float scale, float amax,
               Fp8AmaxAlgo algo = Fp8AmaxAlgo::Max, int64_t margin = 0,
               float fp8Max = 448.0f) {
  Updated u{std::vector<float>(history.size()), 0};
  fp8ScaleUpdate(history.data(), history.size(), scale, amax, algo, margin,
                 fp8Max, u.history.data(), &u.scale);
  return u;
}

TEST(Fp8ScaleUpdate, RollsTheHistoryAndTakesItsMax) {
  // Slot 0 takes the step's amax, the history rolls left, slot 0 empties:
  // the newest amax ends up last.
  Updated u = update({0, 2, 7, 3}, 1.0f, 5.0f);
  EXPECT_EQ(u.history, (std::vector<float>{0, 7, 3, 5}));
  EXPECT_EQ(u.scale, 448.0f / 7.0f); // the history's max
  u = update({0, 2, 7, 3}, 1.0f, 5.0f, Fp8AmaxAlgo::MostRecent);
  EXPECT_EQ(u.scale, 448.0f / 5.0f);
  // The margin divides by 2^margin.
  u = update({0, 2, 7, 3}, 1.0f, 5.0f, Fp8AmaxAlgo::Max, 2);
  EXPECT_EQ(u.scale, 448.0f / 7.0f / 4.0f);
  // The quotient is f32's correctly rounded one.
  u = update({0}, 1.0f, 3.0f);
  EXPECT_EQ(u.scale, static_cast<float>(448.0 / 3.0));
  EXPECT_EQ(u.history, (std::vector<float>{0}));
}

TEST(Fp8ScaleUpdate, ZeroInfinityAndNaNKeepTheScale) {
  // All zero (a step that saw only zeros, and an empty history).
  Updated u = update({0, 0, 0, 0}, 3.5f, 0.0f);
  EXPECT_EQ(u.scale, 3.5f);
  EXPECT_EQ(u.history, (std::vector<float>{0, 0, 0, 0}));
  // An infinite amax keeps the scale while it is in the history (max).
  u = update({0, 1, 1, 1}, 3.5f, kInf);
  EXPECT_EQ(u.scale, 3.5f);
  EXPECT_EQ(u.history[3], kInf);
  u = update(u.history, u.scale, 2.0f);
  EXPECT_EQ(u.scale, 3.5f);
  // ... and only for that step with most_recent.
  u = update({0, 1, 1, kInf}, 3.5f, 2.0f, Fp8AmaxAlgo::MostRecent);
  EXPECT_EQ(u.scale, 224.0f);
  // NaN, in the step's amax or in the history, keeps the scale.
  u = update({0, 1, 1, 1}, 3.5f, kNaN);
  EXPECT_EQ(u.scale, 3.5f);
  EXPECT_TRUE(std::isnan(u.history[3]));
  u = update({0, kNaN, 1, 1}, 3.5f, 1.0f);
  EXPECT_EQ(u.scale, 3.5f);
}

TEST(Fp8ScaleUpdate, AnInfiniteScaleBecomesTheLargestFloat) {
  // 448 / 1e-45 (the smallest subnormal) overflows f32.
  Updated u = update({0, 0}, 1.0f, 1e-45f);
  EXPECT_EQ(u.scale, std::numeric_limits<float>::max());
}

TEST(Fp8ScaleUpdate, MayUpdateInPlace) {
  std::vector<float> h = {0, 2, 7, 3};
  float scale = 1.0f;
  fp8ScaleUpdate(h.data(), 4, scale, 5.0f, Fp8AmaxAlgo::Max, 0, 448.0f,
                 h.data(), &scale);
  EXPECT_EQ(h, (std::vector<float>{0, 7, 3, 5}));
  EXPECT_EQ(scale, 448.0f / 7.0f);
}

TEST(ScaledMatmul, OutputScaledMultipliesTheProductByInverseScales) {
  ThreadPool pool(1);
  // [1, 2] x [1, 2]: (3 * 4 + 1 * 2) * ((1 / 2) * (1 / 3)).
  std::vector<float> a = {3.0f, 1.0f}, b = {4.0f, 2.0f};
  float r;
  scaledMatmulOutputScaled(pool, a.data(), 2.0f, b.data(), 3.0f, 1, 1, 2, &r);
  EXPECT_EQ(r, 14.0f * ((1.0f / 2.0f) * (1.0f / 3.0f)));
}

} // namespace
