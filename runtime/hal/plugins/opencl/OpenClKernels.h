//===- OpenClKernels.h - the OpenCL driver's kernel source ------*- C++ -*-===//
//
// OpenCL C for the kernels the OpenCL driver runs, compiled by the OpenCL
// implementation when a program is loaded: a fixed library (elementwise
// with broadcasting, reductions, cross-entropy, conversions) and, per fused
// instruction, a kernel generated from its FusedBody. The per-element maths
// follows the CPU driver's (runtime/cpu/ElementOps.h, Kernels.cpp):
// accumulations in double where it accumulates in double, NaN kept by
// ReLU, the same reduction order for losses.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_HAL_PLUGINS_OPENCL_OPENCLKERNELS_H
#define ACCEL_RUNTIME_HAL_PLUGINS_OPENCL_OPENCLKERNELS_H

#include "runtime/executor/Program.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace accel::rt::opencl {

/// Operation codes of the library's `unary` and `binary` kernels.
enum UnaryCode { kRelu, kTanh, kSigmoid, kExp, kLog, kSqrt, kRsqrt, kNeg,
                 kGelu, kGeluTanh };
enum BinaryCode { kAdd, kSub, kMul, kDiv, kReluGrad, kGeluGrad,
                  kGeluTanhGrad };

/// The largest rank the broadcasting and reduction kernels take.
constexpr int kMaxRank = 8;

/// The fixed kernel library.
const char *kernelLibrary();

/// A kernel named `name` computing fused body `body` over n elements:
/// arguments (pointer, element offset) per operand, then per result, then
/// n. `scalar[i]`: operand i has one element, read for every element.
llvm::Expected<std::string> fusedKernel(const FusedBody &body,
                                        const std::vector<bool> &scalar,
                                        const std::string &name);

/// The code of an elementwise kernel in the library, or -1.
int unaryCode(Kernel kernel);
int binaryCode(Kernel kernel);

} // namespace accel::rt::opencl

#endif // ACCEL_RUNTIME_HAL_PLUGINS_OPENCL_OPENCLKERNELS_H
