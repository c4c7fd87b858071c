//===- CpuKernelOps.cpp - the ops accel-run's CPU driver runs -------------===//

#include "compiler/lowering/CpuKernelOps.h"

#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/StringSet.h"

namespace accel {
namespace {

template <typename... Ops>
llvm::StringSet<> namesOf() {
  llvm::StringSet<> names;
  (names.insert(Ops::getOperationName()), ...);
  return names;
}

} // namespace

bool hasCpuKernel(llvm::StringRef name) {
  static const llvm::StringSet<> names = namesOf<
      LinearOp, MatmulOp, TransposeOp, PermuteOp, ReshapeOp, FlattenOp,
      SliceOp, SliceGradOp, ConcatOp, SelectOp, BroadcastToOp, AddOp, SubOp,
      MulOp, DivOp, ReluOp, ReluGradOp, TanhOp, SigmoidOp, ExpOp, LogOp,
      SqrtOp, RsqrtOp, NegOp, GeluOp, GeluGradOp, ClampOp, ClampGradOp,
      CastOp, SumOp, MeanOp, SoftmaxOp, SoftmaxGradOp, LogSoftmaxOp,
      LogSoftmaxGradOp, CrossEntropyOp, CrossEntropyGradOp, MseLossOp,
      LayerNormOp, LayerNormGradOp, EmbeddingOp, EmbeddingGradOp,
      MaskedFillOp, DropoutOp, Conv2dOp, Conv2dGradInputOp,
      Conv2dGradWeightOp, MaxPool2dOp, MaxPool2dGradOp, AvgPool2dOp,
      AvgPool2dGradOp, AdaptiveAvgPool2dOp, AdaptiveAvgPool2dGradOp,
      BatchNormOp, BatchNormGradOp, FusedOp, AllFiniteOp, AllReduceOp,
      ReduceScatterOp, AllGatherOp, LocalShardOp, WaitOp,
      Fp8QuantizeOp, Fp8QuantizeScaledOp, Fp8ScaleUpdateOp, ScaledMatmulOp,
      mlir::arith::AddIOp, mlir::arith::MulIOp, mlir::arith::CmpIOp>();
  return names.contains(name);
}

} // namespace accel
