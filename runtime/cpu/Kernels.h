//===- Kernels.h - CPU kernels of the training step -------------*- C++ -*-===//
//
// The computations the CPU driver runs, on contiguous row-major f32 buffers
// (i64 for class indices). Matrix products go to oneDNN's sgemm (OpenBLAS
// with ACCEL_GEMM=openblas); the rest are
// loops the compiler vectorises, split across the thread pool by rows or
// elements. Each kernel is checked against LibTorch in
// tests/unit/CpuKernelsTest.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_KERNELS_H
#define ACCEL_RUNTIME_CPU_KERNELS_H

#include "runtime/cpu/ThreadPool.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>

namespace accel::rt::cpu {

/// The library that computes products: oneDNN's sgemm (JIT kernels for the
/// CPU it runs on: AVX-512 where the CPU has it, twice OpenBLAS 0.3.21's
/// AVX2 kernels a core), or OpenBLAS with ACCEL_GEMM=openblas in the
/// environment (read once).
enum class GemmLibrary { OneDnn, OpenBlas };
GemmLibrary gemmLibrary();

/// C = alpha * op(A) op(B) + beta * C, row-major, op(A) is M x K and op(B)
/// is K x N: the library's sgemm, split into bands of C over the pool's
/// workers. The library itself runs single-threaded (one OpenMP thread for
/// oneDNN; useCallerThreadsForBlas for OpenBLAS): its own threads spin
/// after each call and would take the cores the elementwise kernels need
/// next.
void gemm(ThreadPool &pool, bool transA, bool transB, int64_t m, int64_t n,
          int64_t k, float alpha, const float *a, const float *b, float beta,
          float *c);
/// The same on the calling thread alone (inside a parallel loop).
void gemmSerial(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                float alpha, const float *a, const float *b, float beta, float *c);
/// Makes OpenBLAS run each call on the calling thread.
void useCallerThreadsForBlas();

enum class BinaryKind { Add, Sub, Mul, Div };

/// out = a (op) b with NumPy broadcasting; `outShape` is the broadcast of
/// the two shapes.
void broadcastBinary(ThreadPool &pool, BinaryKind kind, const float *a,
                     llvm::ArrayRef<int64_t> aShape, const float *b,
                     llvm::ArrayRef<int64_t> bShape, float *out,
                     llvm::ArrayRef<int64_t> outShape);

enum class UnaryKind { Relu, Tanh, Sigmoid, Exp, Log, Sqrt, Rsqrt, Neg, Gelu, GeluTanh };

void unary(ThreadPool &pool, UnaryKind kind, const float *x, float *y,
           int64_t n);

/// min(max(x, lo), hi), NaN passed through (hardtanh).
void clamp(ThreadPool &pool, const float *x, float lo, float hi, float *out,
           int64_t n);
/// grad where lo < input < hi, else 0 (aten::hardtanh_backward's
/// vectorised loop: a NaN input gets 0).
void clampGrad(ThreadPool &pool, const float *grad, const float *input,
               float lo, float hi, float *out, int64_t n);

/// grad where input > 0, else 0.
void reluGrad(ThreadPool &pool, const float *grad, const float *input,
              float *out, int64_t n);

/// Sums `x` (of `shape`) over `dims` into `out` (the remaining dimensions,
/// in order).
void sum(ThreadPool &pool, const float *x, llvm::ArrayRef<int64_t> shape,
         llvm::ArrayRef<int64_t> dims, float *out);

/// Batched matrix product with broadcast batch dimensions, as accel.matmul:
/// op(a) is [..., m, k], op(b) is [..., k, n], out is [batch..., m, n],
/// where op transposes the last two dimensions of the stored operand when
/// its flag is set (so a transpose feeding a product costs nothing).
void batchedMatmul(ThreadPool &pool, const float *a, llvm::ArrayRef<int64_t> aShape,
                   bool transA, const float *b, llvm::ArrayRef<int64_t> bShape,
                   bool transB, float *out, llvm::ArrayRef<int64_t> outShape);

/// out[i_perm] = x[i]: result dimension d is input dimension perm[d].
void permute(ThreadPool &pool, const float *x, llvm::ArrayRef<int64_t> shape,
             llvm::ArrayRef<int64_t> perm, float *out);

/// out = x[..., start:end:step, ...] along `dim` (0 <= start <= end <= size),
/// for elements of any size (f32 activations, i64 labels).
void slice(ThreadPool &pool, const uint8_t *x, llvm::ArrayRef<int64_t> shape,
           int64_t dim, int64_t start, int64_t end, int64_t step,
           size_t elementBytes, uint8_t *out);

/// The gradient of slice(): `grad` (the slice's shape) scattered into zeros
/// of the input's shape.
void sliceGrad(ThreadPool &pool, const float *grad,
               llvm::ArrayRef<int64_t> inputShape, int64_t dim, int64_t start,
               int64_t end, int64_t step, float *out);

/// Joins `parts` along a dimension, for elements of any size: the result
/// is [outer, sum(sizes), inner elements], part i contributing sizes[i]
/// rows of `innerBytes` each per outer index.
void concat(ThreadPool &pool, llvm::ArrayRef<const uint8_t *> parts,
            llvm::ArrayRef<int64_t> sizes, int64_t outer, int64_t innerBytes,
            uint8_t *out);

/// softmax (or log-softmax) over the last dimension of [rows, cols].
void softmax(ThreadPool &pool, const float *x, int64_t rows, int64_t cols,
             bool log, float *out);
/// Their gradients, from the forward's output y.
void softmaxGrad(ThreadPool &pool, const float *grad, const float *y,
                 int64_t rows, int64_t cols, bool log, float *out);

/// grad * gelu'(x), exact (erf) or tanh-approximated.
void geluGrad(ThreadPool &pool, const float *grad, const float *x, bool tanh,
              float *out, int64_t n);

/// Element conversion to f32 from i64 or i1 (stored as one byte).
void intToFloat(ThreadPool &pool, const int64_t *x, float *out, int64_t n);
void boolToFloat(ThreadPool &pool, const uint8_t *x, float *out, int64_t n);

enum class LossReduction { None, Mean, Sum };

/// torch.nn.functional.cross_entropy on [n, classes] logits: `out` is one
/// value (mean, sum) or n values (none). `perSample` is n doubles of
/// workspace (the losses are summed in sample order, whatever the threads).
void crossEntropy(ThreadPool &pool, const float *logits, const int64_t *target,
                  int64_t n, int64_t classes, LossReduction reduction,
                  int64_t ignoreIndex, float labelSmoothing, float *out,
                  double *perSample);

/// The gradient with respect to the logits, given the loss's gradient
/// `grad` (one value, or n for reduction none).
void crossEntropyGrad(ThreadPool &pool, const float *grad, const float *logits,
                      const int64_t *target, int64_t n, int64_t classes,
                      LossReduction reduction, int64_t ignoreIndex,
                      float labelSmoothing, float *out);

/// torch.nn.functional.mse_loss of two tensors of n elements: one value
/// (mean, sum; accumulated in double) or n values (none).
void mseLoss(ThreadPool &pool, const float *x, const float *target, int64_t n,
             LossReduction reduction, float *out);

/// torch.nn.functional.layer_norm over the last `cols` elements of each of
/// `rows` rows; `weight` and `bias` (of `cols`) may be null.
void layerNorm(ThreadPool &pool, const float *x, const float *weight,
               const float *bias, int64_t rows, int64_t cols, double eps,
               float *out);

/// Its gradients (aten::native_layer_norm_backward), recomputing the row
/// statistics from `x`. The parameter gradients are summed over fixed row
/// blocks in `scratch` (layerNormGradScratch(cols) floats), so they do not
/// depend on the thread count.
constexpr int64_t kLayerNormGradBlocks = 64;
int64_t layerNormGradScratch(int64_t cols);
void layerNormGrad(ThreadPool &pool, const float *grad, const float *x,
                   const float *weight, int64_t rows, int64_t cols, double eps,
                   float *gradInput, float *gradWeight, float *gradBias,
                   float *scratch);

/// out[i] = weight[indices[i]] for `count` indices into a [rows, dim]
/// table. Returns the position of the first index out of range (its row is
/// zeroed), or -1.
int64_t embedding(ThreadPool &pool, const float *weight, int64_t rows,
                  int64_t dim, const int64_t *indices, int64_t count,
                  float *out);

/// The table's gradient: the rows of `grad` summed at their indices (which
/// embedding has checked).
void embeddingGrad(ThreadPool &pool, const float *grad, const int64_t *indices,
                   int64_t count, int64_t rows, int64_t dim, float *out);

/// out = mask ? value : x, mask (one byte per element) and x broadcast to
/// `outShape`.
void maskedFill(ThreadPool &pool, const float *x, llvm::ArrayRef<int64_t> xShape,
                const uint8_t *mask, llvm::ArrayRef<int64_t> maskShape,
                float value, float *out, llvm::ArrayRef<int64_t> outShape);

/// Inverted dropout with the Philox mask of Philox.h: out = x / (1 - p)
/// where kept (x itself without `rescale`), else 0. Applied to a gradient
/// with the forward's seed and stream, it is dropout's backward. `first`
/// is the global element number of x[0] when x is one rank's slice of a
/// larger tensor.
void dropout(ThreadPool &pool, const float *x, int64_t n, double p,
             uint64_t seed, uint64_t stream, float *out, uint64_t first = 0,
             bool rescale = true);

//===----------------------------------------------------------------------===//
// Convolution, pooling, batch norm (ConvKernels.cpp)
//===----------------------------------------------------------------------===//

/// A 2-d convolution: input [batch, channels, height, width], weight
/// [outChannels, channels / groups, kernelH, kernelW], output
/// [batch, outChannels, outH, outW].
struct Conv2dGeometry {
  int64_t batch, channels, height, width;
  int64_t outChannels, kernelH, kernelW, outH, outW;
  int64_t strideH, strideW, padH, padW, dilationH, dilationW, groups;
  /// Samples whose columns go into one product; 0 lets the workspace size
  /// decide (the tests set it to cover several chunks of a small batch).
  int64_t samplesPerProduct = 0;
  /// Floats of im2col workspace the kernels need.
  int64_t columnFloats() const;
  /// Whether some kernel taps multiply padding only, for every output (a
  /// 3x3 convolution of 1x1 images): the im2col kernels crop them.
  bool hasDeadTaps() const;
};

/// torch.nn.functional.conv2d (bias may be null) via im2col and OpenBLAS.
void conv2d(ThreadPool &pool, const Conv2dGeometry &g, const float *input, const float *weight,
            const float *bias, float *out, float *columns);
/// Its gradients with respect to the input and the weight.
void conv2dGradInput(ThreadPool &pool, const Conv2dGeometry &g, const float *grad,
                     const float *weight, float *gradInput, float *columns);
void conv2dGradWeight(ThreadPool &pool, const Conv2dGeometry &g, const float *grad,
                      const float *input, float *gradWeight, float *columns);

/// Pooling over the last two dimensions of `planes` planes.
struct Pool2dGeometry {
  int64_t planes, height, width, outH, outW;
  int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1, padH = 0,
          padW = 0, dilationH = 1, dilationW = 1;
  bool countIncludePad = false;
};

/// max_pool2d (implicit -inf padding; the first maximum of a window wins,
/// as in ATen) and its gradient, which routes to that element.
void maxPool2d(ThreadPool &pool, const Pool2dGeometry &g, const float *input,
               float *out);
void maxPool2dGrad(ThreadPool &pool, const Pool2dGeometry &g, const float *grad,
                   const float *input, float *gradInput);
/// avg_pool2d with ATen's divisor rules (count_include_pad) and its gradient.
void avgPool2d(ThreadPool &pool, const Pool2dGeometry &g, const float *input,
               float *out);
void avgPool2dGrad(ThreadPool &pool, const Pool2dGeometry &g, const float *grad,
                   float *gradInput);
/// adaptive_avg_pool2d (bins [floor(o*in/out), ceil((o+1)*in/out))) and
/// its gradient.
void adaptiveAvgPool2d(ThreadPool &pool, const Pool2dGeometry &g,
                       const float *input, float *out);
void adaptiveAvgPool2dGrad(ThreadPool &pool, const Pool2dGeometry &g,
                           const float *grad, float *gradInput);

/// Batch norm over [batch, channels, inner...].
struct BatchNormGeometry {
  int64_t batch, channels, inner;
  double eps, momentum;
  bool training;
};
/// torch.nn.functional.batch_norm: in training the batch statistics
/// normalise and the running ones move by `momentum` (unbiased variance);
/// otherwise the running statistics normalise and are returned unchanged.
void batchNorm(ThreadPool &pool, const BatchNormGeometry &g, const float *x,
               const float *weight, const float *bias, const float *runningMean,
               const float *runningVar, float *out, float *newMean,
               float *newVar);
/// aten::native_batch_norm_backward.
void batchNormGrad(ThreadPool &pool, const BatchNormGeometry &g,
                   const float *grad, const float *x, const float *weight,
                   const float *runningMean, const float *runningVar,
                   float *gradInput, float *gradWeight, float *gradBias);

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_KERNELS_H
