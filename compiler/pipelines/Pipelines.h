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

struct TrainPipelineOptions
    : public mlir::PassPipelineOptions<TrainPipelineOptions> {
  Option<std::string> entry{*this, "entry",
                            llvm::cl::desc("Name of the forward function"),
                            llvm::cl::init("forward")};
  Option<std::string> kind{*this, "kind",
                           llvm::cl::desc("Optimizer: sgd, adam or adamw"),
                           llvm::cl::init("adamw")};
  Option<double> lr{*this, "lr", llvm::cl::desc("Default learning rate"),
                    llvm::cl::init(1e-3)};
  Option<double> momentum{*this, "momentum", llvm::cl::desc("SGD momentum"),
                          llvm::cl::init(0.0)};
  Option<double> dampening{*this, "dampening",
                           llvm::cl::desc("SGD dampening"), llvm::cl::init(0.0)};
  Option<bool> nesterov{*this, "nesterov", llvm::cl::desc("SGD Nesterov"),
                        llvm::cl::init(false)};
  Option<double> beta1{*this, "beta1", llvm::cl::desc("Adam beta1"),
                       llvm::cl::init(0.9)};
  Option<double> beta2{*this, "beta2", llvm::cl::desc("Adam beta2"),
                       llvm::cl::init(0.999)};
  Option<double> eps{*this, "eps", llvm::cl::desc("Adam epsilon"),
                     llvm::cl::init(1e-8)};
  Option<double> weightDecay{
      *this, "weight-decay",
      llvm::cl::desc("Weight decay (negative: torch.optim's default)"),
      llvm::cl::init(-1.0)};
  Option<double> clipNorm{*this, "clip-norm",
                          llvm::cl::desc("Global L2 norm to clip to (0: off)"),
                          llvm::cl::init(0.0)};
  Option<int64_t> gradAccum{*this, "grad-accum",
                            llvm::cl::desc("Micro-batches per step"),
                            llvm::cl::init(1)};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("fp32, or bf16 / fp16 mixed precision (accel-autocast)"),
      llvm::cl::init("fp32")};
  Option<std::string> autocastPolicy{
      *this, "autocast-policy",
      llvm::cl::desc("Autocast op lists: cpu or cuda (default: cpu for bf16, "
                     "cuda for fp16)"),
      llvm::cl::init("")};
  Option<std::string> fp8{
      *this, "fp8",
      llvm::cl::desc("none, or an FP8 recipe for the linear layers "
                     "(accel-fp8): tensorwise, rowwise, rowwise-gw-hp, mxfp8, "
                     "delayed"),
      llvm::cl::init("none")};
  ListOption<std::string> fp8Exclude{
      *this, "fp8-exclude",
      llvm::cl::desc("accel-fp8: globs of layers to keep in high precision")};
  ListOption<std::string> fp8Override{
      *this, "fp8-override",
      llvm::cl::desc("accel-fp8: per-layer recipes, GLOB=RECIPE")};
  Option<bool> fp8KeepFirstLast{
      *this, "fp8-keep-first-last",
      llvm::cl::desc("accel-fp8: keep the first and last linear layers in "
                     "high precision"),
      llvm::cl::init(true)};
  Option<int64_t> fp8Margin{
      *this, "fp8-margin",
      llvm::cl::desc("accel-fp8 delayed: scales are divided by 2^margin"),
      llvm::cl::init(0)};
  Option<int64_t> fp8AmaxHistory{
      *this, "fp8-amax-history",
      llvm::cl::desc("accel-fp8 delayed: steps of amax history per operand"),
      llvm::cl::init(1024)};
  Option<std::string> fp8AmaxAlgo{
      *this, "fp8-amax-algo",
      llvm::cl::desc("accel-fp8 delayed: max or most_recent"),
      llvm::cl::init("max")};
  Option<std::string> fp8Format{
      *this, "fp8-format",
      llvm::cl::desc("accel-fp8 delayed: hybrid (E5M2 gradients) or e4m3"),
      llvm::cl::init("hybrid")};
  Option<std::string> shard{
      *this, "shard",
      llvm::cl::desc("Data parallelism (accel-shard): none, ddp, zero1, zero2 or fsdp"),
      llvm::cl::init("none")};
  Option<int64_t> ranks{*this, "ranks",
                        llvm::cl::desc("accel-shard: data-parallel ranks"),
                        llvm::cl::init(1)};
  Option<double> bucketMb{*this, "bucket-mb",
                          llvm::cl::desc("accel-shard: gradient bucket cap (MiB)"),
                          llvm::cl::init(25.0)};
  Option<double> firstBucketMb{
      *this, "first-bucket-mb",
      llvm::cl::desc("accel-shard: first gradient bucket's cap (MiB)"),
      llvm::cl::init(1.0)};
  Option<bool> reshardAfterForward{
      *this, "reshard-after-forward",
      llvm::cl::desc("accel-shard fsdp: gather parameters again for the "
                     "backward pass"),
      llvm::cl::init(true)};
  ListOption<std::string> units{
      *this, "units",
      llvm::cl::desc("accel-shard fsdp: globs over module prefixes, each "
                     "match a unit")};
  Option<std::string> reduceDtype{
      *this, "reduce-dtype",
      llvm::cl::desc("accel-shard: type gradients are combined in: fp32, "
                     "bf16 or fp16"),
      llvm::cl::init("fp32")};
  Option<std::string> lossScale{
      *this, "loss-scale",
      llvm::cl::desc("none, dynamic or a constant (default: dynamic for "
                     "fp16, none otherwise)"),
      llvm::cl::init("auto")};
  Option<double> initScale{*this, "init-scale",
                           llvm::cl::desc("Dynamic loss scaling: first scale"),
                           llvm::cl::init(65536.0)};
  Option<double> growthFactor{*this, "growth-factor",
                              llvm::cl::desc("Dynamic loss scaling: growth"),
                              llvm::cl::init(2.0)};
  Option<double> backoffFactor{*this, "backoff-factor",
                               llvm::cl::desc("Dynamic loss scaling: backoff"),
                               llvm::cl::init(0.5)};
  Option<int64_t> growthInterval{
      *this, "growth-interval",
      llvm::cl::desc("Dynamic loss scaling: clean steps between growths"),
      llvm::cl::init(2000)};
};

/// From an imported forward function to @train_step: the forward contract,
/// simplification, autocast (bf16/fp16), FP8 linears, the data-parallel
/// batch split, autodiff and the optimizer update (with loss scaling and
/// gradient all-reduce).
void buildTrainPipeline(mlir::OpPassManager &pm,
                        const TrainPipelineOptions &options);

/// Registers every named accel pipeline with the global pass registry.
void registerAccelPipelines();

} // namespace accel

#endif // ACCEL_COMPILER_PIPELINES_PIPELINES_H
