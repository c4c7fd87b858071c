//===- Pipelines.cpp - named accel pass pipelines -------------------------===//

#include "compiler/pipelines/Pipelines.h"

#include "compiler/transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace accel {

void buildForwardPipeline(mlir::OpPassManager &pm,
                          const ForwardPipelineOptions &options) {
  pm.addPass(createVerifyForwardPass(VerifyForwardPassOptions{options.entry}));
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

void registerAccelPipelines() {
  mlir::PassPipelineRegistration<ForwardPipelineOptions>(
      "accel-forward-pipeline",
      "Check an imported forward function and simplify it",
      buildForwardPipeline);
}

} // namespace accel
