//===- accel-opt.cpp - accel's mlir-opt -----------------------------------===//
//
// Parses, verifies, transforms and prints accel IR: MlirOptMain with the
// accel dialect, the upstream dialects accel programs use, the accel passes
// and pipelines, and MLIR's generic transforms (canonicalize, cse, ...).
//
//===----------------------------------------------------------------------===//

#include "compiler/pipelines/Pipelines.h"
#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/Extensions/AllExtensions.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<accel::AccelDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::mpi::MPIDialect,
                  mlir::shard::ShardDialect, mlir::tensor::TensorDialect>();
  mlir::func::registerAllExtensions(registry);

  mlir::registerTransformsPasses();
  accel::registerAccelPasses();
  accel::registerAccelPipelines();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "accel optimizer driver: transforms accel training IR\n",
      registry));
}
