//===- VectorMathTest.cpp - erf, exp and GELU over blocks -----------------===//
//
// The block functions against double precision: erf within 2 ulp of the
// exact result and exp within 3 (glibc's vector expf measures 2.55 ulp at
// worst here; its scalar expf 0.5) over their useful range, GELU and its
// gradient within a few float roundings; every element's result
// independent of where it falls in a block (the single-op kernels and the
// fused interpreter cut blocks differently); NaN and infinities as the
// scalar functions treat them.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/VectorMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace accel::rt::cpu;

namespace {

/// Distance from `got` to the exact `want` in units of the last place of
/// the float nearest `want`.
double ulps(float got, double want) {
  float nearest = static_cast<float>(want);
  double ulp = std::nextafter(std::fabs(nearest),
                              std::numeric_limits<float>::infinity()) -
               std::fabs(nearest);
  if (nearest == 0.0f)
    ulp = std::numeric_limits<float>::denorm_min();
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

std::vector<float> grid(float lo, float hi, int64_t n) {
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n - 1);
  return x;
}

TEST(VectorMathTest, ErfAndExpWithinAFewUlps) {
  std::vector<float> x = grid(-8.0f, 8.0f, 1 << 20), y(x.size());
  // Small magnitudes too, where erf(x) ~ 2x/sqrt(pi).
  for (float tiny : {1e-30f, -3e-20f, 1e-8f, -2e-4f})
    x.push_back(tiny), y.push_back(0);
  erfBlock(x.data(), y.data(), x.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, ulps(y[i], std::erf(static_cast<double>(x[i]))));
  EXPECT_LE(worst, 2.0) << "erf";

  // exp over the range GELU's gradient and softmax use (no overflow).
  std::vector<float> e = grid(-87.0f, 88.0f, 1 << 20), z(e.size());
  expBlock(e.data(), z.data(), e.size());
  worst = 0;
  for (size_t i = 0; i < e.size(); ++i)
    worst = std::max(worst, ulps(z[i], std::exp(static_cast<double>(e[i]))));
  EXPECT_LE(worst, 3.0) << "exp";
}

TEST(VectorMathTest, GeluAndItsGradientAgainstDouble) {
  std::vector<float> x = grid(-10.0f, 10.0f, 200001), y(x.size());
  std::vector<float> g(x.size(), 1.0f), dx(x.size());
  geluBlock(x.data(), y.data(), x.size());
  geluGradBlock(g.data(), x.data(), dx.data(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double v = x[i];
    double cdf = 0.5 * std::erfc(-v / std::sqrt(2.0));
    double gelu = v * cdf;
    double grad = cdf + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
    // Absolute error at float resolution of the terms: 1 + erf loses the
    // small tail of Phi for very negative x, as every float GELU does.
    EXPECT_NEAR(y[i], gelu, 4e-7 * std::max(1.0, std::fabs(v))) << v;
    EXPECT_NEAR(dx[i], grad, 4e-7 * std::max(1.0, v * v)) << v;
  }
}

TEST(VectorMathTest, ResultsDoNotDependOnBlockPosition) {
  std::vector<float> x = grid(-5.0f, 5.0f, 1001), whole(x.size());
  geluBlock(x.data(), whole.data(), x.size());
  // Every offset and length, as blocks and tails are cut elsewhere.
  for (int64_t offset : {0, 1, 3, 7, 9}) {
    for (int64_t len : {1, 2, 5, 8, 13, 64, 300}) {
      std::vector<float> part(len);
      geluBlock(x.data() + offset, part.data(), len);
      EXPECT_EQ(std::memcmp(part.data(), whole.data() + offset, len * 4), 0)
          << "offset " << offset << ", length " << len;
    }
  }
  // In place gives the same bits.
  std::vector<float> inPlace = x;
  geluBlock(inPlace.data(), inPlace.data(), inPlace.size());
  EXPECT_EQ(std::memcmp(inPlace.data(), whole.data(), x.size() * 4), 0);
  EXPECT_TRUE(vectorMathWidth() == 4 || vectorMathWidth() == 8);
}

TEST(VectorMathTest, NanAndInfinities) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {nan, inf, -inf, 0.0f, -0.0f}, y(x.size());
  erfBlock(x.data(), y.data(), x.size());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 1.0f);
  EXPECT_EQ(y[2], -1.0f);
  EXPECT_EQ(y[3], 0.0f);
  expBlock(x.data(), y.data(), x.size());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], inf);
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[3], 1.0f);
  // GELU as the formula gives it (ATen's too): NaN stays NaN, +inf stays,
  // -inf times a zero tail is NaN.
  geluBlock(x.data(), y.data(), x.size());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], inf);
  EXPECT_TRUE(std::isnan(y[2]));
  EXPECT_EQ(y[3], 0.0f);
}

} // namespace
