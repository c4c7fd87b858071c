//===- DeviceKernels.h - the OpenCL and CUDA drivers' kernels -*- C++ -*-===//
//
// The kernels the OpenCL and CUDA drivers run, compiled when a program is
// loaded (by the OpenCL implementation; by NVRTC): a fixed library
// (elementwise with broadcasting, reductions, losses, conversions between
// every float type, FP8 scaling) and, per fused instruction, a kernel
// generated from its FusedBody. The
// source is OpenCL C restricted to what CUDA C++ also reads once a short
// prelude names OpenCL's qualifiers and built-ins (prelude()): one source,
// two languages (each with its own exp, erf and tanh). The per-element
// maths follows the CPU driver's (runtime/cpu/ElementOps.h, Kernels.cpp):
// accumulations in double where it accumulates in double, NaN kept by
// ReLU, the CPU's reduction order where one work item reduces (sums, norm
// gradients, losses over narrow rows); softmax, cross-entropy and layer
// norm rows of 16 or more columns are reduced by a work group in a fixed
// tree order, and sums over 1024 or more leading rows in column blocks.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_HAL_PLUGINS_KERNELS_DEVICEKERNELS_H
#define ACCEL_RUNTIME_HAL_PLUGINS_KERNELS_DEVICEKERNELS_H

#include "runtime/executor/Program.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace accel::rt::devicekernels {

/// Operation codes of the library's `unary` and `binary` kernels.
enum UnaryCode { kRelu, kTanh, kSigmoid, kExp, kLog, kSqrt, kRsqrt, kNeg,
                 kGelu, kGeluTanh };
enum BinaryCode { kAdd, kSub, kMul, kDiv, kReluGrad, kGeluGrad,
                  kGeluTanhGrad };

/// The largest rank the broadcasting and reduction kernels take.
constexpr int kMaxRank = 8;

enum class Language { OpenCL, Cuda };

/// What precedes the kernel source in `language`.
const char *prelude(Language language);

/// The fixed kernel library.
const char *kernelLibrary();

/// A kernel named `name` computing fused body `body` over n elements:
/// arguments (pointer, element offset) per operand, then per result, then
/// n. `scalar[i]`: operand i has one element, read for every element.
llvm::Expected<std::string> fusedKernel(const FusedBody &body,
                                        const std::vector<bool> &scalar,
                                        const std::string &name);

/// Why a driver named `driver` ("OpenCL") cannot run `p` with these
/// kernels (a kernel they lack) in a job of `ranks` processes, or "".
std::string unsupported(const Program &p, const std::string &driver, int ranks);

/// The kernels they run, comma-separated (the ABI's `kernels` string).
std::string supportedKernelList();

/// Everything `p` runs: the library and a kernel per fused instruction
/// (named fused_PC), without the prelude.
llvm::Expected<std::string> programSource(const Program &p);

/// The code of an elementwise kernel in the library, or -1.
int unaryCode(Kernel kernel);
int binaryCode(Kernel kernel);

} // namespace accel::rt::devicekernels

#endif // ACCEL_RUNTIME_HAL_PLUGINS_KERNELS_DEVICEKERNELS_H
