//===- DeviceFloat8Test.cpp - the device kernels' FP8 scaling -------------===//
//
// The OpenCL and CUDA drivers quantise to FP8 with the kernel library's
// amax, scale and scaling kernels (DeviceKernels.cpp, put together by
// DeviceLoader.h); the CPU driver with runtime/cpu/Float8Kernels. Scales
// decide every FP8 value of a step, so the two must agree bit for bit:
// this runs the kernels on an OpenCL device over amaxes at the edges
// (zero, subnormals, 1e-12, the power-of-two rounding thresholds,
// infinity, NaN) and over matrices with NaNs and infinities, and compares
// with the CPU's functions.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Float8Kernels.h"
#include "runtime/cpu/HalfFloat.h"
#include "runtime/cpu/ThreadPool.h"
#include "tests/unit/OpenClLibrary.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace {

using namespace accel::rt::cpu;

constexpr float kE4M3Max = 448.0f, kE5M2Max = 57344.0f;
constexpr size_t kGroup = 128; // DeviceKernels.cpp's ROW_GROUP

/// Amaxes at every edge of the scale maths.
std::vector<float> edgeAmaxes() {
  float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.0f,
                          -0.0f,
                          bitsFloat(1),
                          bitsFloat(0x007fffff),
                          std::numeric_limits<float>::min(),
                          1e-12f,
                          std::nextafter(1e-12f, 0.0f),
                          std::nextafter(1e-12f, 1.0f),
                          1.0f,
                          448.0f,
                          std::numeric_limits<float>::max(),
                          inf,
                          std::numeric_limits<float>::quiet_NaN()};
  // Scales whose mantissa field sits around each of roundScaleToPow2's
  // thresholds, at exponents of every magnitude class: amax = 448 / s.
  for (int e : {-70, -40, -20, -10, -5, -3, -1, 0, 1, 2, 4, 9, 17, 33, 40})
    for (uint32_t mantissa = 0x7fffc0; mantissa <= 0x7fffff; ++mantissa)
      v.push_back(448.0f / std::ldexp(bitsFloat(0x3f800000 | mantissa), e));
  std::mt19937 random(3);
  std::uniform_real_distribution<float> exponent(-40.0f, 40.0f);
  for (int i = 0; i < 2000; ++i)
    v.push_back(std::exp2(exponent(random)));
  return v;
}

class DeviceFloat8Test : public OpenClLibrary {
protected:
  cl_ulong zero = 0;
};

TEST_F(DeviceFloat8Test, ScalesFromAmaxesAsTheCpu) {
  std::vector<float> amax = edgeAmaxes();
  cl_ulong n = amax.size();
  cl_mem in = buffer(amax);
  cl_mem out = buffer(nullptr, n * sizeof(float));
  for (float fp8Max : {kE4M3Max, kE5M2Max})
    for (cl_int pow2 : {0, 1}) {
      run("fp8_scales", n, 0, in, zero, out, zero, n, fp8Max, pow2);
      std::vector<float> got = read<float>(out, n);
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(floatBits(got[i]), floatBits(fp8Scale(amax[i], fp8Max, pow2)))
            << "amax " << amax[i] << " max " << fp8Max << " pow2 " << pow2;
    }
}

TEST_F(DeviceFloat8Test, MxScalesAsTheCpu) {
  // Block b holds amax b (negated for odd b) among small values.
  std::vector<float> amax = edgeAmaxes();
  cl_ulong blocks = amax.size();
  std::vector<float> x(blocks * kMxBlock, 0.0f);
  for (size_t b = 0; b < blocks; ++b) {
    for (size_t i = 0; i < kMxBlock; ++i)
      x[b * kMxBlock + i] = std::fmin(std::fabs(amax[b]), 1e-30f) * 0.5f;
    x[b * kMxBlock + b % kMxBlock] = b % 2 ? -amax[b] : amax[b];
  }
  cl_mem in = buffer(x);
  cl_mem out = buffer(nullptr, blocks * sizeof(float));
  for (float fp8Max : {kE4M3Max, kE5M2Max}) {
    cl_int emax = std::ilogb(fp8Max);
    run("mx_scales", blocks, 0, in, zero, out, zero, blocks, emax);
    std::vector<float> got = read<float>(out, blocks);
    for (size_t b = 0; b < blocks; ++b)
      ASSERT_EQ(floatBits(got[b]), floatBits(mxScale(std::fabs(amax[b]), emax)))
          << "amax " << amax[b] << " emax " << emax;
  }
}

/// A rows x cols matrix of values across many binades, with an infinity
/// and a NaN in chosen rows (none when the row is out of range).
std::vector<float> matrix(size_t rows, size_t cols, size_t infRow,
                          size_t nanRow) {
  std::mt19937 random(11);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> exponent(-12.0f, 12.0f);
  std::vector<float> x(rows * cols);
  for (float &v : x)
    v = normal(random) * std::exp2(exponent(random));
  if (infRow < rows)
    x[infRow * cols + 3] = -std::numeric_limits<float>::infinity();
  if (nanRow < rows)
    x[nanRow * cols + cols - 1] = std::numeric_limits<float>::quiet_NaN();
  return x;
}

/// Bitwise equality, any NaN matching any NaN.
void expectSameBits(const std::vector<float> &got,
                    const std::vector<float> &want, const char *what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i]) && std::isnan(want[i]))
      continue;
    ASSERT_EQ(floatBits(got[i]), floatBits(want[i]))
        << what << " element " << i << ": " << got[i] << " vs " << want[i];
  }
}

TEST_F(DeviceFloat8Test, QuantisesRowsAndTensorsAsTheCpu) {
  ThreadPool pool(1);
  const cl_ulong rows = 37, cols = 300, n = rows * cols;
  for (size_t nanRow : {size_t(5), size_t(rows)}) {
    std::vector<float> x = matrix(rows, cols, 2, nanRow);
    cl_mem in = buffer(x);
    cl_mem amax = buffer(nullptr, rows * sizeof(float));
    cl_mem scale = buffer(nullptr, rows * sizeof(float));
    cl_mem out = buffer(nullptr, n * sizeof(float));
    for (cl_int pow2 : {0, 1}) {
      // Rowwise: an amax per row (a work group each), its scale, scaling.
      run("abs_max_group", rows * kGroup, kGroup, in, zero, n, cols, amax,
          zero);
      run("fp8_scales", rows, 0, amax, zero, scale, zero, rows, kE4M3Max, pow2);
      run("fp8_scale_values", n, 0, in, zero, scale, zero, out, zero, n, cols,
          cl_int(0), kE4M3Max);
      std::vector<float> wantScaled(n), wantScale(rows);
      fp8Quantize(pool, x.data(), rows, cols, Fp8Grouping::Row, pow2, kE4M3Max,
                  wantScaled.data(), wantScale.data());
      expectSameBits(read<float>(scale, rows), wantScale, "row scale");
      expectSameBits(read<float>(out, n), wantScaled, "row-scaled values");

      // Tensorwise: chunks' amaxes, then theirs, one scale.
      cl_ulong chunk = 1000, chunks = (n + chunk - 1) / chunk;
      cl_mem partial = buffer(nullptr, chunks * sizeof(float));
      run("abs_max_group", chunks * kGroup, kGroup, in, zero, n, chunk, partial,
          zero);
      run("abs_max_group", kGroup, kGroup, partial, zero, chunks, chunks, amax,
          zero);
      run("fp8_scales", 1, 0, amax, zero, scale, zero, cl_ulong(1), kE5M2Max,
          pow2);
      run("fp8_scale_values", n, 0, in, zero, scale, zero, out, zero, n, n,
          cl_int(0), kE5M2Max);
      fp8Quantize(pool, x.data(), rows, cols, Fp8Grouping::Tensor, pow2,
                  kE5M2Max, wantScaled.data(), wantScale.data());
      expectSameBits(read<float>(scale, 1), {wantScale[0]}, "tensor scale");
      expectSameBits(read<float>(out, n), wantScaled, "tensor-scaled values");
    }
  }
}

TEST_F(DeviceFloat8Test, QuantisesMxBlocksAsTheCpu) {
  ThreadPool pool(1);
  const cl_ulong rows = 9, cols = 256, n = rows * cols, blocks = n / kMxBlock;
  std::vector<float> x = matrix(rows, cols, 4, 7);
  cl_mem in = buffer(x);
  cl_mem scale = buffer(nullptr, blocks * sizeof(float));
  cl_mem out = buffer(nullptr, n * sizeof(float));
  run("mx_scales", blocks, 0, in, zero, scale, zero, blocks,
      cl_int(std::ilogb(kE4M3Max)));
  run("fp8_scale_values", n, 0, in, zero, scale, zero, out, zero, n,
      cl_ulong(kMxBlock), cl_int(1), kE4M3Max);
  std::vector<float> wantScaled(n), wantScale(blocks);
  fp8Quantize(pool, x.data(), rows, cols, Fp8Grouping::MxBlock, false, kE4M3Max,
              wantScaled.data(), wantScale.data());
  expectSameBits(read<float>(scale, blocks), wantScale, "MX scale");
  expectSameBits(read<float>(out, n), wantScaled, "MX-scaled values");
}

TEST_F(DeviceFloat8Test, UpdatesDelayedScalesAsTheCpu) {
  float inf = std::numeric_limits<float>::infinity(),
        nan = std::numeric_limits<float>::quiet_NaN();
  for (cl_ulong length : {1, 2, 16})
    for (cl_int algo : {0, 1})
      for (cl_int margin : {0, 3})
        for (float amax : {0.0f, 3.5f, -2.0f, 1e-30f, 1e-44f, inf, nan}) {
          std::vector<float> history(length);
          for (size_t i = 0; i < length; ++i)
            history[i] = 0.25f * static_cast<float>(i * i);
          if (length > 2)
            history[length - 1] = amax == 3.5f ? nan : 40.0f;
          float scale = 2.0f;
          cl_mem h = buffer(history), s = buffer(&scale, sizeof(float)),
                 a = buffer(&amax, sizeof(float));
          cl_mem nh = buffer(nullptr, length * sizeof(float)),
                 ns = buffer(nullptr, sizeof(float));
          run("fp8_scale_update", 1, 0, h, zero, length, s, zero, a, zero, algo,
              margin, kE4M3Max, nh, zero, ns, zero);
          std::vector<float> wantHistory(length);
          float wantScale;
          fp8ScaleUpdate(history.data(), length, scale, amax,
                         static_cast<Fp8AmaxAlgo>(algo), margin, kE4M3Max,
                         wantHistory.data(), &wantScale);
          expectSameBits(read<float>(nh, length), wantHistory, "history");
          expectSameBits(read<float>(ns, 1), {wantScale}, "scale");
          if (HasFatalFailure())
            return;
        }
}

TEST_F(DeviceFloat8Test, DequantisesAndScalesProductsAsTheCpu) {
  // Dequantisation divides by tensor and row scales and multiplies by MX
  // scales; delayed scaling multiplies a product by both inverses.
  std::vector<float> q = {448.0f, -3.0f, 0.015625f, 1.75f, -0.0f, 240.0f};
  std::vector<float> scales = {3.0f, 0.1f};
  cl_ulong n = q.size();
  cl_mem in = buffer(q), s = buffer(scales), out = buffer(nullptr, n * 4);
  run("fp8_dequantize", n, 0, in, zero, s, zero, out, zero, n, cl_ulong(3),
      cl_int(0));
  std::vector<float> got = read<float>(out, n);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(floatBits(got[i]), floatBits(q[i] / scales[i / 3])) << i;
  run("scale_by_inverses", n, 0, in, zero, n, s, zero, s, cl_ulong(1));
  got = read<float>(in, n);
  float factor = (1.0f / scales[0]) * (1.0f / scales[1]);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(floatBits(got[i]), floatBits(q[i] * factor)) << i;
}

} // namespace
