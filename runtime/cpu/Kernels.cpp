//===- Kernels.cpp - CPU kernels of the training step ---------------------===//

#include "runtime/cpu/VectorMath.h"
#include "runtime/cpu/Kernels.h"

#include "runtime/cpu/Broadcast.h"
#include "runtime/cpu/ElementOps.h"

#include "runtime/cpu/OneOmpThread.h"

#include "llvm/Support/ErrorHandling.h"

#include <cblas.h>
#include <dnnl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace accel::rt::cpu {

GemmLibrary gemmLibrary() {
  static const GemmLibrary chosen = [] {
    const char *choice = std::getenv("ACCEL_GEMM");
    return choice && std::strcmp(choice, "openblas") == 0
               ? GemmLibrary::OpenBlas
               : GemmLibrary::OneDnn;
  }();
  return chosen;
}

namespace {
/// One row-major sgemm call on the calling thread, C's rows ldc apart.
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
           float alpha, const float *a, int64_t lda, const float *b,
           int64_t ldb, float beta, float *c, int64_t ldc) {
  // Empty products: oneDNN refuses their leading dimensions of 0 (and
  // null pointers of empty tensors); C = beta C is their answer.
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  if (gemmLibrary() == GemmLibrary::OpenBlas) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b,
                ldb, beta, c, ldc);
    return;
  }
  // oneDNN's sgemm would start an OpenMP team of all cores inside each of
  // the pool's threads.
  OneOmpThread one;
  dnnl_status_t status = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m,
                                    n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  // Only invalid arguments fail, and the callers' shapes are valid.
  if (status != dnnl_success)
    llvm::report_fatal_error("oneDNN's sgemm refused a product of valid shape");
}
} // namespace

void gemmSerial(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                float alpha, const float *a, const float *b, float beta, float *c) {
  sgemm(transA, transB, m, n, k, alpha, a, transA ? m : k, b, transB ? k : n,
        beta, c, n);
}

void gemm(ThreadPool &pool, bool transA, bool transB, int64_t m, int64_t n,
          int64_t k, float alpha, const float *a, const float *b, float beta,
          float *c) {
  // Large products are computed as bands of C — rows of op(A), or columns
  // of op(B), whichever side is longer — handed out to the workers. The
  // bands are a function of the shape alone (kBand wide, the last one
  // partial), never of the thread count: the libraries' kernels sum a band's
  // partial tiles in other orders than a whole call's (OpenBLAS's on AVX-512
  // even for aligned bands), so only the same calls give the same bits, and
  // with fixed bands every --threads value makes the same calls.
  // Products stay whole when they are small (handing out costs more than
  // it saves), thin (the libraries' paths for thin matrices are another
  // summation order), or when a band would fall into the small-matrix
  // kernel some OpenBLAS builds use for at most 100^3 multiply-adds.
  constexpr int64_t kBand = 128, kMinSide = 64;
  constexpr int64_t kSmallKernelMacs = 100 * 100 * 100;
  bool byRows = m >= n;
  int64_t extent = byRows ? m : n, other = byRows ? n : m;
  int64_t bands = (extent + kBand - 1) / kBand;
  if (bands < 2 || other < kMinSide || m * n * k < (int64_t(1) << 18) ||
      kBand * other * k <= kSmallKernelMacs) {
    gemmSerial(transA, transB, m, n, k, alpha, a, b, beta, c);
    return;
  }
  int64_t lda = transA ? m : k, ldb = transB ? k : n;
  auto call = [&](int64_t rows, int64_t cols, const float *pa, const float *pb,
                  float *pc) {
    sgemm(transA, transB, rows, cols, k, alpha, pa, lda, pb, ldb, beta, pc, n);
  };
  pool.parallelFor(bands, 1, [&](int64_t begin, int64_t end) {
    for (int64_t band = begin; band < end; ++band) {
      int64_t lo = band * kBand, hi = std::min(extent, lo + kBand);
      if (byRows)
        call(hi - lo, n, transA ? a + lo : a + lo * lda, b, c + lo * n);
      else
        call(m, hi - lo, a, transB ? b + lo * ldb : b + lo, c + lo);
    }
  });
}

void useCallerThreadsForBlas() {
  if (openblas_get_num_threads() != 1)
    openblas_set_num_threads(1);
}

namespace {

template <typename F>
void forEach(ThreadPool &pool, int64_t n, F f) {
  pool.parallelFor(n, kElementGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      f(i);
  });
}

template <typename Op>
void binaryLoop(ThreadPool &pool, Op op, const float *a,
                llvm::ArrayRef<int64_t> aShape, const float *b,
                llvm::ArrayRef<int64_t> bShape, float *out,
                llvm::ArrayRef<int64_t> outShape) {
  int64_t n = 1;
  for (int64_t d : outShape)
    n *= d;
  if (aShape == outShape && bShape == outShape) {
    forEach(pool, n, [&](int64_t i) { out[i] = op(a[i], b[i]); });
    return;
  }
  int64_t countB = 1;
  for (int64_t d : bShape)
    countB *= d;
  if (aShape == outShape && countB == 1) {
    float s = b[0];
    forEach(pool, n, [&](int64_t i) { out[i] = op(a[i], s); });
    return;
  }
  // General case: walk the output, mapping each index to the operands.
  DimVector sa = broadcastStrides(aShape, outShape);
  DimVector sb = broadcastStrides(bShape, outShape);
  int64_t inner = outShape.empty() ? 1 : outShape.back();
  int64_t rows = inner == 0 ? 0 : n / inner;
  int64_t ia = sa.empty() ? 0 : sa.back(), ib = sb.empty() ? 0 : sb.back();
  pool.parallelFor(rows, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(inner, 1)),
                   [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t offA = rowOffset(r, outShape, sa), offB = rowOffset(r, outShape, sb);
      float *o = out + r * inner;
      for (int64_t j = 0; j < inner; ++j)
        o[j] = op(a[offA + j * ia], b[offB + j * ib]);
    }
  });
}

} // namespace

void broadcastBinary(ThreadPool &pool, BinaryKind kind, const float *a,
                     llvm::ArrayRef<int64_t> aShape, const float *b,
                     llvm::ArrayRef<int64_t> bShape, float *out,
                     llvm::ArrayRef<int64_t> outShape) {
  switch (kind) {
  case BinaryKind::Add:
    return binaryLoop(pool, [](float x, float y) { return x + y; }, a, aShape,
                      b, bShape, out, outShape);
  case BinaryKind::Sub:
    return binaryLoop(pool, [](float x, float y) { return x - y; }, a, aShape,
                      b, bShape, out, outShape);
  case BinaryKind::Mul:
    return binaryLoop(pool, [](float x, float y) { return x * y; }, a, aShape,
                      b, bShape, out, outShape);
  case BinaryKind::Div:
    return binaryLoop(pool, [](float x, float y) { return x / y; }, a, aShape,
                      b, bShape, out, outShape);
  }
}

void unary(ThreadPool &pool, UnaryKind kind, const float *x, float *y,
           int64_t n) {
  // Lambdas, not the functions themselves: a function pointer passed here
  // stays an indirect call per element (the loop neither inlines nor
  // vectorises it; relu ran 10x slower).
  auto apply = [&](auto f) { forEach(pool, n, [&](int64_t i) { y[i] = f(x[i]); }); };
  switch (kind) {
  case UnaryKind::Relu:
    return apply([](float v) { return element::relu(v); });
  case UnaryKind::Tanh:
    return apply([](float v) { return std::tanh(v); });
  case UnaryKind::Sigmoid:
    return apply([](float v) { return element::sigmoid(v); });
  case UnaryKind::Exp:
    return apply([](float v) { return std::exp(v); });
  case UnaryKind::Log:
    return apply([](float v) { return std::log(v); });
  case UnaryKind::Sqrt:
    return apply([](float v) { return std::sqrt(v); });
  case UnaryKind::Rsqrt:
    return apply([](float v) { return element::rsqrt(v); });
  case UnaryKind::Neg:
    return apply([](float v) { return -v; });
  case UnaryKind::Gelu:
    return pool.parallelFor(n, kElementGrain, [&](int64_t begin, int64_t end) {
      geluBlock(x + begin, y + begin, end - begin);
    });
  case UnaryKind::GeluTanh:
    return apply([](float v) { return element::geluTanh(v); });
  }
}

void reluGrad(ThreadPool &pool, const float *grad, const float *input,
              float *out, int64_t n) {
  forEach(pool, n, [&](int64_t i) { out[i] = element::reluGrad(grad[i], input[i]); });
}

void sum(ThreadPool &pool, const float *x, llvm::ArrayRef<int64_t> shape,
         llvm::ArrayRef<int64_t> dims, float *out) {
  // View the input as [outer..., reduced..., inner...] only when the
  // reduced dimensions are contiguous; otherwise fall back to an index walk.
  llvm::SmallVector<bool, 8> reduced(shape.size());
  for (int64_t d : dims)
    reduced[d] = true;
  int64_t first = static_cast<int64_t>(shape.size()), last = -1;
  for (int64_t d : dims) {
    first = std::min(first, d);
    last = std::max(last, d);
  }
  bool contiguous = last - first + 1 == static_cast<int64_t>(dims.size());
  if (contiguous) {
    int64_t outer = 1, mid = 1, inner = 1;
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
      (d < first ? outer : d <= last ? mid : inner) *= shape[d];
    if (inner == 1) {
      // Row sums, in double so long rows do not lose the small terms.
      pool.parallelFor(outer, 16, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
          double s = 0;
          const float *row = x + o * mid;
          for (int64_t j = 0; j < mid; ++j)
            s += row[j];
          out[o] = static_cast<float>(s);
        }
      });
      return;
    }
    // Column sums: blocks of columns accumulate whole rows in double,
    // reading memory in order (a bias gradient sums a [batch, features]
    // matrix over the batch).
    constexpr int64_t kBlock = 256;
    int64_t blocksPerOuter = (inner + kBlock - 1) / kBlock;
    pool.parallelFor(outer * blocksPerOuter, std::max<int64_t>(1, kElementGrain / (kBlock * mid)),
                     [&](int64_t begin, int64_t end) {
      double acc[kBlock];
      for (int64_t t = begin; t < end; ++t) {
        int64_t o = t / blocksPerOuter, c0 = (t % blocksPerOuter) * kBlock;
        int64_t width = std::min(kBlock, inner - c0);
        std::fill(acc, acc + width, 0.0);
        const float *base = x + o * mid * inner + c0;
        for (int64_t j = 0; j < mid; ++j)
          for (int64_t c = 0; c < width; ++c)
            acc[c] += base[j * inner + c];
        for (int64_t c = 0; c < width; ++c)
          out[o * inner + c0 + c] = static_cast<float>(acc[c]);
      }
    });
    return;
  }
  // Reduced dimensions apart from each other (a convolution's bias gradient
  // sums [N, C, H, W] over N, H and W): each output element walks its
  // reduced indices in row-major order, i.e. its terms in input order, as
  // one pass over the input would add them.
  int64_t rank = static_cast<int64_t>(shape.size());
  DimVector keptShape, keptStrides, redShape, redStrides;
  for (int64_t d = rank - 1, stride = 1; d >= 0; stride *= shape[d], --d) {
    (reduced[d] ? redShape : keptShape).insert(
        (reduced[d] ? redShape : keptShape).begin(), shape[d]);
    (reduced[d] ? redStrides : keptStrides).insert(
        (reduced[d] ? redStrides : keptStrides).begin(), stride);
  }
  // No reduced dimension: one term per output, a copy.
  if (redShape.empty()) {
    redShape.push_back(1);
    redStrides.push_back(1);
  }
  int64_t outCount = product(keptShape), terms = product(redShape);
  int64_t lastExtent = redShape.back(), lastStride = redStrides.back();
  int64_t outerTerms = terms / std::max<int64_t>(lastExtent, 1);
  pool.parallelFor(outCount, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(terms, 1)),
                   [&](int64_t begin, int64_t end) {
    DimVector index(redShape.size());
    for (int64_t o = begin; o < end; ++o) {
      int64_t offset = 0;
      for (int64_t d = static_cast<int64_t>(keptShape.size()) - 1, rest = o; d >= 0; --d) {
        offset += (rest % keptShape[d]) * keptStrides[d];
        rest /= keptShape[d];
      }
      std::fill(index.begin(), index.end(), 0);
      double s = 0;
      for (int64_t t = 0; t < outerTerms; ++t) {
        const float *run = x + offset;
        for (int64_t j = 0; j < lastExtent; ++j)
          s += run[j * lastStride];
        // The next run: an odometer over the other reduced dimensions.
        for (int64_t d = static_cast<int64_t>(redShape.size()) - 2; d >= 0; --d) {
          offset += redStrides[d];
          if (++index[d] < redShape[d])
            break;
          offset -= redStrides[d] * redShape[d];
          index[d] = 0;
        }
      }
      out[o] = static_cast<float>(s);
    }
  });
}

namespace {
/// Row i's log-sum-exp, and the smoothed target's weight per class.
struct RowStats {
  float max, logSumExp;
};
RowStats rowStats(const float *row, int64_t classes) {
  float m = *std::max_element(row, row + classes);
  double s = 0;
  for (int64_t c = 0; c < classes; ++c)
    s += std::exp(static_cast<double>(row[c] - m));
  return {m, static_cast<float>(std::log(s))};
}
} // namespace

void crossEntropy(ThreadPool &pool, const float *logits, const int64_t *target,
                  int64_t n, int64_t classes, LossReduction reduction,
                  int64_t ignoreIndex, float labelSmoothing, float *out,
                  double *perSample) {
  std::fill(perSample, perSample + n, 0.0);
  pool.parallelFor(n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (target[i] == ignoreIndex)
        continue;
      const float *row = logits + i * classes;
      RowStats st = rowStats(row, classes);
      // -log p_c = max + logsumexp - logit_c
      double nll = st.max + st.logSumExp - row[target[i]];
      double smooth = 0;
      if (labelSmoothing > 0) {
        for (int64_t c = 0; c < classes; ++c)
          smooth += st.max + st.logSumExp - row[c];
        smooth /= classes;
      }
      perSample[i] = (1.0 - labelSmoothing) * nll + labelSmoothing * smooth;
    }
  });
  if (reduction == LossReduction::None) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(perSample[i]);
    return;
  }
  double total = 0;
  int64_t counted = 0;
  for (int64_t i = 0; i < n; ++i) {
    total += perSample[i];
    counted += target[i] != ignoreIndex;
  }
  out[0] = static_cast<float>(
      reduction == LossReduction::Mean ? total / static_cast<double>(counted)
                                       : total);
}

void crossEntropyGrad(ThreadPool &pool, const float *grad, const float *logits,
                      const int64_t *target, int64_t n, int64_t classes,
                      LossReduction reduction, int64_t ignoreIndex,
                      float labelSmoothing, float *out) {
  int64_t counted = 0;
  for (int64_t i = 0; i < n; ++i)
    counted += target[i] != ignoreIndex;
  pool.parallelFor(n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float *o = out + i * classes;
      if (target[i] == ignoreIndex) {
        std::fill(o, o + classes, 0.0f);
        continue;
      }
      float g = reduction == LossReduction::None ? grad[i]
                : reduction == LossReduction::Mean
                    ? grad[0] / static_cast<float>(counted)
                    : grad[0];
      const float *row = logits + i * classes;
      RowStats st = rowStats(row, classes);
      float uniform = labelSmoothing / static_cast<float>(classes);
      for (int64_t c = 0; c < classes; ++c) {
        float p = std::exp(row[c] - st.max - st.logSumExp);
        float y = uniform + (c == target[i] ? 1.0f - labelSmoothing : 0.0f);
        o[c] = g * (p - y);
      }
    }
  });
}

void batchedMatmul(ThreadPool &pool, const float *a, llvm::ArrayRef<int64_t> aShape,
                   bool transA, const float *b, llvm::ArrayRef<int64_t> bShape,
                   bool transB, float *out, llvm::ArrayRef<int64_t> outShape) {
  int64_t aRows = aShape[aShape.size() - 2], aCols = aShape.back();
  int64_t m = transA ? aCols : aRows, k = transA ? aRows : aCols;
  int64_t n = transB ? bShape[bShape.size() - 2] : bShape.back();
  llvm::ArrayRef<int64_t> batch = outShape.drop_back(2);
  llvm::ArrayRef<int64_t> aBatch = aShape.drop_back(2), bBatch = bShape.drop_back(2);
  DimVector sa = broadcastStrides(aBatch, batch);
  DimVector sb = broadcastStrides(bBatch, batch);
  int64_t count = 1;
  for (int64_t d : batch)
    count *= d;
  auto product = [&](int64_t i, bool serial) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
      int64_t idx = rest % batch[d];
      rest /= batch[d];
      ia += idx * sa[d];
      ib += idx * sb[d];
    }
    if (serial)
      gemmSerial(transA, transB, m, n, k, 1.0f, a + ia * m * k, b + ib * k * n,
                 0.0f, out + i * m * n);
    else
      gemm(pool, transA, transB, m, n, k, 1.0f, a + ia * m * k, b + ib * k * n,
           0.0f, out + i * m * n);
  };
  // Many small products (attention heads) spread over the workers; a few
  // large ones are split inside.
  if (count >= pool.size()) {
    pool.parallelFor(count, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        product(i, /*serial=*/true);
    });
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    product(i, /*serial=*/false);
}

void permute(ThreadPool &pool, const float *x, llvm::ArrayRef<int64_t> shape,
             llvm::ArrayRef<int64_t> perm, float *out) {
  size_t rank = shape.size();
  if (rank == 0) {
    out[0] = x[0];
    return;
  }
  DimVector inStrides(rank, 1), outShape(rank);
  for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * shape[d + 1];
  // Input stride of each output dimension.
  DimVector strides(rank);
  for (size_t d = 0; d < rank; ++d) {
    outShape[d] = shape[perm[d]];
    strides[d] = inStrides[perm[d]];
  }
  // Output rows (the last output dimension): one index decomposition per
  // row, then a strided (or, when the last dimension stays last,
  // contiguous) copy.
  int64_t inner = outShape.back(), step = strides.back();
  int64_t rows = inner == 0 ? 0 : product(outShape) / inner;
  pool.parallelFor(rows, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(inner, 1)),
                   [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *src = x + rowOffset(r, outShape, strides);
      float *dst = out + r * inner;
      if (step == 1)
        std::copy(src, src + inner, dst);
      else
        for (int64_t j = 0; j < inner; ++j)
          dst[j] = src[j * step];
    }
  });
}

void slice(ThreadPool &pool, const uint8_t *x, llvm::ArrayRef<int64_t> shape,
           int64_t dim, int64_t start, int64_t end, int64_t step,
           size_t elementBytes, uint8_t *out) {
  // Rows of `inner` contiguous elements: [outer, size, inner] -> [outer, taken, inner].
  int64_t outer = 1, inner = static_cast<int64_t>(elementBytes);
  for (int64_t d = 0; d < dim; ++d)
    outer *= shape[d];
  for (size_t d = dim + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t size = shape[dim], taken = (end - start + step - 1) / step;
  pool.parallelFor(outer, 1, [&](int64_t begin, int64_t last) {
    for (int64_t o = begin; o < last; ++o)
      for (int64_t t = 0; t < taken; ++t) {
        const uint8_t *src = x + (o * size + start + t * step) * inner;
        std::copy(src, src + inner, out + (o * taken + t) * inner);
      }
  });
}

void sliceGrad(ThreadPool &pool, const float *grad,
               llvm::ArrayRef<int64_t> inputShape, int64_t dim, int64_t start,
               int64_t end, int64_t step, float *out) {
  // [outer, size, inner] zeros, with rows start, start + step, ... taken
  // from grad's [outer, taken, inner].
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= inputShape[d];
  for (size_t d = dim + 1; d < inputShape.size(); ++d)
    inner *= inputShape[d];
  int64_t size = inputShape[dim], taken = (end - start + step - 1) / step;
  pool.parallelFor(outer, 1, [&](int64_t begin, int64_t last) {
    for (int64_t o = begin; o < last; ++o) {
      float *row = out + o * size * inner;
      std::fill(row, row + size * inner, 0.0f);
      for (int64_t t = 0; t < taken; ++t) {
        const float *src = grad + (o * taken + t) * inner;
        std::copy(src, src + inner, row + (start + t * step) * inner);
      }
    }
  });
}

void concat(ThreadPool &pool, llvm::ArrayRef<const uint8_t *> parts,
            llvm::ArrayRef<int64_t> sizes, int64_t outer, int64_t innerBytes,
            uint8_t *out) {
  int64_t total = 0;
  for (int64_t s : sizes)
    total += s;
  pool.parallelFor(outer, 1, [&](int64_t begin, int64_t last) {
    for (int64_t o = begin; o < last; ++o) {
      uint8_t *row = out + o * total * innerBytes;
      for (size_t i = 0; i < parts.size(); ++i) {
        int64_t bytes = sizes[i] * innerBytes;
        const uint8_t *src = parts[i] + o * bytes;
        std::copy(src, src + bytes, row);
        row += bytes;
      }
    }
  });
}

void mseLoss(ThreadPool &pool, const float *x, const float *target, int64_t n,
             LossReduction reduction, float *out) {
  if (reduction == LossReduction::None) {
    pool.parallelFor(n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float d = x[i] - target[i];
        out[i] = d * d;
      }
    });
    return;
  }
  // Each squared difference rounded to f32 as ATen's, summed in double in
  // element order (whatever the threads), which is at least as accurate as
  // ATen's float accumulation.
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    float d = x[i] - target[i];
    total += static_cast<double>(d * d);
  }
  out[0] = static_cast<float>(reduction == LossReduction::Mean
                                  ? total / static_cast<double>(n)
                                  : total);
}

void softmax(ThreadPool &pool, const float *x, int64_t rows, int64_t cols,
             bool log, float *out) {
  pool.parallelFor(rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *row = x + r * cols;
      float *o = out + r * cols;
      // As ATen: exp(x - max) once per element (in f32, through glibc's
      // vector exp, as ATen's goes through Sleef's), summed in double;
      // softmax scales by 1 / sum, log_softmax subtracts max + log(sum).
      // `o` may be `row`: each element is read before it is written, and
      // log_softmax stages its exponentials on the stack.
      float m = *std::max_element(row, row + cols);
      double s = 0;
      if (log) {
        constexpr int64_t kStage = 256;
        float staged[kStage];
        for (int64_t base = 0; base < cols; base += kStage) {
          int64_t len = std::min(kStage, cols - base);
          for (int64_t c = 0; c < len; ++c)
            staged[c] = row[base + c] - m;
          expBlock(staged, staged, len);
          for (int64_t c = 0; c < len; ++c)
            s += staged[c];
        }
        float shift = m + static_cast<float>(std::log(s));
        for (int64_t c = 0; c < cols; ++c)
          o[c] = row[c] - shift;
        continue;
      }
      for (int64_t c = 0; c < cols; ++c)
        o[c] = row[c] - m;
      expBlock(o, o, cols);
      for (int64_t c = 0; c < cols; ++c)
        s += o[c];
      float inverse = static_cast<float>(1.0 / s);
      for (int64_t c = 0; c < cols; ++c)
        o[c] *= inverse;
    }
  });
}

void softmaxGrad(ThreadPool &pool, const float *grad, const float *y,
                 int64_t rows, int64_t cols, bool log, float *out) {
  pool.parallelFor(rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float *g = grad + r * cols, *yr = y + r * cols;
      float *o = out + r * cols;
      double s = 0;
      if (log) {
        // d log_softmax: g - exp(y) * Σ g
        for (int64_t c = 0; c < cols; ++c)
          s += g[c];
        for (int64_t c = 0; c < cols; ++c)
          o[c] = g[c] - std::exp(yr[c]) * static_cast<float>(s);
      } else {
        // d softmax: y * (g - Σ g y)
        for (int64_t c = 0; c < cols; ++c)
          s += static_cast<double>(g[c]) * yr[c];
        for (int64_t c = 0; c < cols; ++c)
          o[c] = yr[c] * (g[c] - static_cast<float>(s));
      }
    }
  });
}

void geluGrad(ThreadPool &pool, const float *grad, const float *x, bool tanh,
              float *out, int64_t n) {
  if (tanh)
    forEach(pool, n, [&](int64_t i) { out[i] = element::geluTanhGrad(grad[i], x[i]); });
  else
    pool.parallelFor(n, kElementGrain, [&](int64_t begin, int64_t end) {
      geluGradBlock(grad + begin, x + begin, out + begin, end - begin);
    });
}

void clamp(ThreadPool &pool, const float *x, float lo, float hi, float *out,
           int64_t n) {
  // As ATen's clamp: NaN fails both comparisons and passes through.
  forEach(pool, n, [&](int64_t i) {
    float v = x[i];
    out[i] = v < lo ? lo : (v > hi ? hi : v);
  });
}

void clampGrad(ThreadPool &pool, const float *grad, const float *input,
               float lo, float hi, float *out, int64_t n) {
  // As ATen's vectorised loop, which every element of a tensor of a few
  // vectors takes: a NaN input fails both comparisons and gets no gradient.
  // (ATen's scalar tail loop writes the condition the other way round and
  // passes it; torch 1.13 and 2.15 alike.)
  forEach(pool, n, [&](int64_t i) {
    float v = input[i];
    out[i] = (v > lo && v < hi) ? grad[i] : 0.0f;
  });
}

void intToFloat(ThreadPool &pool, const int64_t *x, float *out, int64_t n) {
  forEach(pool, n, [&](int64_t i) { out[i] = static_cast<float>(x[i]); });
}

void boolToFloat(ThreadPool &pool, const uint8_t *x, float *out, int64_t n) {
  forEach(pool, n, [&](int64_t i) { out[i] = x[i] ? 1.0f : 0.0f; });
}

} // namespace accel::rt::cpu
