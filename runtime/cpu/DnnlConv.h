//===- DnnlConv.h - convolutions through oneDNN -----------------*- C++ -*-===//
//
// oneDNN (Debian's libdnnl) has direct convolution kernels, generated for
// the CPU at hand (AVX-512, AVX2, ...), that beat im2col + a product on the
// small images of a training step (ResNet-18 at 32x32: 2-3x for the forward
// and both gradients). They want their own blocked layouts, so each call
// reorders its operands from and its result to accel's NCHW tensors.
//
// Threads: the Debian build runs its kernels on OpenMP threads, whose
// workers spin for a while after every parallel region (libgomp's
// default wait policy) and would compete with the thread pool's workers on
// the kernels that follow. So oneDNN runs single-threaded here, in the
// pool's threads, on pieces of the work fixed by the geometry alone (never
// by the thread count, so that no bit of a step depends on it): the
// forward and input gradient on up to 8 slices of the batch, the weight
// gradient on up to 8 ranges of output channels over the whole batch
// (each weight's sum is one primitive's, in one order).
//
// Everything oneDNN needs is created when the executor loads the program:
// primitives, reorders, and the memory objects over a workspace the
// executor allocates once. A call then only points the memory objects at
// the step's tensors and executes.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_DNNLCONV_H
#define ACCEL_RUNTIME_CPU_DNNLCONV_H

#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/ThreadPool.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace accel::rt::cpu {

enum class ConvKernel { Forward, GradInput, GradWeight };

/// One convolution kernel (the forward, or one of its gradients) of one
/// geometry, planned for oneDNN.
class DnnlConv {
public:
  /// Null where accel's own kernels serve better or oneDNN cannot: work
  /// that makes one piece only (a batch of one; a weight gradient of fewer
  /// than 32 output channels, of a channel count that is not a multiple of
  /// 16, or of a grouped convolution), kernel taps
  /// that see only padding (the im2col path crops them), or oneDNN
  /// offering only its reference loops. ACCEL_CONV=im2col in the
  /// environment turns oneDNN off.
  static std::unique_ptr<DnnlConv> plan(ConvKernel kernel,
                                        const Conv2dGeometry &g, bool bias);
  ~DnnlConv();

  /// Bytes of workspace the kernel needs (the operands in oneDNN's layouts,
  /// its scratchpads, partial weight gradients), and binds the kernel to
  /// `workspace` (64-byte aligned, alive as long as this), once.
  size_t workspaceBytes() const;
  void bind(uint8_t *workspace);

  /// Operands in the order of the im2col kernels: Forward (input, weight,
  /// bias or null) -> out; GradInput (grad, weight) -> gradInput;
  /// GradWeight (grad, input) -> gradWeight.
  void run(ThreadPool &pool, const float *a, const float *b, const float *bias,
           float *out);

  /// oneDNN's name for the implementation it chose ("jit:avx512_core").
  std::string implementation() const;

  struct Impl;

private:
  explicit DnnlConv(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_DNNLCONV_H
