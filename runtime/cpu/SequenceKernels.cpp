//===- SequenceKernels.cpp - layer norm, embedding, masking, dropout ------===//
//
// The kernels a transformer's step needs beyond matrix products and plain
// elementwise maths.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Broadcast.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/Philox.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

namespace accel::rt::cpu {

namespace {
/// Σ f(c) for c < n in double, in four interleaved partial sums: one
/// running sum waits on every addition's latency.
template <typename F> double laneSum(int64_t n, F f) {
  double lane[4] = {0, 0, 0, 0};
  int64_t c = 0;
  for (; c + 4 <= n; c += 4)
    for (int j = 0; j < 4; ++j)
      lane[j] += f(c + j);
  for (; c < n; ++c)
    lane[c % 4] += f(c);
  return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

/// Mean and 1/sqrt(biased variance + eps) of one row, accumulated in double
/// (two passes, so a large mean does not cancel the variance).
std::pair<float, float> rowMoments(const float *row, int64_t cols, double eps) {
  double mean = laneSum(cols, [&](int64_t c) { return double(row[c]); }) /
                static_cast<double>(cols);
  double var = laneSum(cols,
                       [&](int64_t c) {
                         double d = row[c] - mean;
                         return d * d;
                       }) /
               static_cast<double>(cols);
  return {static_cast<float>(mean), static_cast<float>(1.0 / std::sqrt(var + eps))};
}
} // namespace

void layerNorm(ThreadPool &pool, const float *x, const float *weight,
               const float *bias, int64_t rows, int64_t cols, double eps,
               float *out) {
  pool.parallelFor(rows, 8, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *row = x + r * cols;
      float *o = out + r * cols;
      auto [mean, rstd] = rowMoments(row, cols, eps);
      for (int64_t c = 0; c < cols; ++c) {
        float v = (row[c] - mean) * rstd;
        if (weight)
          v *= weight[c];
        if (bias)
          v += bias[c];
        o[c] = v;
      }
    }
  });
}

int64_t layerNormGradScratch(int64_t cols) {
  return 2 * kLayerNormGradBlocks * cols;
}

void layerNormGrad(ThreadPool &pool, const float *grad, const float *x,
                   const float *weight, int64_t rows, int64_t cols, double eps,
                   float *gradInput, float *gradWeight, float *gradBias,
                   float *scratch) {
  // Row blocks fixed independently of the thread count, so the parameter
  // gradients sum in the same order with any --threads.
  int64_t blocks = std::min<int64_t>(kLayerNormGradBlocks, std::max<int64_t>(rows, 1));
  int64_t perBlock = (rows + blocks - 1) / blocks;
  float *partW = scratch, *partB = scratch + kLayerNormGradBlocks * cols;
  pool.parallelFor(blocks, 1, [&](int64_t bBegin, int64_t bEnd) {
    for (int64_t b = bBegin; b < bEnd; ++b) {
      float *pw = partW + b * cols, *pb = partB + b * cols;
      std::fill(pw, pw + cols, 0.0f);
      std::fill(pb, pb + cols, 0.0f);
      for (int64_t r = b * perBlock; r < std::min(rows, (b + 1) * perBlock); ++r) {
        const float *g = grad + r * cols, *row = x + r * cols;
        float *dx = gradInput + r * cols;
        auto [mean, rstd] = rowMoments(row, cols, eps);
        // dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)), gw = g * w.
        for (int64_t c = 0; c < cols; ++c) {
          float xhat = (row[c] - mean) * rstd;
          pw[c] += g[c] * xhat;
          pb[c] += g[c];
        }
        double sumGw = laneSum(cols, [&](int64_t c) {
          return double(weight ? g[c] * weight[c] : g[c]);
        });
        double sumGwXhat = laneSum(cols, [&](int64_t c) {
          float xhat = (row[c] - mean) * rstd;
          float gw = weight ? g[c] * weight[c] : g[c];
          return static_cast<double>(gw) * xhat;
        });
        float meanGw = static_cast<float>(sumGw / cols);
        float meanGwXhat = static_cast<float>(sumGwXhat / cols);
        for (int64_t c = 0; c < cols; ++c) {
          float xhat = (row[c] - mean) * rstd;
          float gw = weight ? g[c] * weight[c] : g[c];
          dx[c] = rstd * (gw - meanGw - xhat * meanGwXhat);
        }
      }
    }
  });
  for (int64_t c = 0; c < cols; ++c) {
    float w = 0, b = 0;
    for (int64_t k = 0; k < blocks; ++k) {
      w += partW[k * cols + c];
      b += partB[k * cols + c];
    }
    gradWeight[c] = w;
    gradBias[c] = b;
  }
}

int64_t embedding(ThreadPool &pool, const float *weight, int64_t rows,
                  int64_t dim, const int64_t *indices, int64_t count,
                  float *out) {
  std::atomic<int64_t> bad{-1};
  pool.parallelFor(count, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t row = indices[i];
      if (row < 0 || row >= rows) {
        int64_t none = -1;
        bad.compare_exchange_strong(none, i);
        std::fill(out + i * dim, out + (i + 1) * dim, 0.0f);
        continue;
      }
      std::copy(weight + row * dim, weight + (row + 1) * dim, out + i * dim);
    }
  });
  return bad.load();
}

void embeddingGrad(ThreadPool &pool, const float *grad, const int64_t *indices,
                   int64_t count, int64_t rows, int64_t dim, float *out) {
  // Each worker owns a range of table rows and adds, in index order, the
  // gradient rows that land there: no races, and one summation order.
  pool.parallelFor(rows, 16, [&](int64_t begin, int64_t end) {
    std::fill(out + begin * dim, out + end * dim, 0.0f);
    for (int64_t i = 0; i < count; ++i) {
      int64_t row = indices[i];
      if (row < begin || row >= end)
        continue;
      const float *g = grad + i * dim;
      float *o = out + row * dim;
      for (int64_t c = 0; c < dim; ++c)
        o[c] += g[c];
    }
  });
}

void maskedFill(ThreadPool &pool, const float *x, llvm::ArrayRef<int64_t> xShape,
                const uint8_t *mask, llvm::ArrayRef<int64_t> maskShape,
                float value, float *out, llvm::ArrayRef<int64_t> outShape) {
  DimVector sx = broadcastStrides(xShape, outShape);
  DimVector sm = broadcastStrides(maskShape, outShape);
  int64_t n = product(outShape);
  int64_t inner = outShape.empty() ? 1 : outShape.back();
  int64_t rows = inner == 0 ? 0 : n / inner;
  int64_t ix = sx.empty() ? 0 : sx.back(), im = sm.empty() ? 0 : sm.back();
  pool.parallelFor(rows, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(inner, 1)),
                   [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *xr = x + rowOffset(r, outShape, sx);
      const uint8_t *mr = mask + rowOffset(r, outShape, sm);
      float *o = out + r * inner;
      for (int64_t j = 0; j < inner; ++j)
        o[j] = mr[j * im] ? value : xr[j * ix];
    }
  });
}

void dropout(ThreadPool &pool, const float *x, int64_t n, double p,
             uint64_t seed, uint64_t stream, float *out, uint64_t first,
             bool rescale) {
  // torch scales kept elements by 1 / (1 - p), computed in the input's type.
  float scale = !rescale ? 1.0f
                : p < 1.0 ? static_cast<float>(1.0 / (1.0 - p))
                          : 0.0f;
  float threshold = static_cast<float>(p);
  if (first % 4 != 0) {
    // A slice starting inside a Philox block: element by element.
    pool.parallelFor(n, kElementGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        uint64_t g = first + i;
        float u = dropoutUniforms(seed, stream, g / 4)[g % 4];
        out[i] = u >= threshold ? x[i] * scale : 0.0f;
      }
    });
    return;
  }
  const uint64_t firstBlock = first / 4;
  int64_t blocks = (n + 3) / 4;
  bool batched = philoxBatchAvailable();
  pool.parallelFor(blocks, kElementGrain / 4, [&](int64_t begin, int64_t end) {
    // The loop below vectorises only with locals (captured references could
    // alias `out`), its results staged on the stack (`out` may be `x`), and
    // the choice as a bit mask (GCC kept a ternary's branch, mispredicted
    // on every dropped element): +0 where dropped, as before.
    const float keepScale = scale, drop = threshold;
    int64_t b = begin;
    // Whole batches of blocks through the vectorised generator.
    for (; batched && b + kPhiloxBatch <= end && 4 * (b + kPhiloxBatch) <= n;
         b += kPhiloxBatch) {
      float u[4 * kPhiloxBatch], kept[4 * kPhiloxBatch];
      dropoutUniformsBatch(seed, stream, firstBlock + b, u);
      const float *in = x + 4 * b;
      for (int k = 0; k < 4 * kPhiloxBatch; ++k) {
        uint32_t bits;
        float scaled = in[k] * keepScale;
        std::memcpy(&bits, &scaled, 4);
        bits &= 0u - static_cast<uint32_t>(u[k] >= drop);
        std::memcpy(&kept[k], &bits, 4);
      }
      std::copy(kept, kept + 4 * kPhiloxBatch, out + 4 * b);
    }
    for (; b < end; ++b) {
      std::array<float, 4> u = dropoutUniforms(seed, stream, firstBlock + b);
      for (int64_t k = 0; k < 4 && 4 * b + k < n; ++k) {
        int64_t i = 4 * b + k;
        out[i] = u[k] >= threshold ? x[i] * scale : 0.0f;
      }
    }
  });
}

} // namespace accel::rt::cpu
