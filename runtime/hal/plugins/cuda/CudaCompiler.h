//===- CudaCompiler.h - the CUDA driver's kernels through NVRTC -*- C++ -*-===//
//
// The CUDA driver compiles a program's kernels (kernels/DeviceKernels.cpp
// behind the CUDA prelude) with NVRTC when it loads the program: to a
// CUBIN for the device's architecture. The same call, asked for PTX, is
// what CI checks without a GPU (cuda-compile-kernels, then ptxas).
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_HAL_PLUGINS_CUDA_CUDACOMPILER_H
#define ACCEL_RUNTIME_HAL_PLUGINS_CUDA_CUDACOMPILER_H

#include "runtime/executor/Program.h"

#include "llvm/Support/Error.h"

#include <string>

namespace accel::rt::cuda {

/// Compiles kernel source (DeviceKernels.h's, without the prelude) for
/// `arch`: "sm_90" gives a CUBIN (NVRTC runs ptxas itself), "compute_90"
/// PTX. A compile error carries NVRTC's log.
llvm::Expected<std::string> compileKernels(const std::string &kernels,
                                           const std::string &arch);

/// compileKernels of everything `p` runs.
llvm::Expected<std::string> compileProgramKernels(const Program &p,
                                                  const std::string &arch);

/// The options every compile uses: unannotated functions on the device,
/// IEEE division and square roots, and no contraction into fused
/// multiply-adds, so each element rounds as on the CPU.
const char *const *compileOptions(int *count);

} // namespace accel::rt::cuda

#endif // ACCEL_RUNTIME_HAL_PLUGINS_CUDA_CUDACOMPILER_H
