//===- Float8Kernels.cpp - FP8 quantisation and scaled GEMMs --------------===//

#include "runtime/cpu/Float8Kernels.h"

#include "runtime/cpu/HalfFloat.h"
#include "runtime/cpu/Kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace accel::rt::cpu {

float roundScaleToPow2(float scale) {
  // 0, infinity and NaN are their own exp2(floor(log2(x))).
  if (!(scale > 0) || std::isinf(scale))
    return scale;
  uint32_t bits = floatBits(scale);
  int exponent = static_cast<int>((bits >> 23) & 0xff) - 127;
  uint32_t mantissa = bits & 0x7fffff;
  if (exponent == -127) // subnormal: log2 is far from an integer above it
    return std::ldexp(1.0f, std::ilogb(scale));
  // The smallest mantissa field at which f32 log2(scale) rounds up to
  // exponent + 1 (measured over every normal f32 for torch's log2; the
  // margin is where log2's result loses fraction bits to its integer part).
  int magnitude = exponent >= 0 ? exponent : -exponent - 1;
  uint32_t threshold = magnitude >= 64   ? 0x7fffd4
                       : magnitude >= 32 ? 0x7fffea
                       : magnitude >= 16 ? 0x7ffff5
                       : magnitude >= 8  ? 0x7ffffb
                       : magnitude >= 4  ? 0x7ffffe
                       : magnitude >= 2  ? 0x7fffff
                                         : 0x800000; // never
  if (mantissa >= threshold)
    ++exponent;
  return std::ldexp(1.0f, exponent);
}

float fp8Scale(float amax, float fp8Max, bool pow2) {
  double a = amax;
  if (a < 1e-12) // NaN fails the test and stays NaN
    a = 1e-12;
  float scale = static_cast<float>(static_cast<double>(fp8Max) * (1.0 / a));
  return pow2 ? roundScaleToPow2(scale) : scale;
}

namespace {

/// max |x| over n elements; NaN if any is NaN (as torch's amax).
float absMax(const float *x, int64_t n) {
  float m = 0;
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    float v = std::fabs(x[i]);
    nan |= std::isnan(v);
    m = v > m ? v : m;
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}

void scaleRow(const float *x, int64_t n, float scale, float fp8Max,
              float *out) {
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] * scale;
    out[i] = v > fp8Max ? fp8Max : v < -fp8Max ? -fp8Max : v;
  }
}

} // namespace

float mxScale(float amax, int emax) {
  if (std::isnan(amax))
    return amax;
  // An infinity counts as 2^128 (the exponent its bits hold), as torchao's
  // MX cast reads it.
  int exponent = amax == 0 ? -127 : std::isinf(amax) ? 128 : std::ilogb(amax);
  exponent = std::clamp(exponent - emax, -127, 127);
  return std::ldexp(1.0f, exponent);
}

void fp8Quantize(ThreadPool &pool, const float *x, int64_t rows, int64_t cols,
                 Fp8Grouping grouping, bool pow2, float fp8Max, float *scaled,
                 float *scale) {
  int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
  switch (grouping) {
  case Fp8Grouping::Row:
    pool.parallelFor(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        scale[r] = fp8Scale(absMax(x + r * cols, cols), fp8Max, pow2);
        scaleRow(x + r * cols, cols, scale[r], fp8Max, scaled + r * cols);
      }
    });
    return;
  case Fp8Grouping::MxBlock: {
    // The element format's largest exponent: 448 = 1.75 x 2^8,
    // 57344 = 1.75 x 2^15.
    int emax = std::ilogb(fp8Max);
    int64_t blocks = cols / kMxBlock;
    pool.parallelFor(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        for (int64_t b = 0; b < blocks; ++b) {
          const float *in = x + r * cols + b * kMxBlock;
          float *out = scaled + r * cols + b * kMxBlock;
          float s = mxScale(absMax(in, kMxBlock), emax);
          scale[r * blocks + b] = s;
          for (int64_t i = 0; i < kMxBlock; ++i) {
            float v = in[i] / s;
            out[i] = v > fp8Max ? fp8Max : v < -fp8Max ? -fp8Max : v;
          }
        }
    });
    return;
  }
  case Fp8Grouping::Tensor:
    break;
  }
  // One amax over the whole matrix: each row's, then theirs (max is exact,
  // so the grouping cannot change it). The row maxima borrow the start of
  // `scaled`, which is written only after.
  float *rowMax = scaled;
  pool.parallelFor(rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      rowMax[r] = absMax(x + r * cols, cols);
  });
  float s = fp8Scale(absMax(rowMax, rows), fp8Max, pow2);
  *scale = s;
  pool.parallelFor(rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      scaleRow(x + r * cols, cols, s, fp8Max, scaled + r * cols);
  });
}

void scaledMatmul(ThreadPool &pool, const float *a, const float *aScale,
                  Fp8Grouping aGrouping, const float *b, const float *bScale,
                  Fp8Grouping bGrouping, int64_t m, int64_t n, int64_t k,
                  float *out, float *scratch) {
  float *da = scratch, *db = scratch + m * k;
  auto dequantise = [&](const float *q, const float *scale,
                        Fp8Grouping grouping, int64_t rows, float *dst) {
    int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(k, 1));
    pool.parallelFor(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float *in = q + r * k;
        float *o = dst + r * k;
        if (grouping == Fp8Grouping::MxBlock) {
          const float *blockScale = scale + r * (k / kMxBlock);
          for (int64_t i = 0; i < k; ++i)
            o[i] = in[i] * blockScale[i / kMxBlock];
          continue;
        }
        float s = scale[grouping == Fp8Grouping::Row ? r : 0];
        for (int64_t i = 0; i < k; ++i)
          o[i] = in[i] / s;
      }
    });
  };
  dequantise(a, aScale, aGrouping, m, da);
  dequantise(b, bScale, bGrouping, n, db);
  gemm(pool, false, true, m, n, k, 1.0f, da, db, 0.0f, out);
}

void fp8QuantizeScaled(ThreadPool &pool, const float *x, int64_t n, float scale,
                       float fp8Max, float *scaled, float *amax) {
  // Chunks of the amax in parallel, then theirs (max is exact, so the
  // split cannot change it). Groups of chunks keep the partial maxima on
  // the stack: a step allocates nothing.
  constexpr int64_t kChunk = 16384, kGroup = 64;
  int64_t chunks = std::max<int64_t>(1, (n + kChunk - 1) / kChunk);
  float groupMax[kGroup + 1];
  int64_t partials = 0;
  for (int64_t first = 0; first < chunks; first += kGroup) {
    int64_t count = std::min(kGroup, chunks - first);
    float chunkMax[kGroup];
    pool.parallelFor(count, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        int64_t from = (first + c) * kChunk;
        int64_t length = std::min(kChunk, n - from);
        chunkMax[c] = absMax(x + from, length);
        scaleRow(x + from, length, scale, fp8Max, scaled + from);
      }
    });
    float group = absMax(chunkMax, count);
    // Fold as we go: at most two partial maxima are ever held.
    groupMax[partials++] = group;
    if (partials == 2) {
      groupMax[0] = absMax(groupMax, 2);
      partials = 1;
    }
  }
  *amax = absMax(groupMax, partials);
}

void fp8ScaleUpdate(const float *history, int64_t length, float scale,
                    float amax, Fp8AmaxAlgo algo, int64_t margin, float fp8Max,
                    float *newHistory, float *newScale) {
  // The history with this step's amax in slot 0, read before newHistory
  // (which may be the same memory) is written.
  float a = amax;
  if (algo == Fp8AmaxAlgo::Max) {
    float both[2] = {amax, length > 1 ? absMax(history + 1, length - 1) : 0};
    a = absMax(both, 2);
  }
  float next = scale;
  if (std::isfinite(a) && a > 0) {
    next = std::ldexp(fp8Max / a, static_cast<int>(-margin));
    if (std::isinf(next))
      next = std::numeric_limits<float>::max();
  }
  // Rolled one slot towards the front: slot i takes slot i + 1, the last
  // takes this step's amax, and slot 0 (the next step's) starts at 0.
  for (int64_t i = 0; i + 1 < length; ++i)
    newHistory[i] = history[i + 1];
  if (length > 1)
    newHistory[length - 1] = amax;
  newHistory[0] = 0.0f;
  *newScale = next;
}

void scaledMatmulOutputScaled(ThreadPool &pool, const float *a, float aScale,
                              const float *b, float bScale, int64_t m,
                              int64_t n, int64_t k, float *out) {
  gemm(pool, false, true, m, n, k, 1.0f, a, b, 0.0f, out);
  float factor = (1.0f / aScale) * (1.0f / bScale);
  for (int64_t i = 0; i < m * n; ++i)
    out[i] *= factor;
}

} // namespace accel::rt::cpu
