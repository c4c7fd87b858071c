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

void buildTrainPipeline(mlir::OpPassManager &pm,
                        const TrainPipelineOptions &options) {
  ForwardPipelineOptions forward;
  forward.entry = options.entry;
  buildForwardPipeline(pm, forward);
  // fp32 needs no autocast; any other name goes to accel-autocast, which
  // rejects unknown ones with the list of choices.
  bool autocast = options.precision != "fp32";
  if (autocast) {
    AutocastPassOptions cast;
    cast.entry = options.entry;
    cast.dtype = options.precision;
    cast.policy = options.autocastPolicy;
    pm.addPass(createAutocastPass(cast));
  }
  // Like precision, "none" adds nothing and accel-fp8 rejects unknown
  // recipes with the list of choices.
  if (options.fp8 != "none") {
    Float8TrainingPassOptions fp8;
    fp8.entry = options.entry;
    fp8.recipe = options.fp8;
    fp8.exclude.assign(options.fp8Exclude.begin(), options.fp8Exclude.end());
    fp8.keepFirstLast = options.fp8KeepFirstLast;
    fp8.overrides.assign(options.fp8Override.begin(), options.fp8Override.end());
    fp8.margin = options.fp8Margin;
    fp8.amaxHistory = options.fp8AmaxHistory;
    fp8.amaxAlgo = options.fp8AmaxAlgo;
    fp8.format = options.fp8Format;
    pm.addPass(createFloat8TrainingPass(fp8));
  }
  // Data parallelism splits the forward's batch before autodiff, so the
  // gradient function is each rank's; accel-optimizer combines them.
  if (options.shard != "none") {
    ShardPassOptions shard;
    shard.entry = options.entry;
    shard.strategy = options.shard;
    shard.ranks = options.ranks;
    shard.bucketMb = options.bucketMb;
    shard.firstBucketMb = options.firstBucketMb;
    shard.reshardAfterForward = options.reshardAfterForward;
    shard.units.assign(options.units.begin(), options.units.end());
    shard.reduceDtype = options.reduceDtype;
    pm.addPass(createShardPass(shard));
  }
  std::string lossScale = options.lossScale;
  if (lossScale == "auto")
    lossScale = options.precision == "fp16" ? "dynamic" : "none";
  AutoDiffPassOptions autodiff;
  autodiff.entry = options.entry;
  autodiff.lossScale = lossScale != "none";
  pm.addPass(createAutoDiffPass(autodiff));
  OptimizerPassOptions optimizer;
  optimizer.entry = options.entry;
  optimizer.kind = options.kind;
  optimizer.lr = options.lr;
  optimizer.momentum = options.momentum;
  optimizer.dampening = options.dampening;
  optimizer.nesterov = options.nesterov;
  optimizer.beta1 = options.beta1;
  optimizer.beta2 = options.beta2;
  optimizer.eps = options.eps;
  optimizer.weightDecay = options.weightDecay;
  optimizer.clipNorm = options.clipNorm;
  optimizer.gradAccum = options.gradAccum;
  optimizer.lossScale = lossScale;
  optimizer.initScale = options.initScale;
  optimizer.growthFactor = options.growthFactor;
  optimizer.backoffFactor = options.backoffFactor;
  optimizer.growthInterval = options.growthInterval;
  pm.addPass(createOptimizerPass(optimizer));
  // The backward pass leaves values the update does not read.
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

void registerAccelPipelines() {
  mlir::PassPipelineRegistration<ForwardPipelineOptions>(
      "accel-forward-pipeline",
      "Check an imported forward function and simplify it",
      buildForwardPipeline);
  mlir::PassPipelineRegistration<TrainPipelineOptions>(
      "accel-train-pipeline",
      "Build the training step of a forward function: verify, simplify, "
      "autocast, fp8, autodiff, optimizer",
      buildTrainPipeline);
}

} // namespace accel
