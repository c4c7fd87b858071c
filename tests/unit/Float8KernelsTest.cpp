//===- Float8KernelsTest.cpp - FP8 quantisation and scaled GEMM kernels ---===//
//
// The scale rule and its edge cases as docs/fp8-recipes.md records them
// from torchao (amax 0, infinity and NaN; the f32 log2 rounding of
// power-of-two scales), and the scaled GEMM's dequantise-then-multiply.
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
  fp8Quantize(pool, x.data(), 5, 3, /*rowwise=*/true, /*pow2=*/false, 448.0f,
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
  fp8Quantize(pool, x.data(), 2, 2, /*rowwise=*/false, /*pow2=*/false,
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
  scaledMatmul(pool, a.data(), as.data(), true, b.data(), &bs, false, 2, 2, 3,
               out.data(), scratch.data());
  // a / as = [[1, 2, 3], [2, 4, 8]]; b / bs = [[1, 0, -1], [.1, .1, .1]].
  EXPECT_FLOAT_EQ(out[0], -2.0f);
  EXPECT_FLOAT_EQ(out[1], 0.6f);
  EXPECT_FLOAT_EQ(out[2], -6.0f);
  EXPECT_FLOAT_EQ(out[3], 1.4f);
  // The dequantised operands are quotients, as torchao divides: 1 / 3 is
  // not 1 * f32(1 / 3) in general.
  std::vector<float> one = {1.0f}, three = {3.0f}, unit = {1.0f};
  float r;
  scaledMatmul(pool, one.data(), three.data(), false, unit.data(), unit.data(),
               false, 1, 1, 1, &r, scratch.data());
  EXPECT_EQ(r, 1.0f / 3.0f);
}

} // namespace
