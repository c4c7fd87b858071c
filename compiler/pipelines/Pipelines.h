//===- Pipelines.h - named accel pass pipelines -----------------*- C++ -*-===//
//
// Each pipeline is a function over an options struct, so accel-opt's
// registered pipeline and a C++ caller build exactly the same pass list.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_PIPELINES_PIPELINES_H
#define ACCEL_COMPILER_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace accel {

struct ForwardPipelineOptions
    : public mlir::PassPipelineOptions<ForwardPipelineOptions> {
  Option<std::string> entry{*this, "entry",
                            llvm::cl::desc("Name of the forward function"),
                            llvm::cl::init("forward")};
};

/// Checks the forward contract, then simplifies the imported function with
/// the accel folders and canonicalisations and CSE.
void buildForwardPipeline(mlir::OpPassManager &pm,
                          const ForwardPipelineOptions &options);

/// Registers every named accel pipeline with the global pass registry.
void registerAccelPipelines();

} // namespace accel

#endif // ACCEL_COMPILER_PIPELINES_PIPELINES_H
